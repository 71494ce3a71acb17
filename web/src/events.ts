/**
 * The server's event stream (GET /api/events): one EventSource for the page, shared by the views
 * that listen. A new snapshot, a moved ref (an approval) or an action done: the views ask again.
 * An open stream is also what keeps the server from stopping idle.
 */
import { useEffect, useRef } from 'preact/hooks';

export type EventName = 'snapshot' | 'refs' | 'action';
type Listener = (name: EventName, data: unknown) => void;

const listeners = new Set<Listener>();
let source: EventSource | undefined;

function open(): void {
  if (source) return;
  source = new EventSource('/api/events');
  for (const name of ['snapshot', 'refs', 'action'] as const) {
    source.addEventListener(name, (event) => {
      let data: unknown;
      try {
        data = JSON.parse((event as MessageEvent<string>).data);
      } catch {
        data = undefined;
      }
      for (const listener of listeners) listener(name, data);
    });
  }
}

/** Calls `listener` on every event while the component is shown. */
export function useEvents(listener: Listener): void {
  const current = useRef(listener);
  current.current = listener;
  useEffect(() => {
    const forward: Listener = (name, data) => current.current(name, data);
    listeners.add(forward);
    open();
    return () => {
      listeners.delete(forward);
    };
  }, []);
}

