import path from 'node:path';
import { diffWorktree } from './diff.js';
import { ShadowGitError } from './errors.js';
import { forEachLimit, writeFileAtomic, readFileIfExists } from './fsutil.js';
import { readSnapshot, type SnapshotInfo } from './history.js';
import { hashPath, modeOf, proveRecorded, type FlatTree } from './record.js';
import type { Repository } from './repo.js';
import { applyPlan, checkPlan, clearJournal, inScope, JOURNAL, lstatOrUndefined, planFromChanges, planRestore, readJournal, removeStrayTemps, verifyPlanObjects, writeJournal, type Journal, type RestorePlan } from './restore.js';
import { fileStatOf } from './scan.js';
import { STAT_CACHE, takeSnapshot } from './snapshot.js';
import type { CachedFile, StatCache } from './statcache.js';
import { readFlatTree } from './treeread.js';

/** The record `undo` follows: the state before the last rollback or restore. */
export const LAST_CHECKOUT = 'last-checkout.json';

export interface CheckoutResult {
  target: SnapshotInfo;
  /** The snapshot holding the state before the checkout (created now, or the latest one). */
  preRollback: SnapshotInfo;
  preRollbackCreated: boolean;
  written: string[];
  deleted: string[];
}

export interface CheckoutOptions {
  /** Trigger of the safety snapshot: pre-rollback, pre-restore, pre-undo, guard… */
  trigger: string;
  op: string;
  /** Worktree-relative posix paths to limit the checkout to (restore). */
  paths?: string[];
  onProgress?: (files: number) => void;
}

/**
 * Checks `target` out into the working tree (all of it, or `paths`). The caller holds the lock.
 * Order: safety snapshot → plan (validating the target's trees read) and refuse conflicts → verify the
 * blobs to write → journal → write → read back what was written and deleted → clear.
 */
export async function checkout(repo: Repository, target: SnapshotInfo, options: CheckoutOptions): Promise<CheckoutResult> {
  // A restore of some paths reads the whole target first (the paths must exist on one side); a
  // rollback reads only the target's trees that differ from the tree the safety snapshot records.
  const targetFiles = options.paths ? await readFlatTree(repo.objects, target.tree) : undefined;
  const pre = await takeSnapshot(repo, { trigger: options.trigger, message: `before ${options.op} to ${target.id}`, onProgress: options.onProgress });
  let plan: RestorePlan;
  let writes: FlatTree;
  if (options.paths) {
    // A path the target lacks is fine if it exists now (restoring it means deleting it).
    for (const p of options.paths) {
      const known = (files: FlatTree) => [...files.keys()].some((f) => inScope(f, [p]));
      if (!known(targetFiles!) && !known(pre.state.files)) {
        throw new ShadowGitError(`${p || '.'} is in neither snapshot ${target.id} nor the working tree; check the path (relative to the current directory).`, 'ENOPATH');
      }
    }
    plan = planRestore(pre.state.files, targetFiles!, options.paths);
    writes = targetFiles!;
  } else {
    ({ plan, target: writes } = planFromChanges(await diffWorktree(repo.objects, target.tree, pre.state)));
  }
  await checkPlan(repo.worktree, plan, pre.state.skipped);
  await proveRecorded(repo.worktree, repo.objects, pre.state, [...plan.write, ...plan.delete]);
  const verified = await verifyPlanObjects(repo, plan, writes);

  const journal: Journal = { op: options.op, target: target.commit, before: pre.snapshot.commit, paths: options.paths, startedAt: new Date().toISOString() };
  await writeJournal(repo, journal);
  await applyPlan(repo, plan, pre.state.files, writes, verified, options.paths);
  await finishCheckout(repo, journal, target, writes, plan, pre.state.cache);
  return { target, preRollback: pre.snapshot, preRollbackCreated: pre.created, written: plan.write, deleted: plan.delete };
}

/**
 * Reads back every path the checkout wrote or deleted: a written one must hash to the target's
 * entry, a deleted one must be gone. Returns the paths that do not match and the cache entries
 * of those that do. (Everything else was just scanned by the safety snapshot and left alone.)
 */
async function verifyApplied(repo: Repository, plan: RestorePlan, targetFiles: FlatTree): Promise<{ differing: string[]; written: Map<string, CachedFile> }> {
  const differing: string[] = [];
  const written = new Map<string, CachedFile>();
  await forEachLimit(plan.write, 16, async (rel) => {
    const full = path.join(repo.worktree, rel);
    const want = targetFiles.get(rel)!;
    const stat = lstatOrUndefined(full);
    const kind = stat?.isSymbolicLink() ? 'link' : stat?.isFile() ? 'file' : undefined;
    if (!stat || !kind) return void differing.push(rel);
    const mode = modeOf({ kind, executable: (stat.mode & 0o100) !== 0 });
    const { oid, stat: readUnder } = await hashPath(full, kind, fileStatOf(stat));
    if (oid !== want.oid || mode !== want.mode) return void differing.push(rel);
    written.set(rel, { mtimeMs: readUnder.mtimeMs, ctimeMs: readUnder.ctimeMs, size: readUnder.size, ino: readUnder.ino, mode, oid });
  });
  for (const rel of plan.delete) {
    const stat = lstatOrUndefined(path.join(repo.worktree, rel));
    if (stat && !stat.isDirectory()) differing.push(rel);
  }
  return { differing: differing.sort(), written };
}

/** Proves the written paths match the target, records the way back, clears the journal. */
async function finishCheckout(repo: Repository, journal: Journal, target: SnapshotInfo, targetFiles: FlatTree, plan: RestorePlan, cacheBefore: StatCache): Promise<void> {
  const { differing, written } = await verifyApplied(repo, plan, targetFiles);
  if (differing.length > 0) {
    throw new ShadowGitError(
      `after the ${journal.op}, ${differing.length} path(s) do not match the target (${differing.slice(0, 3).join(', ')}); your previous state is in snapshot ${journal.before.slice(0, 12)} — run \`shadowgit rollback ${journal.before.slice(0, 12)}\` to return to it.`,
      'EVERIFY',
    );
  }
  await cacheBefore.afterCheckout(written, plan.delete, journal.paths ? undefined : target.tree).save(repo.statePath(STAT_CACHE));
  await writeFileAtomic(repo.statePath(LAST_CHECKOUT), JSON.stringify({ op: journal.op, before: journal.before, target: journal.target, at: new Date().toISOString() }));
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
      `an interrupted ${journal.op} could not be finished (${why}); your state before it is snapshot ${journal.before.slice(0, 12)} — fix the cause, or delete ${repo.statePath(JOURNAL)} to abandon it and \`shadowgit rollback ${journal.before.slice(0, 12)}\`.`,
      'EINTERRUPTED',
    );
  }
  return journal;
}

async function finishInterrupted(repo: Repository, journal: Journal): Promise<void> {
  const target = await readSnapshot(repo, journal.target);
  const targetFiles = await readFlatTree(repo.objects, target.tree);
  await removeStrayTemps(repo.worktree, targetFiles, journal.paths);
  const now = await takeSnapshot(repo, { trigger: 'interrupted', message: `state left by an interrupted ${journal.op}` });
  const plan = planRestore(now.state.files, targetFiles, journal.paths);
  await checkPlan(repo.worktree, plan, now.state.skipped);
  const verified = await verifyPlanObjects(repo, plan, targetFiles);
  await applyPlan(repo, plan, now.state.files, targetFiles, verified, journal.paths);
  await finishCheckout(repo, journal, target, targetFiles, plan, now.state.cache);
}

export async function readLastCheckout(repo: Repository): Promise<{ op: string; before: string; target: string; at: string } | undefined> {
  const raw = await readFileIfExists(repo.statePath(LAST_CHECKOUT));
  return raw ? JSON.parse(raw.toString('utf8')) : undefined;
}
