import { compareTrees, type FileChange } from './diff.js';
import { decodeCommit, parseTrailers } from '../store/gitformat.js';
import { listApproved, readingSnapshot, readSnapshot, type SnapshotInfo } from './history.js';
import { readNote } from './notes.js';
import type { Repository } from '../store/repo.js';
import { readFlatTree } from './treeread.js';

export interface SnapshotDetails {
  snapshot: SnapshotInfo;
  /** Approved names on this snapshot. */
  approved: string[];
  trailers: Record<string, string>;
  note: string | undefined;
  /** Changes from its parent snapshot (from nothing, for the first). */
  changes: FileChange[];
}

/** Everything `show` prints about one snapshot: message, trailers, note, changed files. */
export async function snapshotDetails(repo: Repository, snapshot: SnapshotInfo): Promise<SnapshotDetails> {
  const data = decodeCommit(await repo.objects.readTyped(snapshot.commit, 'commit', `snapshot ${snapshot.id}`));
  const parent = snapshot.parent ? await readSnapshot(repo, snapshot.parent) : undefined;
  const [from, to, note, approved] = await Promise.all([
    parent ? readingSnapshot(parent, () => readFlatTree(repo.objects, parent.tree)) : new Map(),
    readingSnapshot(snapshot, () => readFlatTree(repo.objects, snapshot.tree)),
    readNote(repo, snapshot.commit),
    listApproved(repo),
  ]);
  return {
    snapshot,
    approved: approved.filter((a) => a.commit === snapshot.commit).map((a) => a.name),
    trailers: parseTrailers(data.message),
    note,
    changes: compareTrees(from, to),
  };
}
