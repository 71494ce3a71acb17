import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkedOutBase } from './base.js';
import type { CorruptObjectError } from '../errors.js';
import { encodeCommit, signatureNow } from '../store/gitformat.js';
import { appendToChainIndex } from './chainindex.js';
import { BrokenTipError, CHANGES_TRAILER, describeDamage, formatChanges, ID_TRAILER, newSnapshotId, readLatest, readSnapshot, setAsideBrokenTip, TRIGGER_TRAILER, type ChangeCounts, type SnapshotInfo } from './history.js';
import { diffWorktree } from './diff.js';
import { recordTree, type RecordedTree } from './record.js';
import type { Repository } from '../store/repo.js';
import { scanWorktree, type ScanResult } from '../worktree/scan.js';
import { StatCache } from '../worktree/statcache.js';
import { faultPoint } from '../faults.js';
import { addNote } from './notes.js';
import { askWatcher } from '../worktree/watchclient.js';
import { removeDeadWatcherCookies } from '../worktree/watchcookie.js';
import { provenanceTrailers, type AgentProvenance } from '../provenance.js';
import { DAMAGED_OBJECTS_DIR, STAT_CACHE, WATCH_STATE } from '../store/statefiles.js';

export interface SnapshotOptions {
  message?: string;
  trigger?: string;
  /** Kept as a git note of the snapshot (appended to its note when the tree was unchanged and it has one). */
  note?: string;
  /** The agent behind it, recorded as trailers (a hook's snapshot). */
  provenance?: AgentProvenance;
  /**
   * Record a commit even when the tree equals the latest snapshot's or the base's: a prompt's
   * snapshot marks where the prompt began, so "before prompt N" always names one.
   */
  recordUnchanged?: boolean;
  onProgress?: (files: number) => void;
  /**
   * Called as soon as the snapshot is recorded (objects, commit, ref, note), before the stat
   * cache is saved: whoever asked can be answered while the bookkeeping finishes.
   */
  onRecorded?: (result: SnapshotResult) => void;
}

export interface SnapshotResult {
  snapshot: SnapshotInfo;
  created: boolean;
  changes: ChangeCounts;
  /** The recorded state (callers that compare against it need no second scan). */
  state: RecordedTree;
  /** Damage met on the way and what was done about it, one sentence each (the CLI warns with them). */
  warnings: string[];
}

/**
 * Scans the working tree and computes its git ids. With `write`, new blobs and trees go into
 * the object store; without, nothing is written (status, diff).
 */
export async function readWorktree(repo: Repository, options: { write: boolean; fresh?: boolean; onProgress?: (files: number) => void }): Promise<RecordedTree> {
  const cache = options.fresh ? StatCache.empty() : await loadCache(repo);
  return recordTree(repo.worktree, await scan(repo, cache, options.onProgress), cache, options.write ? repo.objects : undefined);
}

/**
 * The stat cache. Unless a watcher runs (it will say what changed), the lstat of every entry it
 * lists starts in a helper thread while it loads.
 */
function loadCache(repo: Repository): Promise<StatCache> {
  const watching = existsSync(repo.statePath(WATCH_STATE));
  return StatCache.load(repo.statePath(STAT_CACHE), { statAheadIn: watching ? undefined : repo.worktree });
}

/**
 * Scans with the help of the cache and, when a watcher runs, of its list of what changed since
 * the cache was made (then only those paths are looked at).
 */
async function scan(repo: Repository, previous: StatCache, onProgress?: (files: number) => void): Promise<ScanResult> {
  const watch = await askWatcher(repo, previous.watchToken);
  return scanWorktree(repo.worktree, repo.config.exclude, { previous, watch, onProgress });
}

/**
 * Records the working tree as a snapshot commit. The caller holds the repository lock. Objects
 * are written first, then the commit, then the ref moves: a crash at any point leaves the
 * previous snapshot as the tip and at worst some unreferenced objects for `gc`.
 *
 * Damage does not stop it: a snapshots ref that names no readable commit is set aside and the
 * chain continues from the newest intact snapshot the op log names; a latest snapshot with a
 * damaged tree becomes the parent (its commit reads) of a snapshot recorded in full, without
 * the stat cache, so that it names none of the damaged objects.
 */
export async function takeSnapshot(repo: Repository, options: SnapshotOptions = {}): Promise<SnapshotResult> {
  await repo.ensureCreated();
  // A watcher killed mid-query leaves its cookie behind; the first snapshot after clears it.
  if (existsSync(repo.statePath(WATCH_STATE))) await removeDeadWatcherCookies(repo.worktree);
  const warnings: string[] = [];
  const { head, newChain } = await latestOrNewChain(repo, warnings);
  let state = await readWorktree(repo, { write: true, onProgress: options.onProgress });

  let result: SnapshotResult;
  // What the tree was last made to match: the latest snapshot, or the one a rollback, undo or
  // guard checked out after it (see checkedOutBase). A tree equal to either records nothing
  // (right after a rollback the tree is its target, not a new state), and the changes a new
  // snapshot counts are against it, as status just listed them; its parent stays the latest.
  const base = newChain || !head ? undefined : ((await checkedOutBase(repo, head))?.snapshot ?? head);
  const unchangedFrom = options.recordUnchanged ? undefined : [head, base].find((s) => s && !newChain && s.tree === state.tree);
  if (unchangedFrom) {
    result = { snapshot: unchangedFrom, created: false, changes: { added: 0, modified: 0, deleted: 0 }, state, warnings };
  } else {
    let damage: CorruptObjectError | undefined;
    const from = base ?? head;
    // Nothing to compare with (the first snapshot of a chain): every file recorded is added.
    // Counted, not listed: a diff would make and sort an object per file (300k on a monorepo).
    let diff = from ? await diffWorktree(repo.objects, from.tree, state, (found) => (damage ??= found)) : [];
    if (damage && from) {
      warnings.push(`the ${from === head ? 'latest ' : ''}snapshot ${from.id} (commit ${from.commit.slice(0, 10)}) cannot be read in full (${describeDamage(damage)}), so this snapshot records the working tree in full, trusting none of its objects — run \`shadowgit verify\` to see which snapshots are intact.`);
      // The stat cache may name the damaged objects: record again without it.
      if (state.previous.dirs.size > 0) {
        state = await readWorktree(repo, { write: true, fresh: true, onProgress: options.onProgress });
        diff = await diffWorktree(repo.objects, from.tree, state, () => undefined);
      }
    }
    const changes: ChangeCounts = { added: from ? 0 : state.files.size, modified: 0, deleted: 0 };
    for (const change of diff) changes[change.status === 'mode' ? 'modified' : change.status]++;
    const trigger = options.trigger ?? 'manual';
    const subject = options.message?.trim() || `${trigger} snapshot`;
    const trailers = [`${ID_TRAILER}: ${newSnapshotId()}`, `${TRIGGER_TRAILER}: ${trigger}`, `${CHANGES_TRAILER}: ${formatChanges(changes)}`, ...(options.provenance ? provenanceTrailers(options.provenance) : [])];
    const signature = signatureNow();
    const commitBody = encodeCommit({ tree: state.tree, parents: head ? [head.commit] : [], author: signature, committer: signature, message: `${subject}\n\n${trailers.join('\n')}\n` });
    await faultPoint('commit');
    const commit = await repo.objects.write('commit', commitBody);
    await repo.refs.write('refs/heads/snapshots', commit);
    result = { snapshot: await readSnapshot(repo, commit), created: true, changes, state, warnings };
    await appendToChainIndex(repo, result.snapshot);
  }
  for (const unread of state.unreadIgnoreFiles) {
    warnings.push(`the ignore file ${unread.path} is recorded, but its rules were not applied (${unread.reason.replace(/^ignore rules not read: /, '')}), so files it would ignore were recorded too; make it a regular file of at most 4 MiB.`);
  }
  if (state.repaired.length > 0) {
    warnings.push(`${state.repaired.length} damaged object(s) in the shadow repository were written again from the working tree (the damaged copies are kept in ${repo.statePath(DAMAGED_OBJECTS_DIR)}) — run \`shadowgit verify\`.`);
  }
  if (options.note !== undefined) await addNote(repo, result.snapshot.commit, options.note);
  options.onRecorded?.(result);
  await state.cache.save(repo.statePath(STAT_CACHE));
  await repo.objects.recordWrites();
  return result;
}

/**
 * The snapshot the next one follows. A broken snapshots ref is set aside (see setAsideBrokenTip)
 * and said so in `warnings`; the snapshot then starts the new chain even if nothing changed.
 */
async function latestOrNewChain(repo: Repository, warnings: string[]): Promise<{ head: SnapshotInfo | undefined; newChain: boolean }> {
  try {
    return { head: await readLatest(repo), newChain: false };
  } catch (err) {
    if (!(err instanceof BrokenTipError)) throw err;
    const { keptIn, resumeFrom } = await setAsideBrokenTip(repo, err);
    const from = resumeFrom ? `continues from snapshot ${resumeFrom.id} (commit ${resumeFrom.commit.slice(0, 10)}), the newest intact one the op log names` : 'starts a new chain (the op log names no intact snapshot)';
    warnings.push(`the snapshots ref ${path.relative(repo.gitdir, err.file)} ${err.why}; it is kept in ${keptIn} and this snapshot ${from} — run \`shadowgit verify\`.`);
    return { head: resumeFrom, newChain: true };
  }
}
