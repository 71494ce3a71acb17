import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { lockTimeoutMs, processAlive } from '../store/lock.js';
import { locateRepository, stateDirOf } from '../store/paths.js';
import type { Repository } from '../store/repo.js';
import { newWatchCookie, watchCookiePid } from '../worktree/watchcookie.js';
import { WATCH_SOCKET, WATCH_STATE } from '../store/statefiles.js';

// The query side of `watch`, like git's fsmonitor: a snapshot asks the running watcher which
// paths changed since its last token instead of walking the whole tree. This module is on the
// path of every snapshot and status, so it loads nothing but Node's own modules.

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
async function readWatchState(repo: RepoLocation): Promise<Partial<Record<keyof WatchState, unknown>> | undefined> {
  let state: unknown;
  try {
    state = JSON.parse(await fsp.readFile(repo.statePath(WATCH_STATE), 'utf8'));
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

export interface WatchChanges {
  /** Opaque; pass it back as `since` next time. Encodes the watcher instance and an event sequence number. */
  token: string;
  /** Worktree-relative posix paths (files or directories; '' is the root) that changed after `since`; 'all' when the watcher cannot tell (since is undefined or from another watcher instance, history beyond what it kept, watching degraded, an ignore file changed, too many paths). */
  paths: string[] | 'all';
}

/** Paths the watcher remembers; a query reaching further back than the oldest is answered 'all'. */
const MAX_TRACKED_PATHS = 10000;
/**
 * How long a query waits for its cookie's event and the events before it to be processed
 * before answering 'all': below askWatcher's default timeout, so a slow watcher still hands
 * out a usable token.
 */
const COOKIE_TIMEOUT_MS = 800;
/** A connection that has not sent its request line by then is dropped. */
const REQUEST_TIMEOUT_MS = 5000;
/** A snapshot request carries its note, which may be a long chat log. */
const MAX_REQUEST_BYTES = 1 << 20;
/** A snapshot's progress goes to its requester at most this often… */
const PROGRESS_INTERVAL_MS = 100;
/** …and at least this often. */
const HEARTBEAT_MS = 1000;
/** sun_path holds 104 bytes on macOS and 108 on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;

/** Where a repository lives: all the query side needs (the CLI finds it without opening the repository). */
export type RepoLocation = Pick<Repository, 'worktree' | 'statePath'>;

/**
 * Asks the watcher running on repo.worktree (if any) what changed since `since`. Before answering,
 * the watcher syncs with the kernel's event queue via a cookie file, so every change completed
 * before this call is included. Returns undefined quickly when no watcher runs (no watch.json, dead
 * pid, no socket) or it does not answer within `timeoutMs`; the caller then scans the whole tree.
 */
export async function askWatcher(repo: RepoLocation, since: string | undefined, timeoutMs = 1000): Promise<WatchChanges | undefined> {
  const socketPath = await watcherSocket(repo);
  if (!socketPath) return undefined;
  return converse(socketPath, { since: since ?? null }, { firstMs: timeoutMs }, (message) => (isWatchChanges(message) ? { token: message.token, paths: message.paths } : null));
}

/** What a snapshot taken by the watcher for another command is asked to record. */
export interface SnapshotRequest {
  message?: string;
  note?: string;
}

/** Work a watcher does for another command, in its own process: it knows what changed and keeps the stat cache in memory. */
export type WatcherTask = { snapshot: SnapshotRequest } | { status: Record<string, never> };

/** How the watcher carries out each WatcherTask: the facade's report, or a rejection with its error. */
export interface WatcherTasks {
  snapshot(request: SnapshotRequest, onProgress: (files: number) => void): Promise<object>;
  status(): Promise<object>;
}

/** The watcher's answer to a WatcherTask: the facade's report, or its error. */
type TaskAnswer = { report: Record<string, unknown> } | { error: string; code: string };

/**
 * Hands a task to the watcher running on repo.worktree, which does it in a fraction of a fresh
 * process's time. Undefined when no watcher takes it: none runs, it does not accept within
 * `acceptTimeoutMs`, it goes silent (no progress line, which it sends at least every second)
 * for as long as a command waits for the repository lock, or it goes away before answering.
 * The caller then does the work itself; the repository lock serialises that with anything the
 * watcher was still doing.
 */
async function handToWatcher(repo: RepoLocation, task: WatcherTask, onProgress?: (files: number) => void, acceptTimeoutMs = 1000): Promise<TaskAnswer | undefined> {
  const socketPath = await watcherSocket(repo);
  if (!socketPath || Buffer.byteLength(JSON.stringify(task)) >= MAX_REQUEST_BYTES) return undefined;
  let accepted = false;
  const silenceMs = lockTimeoutMs();
  return converse(socketPath, task, { firstMs: acceptTimeoutMs, silenceMs }, (message): TaskAnswer | null | undefined => {
    const answer = (message ?? {}) as { accepted?: unknown; progress?: unknown; report?: unknown; error?: unknown; code?: unknown };
    if (!accepted) {
      // Anything else first (an older watcher's refusal, say): this watcher does not take it.
      accepted = answer.accepted === true;
      return accepted ? undefined : null;
    }
    if (typeof answer.progress === 'number') {
      onProgress?.(answer.progress);
      return undefined;
    }
    if (typeof answer.report === 'object' && answer.report !== null) return { report: answer.report as Record<string, unknown> };
    if (typeof answer.error === 'string') return { error: answer.error, code: typeof answer.code === 'string' ? answer.code : 'EWATCH' };
    return null;
  });
}

/**
 * handToWatcher for the tree that `open` names (as the CLI finds it), without opening its
 * repository: the report if it has the fields `complete` checks, or undefined when no watcher
 * does the task. Throws the watcher's error when the task failed. Fault injection
 * (SHADOWGIT_FAULT) and a pinned clock (SHADOWGIT_NOW) act in the process they are set in, so
 * with either set nothing is handed over.
 */
async function viaWatcher(open: { worktree?: string; cwd?: string }, task: WatcherTask, complete: (report: Record<string, unknown>) => boolean, onProgress?: (files: number) => void): Promise<Record<string, unknown> | undefined> {
  if (process.env.SHADOWGIT_FAULT || process.env.SHADOWGIT_NOW) return undefined;
  const { worktree, gitdir } = await locateRepository(open);
  const stateDir = stateDirOf(gitdir);
  const answer = await handToWatcher({ worktree, statePath: (name) => path.join(stateDir, name) }, task, onProgress);
  if (answer && 'error' in answer) throw new ShadowGitError(answer.error, answer.code);
  return answer && complete(answer.report) ? answer.report : undefined;
}

/** A snapshot recorded by the running watcher (see viaWatcher): its SnapshotReport. */
export function snapshotViaWatcher(open: { worktree?: string; cwd?: string }, request: SnapshotRequest, onProgress?: (files: number) => void): Promise<Record<string, unknown> | undefined> {
  const complete = (report: Record<string, unknown>) => typeof report.id === 'string' && typeof report.commit === 'string' && typeof report.created === 'boolean' && typeof report.changes === 'object' && Array.isArray(report.skipped);
  return viaWatcher(open, { snapshot: request }, complete, onProgress);
}

/** The status as the running watcher sees it (see viaWatcher): its StatusReport. */
export function statusViaWatcher(open: { worktree?: string; cwd?: string }): Promise<Record<string, unknown> | undefined> {
  const complete = (report: Record<string, unknown>) => {
    const changes = report.changes as Record<string, unknown> | null;
    return typeof report.worktree === 'string' && typeof report.initialized === 'boolean' && typeof changes === 'object' && changes !== null && ['added', 'modified', 'deleted'].every((kind) => Array.isArray(changes[kind])) && Array.isArray(report.skipped);
  };
  return viaWatcher(open, { status: {} }, complete);
}

/** The socket of the watcher running on repo.worktree, if one claims to run. */
async function watcherSocket(repo: RepoLocation): Promise<string | undefined> {
  const state = await readWatchState(repo);
  if (!state || typeof state.socket !== 'string' || typeof state.pid !== 'number' || state.worktree !== repo.worktree) return undefined;
  if (state.host === os.hostname() && !processAlive(state.pid)) return undefined;
  return state.socket;
}

/**
 * Sends one JSON line and reads JSON lines back, each handed to `onMessage`: a value ends the
 * exchange with it, null ends it with undefined (not understood), undefined reads on. Also
 * undefined when the first line does not come within `firstMs`, when a later one does not come
 * within `silenceMs` (none: later lines may take as long as the work they report on), or the
 * socket fails or closes first.
 */
function converse<T>(socketPath: string, request: unknown, limits: { firstMs: number; silenceMs?: number }, onMessage: (message: unknown) => T | null | undefined): Promise<T | undefined> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect(socketPath);
    const finish = (answer: T | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    let timer = setTimeout(() => finish(undefined), limits.firstMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      received += chunk;
      for (let end = received.indexOf('\n'); end >= 0; end = received.indexOf('\n')) {
        clearTimeout(timer);
        if (limits.silenceMs !== undefined) timer = setTimeout(() => finish(undefined), limits.silenceMs);
        const line = received.slice(0, end);
        received = received.slice(end + 1);
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          return finish(undefined);
        }
        const outcome = onMessage(message);
        if (outcome !== undefined) return finish(outcome ?? undefined);
      }
    });
    // A stale socket file (its watcher was killed) refuses the connection at once.
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

function isWatchChanges(message: unknown): message is WatchChanges {
  const answer = message as Partial<WatchChanges> | null;
  if (typeof answer !== 'object' || answer === null || typeof answer.token !== 'string') return false;
  return answer.paths === 'all' || (Array.isArray(answer.paths) && answer.paths.every((p) => typeof p === 'string'));
}

/**
 * Every changed path with the sequence number of its latest event, oldest first (a Map keeps
 * insertion order; a path seen again moves to the end). Tokens are `<instance>:<seq>`, the
 * instance random per watcher process so that a token from an earlier watcher is never mistaken
 * for one of ours. A token below `floor` predates what the log can answer for.
 */
export class ChangeLog {
  private readonly instance = randomBytes(8).toString('hex');
  private seq = 0;
  private floor = 0;
  private readonly latest = new Map<string, number>();

  constructor(private readonly maxPaths = MAX_TRACKED_PATHS) {}

  record(relPath: string): void {
    this.latest.delete(relPath);
    this.latest.set(relPath, ++this.seq);
    if (this.latest.size > this.maxPaths) {
      const [oldest, oldestSeq] = this.latest.entries().next().value as [string, number];
      this.latest.delete(oldest);
      this.floor = oldestSeq;
    }
  }

  /** Events may have gone unseen: every token handed out so far now answers 'all'. */
  forgetAll(): void {
    this.floor = ++this.seq;
    this.latest.clear();
  }

  token(): string {
    return `${this.instance}:${this.seq}`;
  }

  /** True when the log can list every change after `since`. */
  covers(since: string | undefined): boolean {
    return this.seqOf(since) !== undefined;
  }

  changesSince(since: string | undefined): string[] | 'all' {
    const sinceSeq = this.seqOf(since);
    if (sinceSeq === undefined) return 'all';
    const paths: string[] = [];
    for (const [relPath, seq] of this.latest) if (seq > sinceSeq) paths.push(relPath);
    return paths;
  }

  /** The sequence number of one of our tokens the log still covers. */
  private seqOf(token: string | undefined): number | undefined {
    const match = token === undefined ? null : /^([0-9a-f]+):(\d+)$/.exec(token);
    if (!match || match[1] !== this.instance) return undefined;
    const seq = Number(match[2]);
    return seq >= this.floor && seq <= this.seq ? seq : undefined;
  }
}

/** What the query server needs from the tree watcher. */
export interface WatchedTree {
  /** Some directories hold no watch: changes there go unseen. */
  readonly degraded: boolean;
  /** Resolves once every event delivered so far has been reported (directories classified, new ones watched). */
  settled(): Promise<void>;
}

type Request = { since: string | undefined } | WatcherTask | { error: string };

function parseRequest(line: string): Request {
  const malformed = { error: 'the request must be one JSON line: {"since": <token or null>}, {"snapshot": {"message"?: <text>, "note"?: <text>}} or {"status": {}}.' };
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return malformed;
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return malformed;
  const { since, snapshot, status } = request as { since?: unknown; snapshot?: unknown; status?: unknown };
  if (status !== undefined) return typeof status === 'object' && status !== null && !Array.isArray(status) ? { status: {} } : malformed;
  if (snapshot !== undefined) {
    const { message, note } = (snapshot ?? {}) as { message?: unknown; note?: unknown };
    if (typeof snapshot !== 'object' || snapshot === null || [message, note].some((text) => text !== undefined && typeof text !== 'string')) return malformed;
    return { snapshot: { message: message as string | undefined, note: note as string | undefined } };
  }
  if (since !== undefined && since !== null && typeof since !== 'string') return malformed;
  return { since: since ?? undefined };
}

/**
 * Answers change queries on a Unix domain socket, one JSON line each way. Runs inside the
 * watcher process, on the same event loop as the watcher's own snapshots (which query it too):
 * answering holds nothing a snapshot waits for, only the file events.
 */
export class WatchQueryServer {
  readonly log = new ChangeLog();
  private server: net.Server | undefined;
  private socketPath: string | undefined;
  /** Cookie name → called with true when its event arrives, false when the server closes. */
  private readonly cookieWaiters = new Map<string, (seen: boolean) => void>();

  constructor(
    private readonly worktree: string,
    private readonly tree: WatchedTree,
    /** Absent: tasks are refused (the caller then does its own). */
    private readonly tasks?: WatcherTasks,
  ) {}

  /** Starts listening; returns the socket path, for watch.json. */
  async listen(repo: Repository): Promise<string> {
    await removeDeadWatcherCookies(this.worktree);
    const socketPath = await socketPathFor(repo);
    // One watcher per tree holds watch.json, so a socket file here is a crashed watcher's.
    await fsp.rm(socketPath, { force: true });
    const server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.socketPath = socketPath;
    return socketPath;
  }

  /** The tree watcher saw a cookie appear in the root. */
  cookieSeen(name: string): void {
    this.cookieWaiters.get(name)?.(true);
  }

  async close(): Promise<void> {
    for (const waiter of this.cookieWaiters.values()) waiter(false);
    this.server?.close();
    this.server = undefined;
    if (this.socketPath) await fsp.rm(this.socketPath, { force: true });
    this.socketPath = undefined;
  }

  private serve(socket: net.Socket): void {
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => undefined);
    const onData = (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0 && received.length <= MAX_REQUEST_BYTES) return;
      socket.off('data', onData);
      const request = end < 0 ? { error: `the request is longer than ${MAX_REQUEST_BYTES} bytes.` } : parseRequest(received.slice(0, end));
      const tasks = this.tasks;
      if ('snapshot' in request && tasks && this.server) void this.serveTask(socket, (onProgress) => tasks.snapshot(request.snapshot, onProgress));
      else if ('status' in request && tasks && this.server) void this.serveTask(socket, () => tasks.status());
      else void this.respond(request).then((answer) => socket.end(`${JSON.stringify(answer)}\n`));
    };
    socket.on('data', onData);
  }

  /**
   * Accepted at once, then progress lines, then the report or the error. The task runs to its
   * end even if the requester goes away: a snapshot is recorded like any other.
   */
  private async serveTask(socket: net.Socket, run: (onProgress: (files: number) => void) => Promise<object>): Promise<void> {
    // A snapshot may take minutes (a first one of a large tree); the requester waits for it.
    socket.setTimeout(0);
    const send = (message: object) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    send({ accepted: true });
    let lastProgressAt = 0;
    let files = 0;
    const onProgress = (count: number) => {
      files = count;
      const now = Date.now();
      if (now - lastProgressAt < PROGRESS_INTERVAL_MS) return;
      lastProgressAt = now;
      send({ progress: files });
    };
    // Also while waiting for the lock or hashing one large file: silence means this process hangs.
    const heartbeat = setInterval(() => send({ progress: files }), HEARTBEAT_MS);
    try {
      send({ report: await run(onProgress) });
    } catch (err) {
      send({ error: (err as Error).message, code: (err as { code?: unknown }).code ?? 'EWATCH' });
    } finally {
      clearInterval(heartbeat);
    }
    socket.end();
  }

  private async respond(request: Request): Promise<WatchChanges | { error: string }> {
    if ('error' in request) return request;
    if (!('since' in request)) return { error: 'this watcher does no work for other commands.' };
    try {
      return await this.changesSince(request.since);
    } catch (err) {
      return { error: `the watcher could not answer: ${(err as Error).message}` };
    }
  }

  private async changesSince(since: string | undefined): Promise<WatchChanges> {
    // Answers that are 'all' anyway need no sync: the caller scans everything after this.
    if (!this.server || this.tree.degraded || !this.log.covers(since)) return { token: this.log.token(), paths: 'all' };
    const synced = await this.syncWithKernel();
    const paths = synced && !this.tree.degraded ? this.log.changesSince(since) : 'all';
    return { token: this.log.token(), paths };
  }

  /**
   * Creates a cookie file and waits until its event, and every event the kernel queued before
   * it, has been processed: then the log holds every change completed before the query. False
   * when that cannot be established (read-only root, the event did not come in time).
   */
  private async syncWithKernel(): Promise<boolean> {
    const name = newWatchCookie();
    const file = path.join(this.worktree, name);
    // Waiting before creating: the event may be processed before the creation call returns.
    const seen = new Promise<boolean>((resolve) => this.cookieWaiters.set(name, resolve));
    try {
      await fsp.writeFile(file, '', { flag: 'wx' });
    } catch {
      this.cookieWaiters.delete(name);
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), COOKIE_TIMEOUT_MS)));
      return await Promise.race([deadline, seen.then((ok) => ok && this.tree.settled().then(() => true))]);
    } finally {
      clearTimeout(timer);
      this.cookieWaiters.delete(name);
      await fsp.rm(file, { force: true });
    }
  }
}

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

/**
 * `<state dir>/watch.sock` when its path fits in a socket address; otherwise a hashed name in
 * a private per-user directory under the system temp directory.
 */
async function socketPathFor(repo: Repository): Promise<string> {
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
