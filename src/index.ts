/**
 * shadowgit's library API: the same operations as the CLI, for programs.
 *
 *   import { ShadowGit } from 'shadowgit';
 *   const sg = await ShadowGit.open({ worktree: '/path/to/project' });
 *   await sg.snapshot({ message: 'before codemod' });
 */
export { ShadowGit } from './shadowgit.js';
export type { PruneReport } from './shadowgit.js';
export type { GcReport } from './engine/maintenance/gc.js';
export type { VerifyReport, CheckedRevision, ObjectProblem } from './engine/maintenance/verify.js';
export type { ExportResult, ExportFormat } from './engine/checkout/export.js';
export type { SnapshotDetails } from './engine/snapshot/show.js';
export type { DoctorReport, Finding, Severity } from './engine/protect/doctor.js';
export type { RecoverReport } from './engine/protect/recover.js';
export type { WatchOptions, WatchSession, WatchStatus, StopResult } from './engine/protect/watch.js';
export type { RetentionDecision } from './engine/maintenance/retention.js';
export type { OpenOptions, SnapshotReport, ListedSnapshot, ListedAgent, SessionSummary, ApproveReport, CheckoutReport, RollbackPlan, StatusReport, AbandonReport } from './shadowgit.js';
export type { FileChange, ChangeStatus } from './engine/snapshot/diff.js';
export type { SnapshotInfo, ApprovedRevision, ChangeCounts } from './engine/snapshot/history.js';
export type { AgentProvenance } from './engine/provenance.js';
export { ShadowGitError, LockBusyError, CorruptObjectError } from './engine/errors.js';
export { onLockWait, type LockWaitListener, type LockOwner } from './engine/store/lock.js';
export { parseConfig, type ShadowGitConfig } from './engine/config.js';
export { impact, walkDependents, testMatcher, DEFAULT_TEST_GLOBS, type ImpactOptions, type ImpactResult, type ImpactDependent, type Edge, type EdgeKind } from './impact/index.js';
export { toDot as impactToDot, toMermaid as impactToMermaid } from './impact/format.js';
export { safeModifyFile, safeWriteFile, withSnapshot, type SafeEditOptions, type SafeEditResult, type WithSnapshotOptions } from './safe.js';
