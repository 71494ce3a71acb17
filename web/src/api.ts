/**
 * The one way the page talks to the server: GETs as they are, POSTs with the CSRF token of
 * GET /api/session and a JSON body (the server refuses anything else), and every error turned
 * into the sentence the server sent.
 */
import { queryString } from './query.js';
import type { Session } from './types.js';

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const error = (body as { error?: { message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : res.status === 401 ? 'This page is no longer signed in: open the address `shadowgit ui` printed again.' : `The server answered ${res.status} ${res.statusText}.`;
  throw new Error(message);
}

export async function get<T>(path: string, params: Record<string, string | number | undefined | null> = {}, signal?: AbortSignal): Promise<T> {
  return answer<T>(await fetch(`${path}${queryString(params)}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin', signal }));
}

let session: Promise<Session> | undefined;

/** The session (worktree, version, CSRF token), asked for once; asked again after a failure. */
export function getSession(): Promise<Session> {
  session ??= get<Session>('/api/session').catch((err: unknown) => {
    session = undefined;
    throw err;
  });
  return session;
}

export async function post<T>(path: string, body: Record<string, unknown>): Promise<T> {
  const { csrf } = await getSession();
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body),
  });
  return answer<T>(res);
}

/** What an error says, for the page. */
export function sentence(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
