import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { decodeTree, MODE_TREE, type FlatEntry, type FlatTree, type TreeEntry } from '../store/gitformat.js';
import { treeEntriesProblem } from '../worktree/names.js';
import type { ObjectStore } from '../store/objects.js';

/**
 * One tree's entries (`dir` names it in messages), every name validated: a tampered tree is
 * refused here, before anything is written.
 */
export async function readTreeEntries(store: ObjectStore, oid: string, dir: string): Promise<TreeEntry[]> {
  let content: Buffer;
  let entries: TreeEntry[];
  try {
    content = await store.readTyped(oid, 'tree', dir || '/');
    entries = decodeTree(content);
  } catch (err) {
    if (err instanceof ShadowGitError) throw err;
    throw new CorruptObjectError(oid, dir || '/', `not a valid tree (${(err as Error).message})`);
  }
  const problem = treeEntriesProblem(content, entries);
  if (problem) throw new ShadowGitError(`the snapshot's tree ${oid} holds ${problem} (at ${JSON.stringify(dir || '/')}); it was tampered with, so nothing was written — run \`shadowgit verify\`.`, 'ETAMPERED');
  return entries;
}

/** Submodule links carry no content here. */
export const isGitlink = (entry: TreeEntry) => entry.mode === ('160000' as string);

/** Reads a whole tree into path → (blob id, mode); `prefix` is put before every path. */
export async function readFlatTree(store: ObjectStore, tree: string, prefix = ''): Promise<FlatTree> {
  const flat = new Map<string, FlatEntry>();
  const walk = async (oid: string, dir: string): Promise<void> => {
    const subtrees: Array<Promise<void>> = [];
    for (const entry of await readTreeEntries(store, oid, dir)) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.mode === MODE_TREE) subtrees.push(walk(entry.oid, rel));
      else if (!isGitlink(entry)) flat.set(rel, { oid: entry.oid, mode: entry.mode });
    }
    await Promise.all(subtrees);
  };
  await walk(tree, prefix);
  return flat;
}
