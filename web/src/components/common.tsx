/** Small pieces every view uses: loading an answer, showing an error, counts, times, the CLI equivalent. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { sentence } from '../api.js';
import type { Counts } from '../types.js';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** The answer of `load`, asked again when `deps` change; an answer to an older question is dropped. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => controller.signal.aborted || setState({ data, loading: false }),
      (err: unknown) => controller.signal.aborted || setState({ error: sentence(err), loading: false }),
    );
    return () => controller.abort();
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" class="error">
      {error}
    </p>
  );
}

/** An answer's error, its loading state, or what it shows. */
export function Shown<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p aria-busy="true">Loading…</p>;
  return <>{children(loaded.data)}</>;
}

export function CountBadges({ counts }: { counts: Counts | undefined }) {
  if (!counts) return null;
  return (
    <span class="counts" aria-label={`${counts.added} added, ${counts.modified} modified, ${counts.deleted} deleted`}>
      <span class="added">+{counts.added}</span> <span class="modified">~{counts.modified}</span> <span class="deleted">-{counts.deleted}</span>
    </span>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 31536000],
  ['month', 2592000],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "5 minutes ago", with the exact time on hover and for screen readers' details. */
export function When({ date }: { date: string }) {
  const then = new Date(date);
  const seconds = Math.round((then.getTime() - Date.now()) / 1000);
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
  return (
    <time dateTime={date} title={then.toLocaleString()}>
      {relative.format(Math.round(seconds / size), unit)}
    </time>
  );
}

/** The command line that does what the page just did. */
export function CliHint({ cli }: { cli: string | undefined }) {
  if (!cli) return null;
  return (
    <p class="cli">
      <small>Equivalent command:</small> <code data-testid="cli">{cli}</code>
    </p>
  );
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 10);
}
