// The watcher's socket protocol, one JSON line each way: what a command may ask (what changed
// since a token, a snapshot, the status) and what comes back. Both ends read the shapes from
// here: the client beside it, the server in protect/watchserver.ts.

import { asProvenance, type AgentProvenance } from '../provenance.js';

export interface WatchChanges {
  /** Opaque; pass it back as `since` next time. Encodes the watcher instance and an event sequence number. */
  token: string;
  /** Worktree-relative posix paths (files or directories; '' is the root) that changed after `since`; 'all' when the watcher cannot tell (since is undefined or from another watcher instance, history beyond what it kept, watching degraded, an ignore file changed, too many paths). */
  paths: string[] | 'all';
}

/** What a snapshot taken by the watcher for another command is asked to record. */
export interface SnapshotRequest {
  message?: string;
  note?: string;
  /** Absent: manual. */
  trigger?: string;
  provenance?: AgentProvenance;
  recordUnchanged?: boolean;
}

/** Work a watcher does for another command, in its own process: it knows what changed and keeps the stat cache in memory. */
export type WatcherTask = { snapshot: SnapshotRequest } | { status: Record<string, never> };

/** The watcher's answer to a WatcherTask: the facade's report, or its error. */
export type TaskAnswer = { report: Record<string, unknown> } | { error: string; code: string };

/** A snapshot request carries its note, which may be a long chat log. */
export const MAX_REQUEST_BYTES = 1 << 20;

export function isWatchChanges(message: unknown): message is WatchChanges {
  const answer = message as Partial<WatchChanges> | null;
  if (typeof answer !== 'object' || answer === null || typeof answer.token !== 'string') return false;
  return answer.paths === 'all' || (Array.isArray(answer.paths) && answer.paths.every((p) => typeof p === 'string'));
}

export type WatchRequest = { since: string | undefined } | WatcherTask | { error: string };

/** A trigger another command may ask the watcher to record under (manual, agent-prompt, …). */
const TRIGGER = /^[a-z][a-z-]{0,31}$/;

export function parseWatchRequest(line: string): WatchRequest {
  const malformed = { error: 'the request must be one JSON line: {"since": <token or null>}, {"snapshot": {"message"?: <text>, "note"?: <text>, "trigger"?: <word>, "provenance"?: {…}, "recordUnchanged"?: <boolean>}} or {"status": {}}.' };
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
    const { message, note, trigger, provenance, recordUnchanged } = (snapshot ?? {}) as Record<string, unknown>;
    if (typeof snapshot !== 'object' || snapshot === null || [message, note].some((text) => text !== undefined && typeof text !== 'string')) return malformed;
    if (trigger !== undefined && !(typeof trigger === 'string' && TRIGGER.test(trigger))) return malformed;
    if ((provenance !== undefined && !asProvenance(provenance)) || (recordUnchanged !== undefined && typeof recordUnchanged !== 'boolean')) return malformed;
    const request: SnapshotRequest = { message: message as string | undefined, note: note as string | undefined };
    if (trigger !== undefined) request.trigger = trigger as string;
    if (provenance !== undefined) request.provenance = asProvenance(provenance);
    if (recordUnchanged) request.recordUnchanged = true;
    return { snapshot: request };
  }
  if (since !== undefined && since !== null && typeof since !== 'string') return malformed;
  return { since: since ?? undefined };
}
