/**
 * The contract between the UI server (server.ts: token, Host, CSRF, idle stop, static files,
 * events) and the API modules in api/: each module exports its routes, and the server matches a
 * request to one, checks it and calls it. docs/ui.md lists every route and its JSON.
 */
import type { ShadowGit } from '../shadowgit.js';
import type { PlanStore } from '../frontend/plans.js';

export type Method = 'GET' | 'POST';

/** What one running server gives every handler besides the repository. */
export interface UiContext {
  /** The token every POST carries in X-CSRF-Token (GET /api/session hands it to the page). */
  csrf: string;
  /** shadowgit's version, for the page to show. */
  version: string;
  /** The rollback, restore and undo plans shown and not yet carried out. */
  plans: PlanStore;
  /** Sends an event to every open event stream (events.ts). */
  publish(event: string, data: unknown): void;
}

/** One API request as a handler sees it: already authenticated, Host- and CSRF-checked. */
export interface ApiRequest {
  /** Query parameters (GET) — each name once; repeated names keep the last. */
  query: URLSearchParams;
  /** The parsed JSON body of a POST (an object; the server refuses anything else), else {}. */
  body: Record<string, unknown>;
  /** Path parameters named in the route's pattern (`/api/snapshots/:rev` → params.rev). */
  params: Record<string, string>;
  /** The open repository the server serves. */
  sg: ShadowGit;
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal;
  ui: UiContext;
}

/** A handler's answer: JSON with status 200 unless `status` says otherwise. */
export interface ApiResponse {
  status?: number;
  json: unknown;
}

export interface Route {
  method: Method;
  /** `/api/...`, with `:name` segments matched as one path segment each. */
  pattern: string;
  handler: (req: ApiRequest) => Promise<ApiResponse>;
}
