import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { decodeTree, MODE_GITLINK, MODE_LINK, MODE_TREE, type FlatEntry, type FlatTree, type TreeEntry } from '../store/gitformat.js';
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
export const isGitlink = (entry: TreeEntry) => entry.mode === (MODE_GITLINK as string);

export interface TreeWalk {
  /**
   * The entries of the tree `oid` at `dir`; undefined when the caller has noted it as unreadable
   * (the walk goes on without what is below it). What it throws ends the walk.
   */
  read(oid: string, dir: string): Promise<readonly TreeEntry[] | undefined>;
  /** Whether to read the subtree `entry` at `path` (default: every one). */
  enter?(entry: TreeEntry, path: string): boolean;
  /** Each entry with content here: a file, or a symlink (its blob is the target). Gitlinks are passed over. */
  onBlob?(entry: TreeEntry, path: string, isLink: boolean): void;
  /** Read each tree object once, at the first path found: for walks after objects, not paths. */
  once?: boolean;
  /** At most this many reads at a time (default: no limit). */
  concurrency?: number;
}

/** Runs tasks with at most `limit` at a time; a finished one hands its slot to the next waiting. */
function slots(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * The one walk over git trees (snapshots, gc, verify, doctor): reads the trees under `roots`
 * (each subtree as soon as its parent is read) and hands every file and symlink to `onBlob`.
 * Paths are relative to `prefix`, posix.
 */
export async function walkTrees(roots: readonly string[], walk: TreeWalk, prefix = ''): Promise<void> {
  const limited = slots(walk.concurrency ?? Infinity);
  const seen = walk.once ? new Set<string>() : undefined;
  const firstTime = (oid: string) => !seen || (!seen.has(oid) && Boolean(seen.add(oid)));
  const visit = async (oid: string, dir: string): Promise<void> => {
    const entries = await limited(() => walk.read(oid, dir));
    if (!entries) return;
    const subtrees: Array<Promise<void>> = [];
    for (const entry of entries) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.mode === MODE_TREE) {
        if ((walk.enter?.(entry, rel) ?? true) && firstTime(entry.oid)) subtrees.push(visit(entry.oid, rel));
      } else if (!isGitlink(entry)) walk.onBlob?.(entry, rel, entry.mode === MODE_LINK);
    }
    await Promise.all(subtrees);
  };
  await Promise.all(roots.filter(firstTime).map((root) => visit(root, prefix)));
}

/** Reads a whole tree into path → (blob id, mode); `prefix` is put before every path. */
export async function readFlatTree(store: ObjectStore, tree: string, prefix = ''): Promise<FlatTree> {
  const flat = new Map<string, FlatEntry>();
  await walkTrees([tree], { read: (oid, dir) => readTreeEntries(store, oid, dir), onBlob: (entry, rel) => flat.set(rel, { oid: entry.oid, mode: entry.mode }) }, prefix);
  return flat;
}

/** What a tree entry is, by its mode: a file (plain or executable), a directory, a symlink or a submodule link. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'submodule';

export function entryKind(mode: string): EntryKind {
  if (mode === MODE_TREE) return 'dir';
  if (mode === MODE_LINK) return 'symlink';
  if (mode === MODE_GITLINK) return 'submodule';
  return 'file';
}

/** Reads one tree's entries; `dir` names it in messages (readTreeEntries, or a cache in front of it). */
export type TreeReader = (oid: string, dir: string) => Promise<readonly TreeEntry[]>;

/**
 * The entry at `rel` (a worktree-relative posix path, not '') in the tree `root`: only the trees
 * along the path are read. Undefined when nothing is there, or a file or link stands on the way.
 */
export async function entryAtPath(read: TreeReader, root: string, rel: string): Promise<TreeEntry | undefined> {
  const names = rel.split('/');
  let tree = root;
  for (const [i, name] of names.entries()) {
    const entry = (await read(tree, names.slice(0, i).join('/'))).find((e) => e.name === name);
    if (!entry || i === names.length - 1) return entry;
    if (entry.mode !== MODE_TREE) return undefined;
    tree = entry.oid;
  }
  return undefined;
}
