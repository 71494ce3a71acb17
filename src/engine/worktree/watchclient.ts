import net from 'node:net';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { lockTimeoutMs } from '../store/lock.js';
import { locateRepository, stateDirOf } from '../store/paths.js';
import { isWatchChanges, MAX_REQUEST_BYTES, type SnapshotRequest, type TaskAnswer, type WatchChanges, type WatcherTask } from './watchprotocol.js';
import { watcherSocket, type RepoLocation } from './watchstate.js';

// The query side of `watch`, like git's fsmonitor: a snapshot asks the running watcher which
// paths changed since its last token instead of walking the whole tree, and `snapshot` and
// `status` hand it their whole work. This module is on the path of every snapshot and status,
// so it loads nothing but Node's own modules.

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
