import { CorruptObjectError, ShadowGitError } from './errors.js';
import { decodeTree, MODE_TREE } from './gitformat.js';
import type { ObjectStore } from './objects.js';
import type { FlatTree } from './record.js';

/** A tree entry name that could make a write land outside its directory, or inside a `.git`. */
export function unsafeEntryName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/') || name.includes('\\')) return `a path separator in "${name}"`;
  if (name.includes('\0')) return 'a NUL byte in a name';
  if (name.toLowerCase() === '.git') return 'a ".git" component';
  return undefined;
}

/**
 * Reads a whole tree into path → (blob id, mode), validating every entry name: a tampered tree
 * is refused here, before anything is written.
 */
export async function readFlatTree(store: ObjectStore, tree: string): Promise<FlatTree> {
  const flat: FlatTree = new Map();
  const walk = async (oid: string, dir: string): Promise<void> => {
    let entries;
    try {
      entries = decodeTree(await store.readTyped(oid, 'tree', dir || '/'));
    } catch (err) {
      if (err instanceof ShadowGitError) throw err;
      throw new CorruptObjectError(oid, dir || '/', `not a valid tree (${(err as Error).message})`);
    }
    const subtrees: Array<Promise<void>> = [];
    const names = new Set<string>();
    for (const entry of entries) {
      // A name twice (say a symlink and a directory) would let one write land through the other.
      const problem = unsafeEntryName(entry.name) ?? (names.has(entry.name) ? `the name "${entry.name}" twice` : undefined);
      names.add(entry.name);
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (problem) throw new ShadowGitError(`the snapshot's tree ${oid} holds ${problem} (at ${JSON.stringify(dir || '/')}); it was tampered with, so nothing was written — run \`shadowgit verify\`.`, 'ETAMPERED');
      if (entry.mode === MODE_TREE) subtrees.push(walk(entry.oid, rel));
      else if (entry.mode === '160000' as string) continue; // submodule links carry no content here
      else {
        flat.set(rel, { oid: entry.oid, mode: entry.mode });
      }
    }
    await Promise.all(subtrees);
  };
  await walk(tree, '');
  return flat;
}

export interface TreeChanges {
  added: string[];
  modified: string[];
  deleted: string[];
}

/** Paths added, modified (content or mode) and deleted going from `from` to `to`. */
export function diffFlat(from: FlatTree, to: FlatTree): TreeChanges {
  const changes: TreeChanges = { added: [], modified: [], deleted: [] };
  for (const [p, entry] of to) {
    const old = from.get(p);
    if (!old) changes.added.push(p);
    else if (old.oid !== entry.oid || old.mode !== entry.mode) changes.modified.push(p);
  }
  for (const p of from.keys()) if (!to.has(p)) changes.deleted.push(p);
  for (const list of [changes.added, changes.modified, changes.deleted]) list.sort();
  return changes;
}
