/**
 * GET /api/history, /api/tree and /api/file: a file's versions across snapshots, one directory
 * of a snapshot, one file of a snapshot (docs/ui.md). Every answer is bounded: history pages,
 * tree listings capped, file text only up to 1 MiB (the facade reads no blob over 8 MiB whole).
 */
import type { Route } from '../route.js';
import { capped, countParam, optionalRevision, pathParam, revisionParam, snapshotRef } from './input.js';

const HISTORY_LIMIT = 100;
const HISTORY_MAX = 1000;
/** Entries of one directory listed (a generated directory may hold many thousands). */
const TREE_CAP = 5000;
/** Bytes of a text file returned as text. */
const TEXT_CAP = 1048576;

export const fileRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/history',
    handler: async (req) => {
      const p = pathParam(req, 'path');
      const limit = countParam(req, 'limit', HISTORY_LIMIT, HISTORY_MAX);
      const before = optionalRevision(req, 'before');
      const history = await req.sg.fileHistory(p, { limit, before });
      return {
        json: {
          path: history.path,
          versions: history.versions.map((v) => ({
            ...snapshotRef(v.snapshot),
            date: v.snapshot.date.toISOString(),
            message: v.snapshot.message,
            trigger: v.snapshot.trigger,
            status: v.status,
            oid: v.oid ?? null,
            mode: v.mode ?? null,
          })),
          next: history.next?.id ?? null,
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/tree',
    handler: async (req) => {
      const rev = revisionParam(req, 'rev');
      const dir = pathParam(req, 'dir', '');
      const tree = await req.sg.treeAt(rev, dir);
      const sorted = [...tree.entries].sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const listed = capped(sorted, TREE_CAP);
      return {
        json: {
          rev: snapshotRef(tree.snapshot),
          dir: tree.dir,
          entries: listed.shown.map((e) => ({ name: e.name, path: e.path, type: e.kind, mode: e.mode, oid: e.oid })),
          total: sorted.length,
          truncated: listed.truncated,
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/file',
    handler: async (req) => {
      const rev = revisionParam(req, 'rev');
      const file = await req.sg.fileAt(rev, pathParam(req, 'path'));
      const tooLarge = file.size > TEXT_CAP;
      const text = file.content && !file.binary && !tooLarge ? file.content.toString('utf8') : null;
      return { json: { rev: snapshotRef(file.snapshot), path: file.path, mode: file.mode, oid: file.oid, size: file.size, binary: file.binary, text, tooLarge } };
    },
  },
];
