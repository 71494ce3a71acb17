import type { ChangeCounts } from './snapshot/history.js';
import type { SkippedPath } from './worktree/scan.js';

// What the facade's snapshot and checkouts report, declared below it: protect/ works through
// those operations (passed in by the facade) and names their results without importing it.

export interface SnapshotReport {
  id: string;
  commit: string;
  created: boolean;
  message: string;
  trigger: string;
  changes: ChangeCounts;
  skipped: SkippedPath[];
  /** Damage met and what was done about it, one sentence each. */
  warnings: string[];
}

export interface CheckoutReport {
  target: { id: string; commit: string };
  /** The snapshot holding the state before; absent when the tree already matched (nothing written). */
  preRollback?: { id: string; commit: string; created: boolean };
  written: number;
  deleted: number;
  writtenPaths: string[];
  deletedPaths: string[];
  /** What the safety snapshot met and did about it, one sentence each (the CLI warns with them). */
  warnings: string[];
}
