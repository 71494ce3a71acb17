/**
 * Compare two points, or a point and the live tree: the changed files first (counts, paths), then
 * one file's diff, unified or side by side.
 */
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { Shown, Status, useLoad } from '../components/common.js';
import { Diff, LayoutToggle, type DiffLayout } from '../components/diff.js';
import { href, navigate } from '../route.js';
import type { Comparison, FileComparison, SnapshotRef, TimelinePage } from '../types.js';

const endName = (end: SnapshotRef | 'worktree') => (end === 'worktree' ? 'the live tree' : end.id);

/** Recent snapshot ids for the pickers' suggestions. */
export function SnapshotChoices({ id }: { id: string }) {
  const loaded = useLoad((signal) => get<TimelinePage>('/api/timeline', { limit: 100 }, signal), []);
  return (
    <datalist id={id}>
      {loaded.data?.snapshots.map((s) => (
        <option key={s.id} value={s.id}>
          {s.message}
        </option>
      ))}
    </datalist>
  );
}

function FileDiff({ from, to, path, layout }: { from?: string; to?: string; path: string; layout: DiffLayout }) {
  const loaded = useLoad((signal) => get<FileComparison>('/api/compare/file', { from, to, path }, signal), [from, to, path]);
  return (
    <Shown loaded={loaded}>
      {(d) => (
        <>
          {d.status === 'unchanged' && <p>{d.path} is the same on both sides.</p>}
          {d.tooLarge && <p class="warning">{d.path} is too large to diff here (a side over 4 MiB, or the diff took too long).</p>}
          {d.binary && <p>{d.path} is binary: its contents differ.</p>}
          {d.patch && !d.binary && <Diff patch={d.patch} layout={layout} />}
          {d.truncated && <p class="warning">The diff is cut short: it is over 1 MiB.</p>}
        </>
      )}
    </Shown>
  );
}

export function Compare({ params }: { params: URLSearchParams }) {
  const from = params.get('from') ?? undefined;
  const to = params.get('to') ?? undefined;
  const layout: DiffLayout = params.get('layout') === 'split' ? 'split' : 'unified';
  const [fromInput, setFromInput] = useState(from ?? '');
  const [toInput, setToInput] = useState(to ?? '');
  const loaded = useLoad((signal) => get<Comparison>('/api/compare', { from, to }, signal), [from, to]);
  const link = (changes: Record<string, string | undefined>) => href('compare', { from, to, path: params.get('path') ?? undefined, layout: layout === 'split' ? 'split' : undefined, ...changes });

  const submit = (event: Event) => {
    event.preventDefault();
    navigate('compare', { from: fromInput.trim(), to: toInput.trim(), layout: layout === 'split' ? 'split' : undefined });
  };

  return (
    <section aria-labelledby="compare-title">
      <h2 id="compare-title">Compare</h2>
      <form onSubmit={submit} aria-label="What to compare">
        <SnapshotChoices id="compare-snapshots" />
        <fieldset class="pickers">
          <label>
            From
            <input name="from" list="compare-snapshots" placeholder="what status compares with" value={fromInput} onInput={(e) => setFromInput((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            To
            <input name="to" list="compare-snapshots" placeholder="the live tree" value={toInput} onInput={(e) => setToInput((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Compare</button>
        </fieldset>
      </form>
      <Shown loaded={loaded}>
        {(c) => {
          const path = params.get('path') ?? c.files[0]?.path;
          return (
            <>
              <p data-testid="compare-summary">
                From <a href={href('snapshot', { rev: c.from.id })}>{c.from.id}</a> to {c.to === 'worktree' ? 'the live tree' : <a href={href('snapshot', { rev: c.to.id })}>{c.to.id}</a>}: {c.total} file{c.total === 1 ? '' : 's'} changed (
                <span class="added">{c.counts.added} added</span>, <span class="modified">{c.counts.modified} modified</span>, <span class="deleted">{c.counts.deleted} deleted</span>; <span class="added">+{c.lines.added}</span> <span class="deleted">−{c.lines.removed}</span> lines)
              </p>
              {c.total === 0 && <p>Nothing differs between {c.from.id} and {endName(c.to)}.</p>}
              {c.files.length > 0 && (
                <table class="striped file-list" aria-label="Changed files" data-testid="changed-files">
                  <tbody>
                    {c.files.map((f) => (
                      <tr key={f.path}>
                        <td>
                          <Status status={f.status} />
                        </td>
                        <td class="path">
                          <a href={link({ path: f.path })} aria-current={f.path === path ? 'true' : undefined}>
                            <code>{f.path}</code>
                          </a>
                        </td>
                        <td class="counts">
                          {f.binary ? 'binary' : f.tooLarge ? 'too large to count' : <><span class="added">+{f.added}</span> <span class="deleted">−{f.removed}</span></>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {c.truncated && <p class="muted">The first {c.files.length} of {c.total} changed files are listed.</p>}
              {path && (
                <section aria-label={`Diff of ${path}`}>
                  <header class="view-head">
                    <h3>
                      <code>{path}</code>
                    </h3>
                    <LayoutToggle layout={layout} onChange={(l) => (location.hash = link({ path, layout: l === 'split' ? 'split' : undefined }))} />
                    <a href={href('history', { path })}>History of this file</a>
                  </header>
                  <FileDiff from={from} to={to} path={path} layout={layout} />
                </section>
              )}
            </>
          );
        }}
      </Shown>
    </section>
  );
}
