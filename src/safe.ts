import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from './engine/errors.js';
import { NotRegularFileError, readRegularFile, writeFileAtomic } from './engine/fsutil.js';
import { runGuarded } from './engine/protect/guard.js';
import { ShadowGit } from './shadowgit.js';

export interface SafeEditOptions {
  /** The working tree whose shadow repo records the snapshot; default: found from the file. */
  worktree?: string;
  /** Message of the snapshot taken before the edit. */
  message?: string;
}

export interface SafeEditResult {
  /** Absolute path of the file written (symlinks resolved). */
  path: string;
  /** The snapshot holding the state before the edit (`created` false: an up-to-date one was reused). */
  snapshot: { id: string; commit: string; created: boolean };
}

/** Symlinks are followed so the link stays a link and its target gets the new content. */
async function resolveTarget(file: string): Promise<string> {
  const absolute = path.resolve(file);
  try {
    return await fsp.realpath(absolute);
  } catch {
    return path.join(await fsp.realpath(path.dirname(absolute)).catch(() => path.dirname(absolute)), path.basename(absolute));
  }
}

/** Finds the tree from the current directory when the file is inside it, else from the file. */
async function openFor(target: string, worktree: string | undefined): Promise<ShadowGit> {
  if (worktree) return ShadowGit.open({ worktree });
  const cwd = await fsp.realpath(process.cwd());
  const inCwd = !path.relative(cwd, target).startsWith('..');
  return ShadowGit.open({ cwd: inCwd ? cwd : path.dirname(target) });
}

async function safeEdit(file: string, compute: (target: string) => Promise<string | Uint8Array>, options: SafeEditOptions): Promise<SafeEditResult> {
  const target = await resolveTarget(file);
  const sg = await openFor(target, options.worktree);
  const rel = sg.toWorktreePath(target);
  const started = Date.now();
  const snapshot = await sg.snapshot({ trigger: 'safe-edit', message: options.message ?? `before editing ${rel}` });
  const commits = snapshot.created ? [snapshot.commit] : [];
  try {
    const data = await compute(target);
    await writeFileAtomic(target, data, { keepMode: true, faultStep: 'safe-write' });
  } catch (err) {
    await sg.logOperation('safe-edit', { path: rel }, started, { commits, error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    throw err;
  }
  await sg.logOperation('safe-edit', { path: rel }, started, { commits });
  return { path: target, snapshot: { id: snapshot.id, commit: snapshot.commit, created: snapshot.created } };
}

/**
 * Snapshots the working tree (or reuses the latest snapshot when nothing changed), passes the
 * file's text to `modify`, and replaces the file with the result atomically (temp file in the
 * same directory, fsync, rename), keeping its permission bits. If `modify` throws or the write
 * fails, the file is untouched and the error is rethrown.
 */
export async function safeModifyFile(file: string, modify: (content: string) => string | Uint8Array | Promise<string | Uint8Array>, options: SafeEditOptions = {}): Promise<SafeEditResult> {
  return safeEdit(
    file,
    async (target) => {
      // The target's symlinks are resolved already; a FIFO or device there must not block the read.
      const content = await readRegularFile(target, { maxBytes: Number.MAX_SAFE_INTEGER }).catch((err: unknown) => {
        if (err instanceof NotRegularFileError) throw new ShadowGitError(`${file} is ${err.problem}; only regular files can be modified.`, 'ENOTFILE');
        throw err;
      });
      if (!content) throw new ShadowGitError(`${file} does not exist; use safeWriteFile to create a file.`, 'ENOENT');
      return modify(content.toString('utf8'));
    },
    options,
  );
}

/** Like safeModifyFile, with the new content given: creates the file if it does not exist. */
export async function safeWriteFile(file: string, data: string | Uint8Array, options: SafeEditOptions = {}): Promise<SafeEditResult> {
  return safeEdit(file, async () => data, options);
}

export interface WithSnapshotOptions {
  /** The working tree to protect; default: found from the current directory. */
  worktree?: string;
  /** Names the work in snapshot messages and the op log. */
  label?: string;
  /** On failure leave the failed state in place (it is recorded either way). */
  keep?: boolean;
}

/**
 * Runs `fn` with guard semantics: snapshot first; if `fn` throws, record the state it left as a
 * snapshot (trigger `guard-failed`), roll the tree back, and rethrow; on success record the
 * result (trigger `guard-ok`) and return `fn`'s value.
 */
export async function withSnapshot<T>(fn: () => Promise<T>, options: WithSnapshotOptions = {}): Promise<T> {
  const sg = await ShadowGit.open({ worktree: options.worktree, cwd: process.cwd() });
  const { report, value, error } = await runGuarded(sg, { label: options.label ?? 'withSnapshot', keep: options.keep }, fn);
  if (!report.ok) throw error;
  return value as T;
}
