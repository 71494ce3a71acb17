/** One snapshot as `shadowgit show` tells it, and rolling back to it. */
import { get } from '../api.js';
import { CountBadges, Shown, Status, When, useLoad } from '../components/common.js';
import { PlannedButton } from '../components/planned.js';
import { href } from '../route.js';
import type { SnapshotDetails } from '../types.js';

export function SnapshotView({ rev }: { rev: string }) {
  const loaded = useLoad((signal) => get<SnapshotDetails>(`/api/snapshots/${encodeURIComponent(rev)}`, {}, signal), [rev]);
  return (
    <section aria-labelledby="snapshot-title">
      <h2 id="snapshot-title">Snapshot {loaded.data?.id ?? rev}</h2>
      {!rev && <p>Pick a snapshot on the timeline.</p>}
      {rev && (
        <Shown loaded={loaded}>
          {(s) => (
            <>
              <dl class="details">
                <dt>Commit</dt>
                <dd>
                  <code>{s.commit}</code>
                </dd>
                <dt>When</dt>
                <dd>
                  <When date={s.date} /> · {new Date(s.date).toLocaleString()}
                </dd>
                <dt>Trigger</dt>
                <dd>{s.trigger}</dd>
                <dt>Message</dt>
                <dd>{s.message}</dd>
                {s.agent && (
                  <>
                    <dt>Agent</dt>
                    <dd>
                      {[s.agent.agent, s.agent.session && `session ${s.agent.session}`, s.agent.event, s.agent.tool].filter(Boolean).join(' · ')}
                    </dd>
                  </>
                )}
                {/* Recorded against the snapshot the tree was last rolled back or restored to (else the parent), so after a rollback they differ from the files listed below, which are from the parent. */}
                <dt>Changes when recorded</dt>
                <dd title="against the snapshot the tree was based on when this was recorded: the last one rolled back to, else its parent">
                  <CountBadges counts={s.counts} />
                </dd>
                {s.approved.length > 0 && (
                  <>
                    <dt>Approved</dt>
                    <dd>
                      {s.approved.map((name) => (
                        <span key={name} class="badge approved">
                          ✓ {name}
                        </span>
                      ))}
                    </dd>
                  </>
                )}
                {s.note && (
                  <>
                    <dt>Note</dt>
                    <dd>
                      <pre class="note">{s.note}</pre>
                    </dd>
                  </>
                )}
              </dl>
              <nav aria-label="Snapshot links">
                <ul>
                  {s.parent && (
                    <li>
                      <a href={href('compare', { from: s.parent, to: s.id })}>Compare with its parent</a>
                    </li>
                  )}
                  <li>
                    <a href={href('compare', { from: s.id })}>Compare with the live tree</a>
                  </li>
                  <li>
                    <a href={href('browse', { rev: s.id })}>Browse its files</a>
                  </li>
                </ul>
              </nav>
              <h3>
                Files changed from its parent <small class="muted">({s.totalFiles})</small>
              </h3>
              <ul class="paths">
                {s.files.map((f) => (
                  <li key={f.path}>
                    <Status status={f.status} />{' '}
                    <a href={s.parent ? href('compare', { from: s.parent, to: s.id, path: f.path }) : href('browse', { rev: s.id, path: f.path })}>
                      <code>{f.path}</code>
                    </a>
                  </li>
                ))}
              </ul>
              {s.truncated && <p class="muted">The first {s.files.length} of {s.totalFiles} are listed.</p>}
              <h3>Actions</h3>
              <PlannedButton
                action={{ verb: 'Roll back', title: `Roll the working tree back to ${s.id}`, planPath: '/api/rollback/plan', planBody: { rev: s.id }, runPath: '/api/rollback' }}
                label="Roll back to this snapshot…"
              />
            </>
          )}
        </Shown>
      )}
    </section>
  );
}
