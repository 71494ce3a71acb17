/**
 * Hash routing: `#/compare?from=a&to=b` names a view and its parameters, so every view can be
 * linked to, bookmarked and reloaded, and the server serves one page for all of them.
 */
import { useEffect, useState } from 'preact/hooks';
import { queryString } from './query.js';

const VIEWS = ['timeline', 'snapshot', 'compare', 'history', 'browse', 'impact', 'health', 'operations'] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  params: URLSearchParams;
}

function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const name = q < 0 ? text : text.slice(0, q);
  const view = (VIEWS as readonly string[]).includes(name) ? (name as View) : 'timeline';
  return { view, params: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) };
}

/** The link to `view` with the parameters that are set. */
export function href(view: View, params: Record<string, string | undefined | null> = {}): string {
  return `#/${view}${queryString(params)}`;
}

export function navigate(view: View, params: Record<string, string | undefined | null> = {}): void {
  location.hash = href(view, params);
}

/** The current route, following the address bar. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
