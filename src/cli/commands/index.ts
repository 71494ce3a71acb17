import type { DirectCommand } from '../command.js';
import { approveCommand } from './approve.js';
import { cloneCommand } from './clone.js';
import { diffCommand } from './diff.js';
import { exportCommand } from './export.js';
import { gcCommand } from './gc.js';
import { doctorCommand } from './doctor.js';
import { guardCommand } from './guard.js';
import { hooksCommand } from './hooks.js';
import { hookCommand } from './hook.js';
import { impactCommand } from './impact.js';
import { initCommand } from './init.js';
import { listCommand } from './list.js';
import { pruneCommand } from './prune.js';
import { pushCommand } from './push.js';
import { fetchCommand } from './fetch.js';
import { remoteCommand } from './remote.js';
import { logCommand } from './log.js';
import { mcpCommand } from './mcp.js';
import { precheckCommand } from './precheck.js';
import { recoverCommand } from './recover.js';
import { restoreCommand } from './restore.js';
import { rollbackCommand } from './rollback.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { snapshotCommand } from './snapshot.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';
import { undoCommand } from './undo.js';
import { uiCommand } from './ui.js';
import { watchCommand } from './watch.js';

/** Every command, in the order `--help` lists them. */
export const commands: DirectCommand[] = [
  snapshotCommand,
  listCommand,
  sessionsCommand,
  approveCommand,
  rollbackCommand,
  undoCommand,
  restoreCommand,
  diffCommand,
  showCommand,
  pruneCommand,
  gcCommand,
  verifyCommand,
  exportCommand,
  cloneCommand,
  statusCommand,
  watchCommand,
  guardCommand,
  hookCommand,
  doctorCommand,
  recoverCommand,
  logCommand,
  impactCommand,
  precheckCommand,
  mcpCommand,
  uiCommand,
  initCommand,
  hooksCommand,
  remoteCommand,
  pushCommand,
  fetchCommand,
];
