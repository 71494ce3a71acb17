/** The JSON the UI server answers with, as docs/ui.md describes it. */

export interface SnapshotRef {
  id: string;
  commit: string;
}

export interface Counts {
  added: number;
  modified: number;
  deleted: number;
}

export interface Session {
  csrf: string;
  worktree: string;
  repo: string;
  version: string;
}

/** An agent's provenance: who asked, in which session, at which event; `label` names the session briefly. */
export interface Agent {
  agent: string;
  session: string;
  event: string;
  tool?: string;
  label?: string;
  prompt?: number;
}

export type SourceKind = 'agent' | 'watcher' | 'guard' | 'checkout' | 'manual';

export interface TimelineEntry extends SnapshotRef {
  date: string;
  message: string;
  trigger: string;
  counts: Counts;
  /** Where it came from, as the timeline groups snapshots. */
  source: { kind: SourceKind; label: string; session: string | null; prompt: number | null };
  agent: Agent | null;
  approved: string[];
  /** The remotes that hold this snapshot. */
  remotes: string[];
}

export interface TimelinePage {
  snapshots: TimelineEntry[];
  total: number;
  next: string | null;
}

export interface SnapshotDetails extends SnapshotRef {
  parent: string | null;
  date: string;
  message: string;
  trigger: string;
  counts: Counts;
  agent: Agent | null;
  approved: string[];
  trailers: Record<string, string>;
  note: string | null;
  files: Array<{ path: string; status: string }>;
  totalFiles: number;
  truncated: boolean;
}

export interface CompareFile {
  path: string;
  status: string;
  added: number | null;
  removed: number | null;
  binary: boolean;
  tooLarge: boolean;
}

export interface Comparison {
  from: SnapshotRef;
  to: SnapshotRef | 'worktree';
  files: CompareFile[];
  counts: Counts;
  lines: { added: number; removed: number };
  total: number;
  truncated: boolean;
}

export interface FileComparison {
  from: SnapshotRef;
  to: SnapshotRef | 'worktree';
  path: string;
  status: string;
  patch: string;
  binary: boolean;
  tooLarge: boolean;
  truncated: boolean;
}

export interface FileVersion extends SnapshotRef {
  date: string;
  message: string;
  trigger: string;
  status: 'added' | 'modified' | 'deleted';
  oid: string | null;
  mode: string | null;
}

export interface FileHistory {
  path: string;
  versions: FileVersion[];
  next: string | null;
}

export interface TreeEntry {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'submodule';
  mode: string;
  oid: string;
}

export interface TreeListing {
  rev: SnapshotRef;
  dir: string;
  entries: TreeEntry[];
  total: number;
  truncated: boolean;
}

export interface SnapshotFile {
  rev: SnapshotRef;
  path: string;
  mode: string;
  oid: string;
  size: number;
  binary: boolean;
  text: string | null;
  tooLarge: boolean;
}

export interface ImpactNode {
  id: string;
  changed: boolean;
  test: boolean;
  depth: number;
}

export interface ImpactGraph {
  base: SnapshotRef;
  changed: string[];
  deleted: string[];
  nodes: ImpactNode[];
  edges: Array<{ from: string; to: string; typeOnly: boolean }>;
  total: { changed: number; dependents: number; tests: number };
  unresolved: number;
  truncated: boolean;
}

export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface Health {
  status: HealthStatus;
  checkedAt: string;
  components: Array<{ name: string; status: HealthStatus; message: string; details?: unknown }>;
}

/** A rollback, restore or undo as it would run: what it writes and deletes, shown before it runs. */
export interface Plan {
  id: string;
  target: SnapshotRef & { date: string; message: string };
  write: string[];
  delete: string[];
  expires: string;
}

export interface PlanAnswer {
  plan: Plan;
  cli: string;
}

/** A checkout's report: the pre-rollback snapshot first. */
export interface CheckoutReport {
  target: SnapshotRef;
  preRollback?: SnapshotRef & { created: boolean };
  written: number;
  deleted: number;
  writtenPaths: string[];
  deletedPaths: string[];
  warnings: string[];
  cli: string;
}

export interface ApproveAnswer {
  name: string;
  tag: string;
  commit: string;
  id: string;
  snapshotCreated: boolean;
  /** Set when `.shadowgit` pushes on approve: whether it went, and why not. */
  pushed?: boolean;
  pushError?: string;
  cli: string;
}

/** One line of the op log: an operation that changed the shadow repository or the tree. */
export interface Operation {
  time: string;
  op: string;
  args: Record<string, unknown>;
  commits: string[];
  durationMs: number;
  outcome: 'ok' | 'error';
  error?: string;
}
