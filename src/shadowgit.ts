import { lstatSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { approvedName, approveSnapshot, availableName } from './engine/snapshot/approve.js';
import { abandonInterruptedCheckout, checkout, planCheckoutNow, readLastCheckout, recoverInterruptedCheckout, type CheckoutResult } from './engine/checkout/checkout.js';
import { checkedOutBase } from './engine/snapshot/base.js';
import { diffTrees, diffWorktree, looksBinary, patchFor, statFor, type ChangeStat, type DiffLimits, type FileChange } from './engine/snapshot/diff.js';
import { CorruptObjectError, explainFilesystemError, ShadowGitError } from './engine/errors.js';
import { findSession, groupSessions, sessionLabel, shortSessionIds, type AgentSession, type SessionSnapshot } from './engine/snapshot/sessions.js';
import { readNotes } from './engine/snapshot/notes.js';
import { chainApprovals, chainSnapshots, confirmListed, countSnapshots, describeDamage, findSnapshotById, listApproved, loadChain, readingSnapshot, readLatest, readParent, readSnapshot, resolveRevision, type ApprovedRevision, type ChangeCounts, type SnapshotInfo } from './engine/snapshot/history.js';
import { faultPoint } from './engine/faults.js';
import { RepoLock } from './engine/store/lock.js';
import { appendOp, opRecord, readOps, type Operation, type ReadOpsOptions } from './engine/store/oplog.js';
import { Rewrites, withCurrentCommits, type LoggedOp } from './engine/snapshot/rewrites.js';
import { MODE_TREE, type FlatTree } from './engine/store/gitformat.js';
import { entryAtPath, entryKind, isGitlink, readTreeEntries, type EntryKind, type TreeReader } from './engine/snapshot/treeread.js';
import { homeRefusal, isHomeDirectory, Repository } from './engine/store/repo.js';
import { readJournal } from './engine/checkout/journal.js';
import { planFromChanges } from './engine/checkout/plan.js';
import type { SkippedPath } from './engine/worktree/scan.js';
import { readWorktree, takeSnapshot, type SnapshotResult } from './engine/snapshot/snapshot.js';
import type { GcReport } from './engine/maintenance/gc.js';
import { recoverInterruptedPrune } from './engine/maintenance/prune.js';
import type { PolicySource, RetentionDecision } from './engine/maintenance/retention.js';
import type { VerifyReport } from './engine/maintenance/verify.js';
import type { ExportResult } from './engine/checkout/export.js';
import type { SnapshotDetails } from './engine/snapshot/show.js';
import type { FileVersion } from './engine/snapshot/filehistory.js';
import { readWatcher, type WatchSnapshot } from './engine/worktree/watchstate.js';
import { LOCK, OPLOG } from './engine/store/statefiles.js';
import type { CheckoutReport, SnapshotReport } from './engine/reports.js';
import { CONFIG_FILE, type RetentionPolicy, type ShadowGitConfig } from './engine/config.js';
import type { ChildOutcome, GuardReport } from './engine/protect/guard.js';
import type { DoctorReport } from './engine/protect/doctor.js';
import type { RecoverReport } from './engine/protect/recover.js';
import type { StopResult, WatchOptions, WatchSession } from './engine/protect/watch.js';
import type { WatchState } from './engine/worktree/watchstate.js';
import type { AgentProvenance } from './engine/provenance.js';
import type { RemoteMachine } from './engine/remote/clone.js';
import type { TransferProgress } from './engine/remote/sendpack.js';
import type { RemoteVerifyReport } from './engine/maintenance/verifyremote.js';
import type { Remote, RemoteSummary } from './engine/sync/remotes.js';
import type { PushReport } from './engine/sync/push.js';
import type { FetchReport } from './engine/sync/fetch.js';
import type { RemotePruneReport } from './engine/sync/remoteprune.js';
import { fetchedChains } from './engine/snapshot/remotechains.js';
export { agentSummary } from './engine/provenance.js';

export type { CheckoutReport, SnapshotReport };
export type { DiffLimits, EntryKind, FileVersion };
export type { Remote, RemoteSummary, PushReport, FetchReport, RemotePruneReport, TransferProgress };

export interface OpenOptions {
  /** The working tree, exactly; default: found from `cwd` as the CLI does (its -C sets `cwd`). */
  worktree?: string;
  cwd?: string;
  /**
   * Allow the first snapshot (or anything else that creates the shadow repository) of the home
   * directory, which is refused with code EUSAGE otherwise; the library never asks.
   */
  allowHome?: boolean;
}

export interface ListedSnapshot {
  id: string;
  commit: string;
  date: string;
  message: string;
  trigger: string;
  tags: string[];
  changes: ChangeCounts;
  /** Who asked, on a snapshot an agent's hook recorded. */
  agent?: ListedAgent;
}

/** The provenance of a listed snapshot, with what names it back: its session's short id and its prompt number. */
export interface ListedAgent extends AgentProvenance {
  /** "claude·3f2a": the agent and the shortest prefix (4+ characters) that names its session among all of them. */
  label: string;
  /** On a prompt's snapshot: its number in its session, from 1 (`prompt:N@SESSION` names it). */
  prompt?: number;
}

/** One agent session: the snapshots its hooks recorded (see `ShadowGit.sessions`). */
export interface SessionSummary {
  agent: string;
  /** The agent's session id ('' when it sent none). */
  session: string;
  /** The shortest prefix (4+ characters) of `session` that names it among all sessions. */
  shortSession: string;
  /** "claude·3f2a": the agent and the short id, as the listings show a session. */
  label: string;
  /** When its first and its latest snapshot were taken. */
  started: string;
  lastActivity: string;
  /** Its prompts (`prompt:1` … `prompt:N` of this session) and all its snapshots. */
  prompts: number;
  snapshots: number;
  /**
   * Paths that differ between its first snapshot (taken before its first prompt ran) and its
   * latest: what the session has left changed, each file counted once. Null when one of the two
   * trees cannot be read.
   */
  filesChanged: number | null;
  /** The first line of its first prompt (from the prompt's note, else the snapshot's message); null when no prompt was recorded. */
  firstPrompt: string | null;
  /** Ids of its first and latest snapshots. */
  firstSnapshot: string;
  lastSnapshot: string;
}

export interface ApproveReport {
  name: string;
  tag: string;
  commit: string;
  id: string;
  snapshotCreated: boolean;
}

export interface AbandonReport {
  /** The operation given up (rollback, restore, undo), its target and the state before it. */
  op: string;
  target: string;
  before: string;
  /** The snapshot of the tree as the operation left it. */
  left: { id: string; commit: string; created: boolean };
}

export interface RollbackPlan {
  target: SnapshotInfo;
  write: string[];
  delete: string[];
}

/** What a rollback (no `paths`) or a restore of `paths` to `target` would write and delete now. */
export interface CheckoutPlan extends RollbackPlan {
  /** Worktree-relative posix paths, as the restore takes them; absent for a rollback. */
  paths?: string[];
  /** The working tree's id as this plan scanned it (see CheckoutExpectation). */
  worktreeTree: string;
}

/**
 * A checkout that runs only as planned: `target` is the commit its revision named and
 * `worktreeTree` the tree's id when the plan was made; anything else is refused (ECHANGED).
 */
export interface CheckoutExpectation {
  target: string;
  worktreeTree: string;
}

/** One file of a snapshot; `content` is absent when the file is too large to read whole (over 8 MiB). */
export interface SnapshotFile {
  snapshot: SnapshotInfo;
  path: string;
  mode: string;
  oid: string;
  content?: Buffer;
  /** Its length in bytes, also when `content` is absent. */
  size: number;
  /** Whether it looks binary as git decides (a NUL in its first 8,000 bytes); false when `content` is absent. */
  binary: boolean;
}

/** One entry of a snapshot's directory (see `ShadowGit.treeAt`). */
export interface SnapshotTreeEntry {
  name: string;
  /** Worktree-relative posix path. */
  path: string;
  kind: EntryKind;
  mode: string;
  oid: string;
}

export interface StatusReport {
  worktree: string;
  repo: string;
  initialized: boolean;
  lastSnapshot?: { id: string; commit: string; date: string; ageSeconds: number; message: string; agent?: AgentProvenance };
  /**
   * The snapshot a rollback, undo or guard (`by`) made the working tree match at `at`, while no
   * snapshot was recorded after it: `changes` are relative to it then, not to lastSnapshot (the
   * state the checkout replaced). Absent after a restore of some paths: the tree then matches no
   * single snapshot, and changes are relative to lastSnapshot.
   */
  base?: { id: string; commit: string; date: string; message: string; by: string; at: string };
  /** Set when a tree or blob of the last snapshot is missing or damaged (its files then count as added). */
  lastSnapshotDamage?: string;
  changes: { added: string[]; modified: string[]; deleted: string[] };
  skipped: SkippedPath[];
  snapshots: number;
  approved: number;
  repoBytes: number;
  lock?: { pid: number; command: string; since: string; stale: boolean };
  interruptedOperation?: string;
  /** Each remote: its last push, the snapshots not yet pushed there and the last push's error (docs/remote.md). */
  remotes?: RemoteSummary[];
  /** The `shadowgit watch` process of this tree, if any (stale: it died without cleaning up). */
  watcher?: { pid: number; since: string; stale: boolean; lastSnapshot?: WatchSnapshot };
}

export type ProgressCallback = (files: number) => void;

export interface CloneOptions {
  /** The snapshot to check out (any revision `resolve` takes); default the latest. */
  rev?: string;
  /** The machine whose backups to take; default the one whose chain was updated last. */
  machine?: string;
  /** The name the remote is recorded under; default origin. */
  name?: string;
  /** The fetch's progress (objects received, the server's messages). */
  onTransfer?: (progress: TransferProgress) => void;
  /** Files written by the checkout. */
  onProgress?: ProgressCallback;
}

export interface CloneReport {
  worktree: string;
  repo: string;
  /** The remote's URL as recorded (no credentials). */
  url: string;
  remote: string;
  machine: string;
  /** The remote's other machines, not taken (`--machine` picks one of them). */
  otherMachines: string[];
  snapshots: number;
  approved: number;
  objects: number;
  checkedOut: { id: string; commit: string; date: string; message: string };
  written: number;
  /** What the checkout met (as rollback's warnings), and a restored `.shadowgit` that places the shadow repository elsewhere. */
  warnings: string[];
}

export interface PruneReport {
  policy: RetentionPolicy;
  /** The policy in words, as the op log and the rewrites record give it (`keep-last 2, keep-daily 3`). */
  policyText: string;
  policySource: PolicySource;
  dryRun: boolean;
  decisions: RetentionDecision[];
  removed: number;
  kept: number;
  /** Kept snapshots whose commit hash changed because an older snapshot went (their ids stay). */
  rewritten: number;
  gc?: GcReport;
}

/**
 * The moment `text` names, for "since" filters: a date or date and time (ISO 8601; without a
 * zone, a date is UTC midnight and a time is local), or a duration back from `now` in
 * retention's form (2h, 3d, 1w, 1y6m: y years, m months, w weeks, d days, h hours).
 */
export async function momentOf(text: string, now = new Date()): Promise<Date> {
  const trimmed = text.trim();
  if (/^(\d+[ymwdh])+$/.test(trimmed)) {
    const { parseDuration, subtract } = await import('./engine/maintenance/retention.js');
    return subtract(now, parseDuration(trimmed));
  }
  const date = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? new Date(trimmed) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new ShadowGitError(`"${text}" is neither a date (2026-12-07, 2026-12-07T14:30) nor a duration (2h, 3d, 1w, 1y6m); write one of those.`, 'EUSAGE');
  return date;
}

/** A period as typed on the command line (`0`, `90s`, `15m`, `2h`, `1d`; bare digits are seconds) in milliseconds; EUSAGE quoting it otherwise. */
export async function periodOf(text: string): Promise<number> {
  return (await import('./engine/maintenance/gc.js')).parseGracePeriod(text);
}

/** `graceMs`, or `grace` as typed (see periodOf), or the default. */
async function gracePeriodOf(options: { graceMs?: number; grace?: string }): Promise<number | undefined> {
  if (options.grace === undefined) return options.graceMs;
  return periodOf(options.grace);
}

/** A rejection handler for a read that may find a damaged object: `fallback` then, any other error passed on. */
const ifDamaged =
  <T>(fallback: T) =>
  (err: unknown): T => {
    if (err instanceof CorruptObjectError) return fallback;
    throw err;
  };

function checkoutReport(result: CheckoutResult): CheckoutReport {
  const pre = result.preRollback;
  return {
    target: { id: result.target.id, commit: result.target.commit },
    ...(pre ? { preRollback: { id: pre.id, commit: pre.commit, created: result.preRollbackCreated } } : {}),
    written: result.written.length,
    deleted: result.deleted.length,
    writtenPaths: result.written,
    deletedPaths: result.deleted,
    warnings: result.warnings,
  };
}

/** The commits a checkout's op log entry names: the way back and the target (none when nothing was done). */
const checkoutCommits = (r: CheckoutReport): string[] => (r.preRollback ? [r.preRollback.commit, r.target.commit] : []);

/** `target`, unless a plan expected another commit there (its revision moved since, or was pruned). */
function expected(target: SnapshotInfo, expect: CheckoutExpectation | undefined): SnapshotInfo {
  if (expect && target.commit !== expect.target) throw new ShadowGitError(`the revision now names snapshot ${target.id} (commit ${target.commit.slice(0, 10)}), not the commit ${expect.target.slice(0, 10)} the plan was made for; plan it again.`, 'ECHANGED');
  return target;
}

function reportOf(result: SnapshotResult): SnapshotReport {
  const s = result.snapshot;
  return { id: s.id, commit: s.commit, created: result.created, message: s.message, trigger: s.trigger, changes: result.changes, skipped: result.state.skipped, warnings: result.warnings };
}

/**
 * Whether the shadow repository's config names a remote: status need not load the remote code
 * (isomorphic-git's config reader) otherwise.
 */
async function hasRemotes(repo: Repository): Promise<boolean> {
  return (await fsp.readFile(path.join(repo.gitdir, 'config'), 'utf8').catch(() => '')).includes('[remote "');
}

/**
 * The library surface: one working tree and its shadow repository. Every operation that writes
 * takes the repository lock, finishes an interrupted rollback first, and appends to the op log.
 */
export class ShadowGit {
  private constructor(private readonly repository: Repository) {}

  static async open(options: OpenOptions = {}): Promise<ShadowGit> {
    return new ShadowGit(await Repository.open(options));
  }

  get worktree(): string {
    return this.repository.worktree;
  }

  /** Absolute path of the shadow git directory. */
  get repoPath(): string {
    return this.repository.gitdir;
  }

  /** The tree's settings: `.shadowgit` with the defaults filled in. */
  get config(): ShadowGitConfig {
    return this.repository.config;
  }

  /** Whether the shadow repository exists yet. */
  async initialized(): Promise<boolean> {
    return this.repository.exists();
  }

  /** Creates the shadow repository if there is none, as the first snapshot would: under the lock, logged. */
  async init(): Promise<void> {
    await this.mutate('init', {}, async () => undefined, () => []);
  }

  /**
   * Path of `name` in the shadow repository's state directory, where tools built on the facade
   * keep their caches (impact); `init()` creates the directory.
   */
  statePath(name: string): string {
    return this.repository.statePath(name);
  }

  /** `finishInterrupted: false` is for the one command that gives an interrupted checkout up instead. */
  private async mutate<T>(op: Operation, args: Record<string, unknown>, fn: () => Promise<T>, commitsOf: (result: T) => string[], options: { finishInterrupted?: boolean } = {}): Promise<T> {
    const repo = this.repository;
    const started = Date.now();
    try {
      await repo.ensureCreated();
      await faultPoint('lock-wait');
      return await repo.withLock(op, async () => {
        try {
          if (options.finishInterrupted !== false) await recoverInterruptedCheckout(repo);
          await recoverInterruptedPrune(repo);
          const result = await fn();
          await appendOp(repo.statePath(OPLOG), opRecord(op, args, started, { commits: commitsOf(result) }));
          return result;
        } catch (err) {
          await appendOp(repo.statePath(OPLOG), opRecord(op, args, started, { commits: [], error: (err as Error).message })).catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      throw explainFilesystemError(err);
    }
  }

  /**
   * `note` is attached as a git note (appended when the tree was unchanged and the latest
   * snapshot already has one). `onRecorded` gets the report as soon as the snapshot is recorded,
   * before the stat cache and op log are written.
   */
  async snapshot(options: { message?: string; trigger?: string; note?: string; provenance?: AgentProvenance; recordUnchanged?: boolean; onProgress?: ProgressCallback; onRecorded?: (report: SnapshotReport) => void } = {}): Promise<SnapshotReport> {
    const { onRecorded } = options;
    return this.mutate(
      'snapshot',
      { message: options.message, trigger: options.trigger ?? 'manual', note: options.note !== undefined },
      async () => reportOf(await takeSnapshot(this.repository, { ...options, onRecorded: onRecorded && ((result) => onRecorded(reportOf(result))) })),
      (r) => (r.created ? [r.commit] : []),
    );
  }

  /**
   * Snapshots newest first. `session` (an agent session's id or a unique prefix of one; no match
   * or several: EUSAGE) and `agent` (its name, any case) keep only what that session or agent's
   * hooks recorded; `limit` applies after every filter.
   */
  async list(options: { limit?: number; approved?: boolean; session?: string; agent?: string } = {}): Promise<ListedSnapshot[]> {
    return (await this.listPage(options)).snapshots;
  }

  /**
   * A page of list(): the snapshots after `before` (a snapshot id or full commit of the chain;
   * EBADREV when it names none), `total` the chain's length and `start` the position (0: the
   * latest) of the first one returned. From the chain index: only the snapshots returned are read.
   */
  async listPage(options: { limit?: number; approved?: boolean; session?: string; agent?: string; before?: string } = {}): Promise<{ snapshots: ListedSnapshot[]; total: number; start: number }> {
    if (!(await this.repository.exists())) return { snapshots: [], total: 0, start: 0 };
    const approved = await listApproved(this.repository);
    const tagsByCommit = new Map<string, string[]>();
    for (const a of approved) tagsByCommit.set(a.commit, [...(tagsByCommit.get(a.commit) ?? []), a.name]);
    // From the chain index: only the snapshots shown are decoded, and sessions are grouped from the lines hooks recorded.
    const { index, broken } = await loadChain(this.repository);
    if (broken) throw broken;
    const sessions = groupSessions(index.agentSnapshots());
    const shortIds = shortSessionIds(sessions);
    const agents = new Map<number, { label: string; prompt?: number }>();
    for (const session of sessions) {
      const label = sessionLabel(session.agent, shortIds.get(session)!);
      for (const s of session.snapshots) agents.set(s.position, { label });
      for (const [i, s] of session.prompts.entries()) agents.get(s.position)!.prompt = i + 1;
    }
    const kept = this.sessionsOf(sessions, options);
    const ofKept = kept && new Set(kept.flatMap((session) => session.snapshots.map((s) => s.position)));
    let after = 0;
    if (options.before !== undefined) {
      const before = options.before;
      const at = index.positionsWithIdPrefix(before).find((p) => index.idAt(p) === before) ?? (/^[0-9a-f]{40}$/.test(before) ? index.positionOf(before) : -1);
      if (at < 0) throw new ShadowGitError(`"${before}" names no snapshot of the chain; page with the id a page's \`next\` gave.`, 'EBADREV');
      after = at + 1;
    }
    const shown: number[] = [];
    for (let position = after; position < index.length && shown.length < (options.limit ?? Infinity); position++) {
      if (ofKept && !ofKept.has(position)) continue;
      if (options.approved && !tagsByCommit.has(index.commitAt(position))) continue;
      shown.push(position);
    }
    // Built from the chain again when a line it shows is not what its commit says (damage to the index).
    if (!(await confirmListed(this.repository, index, shown))) return this.listPage(options);
    const snapshots = shown.map((position) => {
      const s = index.at(position);
      const agent: ListedAgent | undefined = s.agent && { ...s.agent, ...agents.get(position)! };
      return { id: s.id, commit: s.commit, date: s.date.toISOString(), message: s.message, trigger: s.trigger, tags: tagsByCommit.get(s.commit) ?? [], changes: s.changes, ...(agent && { agent }) };
    });
    return { snapshots, total: index.length, start: shown[0] ?? after };
  }

  /** The sessions `agent` and `session` pick (undefined: neither is given, so no filter). */
  private sessionsOf<S extends SessionSnapshot>(sessions: AgentSession<S>[], options: { session?: string; agent?: string }): AgentSession<S>[] | undefined {
    if (options.session === undefined && options.agent === undefined) return undefined;
    const agent = options.agent?.toLowerCase();
    const ofAgent = agent === undefined ? sessions : sessions.filter((s) => s.agent.toLowerCase() === agent);
    if (options.session === undefined) return ofAgent;
    const fail = (why: string): never => {
      throw new ShadowGitError(`${why}; \`shadowgit sessions\` lists them.`, 'EUSAGE');
    };
    return [findSession(ofAgent, options.session, agent === undefined ? fail : (why) => fail(`among the sessions of ${options.agent}, ${why}`))];
  }

  /**
   * Agent sessions, the most recently active first: one pass over the history, then for each
   * session returned one diff (its files changed) and its first prompt's note. `agent` keeps one
   * agent's (any case); `limit` applies after it.
   */
  async sessions(options: { agent?: string; limit?: number } = {}): Promise<SessionSummary[]> {
    if (!(await this.repository.exists())) return [];
    const { index, broken } = await loadChain(this.repository);
    if (broken) throw broken;
    const all = groupSessions(index.agentSnapshots());
    const shortIds = shortSessionIds(all);
    let sessions = this.sessionsOf(all, { agent: options.agent }) ?? all;
    if (options.limit !== undefined) sessions = sessions.slice(0, options.limit);
    const notes = sessions.some((s) => s.prompts.length > 0) ? await readNotes(this.repository).catch(ifDamaged(new Map<string, string>())) : new Map<string, string>();
    return Promise.all(
      sessions.map(async (session) => {
        const first = index.at(session.snapshots[0]!.position);
        const last = index.at(session.snapshots.at(-1)!.position);
        const treeOf = async (commit: string) => (await readSnapshot(this.repository, commit)).tree;
        const changed = await Promise.all([treeOf(first.commit), treeOf(last.commit)])
          .then(([from, to]) => diffTrees(this.repository.objects, from, to))
          .then((changes) => changes.length, ifDamaged(null));
        const prompt = session.prompts[0] && index.at(session.prompts[0].position);
        const note = prompt && notes.get(prompt.commit);
        const text = note ? await this.repository.objects.readTyped(note, 'blob', `note of ${prompt.commit}`).then((blob) => blob.toString('utf8'), ifDamaged(undefined)) : undefined;
        return {
          agent: session.agent,
          session: session.session,
          shortSession: shortIds.get(session)!,
          label: sessionLabel(session.agent, shortIds.get(session)!),
          started: first.date.toISOString(),
          lastActivity: last.date.toISOString(),
          prompts: session.prompts.length,
          snapshots: session.snapshots.length,
          filesChanged: changed,
          firstPrompt: prompt ? (text ?? prompt.message).trim().split('\n')[0]!.trim() : null,
          firstSnapshot: first.id,
          lastSnapshot: last.id,
        };
      }),
    );
  }

  async approved(): Promise<ApprovedRevision[]> {
    if (!(await this.repository.exists())) return [];
    return listApproved(this.repository);
  }

  /** Snapshots the tree if it changed, then tags that snapshot with `name`. */
  async approve(name: string, options: { description?: string; force?: boolean } = {}): Promise<ApproveReport> {
    approvedName(name);
    return this.mutate(
      'approve',
      { name, description: options.description, force: options.force ?? false },
      async () => {
        const checked = await availableName(this.repository, name, options.force);
        const result = await takeSnapshot(this.repository, { trigger: 'approve', message: `approve ${name.trim()}` });
        const approved = await approveSnapshot(this.repository, result.snapshot, checked, options);
        return { name: approved.name, tag: approved.tag, commit: approved.commit, id: result.snapshot.id, snapshotCreated: result.created };
      },
      (r) => [r.commit],
    );
  }

  async resolve(rev: string): Promise<SnapshotInfo> {
    await this.repository.requireExisting();
    return resolveRevision(this.repository, rev);
  }

  /** What a rollback to `rev` would write and delete, without changing anything. */
  async planRollback(rev: string): Promise<RollbackPlan> {
    const [plan] = await this.planRollbacks([rev]);
    if (plan instanceof Error) throw plan;
    return plan!;
  }

  /**
   * What a rollback to each of `revs` would write and delete, from one scan of the tree and then
   * only the trees that differ from it; nothing is changed. A revision that does not resolve or
   * read has its error in place of a plan.
   */
  async planRollbacks(revs: string[]): Promise<Array<RollbackPlan | ShadowGitError>> {
    await this.repository.requireExisting();
    const orError = (err: unknown) => (err instanceof ShadowGitError ? err : Promise.reject(err));
    const targets = await Promise.all(revs.map((rev) => resolveRevision(this.repository, rev).catch(orError)));
    const current = await readWorktree(this.repository, { write: false });
    const plans: Array<RollbackPlan | ShadowGitError> = [];
    for (const target of targets) {
      if (target instanceof ShadowGitError) plans.push(target);
      else plans.push(await readingSnapshot(target, async () => ({ target, ...planFromChanges(await diffWorktree(this.repository.objects, target.tree, current)).plan })).catch(orError));
    }
    return plans;
  }

  /**
   * What a rollback to `rev` (no `paths`) or a restore of `paths` (relative to `cwd`, default the
   * working tree root) would write and delete in the tree as it is now; nothing is changed.
   * Passing `{ target: plan.target.commit, worktreeTree: plan.worktreeTree }` as `expect` to
   * rollback or restore then carries out exactly this plan, or refuses.
   */
  async checkoutPlan(rev: string, options: { paths?: string[]; cwd?: string } = {}): Promise<CheckoutPlan> {
    await this.repository.requireExisting();
    if (options.paths?.length === 0) throw new ShadowGitError('the list of paths to restore is empty; name files or directories, or leave the paths out to plan a rollback of the whole tree.', 'EUSAGE');
    const scope = options.paths?.map((p) => this.toWorktreePath(p, options.cwd));
    const target = await resolveRevision(this.repository, rev);
    const { plan, tree } = await readingSnapshot(target, () => planCheckoutNow(this.repository, target, scope));
    return { target, ...(scope ? { paths: scope } : {}), write: plan.write, delete: plan.delete, worktreeTree: tree };
  }

  /**
   * What `rev` names now, before the lock is taken, so a command that waits for the lock still
   * checks out what the user saw (`latest~1` of a minute ago, not of after another rollback).
   */
  private async resolveNow(rev: string): Promise<{ asked: SnapshotInfo; head: string | undefined }> {
    await this.repository.requireExisting();
    const head = await this.repository.head();
    return { asked: await resolveRevision(this.repository, rev), head };
  }

  /**
   * The snapshot resolved by resolveNow, under the lock: unchanged when the chain did not move;
   * else found again by its id (a prune rewrites commits but keeps ids), or by its commit.
   */
  private async stillResolved({ asked, head }: { asked: SnapshotInfo; head: string | undefined }): Promise<SnapshotInfo> {
    if ((await this.repository.head()) === head) return asked;
    return (await findSnapshotById(this.repository, asked.id)) ?? readSnapshot(this.repository, asked.commit);
  }

  /** Records the current state (pre-rollback snapshot), then checks `rev` out. `by` names who asked (guard), for status. */
  async rollback(rev: string, options: { onProgress?: ProgressCallback; by?: string; expect?: CheckoutExpectation } = {}): Promise<CheckoutReport> {
    const resolved = await this.resolveNow(rev);
    return this.mutate(
      'rollback',
      { rev },
      async () => {
        const target = expected(await this.stillResolved(resolved), options.expect);
        return checkoutReport(await readingSnapshot(target, () => checkout(this.repository, target, { op: 'rollback', trigger: 'pre-rollback', by: options.by, onProgress: options.onProgress, expectTree: options.expect?.worktreeTree })));
      },
      checkoutCommits,
    );
  }

  /** Returns the tree to its state before the last rollback, restore or undo; `expect` as for rollback (see planUndo). */
  async undo(options: { expect?: CheckoutExpectation } = {}): Promise<CheckoutReport> {
    await this.repository.requireExisting();
    return this.mutate(
      'undo',
      {},
      async () => {
        const target = expected(await this.undoTarget(), options.expect);
        return checkoutReport(await checkout(this.repository, target, { op: 'undo', trigger: 'pre-undo', expectTree: options.expect?.worktreeTree }));
      },
      checkoutCommits,
    );
  }

  /** The state before the last rollback, restore or undo: where undo goes. */
  private async undoTarget(): Promise<SnapshotInfo> {
    const last = await readLastCheckout(this.repository);
    if (!last) throw new ShadowGitError('there is no rollback or restore to undo; `shadowgit list` shows the snapshots you can roll back to.', 'ENOTHING');
    return resolveRevision(this.repository, last.before);
  }

  /** What undo would write and delete now, as checkoutPlan says it for a rollback; nothing is changed. */
  async planUndo(): Promise<CheckoutPlan> {
    await this.repository.requireExisting();
    return this.checkoutPlan((await this.undoTarget()).commit);
  }

  /**
   * Restores `paths` (relative to `cwd`, default the working tree root) from `rev`, after a
   * pre-restore snapshot. Paths the revision lacks are deleted.
   */
  async restore(rev: string, paths: string[], options: { cwd?: string; expect?: CheckoutExpectation } = {}): Promise<CheckoutReport> {
    await this.repository.requireExisting();
    if (paths.length === 0) throw new ShadowGitError('name the files or directories to restore after `--`, e.g. `shadowgit restore latest -- src/app.ts`.', 'EUSAGE');
    const scope = paths.map((p) => this.toWorktreePath(p, options.cwd));
    const resolved = await this.resolveNow(rev);
    return this.mutate(
      'restore',
      { rev, paths: scope },
      async () => {
        const target = expected(await this.stillResolved(resolved), options.expect);
        return checkoutReport(await readingSnapshot(target, () => checkout(this.repository, target, { op: 'restore', trigger: 'pre-restore', paths: scope, expectTree: options.expect?.worktreeTree })));
      },
      checkoutCommits,
    );
  }

  /**
   * Gives up an interrupted rollback, restore or undo that cannot be finished: the tree as it was
   * left becomes a snapshot, the journal goes, and `undo` returns to the state before it.
   */
  async abandonInterrupted(): Promise<AbandonReport> {
    await this.repository.requireExisting();
    return this.mutate(
      'abandon-interrupted',
      {},
      async () => {
        const { journal, left, leftCreated } = await abandonInterruptedCheckout(this.repository);
        return { op: journal.op, target: journal.target, before: journal.before, left: { id: left.id, commit: left.commit, created: leftCreated } };
      },
      (r) => [r.left.commit],
      { finishInterrupted: false },
    );
  }

  /** A path as given on the command line → posix path relative to the working tree. */
  toWorktreePath(p: string, cwd = this.worktree): string {
    if (p === '') throw new ShadowGitError('a path is empty (an unset shell variable?); name a file or directory, or `.` for all of the current directory.', 'EUSAGE');
    const absolute = path.resolve(cwd, p);
    const rel = path.relative(this.worktree, absolute);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) throw new ShadowGitError(`${p} is outside the working tree ${this.worktree}; name a path inside it.`, 'EUSAGE');
    const parts = rel === '' ? [] : rel.split(path.sep);
    // As in git: a symlink in the tree is recorded as a link; what it points to is not under it.
    for (let i = 1; i < parts.length; i++) {
      const through = parts.slice(0, i).join('/');
      if (lstatSync(path.join(this.worktree, through), { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new ShadowGitError(`${p} is beyond the symbolic link ${through}, which the snapshots record as a link; name the path through the directory it points to.`, 'EUSAGE');
      }
    }
    return parts.join('/');
  }

  /**
   * Changes between two revisions, or between a revision and the working tree (`to` undefined).
   * The default `from` is the snapshot the working tree is based on: the one a rollback, undo or
   * guard checked out, while no snapshot came after it (see checkedOutBase), else the latest.
   * `paths` (relative to `cwd`, default the working tree root) limit it to those files and
   * directories; trees outside them are not read.
   */
  async diff(from?: string, to?: string, options: { paths?: string[]; cwd?: string } = {}): Promise<{ from: SnapshotInfo; to?: SnapshotInfo; changes: FileChange[] }> {
    const scope = options.paths?.map((p) => this.toWorktreePath(p, options.cwd));
    const fromInfo = from === undefined ? await this.baseSnapshot() : await this.resolve(from);
    if (to !== undefined) {
      const toInfo = await resolveRevision(this.repository, to);
      return { from: fromInfo, to: toInfo, changes: await readingSnapshot(fromInfo, () => readingSnapshot(toInfo, () => diffTrees(this.repository.objects, fromInfo.tree, toInfo.tree, scope))) };
    }
    const current = await readWorktree(this.repository, { write: false });
    return { from: fromInfo, changes: await readingSnapshot(fromInfo, () => diffWorktree(this.repository.objects, fromInfo.tree, current, undefined, scope)) };
  }

  /** The snapshot the working tree was last made to match, or the latest one (see diff). */
  private async baseSnapshot(): Promise<SnapshotInfo> {
    const latest = await this.resolve('latest');
    return (await checkedOutBase(this.repository, latest))?.snapshot ?? latest;
  }

  /**
   * Those of `commits` (snapshots as list() names them, newest first) whose change from the
   * snapshot before them touches `paths` (relative to `cwd`); the first snapshot's whole tree
   * counts as its change. Only the trees along the paths are read.
   */
  async snapshotsChanging(commits: string[], paths: string[], options: { cwd?: string } = {}): Promise<Set<string>> {
    const scope = paths.map((p) => this.toWorktreePath(p, options.cwd));
    const trees = new Map<string, string>();
    const treeOf = async (commit: string) => trees.get(commit) ?? (await readSnapshot(this.repository, commit)).tree;
    const changing = new Set<string>();
    for (const commit of commits) {
      const snapshot = await readSnapshot(this.repository, commit);
      trees.set(commit, snapshot.tree);
      const parentTree = snapshot.parent === undefined ? undefined : await treeOf(snapshot.parent);
      const changes = await readingSnapshot(snapshot, () => diffTrees(this.repository.objects, parentTree, snapshot.tree, scope));
      if (changes.length > 0) changing.add(commit);
    }
    return changing;
  }

  /**
   * The file `p` (relative to `cwd`, default the working tree root) as snapshot `rev` recorded
   * it (a symlink's content is its target); only the trees along its path are read.
   */
  async fileAt(rev: string, p: string, options: { cwd?: string } = {}): Promise<SnapshotFile> {
    const rel = this.toWorktreePath(p, options.cwd);
    const snapshot = await this.resolve(rev);
    const absent = (why: string) => new ShadowGitError(`${rel || '.'} ${why} in snapshot ${snapshot.id}; name a file it recorded (\`shadowgit show ${snapshot.id}\` lists what it changed).`, 'ENOPATH');
    if (rel === '') throw absent('is the whole tree, not a file,');
    return readingSnapshot(snapshot, async () => {
      const entry = await entryAtPath(this.readTree, snapshot.tree, rel);
      if (entry?.mode === MODE_TREE) throw absent('is a directory, not a file,');
      if (!entry || isGitlink(entry)) throw absent('is not recorded');
      const content = await this.repository.objects.verifyBlob(entry.oid, rel);
      const size = content?.length ?? this.repository.objects.largeBlobSize(entry.oid) ?? 0;
      return { snapshot, path: rel, mode: entry.mode, oid: entry.oid, content, size, binary: content !== undefined && looksBinary(content) };
    });
  }

  /** Unified diff of one change from `diff()`; `worktree` says its new side is the working tree. */
  async patch(change: FileChange, worktree: boolean): Promise<string> {
    return patchFor(this.repository, change, worktree);
  }

  /** Lines added and removed by one change from `diff()` (sizes for a binary file); `worktree` as for patch. */
  async stat(change: FileChange, worktree: boolean): Promise<ChangeStat> {
    return statFor(this.repository, change, worktree);
  }

  /** One tree of the repository, its names validated (`dir` names it in messages). */
  private readonly readTree: TreeReader = (oid, dir) => readTreeEntries(this.repository.objects, oid, dir);

  // For the browser UI (src/ui/): reads that answer a request in bounded time and memory.

  /** The snapshot status and diff compare the working tree with (see diff). */
  async statusBase(): Promise<SnapshotInfo> {
    return this.baseSnapshot();
  }

  /** patch() within `limits`: undefined when a side is larger than `limits.maxBytes` or the diff takes longer than `limits.timeoutMs`. */
  async boundedPatch(change: FileChange, worktree: boolean, limits: DiffLimits): Promise<string | undefined> {
    return patchFor(this.repository, change, worktree, limits);
  }

  /** stat() within `limits`, as boundedPatch. */
  async boundedStat(change: FileChange, worktree: boolean, limits: DiffLimits): Promise<ChangeStat | undefined> {
    return statFor(this.repository, change, worktree, limits);
  }

  /**
   * The entries of the directory `dir` (worktree-relative posix, '' the root) as snapshot `rev`
   * recorded it, in the tree's order; only the trees along `dir` are read. ENOPATH when the
   * snapshot has no directory there.
   */
  async treeAt(rev: string, dir: string): Promise<{ snapshot: SnapshotInfo; dir: string; entries: SnapshotTreeEntry[] }> {
    const rel = this.toWorktreePath(dir === '' ? '.' : dir);
    const snapshot = await this.resolve(rev);
    return readingSnapshot(snapshot, async () => {
      const entry = rel === '' ? undefined : await entryAtPath(this.readTree, snapshot.tree, rel);
      if (rel !== '' && entry?.mode !== MODE_TREE) throw new ShadowGitError(`${rel} is ${entry ? 'not a directory' : 'not recorded'} in snapshot ${snapshot.id}; name a directory it recorded.`, 'ENOPATH');
      const entries = await this.readTree(entry?.oid ?? snapshot.tree, rel);
      return { snapshot, dir: rel, entries: entries.map((e) => ({ name: e.name, path: rel === '' ? e.name : `${rel}/${e.name}`, kind: entryKind(e.mode), mode: e.mode, oid: e.oid })) };
    });
  }

  /**
   * The snapshots in which the file `p` (worktree-relative) changed, newest first: at most
   * `limit`, starting after snapshot `before` (any revision; default: from the latest), looking
   * at no more than `maxScanned` snapshots (default 2,000). `next` is the snapshot to pass as
   * `before` for the next page; undefined at the chain's first snapshot.
   */
  async fileHistory(p: string, options: { limit: number; before?: string; maxScanned?: number }): Promise<{ path: string; versions: FileVersion[]; next: SnapshotInfo | undefined }> {
    const rel = this.toWorktreePath(p);
    if (rel === '') throw new ShadowGitError('the history of the whole tree is the timeline; name a file for its history.', 'EUSAGE');
    const { fileHistory } = await import('./engine/snapshot/filehistory.js');
    let start: SnapshotInfo | undefined;
    if (options.before !== undefined) {
      const after = await this.resolve(options.before);
      start = after.parent === undefined ? undefined : await readParent(this.repository, after);
    } else if (await this.repository.exists()) start = await readLatest(this.repository);
    return { path: rel, ...(await fileHistory(this.repository, start, rel, { limit: options.limit, maxScanned: options.maxScanned ?? 2000 })) };
  }

  async status(): Promise<StatusReport> {
    const repo = this.repository;
    const report: StatusReport = { worktree: repo.worktree, repo: repo.gitdir, initialized: await repo.exists(), changes: { added: [], modified: [], deleted: [] }, skipped: [], snapshots: 0, approved: 0, repoBytes: 0 };
    if (!report.initialized) return report;
    await repo.checkSafety();
    // The scan first: it starts its helper thread as it loads the cache (see statAhead), and the
    // rest then runs while that thread starts.
    const [current, snapshots, last, approved, repoBytes, lock, journal, watcher] = await Promise.all([
      readWorktree(repo, { write: false }),
      countSnapshots(repo),
      readLatest(repo),
      listApproved(repo),
      repo.objects.repositoryBytes(),
      RepoLock.inspect(repo.statePath(LOCK)),
      readJournal(repo),
      readWatcher(repo),
    ]);
    Object.assign(report, { snapshots, approved: approved.length, repoBytes, skipped: current.skipped });
    if (await hasRemotes(repo)) report.remotes = await this.remotes();
    if (watcher) report.watcher = { pid: watcher.state.pid, since: watcher.state.since, stale: watcher.stale, lastSnapshot: watcher.state.lastSnapshot };
    if (lock) report.lock = { pid: lock.pid, command: lock.command, since: lock.since, stale: lock.stale };
    if (journal) report.interruptedOperation = journal.op;
    if (last) {
      report.lastSnapshot = { id: last.id, commit: last.commit, date: last.date.toISOString(), ageSeconds: Math.max(0, Math.round((Date.now() - last.date.getTime()) / 1000)), message: last.message, ...(last.agent && { agent: last.agent }) };
      const base = await checkedOutBase(repo, last);
      if (base) report.base = { id: base.snapshot.id, commit: base.snapshot.commit, date: base.snapshot.date.toISOString(), message: base.snapshot.message, by: base.by, at: base.at };
      const changes = await diffWorktree(repo.objects, (base?.snapshot ?? last).tree, current, (damage) => (report.lastSnapshotDamage ??= describeDamage(damage)));
      for (const c of changes) report.changes[c.status === 'mode' ? 'modified' : c.status].push(c.path);
    } else {
      report.changes.added = [...current.files.keys()].sort();
    }
    return report;
  }

  /**
   * Appends an operation made of several facade calls (guard, safe edits) to the op log; each
   * call inside it is logged on its own as well.
   */
  async logOperation(op: Operation, args: Record<string, unknown>, started: number, result: { commits: string[]; error?: string }): Promise<void> {
    await this.repository.ensureCreated();
    await appendOp(this.repository.statePath(OPLOG), opRecord(op, args, started, result));
  }

  /**
   * Every ref of the shadow repository (`refs/heads/snapshots`, approvals' tags, notes, fetched
   * `refs/remotes/…`) and the commit it names; empty before the first snapshot. One directory walk,
   * no object read: the UI polls it to see snapshots and moved refs arrive.
   */
  async refTips(): Promise<Map<string, string>> {
    if (!(await this.repository.exists())) return new Map();
    return this.repository.refs.list('refs/');
  }

  /** The operation log, oldest first, with the commits it names as a prune may since have renamed them. */
  async operations(options: ReadOpsOptions = {}): Promise<LoggedOp[]> {
    if (!(await this.repository.exists())) return [];
    const [ops, rewrites] = await Promise.all([readOps(this.repository.statePath(OPLOG), options), Rewrites.load(this.repository)]);
    return ops.map((op) => withCurrentCommits(op, rewrites));
  }

  /** Message, trailers, note and changed files of one snapshot. */
  async show(rev: string): Promise<SnapshotDetails> {
    const { snapshotDetails } = await import('./engine/snapshot/show.js');
    return snapshotDetails(this.repository, await this.resolve(rev));
  }

  /**
   * Applies a retention policy (options, else `.shadowgit` retention, else the default), keeping
   * approved revisions and undo points whatever it says; then runs gc unless `gc: false`.
   */
  async prune(options: { policy?: RetentionPolicy; dryRun?: boolean; gc?: boolean; graceMs?: number; grace?: string; onProgress?: (packed: number) => void } = {}): Promise<PruneReport> {
    // Maintenance modules load only for maintenance: snapshot and status start faster.
    const [{ resolvePolicy, describePolicy }, { planPrune, executePrune }, { collectGarbage }] = await Promise.all([import('./engine/maintenance/retention.js'), import('./engine/maintenance/prune.js'), import('./engine/maintenance/gc.js')]);
    const graceMs = await gracePeriodOf(options);
    const { policy, source } = resolvePolicy(options.policy ?? {}, this.repository.config.retention);
    const policyText = describePolicy(policy);
    await this.repository.requireExisting();
    if (options.dryRun) {
      const decisions = await planPrune(this.repository, policy);
      const removed = decisions.filter((d) => !d.keep).length;
      return { policy, policyText, policySource: source, dryRun: true, decisions, removed, kept: decisions.length - removed, rewritten: 0 };
    }
    return this.mutate(
      'prune',
      { policy, gc: options.gc !== false },
      async () => {
        const decisions = await planPrune(this.repository, policy);
        const outcome = await executePrune(this.repository, decisions, policy);
        const gc = options.gc === false ? undefined : await collectGarbage(this.repository, { graceMs, onProgress: options.onProgress });
        return { policy, policyText, policySource: source, dryRun: false, decisions, removed: outcome.removed.length, kept: outcome.kept, rewritten: outcome.rewritten, gc };
      },
      () => [],
    );
  }

  /** Deletes unreachable objects (older than the grace period) and packs the rest. */
  async gc(options: { graceMs?: number; grace?: string; onProgress?: (packed: number) => void } = {}): Promise<GcReport> {
    const graceMs = await gracePeriodOf(options);
    await this.repository.requireExisting();
    const { collectGarbage } = await import('./engine/maintenance/gc.js');
    return this.mutate('gc', { graceMs }, () => collectGarbage(this.repository, { graceMs, onProgress: options.onProgress }), () => []);
  }

  /** Re-reads and re-hashes every object of every snapshot (or, quick, the latest and approved ones). */
  async verify(options: { quick?: boolean; onProgress?: (objects: number) => void } = {}): Promise<VerifyReport> {
    await this.repository.requireExisting();
    const { verifyRepository } = await import('./engine/maintenance/verify.js');
    return this.repository.withLock('verify', () => verifyRepository(this.repository, options));
  }

  /**
   * Sets up the shadow repository of `dir` (missing or empty) from the remote at `url`: fetches
   * one machine's chain, approvals and notes, makes them this repository's own, records the
   * remote, and checks `rev` out into `dir` through the ordinary checkout (journal, read-back).
   * A clone that fails before the checkout leaves no shadow repository and `dir` as it was.
   */
  static async clone(url: string, dir: string, options: CloneOptions = {}): Promise<CloneReport> {
    const [clone, { advertisedRefs }, { fetchPack }, { checkRemoteName, recordRemoteUrl }, { lookupCredentials }, { shownUrl }] = await Promise.all([
      import('./engine/remote/clone.js'),
      import('./engine/remote/discover.js'),
      import('./engine/remote/fetchpack.js'),
      import('./engine/remote/remoteurl.js'),
      import('./engine/remote/credentials.js'),
      import('./engine/remote/http.js'),
    ]);
    const name = checkRemoteName(options.name ?? 'origin');
    const endpoint = { url, credentials: await lookupCredentials(url) };
    const shown = shownUrl(endpoint);
    const target = await clone.checkCloneTarget(dir);
    const machines = clone.remoteMachines(await advertisedRefs(endpoint, 'git-upload-pack'));
    const candidates = clone.machinesToFetch(machines, shown, options.machine);
    await fsp.mkdir(target.dir, { recursive: true });
    const created = { dir: !target.exists, repo: false };
    let repository: Repository;
    try {
      repository = await Repository.open({ worktree: target.dir });
      if (await repository.head()) throw new ShadowGitError(`${target.dir} already has snapshots in ${repository.gitdir}; clone into another directory, or roll that tree back with \`shadowgit -C ${target.dir} rollback\`.`, 'EUSAGE');
    } catch (err) {
      if (created.dir) await fsp.rmdir(target.dir).catch(() => undefined);
      throw err;
    }
    created.repo = !(await repository.exists());
    const sg = new ShadowGit(repository);
    let adopted: RemoteMachine | undefined;
    let checkingOut = false;
    try {
      return await sg.mutate(
        'clone',
        { url: shown, machine: options.machine, rev: options.rev, name },
        async () => {
          const { objects } = await fetchPack(repository, endpoint, clone.machineWants(candidates), { onProgress: options.onTransfer });
          const machine = candidates.length === 1 ? candidates[0]! : await clone.newestMachine(repository, candidates);
          adopted = machine;
          await clone.adoptMachine(repository, machine);
          await recordRemoteUrl(repository, name, url);
          const chosen = await resolveRevision(repository, options.rev ?? 'latest');
          checkingOut = true;
          const result = await readingSnapshot(chosen, () => checkout(repository, chosen, { op: 'clone', trigger: 'pre-clone', emptyTreeNeedsNoSnapshot: true, onProgress: options.onProgress }));
          // The repository was placed by the empty DIR's settings; the restored .shadowgit may ask for another place.
          const placed = await Repository.open({ worktree: repository.worktree }).then((r) => (r.gitdir === repository.gitdir ? undefined : `the restored .shadowgit puts the shadow repository at ${r.gitdir}, but the clone made it at ${repository.gitdir}; move it there, or remove "repo" from .shadowgit.`), (err: Error) => `the restored .shadowgit cannot be used as it is (${err.message.replace(/[.;]?\s*$/, '')}); the clone's shadow repository is at ${repository.gitdir}.`);
          return {
            worktree: repository.worktree,
            repo: repository.gitdir,
            url: shown,
            remote: name,
            machine: machine.name,
            otherMachines: [...machines.keys()].filter((m) => m !== machine.name).sort(),
            snapshots: await countSnapshots(repository),
            approved: machine.tags.size,
            objects,
            checkedOut: { id: chosen.id, commit: chosen.commit, date: chosen.date.toISOString(), message: chosen.message },
            written: result.written.length,
            warnings: [...result.warnings, ...(placed ? [placed] : [])],
          };
        },
        (r) => [r.checkedOut.commit],
      );
    } catch (err) {
      // A checkout that started has its journal: the next command finishes it, so the repository stays.
      if (!checkingOut) await clone.undoClone(repository, created, adopted);
      throw err;
    }
  }

  /**
   * Fetches everything remote `remote` holds into a temporary repository and verifies every
   * object there (see verifyRemote). `remote` is a URL, or the name of a remote of the tree
   * `open` opens (opened only then: a URL needs no shadow repository).
   */
  static async verifyRemote(remote: string, open: () => Promise<ShadowGit>, options: { onTransfer?: (progress: TransferProgress) => void; onProgress?: (objects: number) => void } = {}): Promise<RemoteVerifyReport> {
    const [{ verifyRemote }, { lookupCredentials }] = await Promise.all([import('./engine/maintenance/verifyremote.js'), import('./engine/remote/credentials.js')]);
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(remote) ? remote : await (await open()).remoteUrl(remote);
    return verifyRemote({ url, credentials: await lookupCredentials(url) }, { onProgress: options.onTransfer, onVerified: options.onProgress });
  }

  /** The URL recorded for remote `name`; a usage error when there is none. */
  private async remoteUrl(name: string): Promise<string> {
    const { findRemote } = await import('./engine/sync/remotes.js');
    return (await findRemote(this.repository, name)).url;
  }

  /** Writes the tree of `rev` to `out`: a directory, or a .tar/.tar.gz archive. */
  async export(rev: string, out: string, options: { force?: boolean; cwd?: string } = {}): Promise<ExportResult> {
    // path.resolve('') is the current directory: an unset variable must not export over it.
    if (out.trim() === '') throw new ShadowGitError('the export destination is empty; name a file or directory outside the working tree.', 'EUSAGE');
    const { exportSnapshot } = await import('./engine/checkout/export.js');
    return exportSnapshot(this.repository, await this.resolve(rev), path.resolve(options.cwd ?? process.cwd(), out), options);
  }

  /** Path → blob id of every recorded file in the working tree now (for impact analysis). */
  async trackedFiles(): Promise<FlatTree> {
    return (await readWorktree(this.repository, { write: false })).files;
  }

  /**
   * Runs the command `argv` in `cwd` under guard: a snapshot first; when it fails (non-zero exit,
   * a signal, or it cannot start), its state is recorded and, unless `keep`, the tree is rolled
   * back. `stdoutFd` redirects the command's stdout (2 keeps a --json stdout clean).
   */
  async guardCommand(argv: string[], options: { label: string; keep?: boolean; cwd: string; stdoutFd?: number }): Promise<{ report: GuardReport; value?: ChildOutcome; error?: unknown }> {
    const { runGuarded, runChild } = await import('./engine/protect/guard.js');
    return runGuarded<ChildOutcome>(
      this,
      { label: options.label, keep: options.keep, logArgs: { command: argv } },
      () => runChild(argv, { cwd: options.cwd, stdoutFd: options.stdoutFd }),
      (outcome) => (outcome.exitCode === 0 ? undefined : outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.exitCode}`),
    );
  }

  /** Refuses a --bundle target before anything runs: not a .tar.gz, or something already there without `force`. */
  async checkBundleTarget(file: string, force: boolean): Promise<void> {
    const { checkBundleTarget } = await import('./engine/protect/bundle.js');
    await checkBundleTarget(file, force);
  }

  /** Whether this tree is the home directory: its first snapshot needs consent (see OpenOptions.allowHome). */
  isHomeDirectory(): Promise<boolean> {
    return isHomeDirectory(this.worktree);
  }

  /** The refusal to create a shadow repository of the home directory without consent. */
  homeRefusal(): ShadowGitError {
    return homeRefusal(this.worktree);
  }

  /** The tree's `.shadowgit` file (whether or not it exists). */
  get configFile(): string {
    return path.join(this.worktree, CONFIG_FILE);
  }

  /** Checks critical files, the shadow repository, lock, watcher and disk space; changes nothing. */
  async doctor(): Promise<DoctorReport> {
    const { diagnose } = await import('./engine/protect/doctor.js');
    return diagnose(this.repository);
  }

  /**
   * Restores each damaged critical file (or each of `paths`, worktree-relative) from the newest
   * snapshot where it was healthy, each source through `restore` (see recoverFiles).
   */
  async recover(paths?: string[]): Promise<RecoverReport> {
    const { recoverFiles } = await import('./engine/protect/recover.js');
    return recoverFiles(this.repository, (rev, files, options) => this.restore(rev, files, options), paths);
  }

  /** Writes a diagnostics bundle with doctor's `report` to `file` (see writeBundle); returns the names in it. */
  async bundle(file: string, report: DoctorReport, options: { force?: boolean } = {}): Promise<string[]> {
    const { writeBundle } = await import('./engine/protect/bundle.js');
    return writeBundle(this.repository, this, file, report, options.force);
  }

  /** A watcher of this tree, not started yet (see WatchSession); its snapshots go through this facade. */
  /** Remotes (docs/remote.md) with their last push, snapshots not yet pushed there and last error; URLs without userinfo. */
  async remotes(): Promise<RemoteSummary[]> {
    const { remoteSummaries } = await import('./engine/sync/remotes.js');
    return remoteSummaries(this.repository);
  }

  /** Adds remote `name` (an http(s) URL without a password) to the shadow repository's git config. */
  async addRemote(name: string, url: string): Promise<Remote> {
    const { addRemote } = await import('./engine/sync/remotes.js');
    const { redactUrl } = await import('./engine/remote/credentials.js');
    return this.mutate('remote-add', { name, url: redactUrl(url) }, () => addRemote(this.repository, name, url), () => []);
  }

  /** Forgets remote `name` here (config, state, refs/remotes/NAME/); nothing on the remote changes. */
  async removeRemote(name: string): Promise<Remote> {
    const { removeRemote } = await import('./engine/sync/remotes.js');
    return this.mutate('remote-remove', { name }, () => removeRemote(this.repository, name), () => []);
  }

  /**
   * Pushes the snapshots, approvals and notes not yet on remote `name` (default: .shadowgit's
   * remote.name, else the only remote) in one atomic request (several on a 413). Takes the lock
   * only to plan and to record the outcome, never during the transfer.
   */
  async push(name?: string, options: { onProgress?: (progress: TransferProgress) => void } = {}): Promise<PushReport> {
    const { pushToRemote } = await import('./engine/sync/push.js');
    return this.withRemote('push', name, async (remote) => {
      const report = await pushToRemote(this.repository, remote, options);
      return { report, commits: report.pushed.map((p) => p.commit) };
    });
  }

  /**
   * A command that talks to remote `name` (default: .shadowgit's remote.name, else the only one):
   * it takes the lock itself, only for its local steps, and is logged here — with its error, when
   * it fails. `logged: false` leaves a dry run out of the log.
   */
  private async withRemote<T>(op: Operation, name: string | undefined, run: (remote: Remote) => Promise<{ report: T; commits?: string[]; args?: Record<string, unknown>; logged?: boolean }>): Promise<T> {
    const { defaultRemote, findRemote } = await import('./engine/sync/remotes.js');
    const repo = this.repository;
    const started = Date.now();
    try {
      await repo.ensureCreated();
      const remote = name === undefined ? await defaultRemote(repo) : await findRemote(repo, name);
      const { report, commits = [], args = {}, logged = true } = await run(remote);
      if (logged) await this.logOperation(op, { remote: remote.name, ...args }, started, { commits });
      return report;
    } catch (err) {
      await this.logOperation(op, { remote: name }, started, { commits: [], error: (err as Error).message }).catch(() => undefined);
      throw explainFilesystemError(err);
    }
  }

  /**
   * Applies a retention policy (default: .shadowgit "retention", else prune's default) to this
   * machine's chain on remote `name`: a non-fast-forward rewrite, which an append-only server
   * refuses (EREJECTED, with its message). `dryRun` only decides.
   */
  async pruneRemote(name: string, options: { policy?: RetentionPolicy; dryRun?: boolean } = {}): Promise<RemotePruneReport> {
    const { pruneRemote } = await import('./engine/sync/remoteprune.js');
    return this.withRemote('remote-prune', name, async (remote) => {
      const report = await pruneRemote(this.repository, remote, options);
      return { report, args: { policy: report.policyText }, logged: !report.dryRun };
    });
  }

  /** Brings every machine's chain, approvals and notes from remote `name` (default as push) under refs/remotes/NAME/. */
  async fetch(name?: string, options: { onProgress?: (progress: TransferProgress) => void } = {}): Promise<FetchReport> {
    const { fetchFromRemote } = await import('./engine/sync/fetch.js');
    return this.withRemote('fetch', name, async (remote) => ({ report: await fetchFromRemote(this.repository, remote, options) }));
  }

  /** The snapshots fetched from remote `name` (every machine's, or `machine`'s), newest first; as list, plus the machine. */
  async listRemote(name: string, options: { machine?: string; limit?: number } = {}): Promise<Array<ListedSnapshot & { machine: string }>> {
    const { findRemote } = await import('./engine/sync/remotes.js');
    await findRemote(this.repository, name);
    const chains = (await fetchedChains(this.repository, name)).filter((c) => options.machine === undefined || c.machine === options.machine);
    if (options.machine !== undefined && chains.length === 0) throw new ShadowGitError(`no machine "${options.machine}" has been fetched from ${name}; \`shadowgit fetch ${name}\` brings them, \`shadowgit list --remote ${name}\` names them.`, 'EUSAGE');
    const rows: Array<ListedSnapshot & { machine: string }> = [];
    for (const chain of chains) {
      const approvals = await chainApprovals(this.repository, name, chain.machine);
      for (const s of await chainSnapshots(this.repository, chain.tip)) {
        rows.push({ id: s.id, commit: s.commit, date: s.date.toISOString(), message: s.message, trigger: s.trigger, tags: approvals.get(s.commit) ?? [], changes: s.changes, ...(s.agent && { agent: { ...s.agent, label: s.agent.agent } }), machine: chain.machine });
      }
    }
    rows.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
    return options.limit === undefined ? rows : rows.slice(0, options.limit);
  }

  async watcher(options: WatchOptions): Promise<WatchSession> {
    const { WatchSession } = await import('./engine/protect/watch.js');
    return new WatchSession(this.repository, this, options);
  }

  /**
   * For the CLI: runs this process's script again with `cliArgs` (a `watch` command line) as this
   * tree's background watcher, and waits until it has claimed the watch state.
   */
  async watchInBackground(cliArgs: string[]): Promise<WatchState> {
    const { spawnDetached } = await import('./engine/protect/watch.js');
    return spawnDetached(this.repository, cliArgs);
  }

  /** Stops this tree's watcher after its final snapshot, or clears the state a dead one left. */
  async stopWatcher(): Promise<StopResult> {
    const { stopWatcher } = await import('./engine/protect/watch.js');
    return stopWatcher(this.repository);
  }
}
