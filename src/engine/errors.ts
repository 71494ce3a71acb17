import { NotRegularFileError } from './fsutil.js';

/**
 * An error the user can act on: its message is one sentence that says what is wrong and what
 * to do. The CLI prints it alone on stderr and exits 1; anything else is a bug and shows a stack.
 */
export class ShadowGitError extends Error {
  constructor(
    message: string,
    readonly code: string = 'EUSER',
  ) {
    super(message);
    this.name = 'ShadowGitError';
  }
}

/** Another process holds the repository lock and did not release it in time. */
export class LockBusyError extends ShadowGitError {
  constructor(message: string) {
    super(message, 'ELOCKED');
  }
}

/** An object that a snapshot needs is missing or does not hash to its id. */
export class CorruptObjectError extends ShadowGitError {
  constructor(
    readonly oid: string,
    readonly path: string | undefined,
    readonly detail: string,
  ) {
    super(
      `object ${oid}${path ? ` (${path})` : ''} is ${detail}; nothing was changed — run \`shadowgit verify\` to see which snapshots are damaged.`,
      'ECORRUPT',
    );
  }
}

/**
 * A full (or read-only) disk, or a file of ours that is not a regular file, is for the user to
 * fix, not a bug: say so in one sentence. Every write is temp file + rename and the ref moves
 * last, so nothing recorded before is harmed. Other errors are returned unchanged.
 */
export function explainFilesystemError(err: unknown): unknown {
  // Already said in the user's terms (by the watcher, say): passed on as it is.
  if (err instanceof ShadowGitError) return err;
  const { code, path } = (err ?? {}) as NodeJS.ErrnoException;
  const where = path ? ` (writing ${path})` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ShadowGitError(`the disk is full${where}; free some space and run the command again — existing snapshots are intact, and an interrupted rollback or restore is finished by the next command.`, 'ENOSPC');
  }
  if (code === 'EROFS') return new ShadowGitError(`the file system is read-only${where}; remount it writable, or set "repo" in .shadowgit to a writable place.`, 'EROFS');
  // A FIFO, link or device where shadowgit keeps a file of its own (the op log, a journal) was refused, not followed.
  if (err instanceof NotRegularFileError) return new ShadowGitError(`${err.file} is ${err.problem}; move it aside and run the command again.`, 'ENOTREGULAR');
  return err;
}
