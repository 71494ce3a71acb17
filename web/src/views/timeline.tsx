/**
 * The timeline: snapshots newest first, runs of them grouped by where they came from (an agent's
 * session, the watcher, a guard, a rollback, by hand), approvals and the remotes holding each as
 * badges. Older pages on demand; a new snapshot appears as the server announces it.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get, sentence } from '../api.js';
import { CountBadges, ErrorNote, When, shortCommit } from '../components/common.js';
import { useEvents } from '../events.js';
import { href, navigate } from '../route.js';
import type { TimelineEntry, TimelinePage } from '../types.js';

const PAGE = 100;

export interface Source {
  key: string;
  kind: 'agent' | 'watcher' | 'guard' | 'rollback' | 'manual';
  label: string;
}

const ROLLBACK_TRIGGERS = new Set(['pre-rollback', 'pre-restore', 'pre-undo', 'interrupted']);

export function agentLabel(entry: TimelineEntry): string | undefined {
  const a = entry.agent;
  if (!a) return undefined;
  return a.label ?? [a.agent ?? a.name, a.session?.slice(0, 8)].filter(Boolean).join('·');
}

/** Where a snapshot came from: consecutive snapshots of one source form one group. */
export function sourceOf(entry: TimelineEntry): Source {
  const agent = agentLabel(entry);
  if (agent !== undefined) return { key: `agent:${agent}`, kind: 'agent', label: `Agent session ${agent}` };
  if (entry.trigger === 'watch') return { key: 'watcher', kind: 'watcher', label: 'Watcher' };
  if (entry.trigger.startsWith('guard')) return { key: 'guard', kind: 'guard', label: 'Guard' };
  if (ROLLBACK_TRIGGERS.has(entry.trigger)) return { key: 'rollback', kind: 'rollback', label: 'Before a rollback, restore or undo' };
  return { key: 'manual', kind: 'manual', label: 'Manual' };
}

export function groupBySource(entries: TimelineEntry[]): Array<{ source: Source; entries: TimelineEntry[] }> {
  const groups: Array<{ source: Source; entries: TimelineEntry[] }> = [];
  for (const entry of entries) {
    const source = sourceOf(entry);
    const last = groups[groups.length - 1];
    if (last && last.source.key === source.key) last.entries.push(entry);
    else groups.push({ source, entries: [entry] });
  }
  return groups;
}

export const approvedOf = (e: TimelineEntry): string[] => e.approved ?? e.tags ?? [];

function Row({ entry, selected, onSelect, fresh }: { entry: TimelineEntry; selected: boolean; onSelect: (on: boolean) => void; fresh: boolean }) {
  const agent = entry.agent;
  return (
    <tr data-testid="snapshot-row" data-id={entry.id} class={fresh ? 'fresh' : undefined}>
      <td>
        <input type="checkbox" aria-label={`Select ${entry.id} to compare`} checked={selected} onChange={(e) => onSelect((e.target as HTMLInputElement).checked)} />
      </td>
      <td>
        <a href={href('snapshot', { rev: entry.id })}>
          <strong>{entry.id}</strong>
        </a>
        <br />
        <small class="muted">{shortCommit(entry.commit)}</small>
      </td>
      <td>
        <When date={entry.date} />
      </td>
      <td>
        <span class={`trigger trigger-${sourceOf(entry).kind}`}>{entry.trigger}</span>
        {agent?.prompt !== undefined && <small class="muted"> prompt #{agent.prompt}</small>}
        {agent?.tool && <small class="muted"> {agent.tool}</small>}
      </td>
      <td class="message">
        {entry.message}
        {approvedOf(entry).map((name) => (
          <span key={name} class="badge approved" title="approved">
            ✓ {name}
          </span>
        ))}
        {(entry.remotes ?? []).map((name) => (
          <span key={name} class="badge remote" title={`held by the remote ${name}`}>
            ⇡ {name}
          </span>
        ))}
      </td>
      <td>
        <CountBadges counts={entry.changes ?? entry.counts} />
      </td>
      <td>
        <a href={href('compare', { from: entry.id })} title="Compare with the live tree">
          vs live
        </a>
      </td>
    </tr>
  );
}

export function Timeline() {
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState<number | undefined>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [selected, setSelected] = useState<string[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const known = useRef<Set<string> | undefined>(undefined);
  const pagedOn = useRef(false);

  /** The newest page again, kept in front of the older pages already shown. */
  const refresh = useCallback(async () => {
    try {
      const page = await get<TimelinePage>('/api/timeline', { limit: PAGE });
      const seen = known.current;
      setFresh(new Set(seen ? page.snapshots.filter((s) => !seen.has(s.id)).map((s) => s.id) : []));
      setEntries((old) => {
        const ids = new Set(page.snapshots.map((s) => s.id));
        const merged = [...page.snapshots, ...old.filter((s) => !ids.has(s.id))];
        known.current = new Set(merged.map((s) => s.id));
        return merged;
      });
      // Once older pages are shown, the next page goes on from the oldest of them.
      if (!pagedOn.current) setNext(page.next);
      setTotal(page.total);
      setError(undefined);
    } catch (err) {
      setError(sentence(err));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  useEvents(() => void refresh());

  const older = async () => {
    if (next === null) return;
    setLoading(true);
    try {
      const page = await get<TimelinePage>('/api/timeline', { limit: PAGE, before: next });
      setEntries((old) => {
        const ids = new Set(old.map((s) => s.id));
        const merged = [...old, ...page.snapshots.filter((s) => !ids.has(s.id))];
        known.current = new Set(merged.map((s) => s.id));
        return merged;
      });
      pagedOn.current = true;
      setNext(page.next);
      setTotal(page.total);
      setError(undefined);
    } catch (err) {
      setError(sentence(err));
    } finally {
      setLoading(false);
    }
  };

  const select = (id: string, on: boolean) => setSelected((old) => (on ? [...old.filter((s) => s !== id), id].slice(-2) : old.filter((s) => s !== id)));
  const compareSelected = () => {
    const [a, b] = selected;
    // Older first: the list is newest first, so the later index is the older snapshot.
    const [from, to] = entries.findIndex((e) => e.id === a) > entries.findIndex((e) => e.id === b) ? [a, b] : [b, a];
    navigate('compare', { from, to });
  };

  return (
    <section aria-labelledby="timeline-title">
      <header class="view-head">
        <h2 id="timeline-title">Timeline</h2>
        <p class="muted">
          {total === undefined ? '' : `${entries.length} of ${total} snapshots shown`}
          {selected.length > 0 && ` · selected: ${selected.join(', ')}`}
        </p>
        <button type="button" disabled={selected.length !== 2} onClick={compareSelected}>
          Compare selected
        </button>
      </header>
      <ErrorNote error={error} />
      {!loading && entries.length === 0 && !error && <p>No snapshots yet: `shadowgit snapshot` records the first.</p>}
      {groupBySource(entries).map(({ source, entries: group }) => (
        <section key={`${source.key}:${group[0]!.id}`} class={`group group-${source.kind}`} aria-label={`${source.label}: ${group.length} snapshot${group.length === 1 ? '' : 's'}`} data-testid="timeline-group">
          <h3>
            {source.label} <small class="muted">({group.length})</small>
          </h3>
          <div class="overflow-auto">
            <table class="striped timeline">
              <colgroup>
                <col class="select" />
                <col class="id" />
                <col class="when" />
                <col class="trigger" />
                <col />
                <col class="counts" />
                <col class="live" />
              </colgroup>
              <tbody>
                {group.map((entry) => (
                  <Row key={entry.id} entry={entry} fresh={fresh.has(entry.id)} selected={selected.includes(entry.id)} onSelect={(on) => select(entry.id, on)} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      {next !== null && (
        <button type="button" class="secondary" onClick={() => void older()} aria-busy={loading} disabled={loading}>
          Older
        </button>
      )}
    </section>
  );
}
