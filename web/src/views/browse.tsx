/** A snapshot's tree, one directory at a time, and any file in it. */
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { Shown, useLoad } from '../components/common.js';
import { PlannedButton } from '../components/planned.js';
import { href, navigate } from '../route.js';
import type { SnapshotFile, TreeListing } from '../types.js';
import { SnapshotChoices } from './compare.js';

const parentOf = (path: string) => path.split('/').slice(0, -1).join('/');

function Crumbs({ rev, dir }: { rev: string; dir: string }) {
  const parts = dir ? dir.split('/') : [];
  return (
    <nav aria-label="Directory">
      <ul class="crumbs">
        <li>
          <a href={href('browse', { rev })}>{rev}</a>
        </li>
        {parts.map((part, i) => (
          <li key={i}>
            <a href={href('browse', { rev, dir: parts.slice(0, i + 1).join('/') })}>{part}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function FileView({ rev, path }: { rev: string; path: string }) {
  const loaded = useLoad((signal) => get<SnapshotFile>('/api/file', { rev, path }, signal), [rev, path]);
  return (
    <Shown loaded={loaded}>
      {(f) => (
        <article aria-label={`File ${f.path}`}>
          <header class="view-head">
            <h3>
              <code>{f.path}</code>
            </h3>
            <small class="muted">
              {f.size.toLocaleString()} bytes · mode {f.mode} · in {f.rev.id}
            </small>
            <a href={href('history', { path: f.path })}>History</a>
            <a href={href('compare', { from: f.rev.id, path: f.path })}>Compare with the live tree</a>
            <PlannedButton
              class="outline small"
              label="Restore this version…"
              action={{ verb: 'Restore', title: `Restore ${f.path} as it was in ${f.rev.id}`, planPath: '/api/restore/plan', planBody: { rev: f.rev.id, paths: [f.path] }, runPath: '/api/restore' }}
            />
          </header>
          {f.text !== null ? (
            <pre class="file-text" data-testid="file-text">
              {f.text}
            </pre>
          ) : (
            <p>{f.binary ? 'A binary file: not shown.' : f.tooLarge ? 'Over 1 MiB: not shown.' : 'Not shown.'}</p>
          )}
        </article>
      )}
    </Shown>
  );
}

export function Browse({ params }: { params: URLSearchParams }) {
  const rev = params.get('rev') || 'latest';
  const path = params.get('path') ?? '';
  const dir = params.get('dir') ?? (path ? parentOf(path) : '');
  const [input, setInput] = useState(rev);
  const loaded = useLoad((signal) => get<TreeListing>('/api/tree', { rev, dir }, signal), [rev, dir]);
  return (
    <section aria-labelledby="browse-title">
      <h2 id="browse-title">Browse</h2>
      <form
        aria-label="Which snapshot"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('browse', { rev: input.trim() });
        }}
      >
        <SnapshotChoices id="browse-snapshots" />
        <fieldset role="group">
          <input name="rev" aria-label="Snapshot" list="browse-snapshots" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} />
          <button type="submit">Browse</button>
        </fieldset>
      </form>
      <Crumbs rev={rev} dir={dir} />
      <div class="browse">
        <Shown loaded={loaded}>
          {(t) => (
            <div>
              <ul class="tree" aria-label={`Files in ${t.dir || 'the root'} of ${t.rev.id}`}>
                {dir && (
                  <li>
                    <a href={href('browse', { rev, dir: parentOf(dir) })}>..</a>
                  </li>
                )}
                {t.entries.map((e) => (
                  <li key={e.path} class={`entry-${e.type}`}>
                    {e.type === 'dir' ? (
                      <a href={href('browse', { rev, dir: e.path })}>{e.name}/</a>
                    ) : e.type === 'submodule' ? (
                      <span>{e.name} (submodule)</span>
                    ) : (
                      <a href={href('browse', { rev, path: e.path })} aria-current={e.path === path ? 'true' : undefined}>
                        {e.name}
                        {e.type === 'symlink' ? ' →' : ''}
                      </a>
                    )}
                  </li>
                ))}
              </ul>
              {t.truncated && <p class="muted">The first {t.entries.length} of {t.total} entries are listed.</p>}
            </div>
          )}
        </Shown>
        <div>{path ? <FileView rev={rev} path={path} /> : <p class="muted">Pick a file to read it.</p>}</div>
      </div>
    </section>
  );
}
