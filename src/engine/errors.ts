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
    detail: string,
  ) {
    super(
      `object ${oid}${path ? ` (${path})` : ''} is ${detail}; nothing was changed — run \`shadowgit verify\` to see which snapshots are damaged.`,
      'ECORRUPT',
    );
  }
}
