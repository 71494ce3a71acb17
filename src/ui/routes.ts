/** Every API module's routes, in one list: the server dispatches over it (docs/ui.md lists them). */
import type { Route } from './route.js';
import { actionRoutes } from './api/actions.js';
import { compareRoutes } from './api/compare.js';
import { fileRoutes } from './api/files.js';
import { healthRoutes } from './api/health.js';
import { impactRoutes } from './api/impact.js';
import { operationRoutes } from './api/operations.js';
import { sessionRoutes } from './api/session.js';
import { snapshotRoutes } from './api/snapshot.js';
import { timelineRoutes } from './api/timeline.js';

export const routes: Route[] = [...sessionRoutes, ...timelineRoutes, ...snapshotRoutes, ...compareRoutes, ...fileRoutes, ...impactRoutes, ...healthRoutes, ...operationRoutes, ...actionRoutes];
