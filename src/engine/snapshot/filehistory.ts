import { MODE_TREE, type TreeEntry } from '../store/gitformat.js';
import type { Repository } from '../store/repo.js';
import { readingSnapshot, readParent, type SnapshotInfo } from './history.js';
import { entryAtPath, isGitlink, readTreeEntries } from './treeread.js';

/** One snapshot in which a file changed: what it holds there (nothing, when it was deleted). */
export interface FileVersion {
  snapshot: SnapshotInfo;
  /** A mode-only change counts as modified. */
  status: 'added' | 'modified' | 'deleted';
  oid?: string;
  mode?: string;
}

export interface FileHistoryPage {
  versions: FileVersion[];
  /** The last snapshot looked at when the page ended before the chain's first snapshot: the next page starts after it. */
  next: SnapshotInfo | undefined;
}

/**
 * The snapshots from `start` back along the first-parent chain in which the file `rel` (a
 * worktree-relative posix path) changed from the snapshot before, newest first: at most `limit`
 * of them, looking at no more than `maxScanned` snapshots. Per snapshot its parent's commit is
 * read and then only the trees along the path that differ from the ones just read (each tree is
 * kept for one step): a snapshot that left the path's directory alone costs its commit and root
 * tree.
 */
export async function fileHistory(repo: Repository, start: SnapshotInfo | undefined, rel: string, options: { limit: number; maxScanned: number }): Promise<FileHistoryPage> {
  let previous = new Map<string, readonly TreeEntry[]>();
  let current = new Map<string, readonly TreeEntry[]>();
  const read = async (oid: string, dir: string) => {
    let entries = current.get(oid) ?? previous.get(oid);
    if (!entries) entries = await readTreeEntries(repo.objects, oid, dir);
    current.set(oid, entries);
    return entries;
  };
  /** The file or symlink at `rel` in `snapshot`; a directory or submodule there is no version of the file. */
  const fileIn = async (snapshot: SnapshotInfo) => {
    [previous, current] = [current, new Map()];
    const entry = await readingSnapshot(snapshot, () => entryAtPath(read, snapshot.tree, rel));
    return entry && entry.mode !== MODE_TREE && !isGitlink(entry) ? entry : undefined;
  };
  const versions: FileVersion[] = [];
  let snapshot = start;
  let entry = start && (await fileIn(start));
  let last: SnapshotInfo | undefined;
  for (let scanned = 0; snapshot && versions.length < options.limit && scanned < options.maxScanned; scanned++) {
    const parent = snapshot.parent === undefined ? undefined : await readParent(repo, snapshot);
    const before = parent && (await fileIn(parent));
    if (entry && !before) versions.push({ snapshot, status: 'added', oid: entry.oid, mode: entry.mode });
    else if (!entry && before) versions.push({ snapshot, status: 'deleted' });
    else if (entry && before && (entry.oid !== before.oid || entry.mode !== before.mode)) versions.push({ snapshot, status: 'modified', oid: entry.oid, mode: entry.mode });
    [last, snapshot, entry] = [snapshot, parent, before];
  }
  return { versions, next: snapshot ? last : undefined };
}
