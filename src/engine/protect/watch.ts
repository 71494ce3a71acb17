import { spawn } from 'node:child_process';
import { constants as fsc, promises as fsp, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import { DEFAULT_PUSH_INTERVAL, pushIntervalMs } from '../config.js';
import { LockBusyError, ShadowGitError } from '../errors.js';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import type { SnapshotReport } from '../reports.js';
import { processAlive } from '../store/lock.js';
import type { Repository } from '../store/repo.js';
import { TreeWatcher } from '../worktree/treewatch.js';
import type { SnapshotRequest } from '../worktree/watchprotocol.js';
import { readWatcher, type WatchSnapshot, type WatchState } from '../worktree/watchstate.js';
import { WatchQueryServer } from './watchserver.js';
import { STATE_FILE_MAX_BYTES, WATCH_LOG, WATCH_STATE } from '../store/statefiles.js';

/** Beyond this many dirty paths the list says `overflow` and readers must rescan. */
const MAX_DIRTY = 1000;

async function removeState(repo: Repository): Promise<void> {
  await fsp.rm(repo.statePath(WATCH_STATE), { force: true });
}

export interface WatchOptions {
  debounceMs: number;
  intervalMs: number;
  onSnapshot?: (report: SnapshotReport) => void;
  onWarning?: (message: string) => void;
  /** Called whenever what `status()` returns may have changed (for a live status line). */
  onStatus?: () => void;
}

/** A snapshot the watcher takes: its own (trigger watch) or one another command asked for. */
type RequestedSnapshot = Omit<SnapshotRequest, 'trigger'> & { trigger: string; onProgress?: (files: number) => void; onRecorded?: (report: SnapshotReport) => void };

/** What a watcher needs of the facade: its snapshot (which takes the lock) and status. */
export interface WatchedTree {
  snapshot(options: RequestedSnapshot): Promise<SnapshotReport>;
  status(): Promise<object>;
  /** Pushes to the default remote (.shadowgit "remote": {"push": "interval"}); it records its own failures for status. */
  push?(): Promise<unknown>;
}

export interface WatchStatus {
  watchedDirectories: number;
  pending: number;
  snapshots: number;
  lastSnapshot?: WatchSnapshot;
  busy: boolean;
}

/**
 * One running watcher: file events → dirty set → a snapshot once changes settle (`debounceMs`
 * without events) or, under continuous change, `intervalMs` after the first unrecorded one.
 * Snapshots go through the facade, so the repository lock serialises them with other commands.
 */
export class WatchSession {
  private readonly dirty = new Set<string>();
  private overflow = false;
  private firstChangeAt: number | undefined;
  private lastChangeAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private persistTimer: NodeJS.Timeout | undefined;
  private pushTimer: NodeJS.Timeout | undefined;
  private pushing = false;
  private readonly watcher: TreeWatcher;
  private readonly queries: WatchQueryServer;
  private readonly state: WatchState;
  /** What this session recorded (slim: a watcher may run for weeks). */
  readonly recorded: Array<Pick<SnapshotReport, 'id' | 'commit' | 'trigger' | 'changes'>> = [];

  constructor(
    private readonly repo: Repository,
    private readonly tree: WatchedTree,
    private readonly options: WatchOptions,
  ) {
    this.watcher = new TreeWatcher(repo.worktree, repo.config.exclude, {
      onChange: (p) => this.onChange(p),
      onWarning: (m) => this.options.onWarning?.(m),
      onCookie: (name) => this.queries.cookieSeen(name),
      onLost: () => this.onChange(undefined),
    });
    this.queries = new WatchQueryServer(repo.worktree, this.watcher, { snapshot: (request, onProgress) => this.takeRequested(request, onProgress), status: () => this.tree.status() });
    this.state = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), worktree: repo.worktree, debounceMs: options.debounceMs, intervalMs: options.intervalMs, watchedDirectories: 0, snapshots: 0, dirty: { paths: [], overflow: false } };
  }

  /** Claims the watch state (one watcher per tree), starts watching, records the current state. */
  async start(): Promise<{ staleCleared?: WatchState }> {
    const repo = this.repo;
    await repo.ensureCreated();
    const staleCleared = await this.claim();
    try {
      await this.watcher.start();
      this.state.watchedDirectories = this.watcher.watchedDirectories;
      this.state.socket = await this.queries.listen(repo).catch((err: Error) => {
        this.options.onWarning?.(`other commands cannot ask this watcher what changed (${err.message}); they scan the whole tree.`);
        return undefined;
      });
      await this.persist();
      await this.flush();
      this.schedulePushes();
    } catch (err) {
      this.watcher.close();
      await this.queries.close();
      await removeState(repo);
      throw err;
    }
    return { staleCleared };
  }

  private async claim(): Promise<WatchState | undefined> {
    const repo = this.repo;
    let staleCleared: WatchState | undefined;
    for (;;) {
      try {
        await fsp.writeFile(repo.statePath(WATCH_STATE), JSON.stringify(this.state), { flag: 'wx' });
        return staleCleared;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const other = await readWatcher(repo);
      if (other && !other.stale) {
        throw new ShadowGitError(`a watcher is already running for ${repo.worktree} (pid ${other.state.pid}, since ${other.state.since}); \`shadowgit watch --stop\` stops it.`, 'EWATCHING');
      }
      staleCleared = other?.state;
      await removeState(repo);
    }
  }

  /**
   * With "remote": {"push": "interval"}, a push every interval, beside the snapshots: a push
   * holds the lock only to plan and to record its outcome, so snapshots never wait for the
   * network; one that is still running when the next is due is not doubled.
   */
  private schedulePushes(): void {
    const remote = this.repo.config.remote;
    if (remote?.push !== 'interval' || !this.tree.push) return;
    const every = pushIntervalMs(remote.interval ?? DEFAULT_PUSH_INTERVAL)!;
    this.pushTimer = setInterval(() => void this.pushInBackground(), every);
    this.pushTimer.unref();
  }

  private async pushInBackground(): Promise<void> {
    if (this.pushing || this.stopping) return;
    this.pushing = true;
    try {
      await this.tree.push!();
    } catch (err) {
      this.options.onWarning?.(`the background push failed (\`shadowgit status\` shows it; the next interval tries again): ${(err as Error).message}`);
    } finally {
      this.pushing = false;
    }
  }

  status(): WatchStatus {
    return { watchedDirectories: this.watcher.watchedDirectories, pending: this.dirty.size, snapshots: this.state.snapshots, lastSnapshot: this.state.lastSnapshot, busy: this.running !== undefined };
  }

  /** `relPath` changed; undefined: changes may have gone unseen, anywhere. */
  private onChange(relPath: string | undefined): void {
    if (relPath === undefined) this.queries.log.forgetAll();
    else this.queries.log.record(relPath);
    if (this.stopping) return;
    if (relPath !== undefined && this.dirty.size < MAX_DIRTY) this.dirty.add(relPath);
    else this.overflow = true;
    const now = Date.now();
    this.firstChangeAt ??= now;
    this.lastChangeAt = now;
    this.schedule();
    this.persistSoon();
    this.options.onStatus?.();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopping) return;
    let due: number;
    if (this.firstChangeAt !== undefined && this.lastChangeAt !== undefined) {
      due = Math.min(this.lastChangeAt + this.options.debounceMs, this.firstChangeAt + this.options.intervalMs);
    } else if (this.watcher.degraded) {
      // Some directories hold no watch: look at the whole tree every interval instead.
      due = Date.now() + this.options.intervalMs;
    } else {
      return;
    }
    this.timer = setTimeout(() => void this.flush(), Math.max(0, due - Date.now()));
  }

  /** Starts a snapshot unless one is running; that one reschedules when it ends. */
  private flush(): Promise<void> {
    this.running ??= this.run(() => this.record({ trigger: 'watch' })).then(
      () => undefined,
      (err: Error) => this.warnFailed(err),
    );
    return this.running;
  }

  /** Its changes stay pending; a busy lock (another command snapshotting) is no news. */
  private warnFailed(err: Error): void {
    if (!(err instanceof LockBusyError)) this.options.onWarning?.(`snapshot failed: ${err.message}`);
  }

  /**
   * A snapshot another command asked for (`shadowgit snapshot` while this watcher runs): it
   * waits for one in progress, then records with the cache this process keeps in memory. The
   * report goes out as soon as the snapshot is recorded; the cache and op log follow.
   */
  private takeRequested(request: SnapshotRequest, onProgress: (files: number) => void): Promise<SnapshotReport> {
    return new Promise((resolve, reject) => {
      const start = async () => {
        while (this.running) await this.running;
        this.running = this.run(() => this.record({ ...request, trigger: request.trigger ?? 'manual', onProgress, onRecorded: resolve })).then(resolve, (err: Error) => {
          reject(err);
          this.warnFailed(err);
        });
      };
      void start();
    });
  }

  /** Runs one snapshot as `running`, then reschedules. */
  private run<T>(snapshot: () => Promise<T>): Promise<T> {
    return snapshot().finally(() => {
      this.running = undefined;
      this.schedule();
      this.options.onStatus?.();
    });
  }

  /** Records a snapshot; when it fails, the changes it was to record stay pending and are tried again after the next pause. */
  private async record(options: RequestedSnapshot): Promise<SnapshotReport> {
    const batch = [...this.dirty];
    const batchOverflow = this.overflow;
    this.dirty.clear();
    this.overflow = false;
    this.firstChangeAt = undefined;
    this.lastChangeAt = undefined;
    this.state.dirty = { paths: [], overflow: false, since: new Date().toISOString() };
    this.options.onStatus?.();
    try {
      const report = await this.tree.snapshot(options);
      if (report.created) {
        this.recorded.push({ id: report.id, commit: report.commit, trigger: report.trigger, changes: report.changes });
        this.state.snapshots++;
        this.state.lastSnapshot = { id: report.id, commit: report.commit, at: new Date().toISOString() };
        this.options.onSnapshot?.(report);
      }
      return report;
    } catch (err) {
      for (const p of batch) if (this.dirty.size < MAX_DIRTY) this.dirty.add(p);
      this.overflow ||= batchOverflow;
      if (batch.length > 0 || batchOverflow) {
        this.firstChangeAt ??= Date.now();
        this.lastChangeAt ??= Date.now();
      }
      throw err;
    } finally {
      this.state.watchedDirectories = this.watcher.watchedDirectories;
      await this.persist();
    }
  }

  /** The dirty list is written at most every 500 ms: cheap enough under a storm of events. */
  private persistSoon(): void {
    this.persistTimer ??= setTimeout(() => {
      this.persistTimer = undefined;
      void this.persist();
    }, 500);
  }

  private async persist(): Promise<void> {
    if (this.stopping && !this.running) return;
    this.state.dirty = { ...this.state.dirty, paths: [...this.dirty].sort(), overflow: this.overflow };
    await writeFileAtomic(this.repo.statePath(WATCH_STATE), JSON.stringify(this.state, null, 2), { durable: false }).catch(() => undefined);
  }

  /**
   * Stops watching: lets a snapshot in progress finish, takes a final one (recorded only if
   * something changed), removes the state file.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    clearTimeout(this.persistTimer);
    clearInterval(this.pushTimer);
    await this.queries.close();
    this.state.socket = undefined;
    this.watcher.close();
    while (this.running) await this.running;
    try {
      await this.record({ trigger: 'watch', message: 'final watch snapshot' }).catch((err: Error) => this.warnFailed(err));
    } finally {
      await removeState(this.repo);
    }
  }
}

/**
 * Starts `shadowgit watch` (with `args`) as a background process whose output goes to
 * `watch.log` in the state directory, and waits until it has claimed the watch state.
 */
export async function spawnDetached(repo: Repository, cliArgs: string[], timeoutMs = 30000): Promise<WatchState> {
  await repo.ensureCreated();
  const existing = await readWatcher(repo);
  if (existing && !existing.stale) throw new ShadowGitError(`a watcher is already running for ${repo.worktree} (pid ${existing.state.pid}, since ${existing.state.since}); \`shadowgit watch --stop\` stops it.`, 'EWATCHING');
  // A fresh file each start: whatever is there (even a FIFO or a link planted there) goes, and
  // O_EXCL makes sure the log written is the regular file made here.
  await fsp.rm(repo.statePath(WATCH_LOG), { force: true });
  const log = openSync(repo.statePath(WATCH_LOG), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
  const child = spawn(process.execPath, [process.argv[1]!, ...cliArgs], { cwd: repo.worktree, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await readWatcher(repo);
    if (info && info.state.pid === child.pid && info.state.watchedDirectories > 0) return info.state;
    if (exited !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const output = ((await readFileIfExists(repo.statePath(WATCH_LOG), STATE_FILE_MAX_BYTES).catch(() => undefined))?.toString('utf8') ?? '').trim().split('\n').pop();
  if (exited === undefined) child.kill('SIGTERM');
  throw new ShadowGitError(`the background watcher did not start${output ? ` (${output})` : ''}; see ${repo.statePath(WATCH_LOG)}.`, 'EWATCH');
}

export interface StopResult {
  /** The watcher that was stopped, or found dead and cleaned up. */
  state?: WatchState;
  stale: boolean;
}

/** Sends SIGTERM to the running watcher and waits until it has taken its final snapshot. */
export async function stopWatcher(repo: Repository, timeoutMs = 120000): Promise<StopResult> {
  const info = await readWatcher(repo);
  if (!info) return { stale: false };
  if (info.stale) {
    await removeState(repo);
    return { state: info.state, stale: true };
  }
  try {
    process.kill(info.state.pid, 'SIGTERM');
  } catch {
    // Exited between the check and the signal.
  }
  const deadline = Date.now() + timeoutMs;
  while (processAlive(info.state.pid)) {
    if (Date.now() > deadline) throw new ShadowGitError(`the watcher (pid ${info.state.pid}) did not stop within ${timeoutMs / 1000} s; it may be finishing a large snapshot — run \`shadowgit watch --stop\` again, or \`kill ${info.state.pid}\`.`, 'EWATCH');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // It removes its own state file; one left behind (it was killed) is removed here.
  if ((await readWatcher(repo))?.state.pid === info.state.pid) await removeState(repo);
  return { state: info.state, stale: false };
}
