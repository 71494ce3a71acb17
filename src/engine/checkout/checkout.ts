import { AnchoredTree, nameOf, parentOf, TreeChangedError, type DirIdentity } from '../worktree/anchored.js';
import { diffWorktree } from '../snapshot/diff.js';
import { ShadowGitError } from '../errors.js';
import { readLastCheckout, recordLastCheckout } from '../snapshot/base.js';
import { forEachLimit } from '../fsutil.js';
import { BrokenTipError, readLatest, readSnapshot, type SnapshotInfo } from '../snapshot/history.js';
import { hashPath, modeOf, proveRecorded, type RecordedTree } from '../snapshot/record.js';
import type { FlatTree } from '../store/gitformat.js';
import type { Repository } from '../store/repo.js';
import { applyPlan, removeStrayTemps } from './apply.js';
import { clearJournal, readJournal, writeJournal, type Journal } from './journal.js';
import { checkPlan, planFromChanges, planRestore, verifyPlanObjects, type RestorePlan } from './plan.js';
import type { SkippedPath } from '../worktree/scan.js';
import { fileStatOf } from '../worktree/stat.js';
import { inScope } from '../worktree/scope.js';
import { readWorktree, takeSnapshot } from '../snapshot/snapshot.js';
import type { CachedFile, StatCache } from '../worktree/statcache.js';
import { readFlatTree } from '../snapshot/treeread.js';
import { STAT_CACHE } from '../store/statefiles.js';

export { readLastCheckout };

/** The command that gives up an interrupted checkout (see abandonInterruptedCheckout). */
export const ABANDON_COMMAND = 'shadowgit recover --abandon-interrupted';

export interface CheckoutResult {
  target: SnapshotInfo;
  /**
   * The snapshot holding the state before the checkout (created now, or the latest one); absent
   * when there was nothing to do (the tree, or the paths restored, already matched the target).
   */
  preRollback?: SnapshotInfo;
  preRollbackCreated: boolean;
  written: string[];
  deleted: string[];
  /** What the safety snapshot met and did about it (damage repaired, unread ignore files), one sentence each. */
  warnings: string[];
}

export interface CheckoutOptions {
  /** Trigger of the safety snapshot: pre-rollback, pre-restore, pre-undo, guard… */
  trigger: string;
  op: string;
  /** Who asked, when not the user directly (guard): status says so. */
  by?: string;
  /** Worktree-relative posix paths to limit the checkout to (restore). */
  paths?: string[];
  onProgress?: (files: number) => void;
  /**
   * The id the working tree's scan had when the caller showed its plan (CheckoutPlan.worktreeTree):
   * a tree that scans otherwise now, or when the safety snapshot records it, is refused — the plan
   * shown is then no longer the one that would run.
   */
  expectTree?: string;
  /**
   * A tree with nothing in it needs no safety snapshot (a clone into a new directory): the
   * target stands as the state before, so the chain gains no empty snapshot that `latest` and
   * a push would then name.
   */
  emptyTreeNeedsNoSnapshot?: boolean;
}

/**
 * Checks `target` out into the working tree (all of it, or `paths`). The caller holds the lock.
 * Order: plan on a scan that writes nothing (validating the target's trees read), and refuse it
 * (paths neither side has, conflicts, blobs that do not read back) → safety snapshot (the latest
 * one when it records the tree as scanned; else a new one, and the plan is made again from what
 * it recorded) → journal → write → read back what was written and deleted → clear.
 * A refused checkout, or one with nothing to do, writes nothing, not even the safety snapshot.
 */
export async function checkout(repo: Repository, target: SnapshotInfo, options: CheckoutOptions): Promise<CheckoutResult> {
  const { targetFiles, now, proposed } = await scanAndPlan(repo, target, options);
  refuseUnexpectedTree(now, options, 'before changing anything');
  if (proposed.plan.write.length === 0 && proposed.plan.delete.length === 0) return { target, preRollbackCreated: false, written: [], deleted: [], warnings: [] };
  const verified = await refuseBeforeSnapshot(repo, options.op, proposed, now.skipped);
  const pre =
    (await latestRecording(repo, now)) ??
    (options.emptyTreeNeedsNoSnapshot && now.files.size === 0 && now.skipped.length === 0
      ? { snapshot: target, created: false, state: now }
      : await takeSnapshot(repo, { trigger: options.trigger, message: `before ${options.op} to ${target.id}`, onProgress: options.onProgress }));
  refuseUnexpectedTree(pre.state, options, `after recording the tree as snapshot ${pre.snapshot.id}, before writing to it`);
  const { plan, writes } = pre.state === now ? proposed : await planCheckout(repo, target, pre.state, targetFiles, options.paths);
  const journal: Journal = { op: options.op, target: target.commit, before: pre.snapshot.commit, paths: options.paths, startedAt: new Date().toISOString(), by: options.by };
  await writeChecked(repo, journal, target, writes, plan, pre.state, false, { paths: new Set(proposed.plan.write), blobs: verified });
  return { target, preRollback: pre.snapshot, preRollbackCreated: pre.created, written: plan.write, deleted: plan.delete, warnings: 'warnings' in pre ? pre.warnings : [] };
}

/**
 * The scan a checkout starts from and its plan. A restore of some paths reads the whole target
 * first (the paths must exist on one side); a rollback reads only the target's trees that
 * differ from the tree scanned.
 */
async function scanAndPlan(repo: Repository, target: SnapshotInfo, options: Pick<CheckoutOptions, 'paths' | 'onProgress'>): Promise<{ targetFiles?: FlatTree; now: RecordedTree; proposed: { plan: RestorePlan; writes: FlatTree } }> {
  const targetFiles = options.paths ? await readFlatTree(repo.objects, target.tree) : undefined;
  const now = await readWorktree(repo, { write: false, onProgress: options.onProgress });
  if (options.paths) refuseUnknownPaths(target, targetFiles!, now.files, options.paths);
  return { targetFiles, now, proposed: await planCheckout(repo, target, now, targetFiles, options.paths) };
}

/**
 * What a checkout of `target` (all of it, or `paths`) would write and delete in the tree as it
 * scans now, changing nothing, and the id the tree scanned as: given back as `expectTree`, it
 * makes the checkout carry out exactly this plan or refuse.
 */
export async function planCheckoutNow(repo: Repository, target: SnapshotInfo, paths?: string[]): Promise<{ plan: RestorePlan; tree: string }> {
  const { now, proposed } = await scanAndPlan(repo, target, { paths });
  return { plan: proposed.plan, tree: now.tree };
}

/**
 * The latest snapshot as the safety snapshot, when it records the tree exactly as `now` scanned
 * it with the stat cache (as a snapshot would have: it would record nothing new), so the tree
 * is not scanned a second time. A broken snapshots ref is left to takeSnapshot to set aside.
 */
async function latestRecording(repo: Repository, now: RecordedTree): Promise<{ snapshot: SnapshotInfo; created: false; state: RecordedTree } | undefined> {
  if (now.previous.dirs.size === 0) return undefined;
  const latest = await readLatest(repo).catch((err: unknown) => (err instanceof BrokenTipError ? undefined : Promise.reject(err)));
  return latest?.tree === now.tree ? { snapshot: latest, created: false, state: now } : undefined;
}

/** Refuses a tree that no longer scans as the caller's plan saw it (CheckoutOptions.expectTree). */
function refuseUnexpectedTree(scanned: RecordedTree, options: CheckoutOptions, outcome: string): void {
  if (options.expectTree === undefined || scanned.tree === options.expectTree) return;
  throw new ShadowGitError(`the working tree changed since the ${options.op} was planned, so it stopped ${outcome}; plan it again`, 'ECHANGED');
}

/** A path the target lacks is fine if it exists now (restoring it means deleting it). */
function refuseUnknownPaths(target: SnapshotInfo, targetFiles: FlatTree, currentFiles: FlatTree, paths: string[]): void {
  const known = (files: FlatTree, p: string) => [...files.keys()].some((f) => inScope(f, [p]));
  for (const p of paths) {
    if (!known(targetFiles, p) && !known(currentFiles, p)) {
      throw new ShadowGitError(`${p || '.'} is in neither snapshot ${target.id} nor the working tree; check the path (relative to the current directory).`, 'ENOPATH');
    }
  }
}

/** What turns `current` into the target (the target's entries for the paths to write). */
async function planCheckout(repo: Repository, target: SnapshotInfo, current: RecordedTree, targetFiles: FlatTree | undefined, paths: string[] | undefined): Promise<{ plan: RestorePlan; writes: FlatTree }> {
  if (targetFiles) return { plan: planRestore(current.files, targetFiles, paths), writes: targetFiles };
  const { plan, target: writes } = planFromChanges(await diffWorktree(repo.objects, target.tree, current));
  return { plan, writes };
}

/**
 * Refuses, before the safety snapshot, a plan that conflicts with the tree or names a blob that
 * does not read back (see checkPlan, verifyPlanObjects). Returns the blobs verified.
 */
async function refuseBeforeSnapshot(repo: Repository, op: string, { plan, writes }: { plan: RestorePlan; writes: FlatTree }, skipped: SkippedPath[]): Promise<Map<string, Buffer>> {
  const tree = AnchoredTree.open(repo.worktree);
  try {
    await checkPlan(tree, plan, skipped);
  } catch (err) {
    throw err instanceof TreeChangedError ? stoppedByChange(err, op, UNTOUCHED) : err;
  } finally {
    tree.close();
  }
  return verifyPlanObjects(repo, plan.write, writes);
}

/** Blobs already verified for some paths of the plan (see verifyPlanObjects). */
interface VerifiedEarlier {
  paths: ReadonlySet<string>;
  blobs: Map<string, Buffer>;
}

/**
 * Checks the plan against the tree and the objects it needs (those not verified `earlier`), then
 * journals it (unless `resumed`: the journal is there already), applies it, reads it back and
 * finishes, all through one AnchoredTree, so no write follows a symlink and a directory swapped
 * under the checkout stops it with the journal in place.
 */
async function writeChecked(repo: Repository, journal: Journal, target: SnapshotInfo, writes: FlatTree, plan: RestorePlan, current: RecordedTree, resumed: boolean, earlier?: VerifiedEarlier): Promise<void> {
  const tree = AnchoredTree.open(repo.worktree);
  let journalled = resumed;
  try {
    await checkPlan(tree, plan, current.skipped);
    // The safety snapshot's copy of every path about to be replaced or deleted must read back intact.
    await proveRecorded(repo.worktree, repo.objects, current, [...plan.write, ...plan.delete]);
    const verified = await verifyPlanObjects(repo, earlier ? plan.write.filter((p) => !earlier.paths.has(p)) : plan.write, writes, earlier?.blobs);
    if (!resumed) await writeJournal(repo, journal);
    journalled = true;
    await applyPlan(repo, tree, plan, writes, verified, journal.paths);
    // The read-back opens its own handles: the writer's go first, so the two never add up.
    tree.close();
    await finishCheckout(repo, journal, target, writes, plan, current.cache, tree.seen);
    await recordCheckedOut(repo, journal);
  } catch (err) {
    if (!(err instanceof TreeChangedError)) throw err;
    throw stoppedByChange(err, journal.op, !journalled ? UNTOUCHED : resumed ? 'with nothing written through it' : `with nothing written through it; ${STOPPED_ADVICE}`);
  } finally {
    tree.close();
  }
}

const UNTOUCHED = 'before changing anything; run it again';

function stoppedByChange(err: TreeChangedError, op: string, outcome: string): ShadowGitError {
  return new ShadowGitError(`${err.message}, so the ${op} stopped ${outcome}`, 'ECHANGED');
}

/** What the user can do about a checkout that stopped with its journal in place. */
const STOPPED_ADVICE = `the next shadowgit command records the tree as it is and finishes it, or \`${ABANDON_COMMAND}\` gives it up.`;

/**
 * Reads back every path the checkout wrote or deleted, through a fresh walk from the root that
 * follows no symlink and insists every directory is the one written into: a written path must
 * hash to the target's entry, a deleted one must be gone. Returns the paths that do not match and
 * the cache entries of those that do. (Everything else was just scanned by the safety snapshot
 * and left alone.)
 */
async function verifyApplied(repo: Repository, plan: RestorePlan, targetFiles: FlatTree, writtenDirs: ReadonlyMap<string, DirIdentity>): Promise<{ differing: string[]; written: Map<string, CachedFile> }> {
  const differing: string[] = [];
  const written = new Map<string, CachedFile>();
  const tree = AnchoredTree.open(repo.worktree, { expected: writtenDirs });
  const lstatOrChanged = (rel: string) => {
    try {
      return tree.lstat(rel);
    } catch (err) {
      if (err instanceof TreeChangedError) return undefined;
      throw err;
    }
  };
  try {
    await forEachLimit(plan.write, 16, async (rel) => {
      const want = targetFiles.get(rel)!;
      const stat = lstatOrChanged(rel);
      const kind = stat?.isSymbolicLink() ? 'link' : stat?.isFile() ? 'file' : undefined;
      if (!stat || !kind) return void differing.push(rel);
      const mode = modeOf({ kind, executable: (stat.mode & 0o100) !== 0 });
      const read = await tree.within(parentOf(rel), (at) => hashPath(at(nameOf(rel)), kind, fileStatOf(stat))).catch(() => undefined);
      if (!read || read.oid !== want.oid || mode !== want.mode) return void differing.push(rel);
      const readUnder = read.stat;
      written.set(rel, { mtimeMs: readUnder.mtimeMs, ctimeMs: readUnder.ctimeMs, size: readUnder.size, ino: readUnder.ino, mode, oid: read.oid });
    });
    for (const rel of plan.delete) {
      const stat = lstatOrChanged(rel);
      if (stat && !stat.isDirectory()) differing.push(rel);
    }
  } finally {
    tree.close();
  }
  return { differing: differing.sort(), written };
}

/** Proves the written paths match the target, records the way back, clears the journal. */
async function finishCheckout(repo: Repository, journal: Journal, target: SnapshotInfo, targetFiles: FlatTree, plan: RestorePlan, cacheBefore: StatCache, writtenDirs: ReadonlyMap<string, DirIdentity>): Promise<void> {
  const { differing, written } = await verifyApplied(repo, plan, targetFiles, writtenDirs);
  if (differing.length > 0) {
    throw new ShadowGitError(
      `after the ${journal.op}, ${differing.length} path(s) do not match the target (${differing.slice(0, 3).join(', ')}); your previous state is in snapshot ${journal.before.slice(0, 12)} — run \`shadowgit rollback ${journal.before.slice(0, 12)}\` to return to it.`,
      'EVERIFY',
    );
  }
  await cacheBefore.afterCheckout(written, plan.delete, journal.paths ? undefined : target.tree).save(repo.statePath(STAT_CACHE));
}

/**
 * Records the way back for `undo` and what the tree now matches (the target, until a snapshot is
 * recorded after it: see checkedOutBase), then clears the journal: the checkout is complete.
 */
async function recordCheckedOut(repo: Repository, journal: Journal): Promise<void> {
  const tip = await readLatest(repo).catch(() => undefined);
  await recordLastCheckout(repo, { op: journal.op, before: journal.before, target: journal.target, at: new Date().toISOString(), by: journal.by, tipId: tip?.id, paths: journal.paths });
  await clearJournal(repo);
}

/**
 * A checkout that was cut off (crash, kill) left its journal: record the half-written tree as a
 * snapshot (nothing is lost), then finish writing the target. Returns what was recovered.
 */
export async function recoverInterruptedCheckout(repo: Repository): Promise<Journal | undefined> {
  const journal = await readJournal(repo);
  if (!journal) return undefined;
  try {
    await finishInterrupted(repo, journal);
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/[.;]?\s*$/, '') : String(err);
    throw new ShadowGitError(
      `an interrupted ${journal.op} could not be finished (${why}); your state before it is snapshot ${journal.before.slice(0, 12)} — fix the cause and run the command again, or run \`${ABANDON_COMMAND}\` to record the tree as it is and give the ${journal.op} up (\`shadowgit undo\` then returns to the state before it).`,
      'EINTERRUPTED',
    );
  }
  return journal;
}

async function finishInterrupted(repo: Repository, journal: Journal): Promise<void> {
  const target = await readSnapshot(repo, journal.target);
  const targetFiles = await readFlatTree(repo.objects, target.tree);
  await removeTempsOf(repo, targetFiles, journal.paths);
  const now = await takeSnapshot(repo, { trigger: 'interrupted', message: `state left by an interrupted ${journal.op}` });
  const plan = planRestore(now.state.files, targetFiles, journal.paths);
  await writeChecked(repo, journal, target, targetFiles, plan, now.state, true);
}

async function removeTempsOf(repo: Repository, targetFiles: FlatTree, scope: string[] | undefined): Promise<void> {
  const tree = AnchoredTree.open(repo.worktree);
  try {
    await removeStrayTemps(tree, targetFiles, scope);
  } finally {
    tree.close();
  }
}

/**
 * The way out of a journal that cannot be finished (a target that cannot be written, a tree that
 * keeps changing): records the tree as the checkout left it (trigger `interrupted`), removes the
 * journal, and points `undo` at the state before the checkout. Nothing is written to the tree.
 */
export async function abandonInterruptedCheckout(repo: Repository): Promise<{ journal: Journal; left: SnapshotInfo; leftCreated: boolean }> {
  const journal = await readJournal(repo);
  if (!journal) throw new ShadowGitError('there is no interrupted rollback, restore or undo to abandon; `shadowgit status` would say so.', 'ENOTHING');
  // The target may be what cannot be read: then its temp files stay, recorded with the rest.
  const targetFiles = await readSnapshot(repo, journal.target)
    .then((target) => readFlatTree(repo.objects, target.tree))
    .catch(() => undefined);
  if (targetFiles) await removeTempsOf(repo, targetFiles, journal.paths);
  const left = await takeSnapshot(repo, { trigger: 'interrupted', message: `state left by an abandoned ${journal.op} to ${journal.target.slice(0, 12)}` });
  await recordLastCheckout(repo, { op: journal.op, before: journal.before, target: journal.target, at: new Date().toISOString() });
  await clearJournal(repo);
  return { journal, left: left.snapshot, leftCreated: left.created };
}
