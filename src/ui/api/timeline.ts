/**
 * GET /api/timeline: the snapshots newest first, a page at a time (docs/ui.md), each with where
 * it came from, its approvals and the remotes that hold it. A page reads the chain index and one
 * commit per snapshot shown, whatever the chain's length.
 */
import type { ListedSnapshot } from '../../shadowgit.js';
import type { Route } from '../route.js';
import { countParam, optionalRevision } from './input.js';

const LIMIT = 100;
const MAX_LIMIT = 1000;

/** Where a snapshot came from, as the timeline groups them. */
export type SourceKind = 'agent' | 'watcher' | 'guard' | 'checkout' | 'manual';

const KIND_OF_TRIGGER: Record<string, SourceKind> = {
  watch: 'watcher',
  guard: 'guard',
  'guard-ok': 'guard',
  'guard-failed': 'guard',
  'safe-edit': 'guard',
  'pre-change': 'guard',
  'pre-rollback': 'checkout',
  'pre-restore': 'checkout',
  'pre-undo': 'checkout',
  'pre-clone': 'checkout',
  interrupted: 'checkout',
  // An agent through the MCP server: no hook, so no session.
  mcp: 'agent',
};

function sourceOf(s: ListedSnapshot): { kind: SourceKind; label: string; session: string | null; prompt: number | null } {
  if (s.agent) return { kind: 'agent', label: s.agent.label, session: s.agent.session, prompt: s.agent.prompt ?? null };
  const kind = KIND_OF_TRIGGER[s.trigger] ?? 'manual';
  return { kind, label: kind === 'checkout' ? s.trigger.replace(/^pre-/, '') : s.trigger, session: null, prompt: null };
}

export const timelineRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/timeline',
    handler: async (req) => {
      const { sg } = req;
      const page = await sg.listPage({ limit: countParam(req, 'limit', LIMIT, MAX_LIMIT), before: optionalRevision(req, 'before') });
      const remotes = page.snapshots.length > 0 ? await sg.remotes() : [];
      // The remote holds every snapshot from the newest it was pushed on back (the chain is linear).
      const pushed = remotes.filter((r) => r.lastPush !== undefined);
      const snapshots = page.snapshots.map((s, i) => ({
        id: s.id,
        commit: s.commit,
        date: s.date,
        message: s.message,
        trigger: s.trigger,
        counts: s.changes,
        source: sourceOf(s),
        agent: s.agent ?? null,
        approved: s.tags,
        remotes: pushed.filter((r) => page.start + i >= r.unpushed).map((r) => r.name),
      }));
      const last = page.start + snapshots.length;
      return { json: { snapshots, total: page.total, next: snapshots.length > 0 && last < page.total ? snapshots.at(-1)!.id : null } };
    },
  },
];
