import { encodeCommit, signatureNow } from './gitformat.js';
import { CHANGES_TRAILER, formatChanges, ID_TRAILER, newSnapshotId, readSnapshot, TRIGGER_TRAILER, type ChangeCounts, type SnapshotInfo } from './history.js';
import { recordTree, type FlatTree } from './record.js';
import type { Repository } from './repo.js';
import { scanWorktree, type SkippedPath } from './scan.js';
import { StatCache } from './statcache.js';
import { diffFlat, readFlatTree, type TreeChanges } from './treeread.js';
import { faultPoint } from './faults.js';

export const STAT_CACHE = 'statcache';

export interface SnapshotOptions {
  message?: string;
  trigger?: string;
  onProgress?: (files: number) => void;
}

export interface SnapshotResult {
  snapshot: SnapshotInfo;
  created: boolean;
  changes: ChangeCounts;
  changedPaths: TreeChanges;
  skipped: SkippedPath[];
  /** The recorded state, path by path (callers that diff against it need no second scan). */
  files: FlatTree;
  /** The stat cache describing that state (saved). */
  cache: StatCache;
}

export interface WorktreeState {
  tree: string;
  files: FlatTree;
  skipped: SkippedPath[];
  cache: StatCache;
}

/**
 * Scans the working tree and computes its git ids. With `write`, new blobs and trees go into
 * the object store; without, nothing is written (status, diff).
 */
export async function readWorktree(repo: Repository, options: { write: boolean; onProgress?: (files: number) => void }): Promise<WorktreeState> {
  const cache = await StatCache.load(repo.statePath(STAT_CACHE), { forScan: true });
  const scan = await scanWorktree(repo.worktree, repo.config.exclude, { previous: cache, onProgress: options.onProgress });
  return recordTree(repo.worktree, scan, cache, options.write ? repo.objects : undefined);
}

/** The files of the tree the stat cache describes, when it is `tree`; else read from objects. */
export async function filesOfTree(repo: Repository, tree: string, known?: { tree: string; files: FlatTree }): Promise<FlatTree> {
  if (known && known.tree === tree) return known.files;
  return readFlatTree(repo.objects, tree);
}

/**
 * Records the working tree as a snapshot commit. The caller holds the repository lock. Objects
 * are written first, then the commit, then the ref moves: a crash at any point leaves the
 * previous snapshot as the tip and at worst some unreferenced objects for `gc`.
 */
export async function takeSnapshot(repo: Repository, options: SnapshotOptions = {}): Promise<SnapshotResult> {
  await repo.ensureCreated();
  const previousCache = await StatCache.load(repo.statePath(STAT_CACHE), { forScan: true });
  const scan = await scanWorktree(repo.worktree, repo.config.exclude, { previous: previousCache, onProgress: options.onProgress });
  const state = await recordTree(repo.worktree, scan, previousCache, repo.objects);
  const head = await repo.head();
  const headInfo = head ? await readSnapshot(repo, head) : undefined;

  if (headInfo && headInfo.tree === state.tree) {
    await state.cache.save(repo.statePath(STAT_CACHE));
    const none = { added: [], modified: [], deleted: [] };
    return { snapshot: headInfo, created: false, changes: { added: 0, modified: 0, deleted: 0 }, changedPaths: none, skipped: state.skipped, files: state.files, cache: state.cache };
  }

  // The cache's files are the head's files only when it describes the head's tree (not after a
  // rollback, which leaves the cache at the target); build that map only then.
  const previousFiles: FlatTree = !headInfo ? new Map() : previousCache.tree === headInfo.tree ? previousCache.files : await readFlatTree(repo.objects, headInfo.tree);
  const changedPaths = diffFlat(previousFiles, state.files);
  const changes = { added: changedPaths.added.length, modified: changedPaths.modified.length, deleted: changedPaths.deleted.length };
  const trigger = options.trigger ?? 'manual';
  const subject = options.message?.trim() || `${trigger} snapshot`;
  const trailers = [`${ID_TRAILER}: ${newSnapshotId()}`, `${TRIGGER_TRAILER}: ${trigger}`, `${CHANGES_TRAILER}: ${formatChanges(changes)}`];
  const signature = signatureNow();
  const commitBody = encodeCommit({ tree: state.tree, parents: head ? [head] : [], author: signature, committer: signature, message: `${subject}\n\n${trailers.join('\n')}\n` });
  await faultPoint('commit');
  const commit = await repo.objects.write('commit', commitBody);
  await repo.refs.write('refs/heads/snapshots', commit);
  await state.cache.save(repo.statePath(STAT_CACHE));
  return { snapshot: await readSnapshot(repo, commit), created: true, changes, changedPaths, skipped: state.skipped, files: state.files, cache: state.cache };
}
