import { CorruptObjectError, ShadowGitError } from './errors.js';
import { decodeTree, MODE_TREE, type TreeEntry } from './gitformat.js';
import type { ObjectStore } from './objects.js';
import type { FlatEntry, FlatTree } from './record.js';

/** A tree entry name that could make a write land outside its directory, or inside a `.git`. */
export function unsafeEntryName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/') || name.includes('\\')) return `a path separator in "${name}"`;
  if (name.includes('\0')) return 'a NUL byte in a name';
  if (name.toLowerCase() === '.git') return 'a ".git" component';
  return undefined;
}

/**
 * One tree's entries (`dir` names it in messages), every name validated: a tampered tree is
 * refused here, before anything is written.
 */
export async function readTreeEntries(store: ObjectStore, oid: string, dir: string): Promise<TreeEntry[]> {
  let entries;
  try {
    entries = decodeTree(await store.readTyped(oid, 'tree', dir || '/'));
  } catch (err) {
    if (err instanceof ShadowGitError) throw err;
    throw new CorruptObjectError(oid, dir || '/', `not a valid tree (${(err as Error).message})`);
  }
  const names = new Set<string>();
  for (const entry of entries) {
    // A name twice (say a symlink and a directory) would let one write land through the other.
    const problem = unsafeEntryName(entry.name) ?? (names.has(entry.name) ? `the name "${entry.name}" twice` : undefined);
    names.add(entry.name);
    if (problem) throw new ShadowGitError(`the snapshot's tree ${oid} holds ${problem} (at ${JSON.stringify(dir || '/')}); it was tampered with, so nothing was written — run \`shadowgit verify\`.`, 'ETAMPERED');
  }
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
