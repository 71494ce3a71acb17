/**
 * GET /api/compare and /api/compare/file: two snapshots, or a snapshot and the live tree
 * (docs/ui.md). Only the trees along changed paths are read for the list; contents are read for
 * line counts and patches within limits (none over 8 MiB is read whole, none over 4 MiB is
 * diffed), and what is over them is flagged.
 */
import type { DiffLimits } from '../../shadowgit.js';
import type { ApiRequest, Route } from '../route.js';
import { capped, optionalRevision, pathParam, snapshotRef } from './input.js';

/** Files the list shows (the counts cover every change). */
const FILES_CAP = 1000;
/** A side larger than this is not diffed: no line counts, no patch. */
const MAX_DIFF_BYTES = 4 * 1048576;
/** Time for all line counts of one list; files after it show no counts. */
const COUNTING_MS = 5000;
/** One file's line diff gives up after this long. */
const PATCH_MS = 5000;
/** Characters of one patch returned; a longer one is cut at a line. */
const PATCH_CAP = 1048576;

const BINARY_PATCH = '\nBinary files differ\n';

/** The comparison the query asks for: `from` (default: what status compares with) to `to` (default: the live tree). */
async function compared(req: ApiRequest, paths?: string[]) {
  const from = optionalRevision(req, 'from');
  const to = optionalRevision(req, 'to');
  const result = await req.sg.diff(from, to, { paths });
  return { ...result, worktree: to === undefined, ends: { from: snapshotRef(result.from), to: result.to ? snapshotRef(result.to) : ('worktree' as const) } };
}

export const compareRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/compare',
    handler: async (req) => {
      const { changes, worktree, ends } = await compared(req);
      const listed = capped(changes, FILES_CAP);
      const deadline = Date.now() + COUNTING_MS;
      const lines = { added: 0, removed: 0 };
      const files = [];
      for (const change of listed.shown) {
        const left = deadline - Date.now();
        const limits: DiffLimits = { maxBytes: MAX_DIFF_BYTES, timeoutMs: left };
        const stat = left > 0 && !req.signal.aborted ? await req.sg.boundedStat(change, worktree, limits) : undefined;
        const counted = stat && !('binary' in stat) ? stat : undefined;
        lines.added += counted?.insertions ?? 0;
        lines.removed += counted?.deletions ?? 0;
        files.push({ path: change.path, status: change.status, added: counted?.insertions ?? null, removed: counted?.deletions ?? null, binary: stat !== undefined && 'binary' in stat, tooLarge: stat === undefined });
      }
      const count = (status: string) => changes.filter((c) => c.status === status).length;
      return {
        json: {
          ...ends,
          files,
          counts: { added: count('added'), modified: count('modified') + count('mode'), deleted: count('deleted') },
          lines,
          total: changes.length,
          truncated: listed.truncated,
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/compare/file',
    handler: async (req) => {
      const rel = req.sg.toWorktreePath(pathParam(req, 'path'));
      const { changes, worktree, ends } = await compared(req, [rel]);
      const change = changes.find((c) => c.path === rel);
      const answer = { ...ends, path: rel, status: change?.status ?? 'unchanged', patch: '', binary: false, tooLarge: false, truncated: false };
      if (!change) return { json: answer };
      const patch = await req.sg.boundedPatch(change, worktree, { maxBytes: MAX_DIFF_BYTES, timeoutMs: PATCH_MS });
      if (patch === undefined) return { json: { ...answer, tooLarge: true } };
      const binary = change.status !== 'mode' && patch.endsWith(BINARY_PATCH);
      if (patch.length <= PATCH_CAP) return { json: { ...answer, patch, binary } };
      return { json: { ...answer, patch: patch.slice(0, patch.lastIndexOf('\n', PATCH_CAP - 1) + 1), truncated: true } };
    },
  },
];
