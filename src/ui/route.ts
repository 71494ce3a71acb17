/**
 * The contract between the UI server (server.ts: token, Host, CSRF, idle stop, static files,
 * events) and the API modules in api/: each module exports its routes, and the server matches a
 * request to one, checks it and calls it. docs/ui.md lists every route and its JSON.
 */
import type { ShadowGit } from '../shadowgit.js';

export type Method = 'GET' | 'POST';

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
