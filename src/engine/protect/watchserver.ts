import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Repository } from '../store/repo.js';
import { newWatchCookie, removeDeadWatcherCookies } from '../worktree/watchcookie.js';
import { MAX_REQUEST_BYTES, parseWatchRequest, type SnapshotRequest, type WatchChanges, type WatchRequest } from '../worktree/watchprotocol.js';
import { ChangeLog } from './changelog.js';
import { socketPathFor } from './watchsocket.js';

/**
 * How long a query waits for its cookie's event and the events before it to be processed
 * before answering 'all': below askWatcher's default timeout, so a slow watcher still hands
 * out a usable token.
 */
const COOKIE_TIMEOUT_MS = 800;
/** A connection that has not sent its request line by then is dropped. */
const REQUEST_TIMEOUT_MS = 5000;
/** A snapshot's progress goes to its requester at most this often… */
const PROGRESS_INTERVAL_MS = 100;
/** …and at least this often. */
const HEARTBEAT_MS = 1000;

/** How the watcher carries out each WatcherTask: the facade's report, or a rejection with its error. */
export interface WatcherTasks {
  snapshot(request: SnapshotRequest, onProgress: (files: number) => void): Promise<object>;
  status(): Promise<object>;
}

/** What the query server needs from the tree watcher. */
export interface WatchedTree {
  /** Some directories hold no watch: changes there go unseen. */
  readonly degraded: boolean;
  /** Resolves once every event delivered so far has been reported (directories classified, new ones watched). */
  settled(): Promise<void>;
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
      const request = end < 0 ? { error: `the request is longer than ${MAX_REQUEST_BYTES} bytes.` } : parseWatchRequest(received.slice(0, end));
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

  private async respond(request: WatchRequest): Promise<WatchChanges | { error: string }> {
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
