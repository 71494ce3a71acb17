/** GET /api/session: what the page needs before anything else — the CSRF token its POSTs carry, and what it serves. */
import type { Route } from '../route.js';

export const sessionRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/session',
    handler: async ({ sg, ui }) => ({ json: { csrf: ui.csrf, worktree: sg.worktree, repo: sg.repoPath, version: ui.version } }),
  },
];
