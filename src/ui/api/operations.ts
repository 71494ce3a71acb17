/** GET /api/operations: the op log, newest first, as `shadowgit log --json` has each entry (docs/ui.md). */
import type { Route } from '../route.js';
import { countParam } from './input.js';

const LIMIT = 50;
const MAX_LIMIT = 1000;

export const operationRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/operations',
    handler: async (req) => ({ json: { operations: (await req.sg.operations({ limit: countParam(req, 'limit', LIMIT, MAX_LIMIT) })).reverse() } }),
  },
];
