import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../store/lock.js';

// The watcher's sync cookies: files it creates (and removes) in the worktree root to learn when
// the kernel's events have caught up. The watcher makes them; the scanner and the tree watcher
// must never take one for a file of the user's. Both sides read the name from here.

/** Names the watcher creates (and removes) in the worktree root as sync cookies; the scanner skips them. */
export const WATCH_COOKIE_PREFIX = '.shadowgit-cookie-';
const WATCH_COOKIE = /^\.shadowgit-cookie-(\d+)-[0-9a-f]{16}$/;

/** A new sync cookie's name: the watcher's pid, then random hex, so no file of the user's is taken for one. */
export const newWatchCookie = (pid = process.pid) => `${WATCH_COOKIE_PREFIX}${pid}-${randomBytes(8).toString('hex')}`;

/** The pid of the watcher that made the cookie `name` (a name in the worktree root); undefined when it is no cookie. */
export function watchCookiePid(name: string): number | undefined {
  const match = WATCH_COOKIE.exec(name);
  return match ? Number(match[1]) : undefined;
}

export const isWatchCookie = (name: string) => watchCookiePid(name) !== undefined;

/**
 * Removes the sync cookies of watchers that died between creating and removing one (killed,
 * say): the scan skips them, but the user's own git and tools would see a stray file. Best
 * effort: one that cannot be removed (a read-only root) fails nothing.
 */
export async function removeDeadWatcherCookies(worktree: string): Promise<void> {
  const names = await fsp.readdir(worktree).catch(() => []);
  for (const name of names) {
    const pid = watchCookiePid(name);
    if (pid !== undefined && !processAlive(pid)) await fsp.rm(path.join(worktree, name), { force: true }).catch(() => undefined);
  }
}
