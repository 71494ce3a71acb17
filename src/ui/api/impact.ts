/**
 * GET /api/impact: the import graph of the working tree's current changes (against the snapshot
 * status compares with) — the changed modules, the files that reach them through imports, the
 * tests among them — for the UI to draw (docs/ui.md). The walk is impact/'s; this only bounds it.
 */
import type { Route } from '../route.js';
import { capped } from './input.js';

/** Nodes drawn: the changed modules first, then their dependents nearest first. */
const NODE_CAP = 500;
const EDGE_CAP = 5000;

export const impactRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/impact',
    handler: async ({ sg }) => {
      const base = await sg.statusBase();
      const { impact } = await import('../../impact/index.js');
      const result = await impact(sg, { since: base.commit });
      const changed = new Set(result.targets);
      const tests = new Set(result.tests);
      const nodes = capped([...result.targets.map((id) => ({ id, depth: 0 })), ...result.dependents.map((d) => ({ id: d.path, depth: d.depth }))], NODE_CAP);
      const drawn = new Set(nodes.shown.map((n) => n.id));
      const edges = capped(
        result.edges.filter((e) => drawn.has(e.from) && drawn.has(e.to)),
        EDGE_CAP,
      );
      return {
        json: {
          base: { id: base.id, commit: base.commit },
          changed: nodes.shown.filter((n) => changed.has(n.id)).map((n) => n.id),
          deleted: capped(result.deleted, NODE_CAP).shown,
          nodes: nodes.shown.map((n) => ({ id: n.id, changed: changed.has(n.id), test: tests.has(n.id), depth: n.depth })),
          edges: edges.shown.map((e) => ({ from: e.from, to: e.to, typeOnly: e.typeOnly })),
          total: { changed: result.targets.length, dependents: result.dependents.length, tests: result.tests.length },
          unresolved: result.unresolved.length,
          truncated: nodes.truncated || edges.truncated || result.deleted.length > NODE_CAP,
        },
      };
    },
  },
];
