/** A file's history: every snapshot in which it changed, two of them compared, one restored. */
import { useEffect, useState } from 'preact/hooks';
import { get, sentence } from '../api.js';
import { ErrorNote, Status, When } from '../components/common.js';
import { PlannedButton } from '../components/planned.js';
import { href, navigate } from '../route.js';
import type { FileHistory, FileVersion } from '../types.js';

const PAGE = 100;

export function History({ params }: { params: URLSearchParams }) {
  const path = params.get('path') ?? '';
  const [input, setInput] = useState(path);
  const [versions, setVersions] = useState<FileVersion[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [round, setRound] = useState(0);

  const load = async (before: string | undefined, signal?: AbortSignal) => {
    setLoading(true);
    try {
      const page = await get<FileHistory>('/api/history', { path, limit: PAGE, before }, signal);
      if (signal?.aborted) return;
      setVersions((old) => (before === undefined ? page.versions : [...old, ...page.versions]));
      setNext(page.next);
      setError(undefined);
    } catch (err) {
      if (!signal?.aborted) setError(sentence(err));
    } finally {
      if (!signal?.aborted) setLoading(false);
    }
  };

  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    void load(undefined, controller.signal);
    return () => controller.abort();
  }, [path, round]);

  const select = (id: string, on: boolean) => setSelected((old) => (on ? [...old.filter((s) => s !== id), id].slice(-2) : old.filter((s) => s !== id)));
  const compareSelected = () => {
    const [a, b] = selected;
    const [from, to] = versions.findIndex((v) => v.id === a) > versions.findIndex((v) => v.id === b) ? [a, b] : [b, a];
    navigate('compare', { from, to, path });
  };

  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">File history</h2>
      <form
        aria-label="Which file"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('history', { path: input.trim() });
        }}
      >
        <fieldset role="group">
          <input name="path" aria-label="File path" placeholder="src/index.ts" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} />
          <button type="submit">Show history</button>
        </fieldset>
      </form>
      <ErrorNote error={error} />
      {path && !error && (
        <>
          <header class="view-head">
            <p class="muted">
              {versions.length} version{versions.length === 1 ? '' : 's'} of <code>{path}</code> shown
            </p>
            <button type="button" disabled={selected.length !== 2} onClick={compareSelected}>
              Compare selected
            </button>
            <a href={href('compare', { path })}>Compare with the live tree</a>
          </header>
          <div class="overflow-auto">
            <table class="striped" aria-label={`Versions of ${path}`}>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Select</span>
                  </th>
                  <th scope="col">Snapshot</th>
                  <th scope="col">When</th>
                  <th scope="col">Change</th>
                  <th scope="col">Message</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {versions.map((v) => (
                  <tr key={v.id} data-testid="version-row" data-id={v.id}>
                    <td>
                      <input type="checkbox" aria-label={`Select version ${v.id} to compare`} checked={selected.includes(v.id)} onChange={(e) => select(v.id, (e.target as HTMLInputElement).checked)} />
                    </td>
                    <td>
                      <a href={href('snapshot', { rev: v.id })}>
                        <strong>{v.id}</strong>
                      </a>
                    </td>
                    <td>
                      <When date={v.date} />
                    </td>
                    <td>
                      <Status status={v.status} /> <small class="muted">{v.trigger}</small>
                    </td>
                    <td class="message">{v.message}</td>
                    <td class="actions">
                      {v.status !== 'deleted' && <a href={href('browse', { rev: v.id, path })}>View</a>}{' '}
                      {v.status !== 'deleted' && (
                        <PlannedButton
                          class="outline small"
                          label={`Restore ${v.id}…`}
                          action={{ verb: 'Restore', title: `Restore ${path} as it was in ${v.id}`, planPath: '/api/restore/plan', planBody: { rev: v.id, paths: [path] }, runPath: '/api/restore' }}
                          onDone={() => setRound((r) => r + 1)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {!loading && versions.length === 0 && next === null && <p>No snapshot holds a version of {path}.</p>}
          {next !== null && (
            <button type="button" class="secondary" aria-busy={loading} disabled={loading} onClick={() => void load(next)}>
              Older
            </button>
          )}
        </>
      )}
    </section>
  );
}
