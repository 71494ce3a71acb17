import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { CorruptObjectError, ShadowGitError } from './errors.js';
import { NotRegularFileError, readRegularFile } from './fsutil.js';
import { MODE_LINK, MODE_TREE, type TreeEntry } from './gitformat.js';
import type { ObjectStore } from './objects.js';
import type { FlatTree, RecordedTree } from './record.js';
import type { Repository } from './repo.js';
import type { ScannedDir } from './scan.js';
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
  for (const [p, e] of to) {
    const old = from.get(p);
    if (!old) changes.push({ path: p, status: 'added', newOid: e.oid, newMode: e.mode });
    else if (old.oid !== e.oid) changes.push({ path: p, status: 'modified', oldOid: old.oid, newOid: e.oid, oldMode: old.mode, newMode: e.mode });
    else if (old.mode !== e.mode) changes.push({ path: p, status: 'mode', oldOid: old.oid, newOid: e.oid, oldMode: old.mode, newMode: e.mode });
  }
  for (const [p, e] of from) if (!to.has(p)) changes.push({ path: p, status: 'deleted', oldOid: e.oid, oldMode: e.mode });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
export async function diffWorktree(objects: ObjectStore, from: string | undefined, to: RecordedTree, onDamaged?: (damage: CorruptObjectError) => void): Promise<FileChange[]> {
  const changes: FileChange[] = [];
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
    for (const [p, e] of await orEmpty(() => readFlatTree(objects, tree, dir), new Map())) changes.push({ path: p, status: 'deleted', oldOid: e.oid, oldMode: e.mode });
  };
  const visit = async (dir: ScannedDir, oldTree: string | undefined): Promise<void> => {
    if (to.dirTrees.get(dir.path) === oldTree) return;
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
      if (!before || before.mode === MODE_TREE) changes.push({ path: p, status: 'added', newOid: now.oid, newMode: now.mode });
      else if (before.oid !== now.oid) changes.push({ path: p, status: 'modified', oldOid: before.oid, newOid: now.oid, oldMode: before.mode, newMode: now.mode });
      else if (before.mode !== now.mode) changes.push({ path: p, status: 'mode', oldOid: before.oid, newOid: now.oid, oldMode: before.mode, newMode: now.mode });
    }
    for (const sub of dir.dirs) {
      // A directory that records nothing is not in the tree.
      if (!to.dirTrees.has(sub.path)) continue;
      const name = sub.path.slice(nameAt);
      present.add(name);
      const before = old.get(name);
      if (before && before.mode !== MODE_TREE) changes.push({ path: sub.path, status: 'deleted', oldOid: before.oid, oldMode: before.mode });
      await visit(sub, before?.mode === MODE_TREE ? before.oid : undefined);
    }
    for (const [name, entry] of old) {
      if (present.has(name)) continue;
      const p = dir.path === '' ? name : `${dir.path}/${name}`;
      if (entry.mode === MODE_TREE) await removedUnder(entry.oid, p);
      else changes.push({ path: p, status: 'deleted', oldOid: entry.oid, oldMode: entry.mode });
    }
  };
  await visit(to.root, from);
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/**
 * Unified diff text for one change. `fromWorktree` says the new side is read from the working
 * tree (its blob may not be in the repository yet).
 */
export async function patchFor(repo: Repository, change: FileChange, fromWorktree: boolean): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const read = async (oid: string | undefined, mode: string | undefined, worktreeSide: boolean): Promise<Buffer> => {
    if (!oid) return Buffer.alloc(0);
    if (worktreeSide) {
      const full = path.join(repo.worktree, change.path);
      if (mode === MODE_LINK) return fsp.readlink(full, { encoding: 'buffer' });
      // The scan saw a regular file; if it was swapped for a FIFO since, reading must not block.
      const content = await readRegularFile(full, { maxBytes: Number.MAX_SAFE_INTEGER }).catch((err: unknown) => {
        if (err instanceof NotRegularFileError) throw new ShadowGitError(`${change.path} changed while the diff was made (it is ${err.problem} now); run the command again.`, 'ECHANGED');
        throw err;
      });
      return content ?? Buffer.alloc(0);
    }
    return repo.objects.readTyped(oid, 'blob', change.path);
  };
  const oldContent = await read(change.oldOid, change.oldMode, false);
  const newContent = await read(change.newOid, change.newMode, fromWorktree);
  const header = `diff --shadowgit a/${change.path} b/${change.path}\n${change.oldMode && change.newMode && change.oldMode !== change.newMode ? `old mode ${change.oldMode}\nnew mode ${change.newMode}\n` : ''}`;
  if (change.status === 'mode') return header;
  if (looksBinary(oldContent) || looksBinary(newContent)) return `${header}Binary files differ\n`;
  const patch = createTwoFilesPatch(change.oldOid ? `a/${change.path}` : '/dev/null', change.newOid ? `b/${change.path}` : '/dev/null', oldContent.toString('utf8'), newContent.toString('utf8'), '', '', { context: 3 });
  return header + patch.split('\n').slice(1).join('\n');
}
