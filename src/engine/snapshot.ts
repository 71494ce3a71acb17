import { existsSync } from 'node:fs';
import { encodeCommit, signatureNow } from './gitformat.js';
import { CHANGES_TRAILER, formatChanges, ID_TRAILER, newSnapshotId, readSnapshot, TRIGGER_TRAILER, type ChangeCounts, type SnapshotInfo } from './history.js';
import { diffWorktree } from './diff.js';
import { recordTree, type RecordedTree } from './record.js';
import type { Repository } from './repo.js';
import { scanWorktree, type ScanResult } from './scan.js';
import { StatCache } from './statcache.js';
import { faultPoint } from './faults.js';
import { addNote } from './notes.js';
import { askWatcher, removeDeadWatcherCookies, WATCH_STATE } from './watchquery.js';

export const STAT_CACHE = 'statcache';

export interface SnapshotOptions {
  message?: string;
  trigger?: string;
  /** Kept as a git note of the snapshot (appended to its note when the tree was unchanged and it has one). */
  note?: string;
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
}

/**
 * Scans the working tree and computes its git ids. With `write`, new blobs and trees go into
 * the object store; without, nothing is written (status, diff).
 */
export async function readWorktree(repo: Repository, options: { write: boolean; onProgress?: (files: number) => void }): Promise<RecordedTree> {
  const cache = await loadCache(repo);
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
 */
export async function takeSnapshot(repo: Repository, options: SnapshotOptions = {}): Promise<SnapshotResult> {
  await repo.ensureCreated();
  // A watcher killed mid-query leaves its cookie behind; the first snapshot after clears it.
  if (existsSync(repo.statePath(WATCH_STATE))) await removeDeadWatcherCookies(repo.worktree);
  const state = await readWorktree(repo, { write: true, onProgress: options.onProgress });
  const head = await repo.head();
  const headInfo = head ? await readSnapshot(repo, head) : undefined;

  let result: SnapshotResult;
  if (headInfo && headInfo.tree === state.tree) {
    result = { snapshot: headInfo, created: false, changes: { added: 0, modified: 0, deleted: 0 }, state };
  } else {
    const changes: ChangeCounts = { added: 0, modified: 0, deleted: 0 };
    for (const change of await diffWorktree(repo.objects, headInfo?.tree, state)) changes[change.status === 'mode' ? 'modified' : change.status]++;
    const trigger = options.trigger ?? 'manual';
    const subject = options.message?.trim() || `${trigger} snapshot`;
    const trailers = [`${ID_TRAILER}: ${newSnapshotId()}`, `${TRIGGER_TRAILER}: ${trigger}`, `${CHANGES_TRAILER}: ${formatChanges(changes)}`];
    const signature = signatureNow();
    const commitBody = encodeCommit({ tree: state.tree, parents: head ? [head] : [], author: signature, committer: signature, message: `${subject}\n\n${trailers.join('\n')}\n` });
    await faultPoint('commit');
    const commit = await repo.objects.write('commit', commitBody);
    await repo.refs.write('refs/heads/snapshots', commit);
    result = { snapshot: await readSnapshot(repo, commit), created: true, changes, state };
  }
  if (options.note !== undefined) await addNote(repo, result.snapshot.commit, options.note);
  options.onRecorded?.(result);
  await state.cache.save(repo.statePath(STAT_CACHE));
  await repo.objects.recordWrites();
  return result;
}
