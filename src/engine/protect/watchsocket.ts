import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import type { Repository } from '../store/repo.js';
import { WATCH_SOCKET } from '../store/statefiles.js';

/** sun_path holds 104 bytes on macOS and 108 on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * `<state dir>/watch.sock` when its path fits in a socket address; otherwise a hashed name in
 * a private per-user directory under the system temp directory.
 */
export async function socketPathFor(repo: Repository): Promise<string> {
  const preferred = repo.statePath(WATCH_SOCKET);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH_BYTES) return preferred;
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(os.tmpdir(), `shadowgit-${uid}`);
  await fsp.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const stat = await fsp.lstat(dir);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new ShadowGitError(`${dir} is not a private directory of this user, so the watcher's query socket cannot live there; remove it.`, 'EUNSAFE');
  }
  const socketPath = path.join(dir, `${createHash('sha256').update(repo.gitdir).digest('hex').slice(0, 16)}.sock`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) throw new ShadowGitError(`the temp directory path ${os.tmpdir()} is too long for a socket address; set TMPDIR to a shorter one.`, 'EWATCH');
  return socketPath;
}
