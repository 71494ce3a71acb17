import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { processAlive } from '../store/lock.js';
import type { Repository } from '../store/repo.js';
import { STATE_FILE_MAX_BYTES, WATCH_STATE } from '../store/statefiles.js';
import { readFileIfExists } from '../fsutil.js';

// What a running watcher tells others about itself, in `<repo>/shadowgit/watch.json`: read by
// the commands that hand it work or ask it what changed, and by doctor and bundle. On the path
// of every snapshot and status, so it loads nothing but Node's own modules.

export interface WatchSnapshot {
  id: string;
  commit: string;
  at: string;
}

/**
 * `<repo>/shadowgit/watch.json` while a watcher runs: who it is, its settings, its last
 * snapshot, and the paths that changed since that snapshot began (for tools that want to skip a
 * full scan: `overflow` true means the list is incomplete).
 */
export interface WatchState {
  pid: number;
  host: string;
  since: string;
  worktree: string;
  debounceMs: number;
  intervalMs: number;
  watchedDirectories: number;
  snapshots: number;
  lastSnapshot?: WatchSnapshot;
  dirty: { paths: string[]; overflow: boolean; since?: string };
  /** Where the watcher answers change queries (askWatcher); absent until it listens. */
  socket?: string;
}

/** Where a repository lives: all the query side needs (the CLI finds it without opening the repository). */
export type RepoLocation = Pick<Repository, 'worktree' | 'statePath'>;

export interface WatcherInfo {
  state: WatchState;
  /** The process is gone (same host): the file is left over from a crash. */
  stale: boolean;
}

export async function readWatcher(repo: RepoLocation): Promise<WatcherInfo | undefined> {
  const state = (await readWatchState(repo)) as WatchState | undefined;
  return state && { state, stale: state.host === os.hostname() && !(await isWatcherProcess(state.pid)) };
}

/** watch.json as written (unchecked: a crashed or older watcher may have left anything), if readable. */
export async function readWatchState(repo: RepoLocation): Promise<Partial<Record<keyof WatchState, unknown>> | undefined> {
  let state: unknown;
  try {
    state = JSON.parse((await readFileIfExists(repo.statePath(WATCH_STATE), STATE_FILE_MAX_BYTES))?.toString('utf8') ?? '');
  } catch {
    return undefined;
  }
  return typeof state === 'object' && state !== null ? state : undefined;
}

/**
 * True while `pid` runs and, where the OS tells (Linux /proc), is still a `watch` command: a pid
 * reused by another program after a crash must count as stale, never receive our SIGTERM.
 */
async function isWatcherProcess(pid: number): Promise<boolean> {
  if (!processAlive(pid)) return false;
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || cmdline.split('\0').includes('watch');
}

/** The socket of the watcher running on repo.worktree, if one claims to run. */
export async function watcherSocket(repo: RepoLocation): Promise<string | undefined> {
  const state = await readWatchState(repo);
  if (!state || typeof state.socket !== 'string' || typeof state.pid !== 'number' || state.worktree !== repo.worktree) return undefined;
  if (state.host === os.hostname() && !processAlive(state.pid)) return undefined;
  return state.socket;
}
