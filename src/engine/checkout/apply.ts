import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { faultPoint } from '../faults.js';
import { forEachLimit, TEMP_NAME, tempPathFor } from '../fsutil.js';
import { MODE_EXEC, MODE_LINK, type FlatTree } from '../store/gitformat.js';
import { processAlive } from '../store/lock.js';
import type { Repository } from '../store/repo.js';
import { nameOf, parentOf, type AnchoredTree } from '../worktree/anchored.js';
import { inScope } from '../worktree/scope.js';
import type { RestorePlan, VerifiedBlobs } from './plan.js';

// A checked plan carried out on the tree: deletions, then each write through a temp file
// renamed in its own directory, never following a link below the root.

/**
 * Makes every parent of `rel` a directory of the tree. Anything else there now appeared after
 * the plan was checked (a recorded file or symlink in the way was deleted first): the tree
 * changed under the checkout, which stops.
 */
async function ensureParents(tree: AnchoredTree, rel: string, made: Set<string>): Promise<void> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (made.has(dir)) continue;
    if (tree.lstat(dir)) tree.require(dir);
    else await tree.makeDirectory(dir);
    made.add(dir);
  }
}

/**
 * Writes one entry as a new file (or symlink) renamed over whatever is there, always: a mode-only
 * change too, since a chmod in place would also change every hard link of the file, wherever it is.
 */
async function writeEntry(repo: Repository, tree: AnchoredTree, rel: string, entry: { oid: string; mode: string }, verified: VerifiedBlobs): Promise<void> {
  if (tree.lstat(rel)?.isDirectory()) tree.removeEmptyTree(rel);
  await tree.inside(parentOf(rel), async (at) => {
    const full = at(nameOf(rel));
    const tmp = tempPathFor(full);
    if (entry.mode === MODE_LINK) {
      await fsp.symlink(verified.get(entry.oid) ?? (await repo.objects.readTyped(entry.oid, 'blob', rel)), tmp);
    } else {
      const mode = entry.mode === MODE_EXEC ? 0o755 : 0o644;
      const handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
      try {
        const content = verified.get(entry.oid);
        // Streamed for large blobs: a 2 GB file never sits in memory.
        if (content) await handle.writeFile(content);
        else await repo.objects.writeBlobTo(entry.oid, handle, rel);
        await handle.chmod(mode);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      } finally {
        await handle.close();
      }
    }
    await faultPoint('worktree-file');
    try {
      await fsp.rename(tmp, full);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  });
}

/** Removes directories emptied by deletions, deepest first; non-empty ones stay. */
function pruneEmptyDirs(tree: AnchoredTree, deleted: string[], scope: string[] | undefined): void {
  const dirs = new Set<string>();
  for (const rel of deleted) for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of deepestFirst) if (!scope || inScope(dir, scope)) tree.removeIfEmpty(dir);
}

/** Names the working-tree path in an error from a system call made through a directory handle. */
function inTree(tree: AnchoredTree, rel: string, err: unknown): unknown {
  if (err instanceof Error && 'syscall' in err) (err as NodeJS.ErrnoException).path = path.join(tree.root, rel);
  return err;
}

/**
 * Applies a checked plan: deletions first (so file↔directory swaps have room), then writes, each
 * file through a temp file and rename in its own directory.
 */
export async function applyPlan(repo: Repository, tree: AnchoredTree, plan: RestorePlan, target: FlatTree, verified: VerifiedBlobs, scope?: string[]): Promise<void> {
  for (const rel of plan.delete) {
    // Nothing there (or a parent that is no directory of the tree any more), or gone by itself
    // since the lstat: nothing of the tree to delete.
    if (tree.lstat(rel)?.isDirectory() === false) {
      const unlink = (at: (name: string) => string) => fsp.unlink(at(nameOf(rel))).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      await tree.inside(parentOf(rel), unlink).catch((err) => Promise.reject(inTree(tree, rel, err)));
    }
    await faultPoint('worktree-file');
  }
  pruneEmptyDirs(tree, plan.delete, scope);
  const made = new Set<string>();
  // Parents are created in path order first, so concurrent writers never race on a mkdir.
  for (const rel of plan.write) await ensureParents(tree, rel, made);
  // After the first failure no new write starts, and the ones under way finish (removing their
  // temp files) before the error is thrown: nothing keeps writing behind the error.
  let failure: unknown;
  await forEachLimit(plan.write, 16, async (rel) => {
    if (failure) return;
    await writeEntry(repo, tree, rel, target.get(rel)!, verified).catch((err) => (failure ??= inTree(tree, rel, err)));
  });
  if (failure) throw failure;
}

/**
 * Deletes the temp files a killed checkout left beside the files it was writing (their writer is
 * dead; we hold the lock), so a restore of some paths does not leave them in the tree for good.
 * A directory reached through a symlink is not the working tree's and is left alone.
 */
export async function removeStrayTemps(tree: AnchoredTree, target: FlatTree, scope: string[] | undefined): Promise<void> {
  const dirs = new Set([...target.keys()].filter((p) => inScope(p, scope)).map((p) => path.posix.dirname(p)));
  for (const dir of dirs) {
    const where = dir === '.' ? '' : dir;
    await tree.within(where, async (at) => {
      for (const entry of tree.list(where) ?? []) {
        const writer = TEMP_NAME.exec(entry.name)?.[1];
        if (writer && !entry.isDirectory() && !processAlive(Number(writer))) await fsp.rm(at(entry.name), { force: true });
      }
    });
  }
}
