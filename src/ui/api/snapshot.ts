/** GET /api/snapshots/:rev — what `shadowgit show` tells of one snapshot (docs/ui.md). */
import { revision } from '../../frontend/args.js';
import type { Route } from '../route.js';
import { capped } from './input.js';

/** Changed files listed; a first snapshot of a large tree adds every file. */
const FILES_CAP = 2000;

export const snapshotRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/snapshots/:rev',
    handler: async ({ sg, params }) => {
      const details = await sg.show(revision(params.rev ?? ''));
      const s = details.snapshot;
      const files = capped(details.changes, FILES_CAP);
      return {
        json: {
          id: s.id,
          commit: s.commit,
          parent: s.parent ?? null,
          date: s.date.toISOString(),
          message: s.message,
          trigger: s.trigger,
          counts: s.changes,
          agent: s.agent ?? null,
          approved: details.approved,
          trailers: details.trailers,
          note: details.note ?? null,
          files: files.shown.map((c) => ({ path: c.path, status: c.status })),
          totalFiles: details.changes.length,
          truncated: files.truncated,
        },
      };
    },
  },
];
