/** Every API module's routes, in one list: the server dispatches over it (docs/ui.md lists them). */
import type { Route } from './route.js';
import { compareRoutes } from './api/compare.js';
import { fileRoutes } from './api/files.js';
import { impactRoutes } from './api/impact.js';
import { sessionRoutes } from './api/session.js';
import { snapshotRoutes } from './api/snapshot.js';

export const routes: Route[] = [...sessionRoutes, ...snapshotRoutes, ...compareRoutes, ...fileRoutes, ...impactRoutes];
