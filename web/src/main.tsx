/** The page: the header with the views, the view the address names, announcements of live events. */
import '@picocss/pico/css/pico.min.css';
import 'diff2html/bundles/css/diff2html.min.css';
import './app.css';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { getSession } from './api.js';
import { ErrorNote, useLoad } from './components/common.js';
import { PlannedButton } from './components/planned.js';
import { useEvents } from './events.js';
import { href, useRoute, type View } from './route.js';
import { Browse } from './views/browse.js';
import { Compare } from './views/compare.js';
import { Health } from './views/health.js';
import { History } from './views/history.js';
import { Impact } from './views/impact.js';
import { Operations, UNDO } from './views/operations.js';
import { SnapshotView } from './views/snapshot.js';
import { Timeline } from './views/timeline.js';

const NAV: Array<[View, string]> = [
  ['timeline', 'Timeline'],
  ['compare', 'Compare'],
  ['history', 'File history'],
  ['browse', 'Browse'],
  ['impact', 'Impact'],
  ['health', 'Health'],
  ['operations', 'Operations'],
];

function Current() {
  const { view, params } = useRoute();
  // Keyed by what the view is of: another snapshot, file or pair starts afresh; a file picked
  // within a comparison or a directory, or a layout toggled, keeps what is loaded.
  const of = (name: string) => `${view}:${params.get(name) ?? ''}`;
  switch (view) {
    case 'snapshot':
      return <SnapshotView key={of('rev')} rev={params.get('rev') ?? ''} />;
    case 'compare':
      return <Compare key={`${of('from')}:${params.get('to') ?? ''}`} params={params} />;
    case 'history':
      return <History key={of('path')} params={params} />;
    case 'browse':
      return <Browse key={of('rev')} params={params} />;
    case 'impact':
      return <Impact />;
    case 'health':
      return <Health />;
    case 'operations':
      return <Operations />;
    default:
      return <Timeline key={of('limit')} params={params} />;
  }
}

function App() {
  const session = useLoad(() => getSession(), []);
  const { view } = useRoute();
  const [announcement, setAnnouncement] = useState('');
  useEvents((name, data) => {
    const id = (data as { id?: unknown } | undefined)?.id;
    if (name === 'snapshot' && typeof id === 'string') setAnnouncement(`New snapshot ${id}`);
    const cli = (data as { cli?: unknown } | undefined)?.cli;
    if (name === 'action' && typeof cli === 'string') setAnnouncement(`Done: ${cli}`);
  });
  return (
    <>
      <header class="container-fluid app-head">
        <nav aria-label="Views">
          <ul>
            <li>
              <strong>shadowgit</strong>
              {session.data && (
                <small class="muted" title={session.data.repo}>
                  {' '}
                  {session.data.worktree} · v{session.data.version}
                </small>
              )}
            </li>
          </ul>
          <ul>
            {NAV.map(([name, label]) => (
              <li key={name}>
                <a href={href(name)} aria-current={view === name ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
            <li>
              <PlannedButton action={UNDO} label="Undo…" class="outline small" />
            </li>
          </ul>
        </nav>
      </header>
      <main class="container-fluid">
        <ErrorNote error={session.error} />
        <Current />
      </main>
      <div class="visually-hidden" role="status" aria-live="polite" data-testid="announcement">
        {announcement}
      </div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
