import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { NotRegularFileError, readRegularFile } from '../fsutil.js';
import { MODE_LINK, MODE_TREE, type FlatEntry, type FlatTree, type TreeEntry } from '../store/gitformat.js';
import type { ObjectStore } from '../store/objects.js';
import type { RecordedTree } from './record.js';
import type { Repository } from '../store/repo.js';
import { inScope } from '../worktree/scope.js';
import type { ScannedDir } from '../worktree/scan.js';
import { isGitlink, readFlatTree, readTreeEntries } from './treeread.js';

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'mode';

export interface FileChange {
  path: string;
  status: ChangeStatus;
  oldOid?: string;
  newOid?: string;
  oldMode?: string;
  newMode?: string;
}

export function compareTrees(from: FlatTree, to: FlatTree): FileChange[] {
  const changes: FileChange[] = [];
  for (const p of new Set([...from.keys(), ...to.keys()])) {
    const change = changeOf(p, from.get(p), to.get(p));
    if (change) changes.push(change);
  }
  return changes.sort(byPath);
}

/** Worktree-relative posix paths a diff is limited to (files, or directories with all below them; '' is the root). */
export type DiffScope = string[] | undefined;

/** True when the directory `dir` is in `scope` or holds something that is: a diff has to look into it. */
function reaches(dir: string, scope: DiffScope): boolean {
  return !scope || dir === '' || inScope(dir, scope) || scope.some((p) => p.startsWith(`${dir}/`));
}

const byPath = (a: FileChange, b: FileChange) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The change from entry `before` to `after` at `p` (either absent; neither a tree), if there is one. */
function changeOf(p: string, before: TreeEntry | FlatEntry | undefined, after: TreeEntry | FlatEntry | undefined): FileChange | undefined {
  if (!before && after) return { path: p, status: 'added', newOid: after.oid, newMode: after.mode };
  if (before && !after) return { path: p, status: 'deleted', oldOid: before.oid, oldMode: before.mode };
  if (!before || !after || (before.oid === after.oid && before.mode === after.mode)) return undefined;
  return { path: p, status: before.oid !== after.oid ? 'modified' : 'mode', oldOid: before.oid, newOid: after.oid, oldMode: before.mode, newMode: after.mode };
}

const treeOf = (entry: TreeEntry | undefined) => (entry?.mode === MODE_TREE ? entry.oid : undefined);
const fileOf = (entry: TreeEntry | undefined) => (entry && entry.mode !== MODE_TREE ? entry : undefined);

/**
 * Changes from one snapshot's tree to another's within `scope`, like git's diff-tree: a
 * directory with the same tree id on both sides, or outside the scope, is never read, so only
 * the trees along changed paths are looked at and no blob is read. No `from`: every file of `to` is added.
 */

export async function diffTrees(objects: ObjectStore, from: string | undefined, to: string, scope?: DiffScope): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  const entriesOf = async (tree: string | undefined, dir: string) => new Map(tree ? (await readTreeEntries(objects, tree, dir)).filter((e) => !isGitlink(e)).map((e) => [e.name, e]) : []);
  const visit = async (oldTree: string | undefined, newTree: string | undefined, dir: string): Promise<void> => {
    if (oldTree === newTree || !reaches(dir, scope)) return;
    const [old, now] = await Promise.all([entriesOf(oldTree, dir), entriesOf(newTree, dir)]);
    const below: Array<Promise<void>> = [];
    for (const name of new Set([...old.keys(), ...now.keys()])) {
      const p = dir === '' ? name : `${dir}/${name}`;
      const [before, after] = [old.get(name), now.get(name)];
      if (treeOf(before) || treeOf(after)) below.push(visit(treeOf(before), treeOf(after), p));
      const change = inScope(p, scope) ? changeOf(p, fileOf(before), fileOf(after)) : undefined;
      if (change) changes.push(change);
    }
    await Promise.all(below);
  };
  await visit(from, to, '');
  return changes.sort(byPath);
}

/**
 * Changes from the tree `from` (in the repository; undefined for none) to a recorded working
 * tree, like git's diff-tree: a directory whose tree id is the same on both sides is skipped, so
 * only the trees along changed paths are looked at (a 45k-file tree with 100 edits: ~300 trees,
 * not 6,000). The stat cache the recording started from knows the trees of the last recording
 * (the usual `from`): those are taken from it, not read from the repository, where each is a
 * file to open and inflate. Trees read are validated as a checkout would. With `onDamaged`, a
 * tree of `from` that is missing or damaged counts as empty (its files show as added) and is
 * told to it, instead of ending the diff: that is how `status` and `snapshot` get past a
 * damaged latest snapshot.
 */
export async function diffWorktree(objects: ObjectStore, from: string | undefined, to: RecordedTree, onDamaged?: (damage: CorruptObjectError) => void, scope?: DiffScope): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  const add = (change: FileChange | undefined) => {
    if (change && inScope(change.path, scope)) changes.push(change);
  };
  /** `read`, or with `onDamaged`, `empty` when what it reads is damaged (told to onDamaged). */
  const orEmpty = async <T>(read: () => Promise<T>, empty: T): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      if (!onDamaged || !(err instanceof CorruptObjectError)) throw err;
      onDamaged(err);
      return empty;
    }
  };
  const removedUnder = async (tree: string, dir: string) => {
    if (!reaches(dir, scope)) return;
    for (const [p, e] of await orEmpty(() => readFlatTree(objects, tree, dir), new Map())) add({ path: p, status: 'deleted', oldOid: e.oid, oldMode: e.mode });
  };
  const visit = async (dir: ScannedDir, oldTree: string | undefined): Promise<void> => {
    if (to.dirTrees.get(dir.path) === oldTree || !reaches(dir.path, scope)) return;
    const old = new Map<string, TreeEntry>();
    const oldEntries = oldTree && (to.previous.treeEntries(dir.path, oldTree) ?? (await orEmpty(() => readTreeEntries(objects, oldTree, dir.path), [])));
    for (const entry of oldEntries || []) if (!isGitlink(entry)) old.set(entry.name, entry);
    const nameAt = dir.path === '' ? 0 : dir.path.length + 1;
    const present = new Set<string>();
    for (const p of dir.unchangedFrom?.files ?? dir.files.map((f) => f.path)) {
      const now = to.files.get(p);
      if (!now) continue;
      const name = p.slice(nameAt);
      present.add(name);
      const before = old.get(name);
      if (before?.mode === MODE_TREE) await removedUnder(before.oid, p);
      add(changeOf(p, before?.mode === MODE_TREE ? undefined : before, now));
    }
    for (const sub of dir.dirs) {
      // A directory that records nothing is not in the tree.
      if (!to.dirTrees.has(sub.path)) continue;
      const name = sub.path.slice(nameAt);
      present.add(name);
      const before = old.get(name);
      if (before && before.mode !== MODE_TREE) add({ path: sub.path, status: 'deleted', oldOid: before.oid, oldMode: before.mode });
      await visit(sub, before?.mode === MODE_TREE ? before.oid : undefined);
    }
    for (const [name, entry] of old) {
      if (present.has(name)) continue;
      const p = dir.path === '' ? name : `${dir.path}/${name}`;
      if (entry.mode === MODE_TREE) await removedUnder(entry.oid, p);
      else add({ path: p, status: 'deleted', oldOid: entry.oid, oldMode: entry.mode });
    }
  };
  await visit(to.root, from);
  return changes.sort(byPath);
}

/** Whether `content` is binary as git decides: a NUL in its first 8,000 bytes. */
export function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/**
 * What a patch or a stat may cost: a side larger than `maxBytes` (a blob's size is known before
 * it is read when over 8 MiB, a working tree file's from its open handle) or a line diff that
 * takes longer than `timeoutMs` gives no answer.
 */
export interface DiffLimits {
  maxBytes: number;
  timeoutMs: number;
}

/**
 * The old and new content of one change; undefined when a side is over `limits.maxBytes`.
 * `fromWorktree` says the new side is read from the working tree (its blob may not be in the
 * repository yet).
 */
async function contentsOf(repo: Repository, change: FileChange, fromWorktree: boolean, limits?: DiffLimits): Promise<{ oldContent: Buffer; newContent: Buffer } | undefined> {
  const maxBytes = limits?.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const read = async (oid: string | undefined, mode: string | undefined, worktreeSide: boolean): Promise<Buffer | undefined> => {
    if (!oid) return Buffer.alloc(0);
    if (worktreeSide) {
      const full = path.join(repo.worktree, change.path);
      if (mode === MODE_LINK) return fsp.readlink(full, { encoding: 'buffer' });
      // The scan saw a regular file; if it was swapped for a FIFO since, reading must not block.
      let tooLarge = false;
      const content = await readRegularFile(full, { maxBytes }).catch((err: unknown) => {
        tooLarge = err instanceof NotRegularFileError && err.reason === 'too large';
        if (tooLarge) return undefined;
        if (err instanceof NotRegularFileError) throw new ShadowGitError(`${change.path} changed while the diff was made (it is ${err.problem} now); run the command again.`, 'ECHANGED');
        throw err;
      });
      return tooLarge ? undefined : (content ?? Buffer.alloc(0));
    }
    if (limits && (repo.objects.largeBlobSize(oid) ?? 0) > maxBytes) return undefined;
    const content = await repo.objects.readTyped(oid, 'blob', change.path);
    return content.length > maxBytes ? undefined : content;
  };
  const oldContent = await read(change.oldOid, change.oldMode, false);
  const newContent = oldContent && (await read(change.newOid, change.newMode, fromWorktree));
  return oldContent && newContent && { oldContent, newContent };
}

/**
 * Unified diff text for one change (see contentsOf for `fromWorktree`); with `limits`,
 * undefined when a side is too large or the diff takes too long.
 */
export async function patchFor(repo: Repository, change: FileChange, fromWorktree: boolean): Promise<string>;
export async function patchFor(repo: Repository, change: FileChange, fromWorktree: boolean, limits: DiffLimits): Promise<string | undefined>;
export async function patchFor(repo: Repository, change: FileChange, fromWorktree: boolean, limits?: DiffLimits): Promise<string | undefined> {
  const { createTwoFilesPatch } = await import('diff');
  const header = `diff --shadowgit a/${change.path} b/${change.path}\n${change.oldMode && change.newMode && change.oldMode !== change.newMode ? `old mode ${change.oldMode}\nnew mode ${change.newMode}\n` : ''}`;
  if (change.status === 'mode') return header;
  const contents = await contentsOf(repo, change, fromWorktree, limits);
  if (!contents) return undefined;
  const { oldContent, newContent } = contents;
  if (looksBinary(oldContent) || looksBinary(newContent)) return `${header}Binary files differ\n`;
  const patch = createTwoFilesPatch(change.oldOid ? `a/${change.path}` : '/dev/null', change.newOid ? `b/${change.path}` : '/dev/null', oldContent.toString('utf8'), newContent.toString('utf8'), '', '', { context: 3, timeout: limits?.timeoutMs ?? Infinity });
  return patch === undefined ? undefined : header + patch.split('\n').slice(1).join('\n');
}

/** Lines added and removed by one change, as `git diff --numstat` counts them; for a binary file, its sizes instead. */
export type ChangeStat = { insertions: number; deletions: number } | { binary: true; oldBytes: number; newBytes: number };

/** See patchFor for `limits`. */
export async function statFor(repo: Repository, change: FileChange, fromWorktree: boolean): Promise<ChangeStat>;
export async function statFor(repo: Repository, change: FileChange, fromWorktree: boolean, limits: DiffLimits): Promise<ChangeStat | undefined>;
export async function statFor(repo: Repository, change: FileChange, fromWorktree: boolean, limits?: DiffLimits): Promise<ChangeStat | undefined> {
  if (change.status === 'mode') return { insertions: 0, deletions: 0 };
  const contents = await contentsOf(repo, change, fromWorktree, limits);
  if (!contents) return undefined;
  const { oldContent, newContent } = contents;
  if (looksBinary(oldContent) || looksBinary(newContent)) return { binary: true, oldBytes: oldContent.length, newBytes: newContent.length };
  const { diffLines } = await import('diff');
  const parts = diffLines(oldContent.toString('utf8'), newContent.toString('utf8'), { timeout: limits?.timeoutMs ?? Infinity });
  if (!parts) return undefined;
  const stat = { insertions: 0, deletions: 0 };
  for (const part of parts) {
    if (part.added) stat.insertions += part.count ?? 0;
    else if (part.removed) stat.deletions += part.count ?? 0;
  }
  return stat;
}
