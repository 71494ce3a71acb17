/**
 * The timeline: snapshots newest first, runs of them grouped by where they came from (an agent's
 * session, the watcher, a guard, a rollback, by hand), approvals and the remotes holding each as
 * badges. Older pages on demand; a new snapshot appears as the server announces it.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get, sentence } from '../api.js';
import { ApproveForm } from '../components/approve.js';
import { CountBadges, ErrorNote, When, shortCommit } from '../components/common.js';
import { useEvents } from '../events.js';
import { href, navigate } from '../route.js';
import type { TimelineEntry, TimelinePage } from '../types.js';

/** Snapshots a page asks for, unless the address says (`#/timeline?limit=20`). */
const PAGE = 100;

interface Group {
  key: string;
  kind: TimelineEntry['source']['kind'];
  label: string;
}

const GROUP_LABELS = { watcher: 'Watcher', guard: 'Guard', checkout: 'Before a rollback, restore or undo', manual: 'Manual' } as const;

/** The group a snapshot belongs to: an agent's session, or the kind of source. */
function groupOf({ source }: TimelineEntry): Group {
  if (source.kind === 'agent') return { key: `agent:${source.label}`, kind: 'agent', label: `Agent session ${source.label}` };
  return { key: source.kind, kind: source.kind, label: GROUP_LABELS[source.kind] };
}

/** Consecutive snapshots of one source, in the timeline's order. */
function groupBySource(entries: TimelineEntry[]): Array<{ group: Group; entries: TimelineEntry[] }> {
  const groups: Array<{ group: Group; entries: TimelineEntry[] }> = [];
  for (const entry of entries) {
    const group = groupOf(entry);
    const last = groups[groups.length - 1];
    if (last && last.group.key === group.key) last.entries.push(entry);
    else groups.push({ group, entries: [entry] });
  }
  return groups;
}

function Row({ entry, selected, onSelect, fresh }: { entry: TimelineEntry; selected: boolean; onSelect: (on: boolean) => void; fresh: boolean }) {
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
        <span class={`trigger trigger-${entry.source.kind}`}>{entry.trigger}</span>
        {entry.source.prompt !== null && <small class="muted"> prompt #{entry.source.prompt}</small>}
        {entry.agent?.tool && <small class="muted"> {entry.agent.tool}</small>}
      </td>
      <td class="message">
        {entry.message}
        {entry.approved.map((name) => (
          <span key={name} class="badge approved" title="approved">
            ✓ {name}
          </span>
        ))}
        {entry.remotes.map((name) => (
          <span key={name} class="badge remote" title={`held by the remote ${name}`}>
            ⇡ {name}
          </span>
        ))}
      </td>
      <td>
        <CountBadges counts={entry.counts} />
      </td>
      <td>
        <a href={href('compare', { from: entry.id })} title="Compare with the live tree">
          vs live
        </a>
      </td>
    </tr>
  );
}

/** Each snapshot once, where it first appears. */
function unique(entries: TimelineEntry[]): TimelineEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
}

export function Timeline({ params }: { params: URLSearchParams }) {
  const limit = /^\d{1,4}$/.test(params.get('limit') ?? '') ? Number(params.get('limit')) : PAGE;
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState<number | undefined>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [selected, setSelected] = useState<string[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const known = useRef<Set<string> | undefined>(undefined);
  const pagedOn = useRef(false);

  // After the first page: what a later newest page holds that was not shown is new.
  useEffect(() => {
    if (entries.length > 0) known.current = new Set(entries.map((s) => s.id));
  }, [entries]);

  /**
   * The newest page (no `before`: again, in front of what is shown, its entries replacing their
   * older copies) or the page older than `before` (behind what is shown).
   */
  const load = useCallback(async (before?: string) => {
    setLoading(true);
    try {
      const page = await get<TimelinePage>('/api/timeline', { limit, before });
      const seen = known.current;
      if (before === undefined) setFresh(new Set(seen ? page.snapshots.filter((s) => !seen.has(s.id)).map((s) => s.id) : []));
      else pagedOn.current = true;
      setEntries((old) => unique(before === undefined ? [...page.snapshots, ...old] : [...old, ...page.snapshots]));
      // Once older pages are shown, the next page goes on from the oldest of them.
      if (before !== undefined || !pagedOn.current) setNext(page.next);
      setTotal(page.total);
      setError(undefined);
    } catch (err) {
      setError(sentence(err));
    } finally {
      setLoading(false);
    }
  }, [limit]);

  useEffect(() => {
    void load();
  }, [load]);
  useEvents(() => void load());

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
      <details class="approve">
        <summary>Approve the tree as it is…</summary>
        <ApproveForm onDone={() => void load()} />
      </details>
      <ErrorNote error={error} />
      {!loading && entries.length === 0 && !error && <p>No snapshots yet: `shadowgit snapshot` records the first.</p>}
      {groupBySource(entries).map(({ group, entries: members }) => (
        <section key={`${group.key}:${members[0]!.id}`} class={`group group-${group.kind}`} aria-label={`${group.label}: ${members.length} snapshot${members.length === 1 ? '' : 's'}`} data-testid="timeline-group">
          <h3>
            {group.label} <small class="muted">({members.length})</small>
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
                {members.map((entry) => (
                  <Row key={entry.id} entry={entry} fresh={fresh.has(entry.id)} selected={selected.includes(entry.id)} onSelect={(on) => select(entry.id, on)} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      {next !== null && (
        <button type="button" class="secondary" onClick={() => void load(next)} aria-busy={loading} disabled={loading}>
          Older
        </button>
      )}
    </section>
  );
}
