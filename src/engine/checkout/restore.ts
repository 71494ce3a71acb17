import { isUtf8 } from 'node:buffer';
import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { nameOf, parentOf, type AnchoredTree } from '../worktree/anchored.js';
import { ShadowGitError } from '../errors.js';
import { forEachLimit, readFileIfExists, TEMP_NAME, tempPathFor, writeFileAtomic } from '../fsutil.js';
import { processAlive } from '../store/lock.js';
import { faultPoint } from '../faults.js';
import type { FileChange } from '../snapshot/diff.js';
import { MODE_EXEC, MODE_FILE, MODE_LINK, type EntryMode, type FlatEntry, type FlatTree } from '../store/gitformat.js';
import { entryNameProblem, escapedName, MAX_SYMLINK_TARGET_BYTES, symlinkTargetProblem } from '../worktree/names.js';
import type { Repository } from '../store/repo.js';
import type { SkippedPath } from '../worktree/scan.js';
import { inScope } from '../worktree/scope.js';
import { CHECKOUT_JOURNAL } from '../store/statefiles.js';

/** What a rollback or restore is about to do; written before the first file is touched. */
export interface Journal {
  op: string;
  /** Commit whose tree is being checked out. */
  target: string;
  /** Snapshot that holds the state before the operation (the way back). */
  before: string;
  /** Limits the operation to these paths (restore); absent for a whole-tree rollback. */
  paths?: string[];
  startedAt: string;
  /** Who asked, when not the user directly (guard): kept in last-checkout.json for status. */
  by?: string;
}

export interface RestorePlan {
  write: string[];
  delete: string[];
}

/**
 * What must change to turn `current` into `target` within `scope`: paths whose content or mode
 * differs, and recorded paths absent from the target. Ignored files are in neither map, so they
 * are never touched.
 */
export function planRestore(current: FlatTree, target: FlatTree, scope?: string[]): RestorePlan {
  const write: string[] = [];
  const remove: string[] = [];
  for (const [p, entry] of target) {
    if (!inScope(p, scope)) continue;
    const now = current.get(p);
    if (!now || now.oid !== entry.oid || now.mode !== entry.mode) write.push(p);
  }
  for (const p of current.keys()) if (inScope(p, scope) && !target.has(p)) remove.push(p);
  return { write: write.sort(), delete: remove.sort() };
}

/**
 * The plan that turns the working tree into the target, from the changes going from the target
 * to the working tree (see diffWorktree): what the working tree added goes, everything else is
 * written back. Returns the target's entries for the paths to write.
 */
export function planFromChanges(changes: FileChange[]): { plan: RestorePlan; target: FlatTree } {
  const plan: RestorePlan = { write: [], delete: [] };
  const target = new Map<string, FlatEntry>();
  for (const change of changes) {
    if (change.status === 'added') plan.delete.push(change.path);
    else {
      plan.write.push(change.path);
      target.set(change.path, { oid: change.oldOid!, mode: change.oldMode as EntryMode });
    }
  }
  return { plan, target };
}

/**
 * Refuses, before anything is written, a plan that would write through a symlink, replace a
 * file nobody could back up, or replace a directory that still holds unrecorded files.
 */
export async function checkPlan(tree: AnchoredTree, plan: RestorePlan, skipped: SkippedPath[]): Promise<void> {
  const deleting = new Set(plan.delete);
  const unreadable = new Map(skipped.map((s) => [s.path, s.reason]));
  const checkedDirs = new Set<string>();
  /** Parents that are a recorded file or symlink, deleted first: nothing below them exists yet (looking would follow the link). */
  const replaced = new Set<string>();
  for (const rel of plan.write) {
    if (unreadable.has(rel)) {
      throw new ShadowGitError(`${rel} could not be backed up (${unreadable.get(rel)}), so it will not be overwritten; fix that, or move the file away, and try again.`, 'ECONFLICT');
    }
    const parts = rel.split('/');
    let belowReplaced = false;
    for (let i = 1; i < parts.length && !belowReplaced; i++) {
      const dir = parts.slice(0, i).join('/');
      belowReplaced = replaced.has(dir);
      if (belowReplaced || checkedDirs.has(dir)) continue;
      checkedDirs.add(dir);
      const stat = tree.lstat(dir);
      if (!stat || stat.isDirectory()) continue;
      if (deleting.has(dir)) {
        replaced.add(dir);
        belowReplaced = true;
        continue;
      }
      throw new ShadowGitError(`${dir} is ${stat.isSymbolicLink() ? 'a symlink' : 'a file'} that is not recorded (ignored or unreadable), where the target needs a directory; move it away and try again.`, 'ECONFLICT');
    }
    if (belowReplaced) continue;
    if (tree.lstat(rel)?.isDirectory()) {
      const leftovers = unrecordedUnder(tree, rel, deleting);
      if (leftovers.length > 0) {
        throw new ShadowGitError(`${rel} is a directory holding files that are not recorded (${leftovers.slice(0, 3).join(', ')}), where the target has a file; move them away and try again.`, 'ECONFLICT');
      }
    }
  }
}

function unrecordedUnder(tree: AnchoredTree, rel: string, deleting: Set<string>): string[] {
  const found: string[] = [];
  for (const entry of tree.listBytes(rel) ?? []) {
    // As bytes: a name that is not UTF-8 is never recorded, yet decoded it can equal one that is.
    if (!isUtf8(entry.name)) {
      found.push(`${rel}/${escapedName(entry.name)}`);
      continue;
    }
    const child = `${rel}/${entry.name.toString()}`;
    // A name the scan skips (a `.git` in any case) is kept even when it is an empty directory.
    if (entryNameProblem(entry.name.toString())) {
      found.push(child);
      continue;
    }
    if (entry.isDirectory()) found.push(...unrecordedUnder(tree, child, deleting));
    else if (!deleting.has(child)) found.push(child);
  }
  return found;
}

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

/** Blob contents already read and verified, by id: writing them needs no second read. */
export type VerifiedBlobs = ReadonlyMap<string, Buffer>;

/** How much verified content a checkout keeps for its writes; the rest is read again as written. */
const KEEP_VERIFIED_BYTES = 64 * 1024 * 1024;

/** The modes a checkout writes; anything else in a plan was not made by shadowgit. */
const WRITABLE_MODES = new Set<string>([MODE_FILE, MODE_EXEC, MODE_LINK]);

/**
 * Reads every blob written to `paths`, so a damaged snapshot is refused before any write, and
 * checks every entry can be written as recorded (its mode; a symlink's target), so a checkout
 * never stops half-way on an entry it could have refused at the start.
 * Returns what it read whole, up to KEEP_VERIFIED_BYTES, for applyPlan to write as it is, added
 * to `verified` (what an earlier call for other paths kept).
 */
export async function verifyPlanObjects(repo: Repository, paths: string[], target: FlatTree, verified = new Map<string, Buffer>()): Promise<Map<string, Buffer>> {
  let kept = 0;
  for (const content of verified.values()) kept += content.length;
  await forEachLimit(paths, 16, async (rel) => {
    const { oid, mode } = target.get(rel)!;
    const content = WRITABLE_MODES.has(mode) ? await repo.objects.verifyBlob(oid, rel) : undefined;
    const problem = !WRITABLE_MODES.has(mode)
      ? `the mode ${mode}`
      : mode === MODE_LINK
        ? // Streamed means its header declares megabytes: far over any symlink target.
          content ? symlinkTargetProblem(content) : `a symlink target over ${MAX_SYMLINK_TARGET_BYTES} bytes`
        : undefined;
    if (problem) throw new ShadowGitError(`the snapshot's entry ${rel} has ${problem}, which cannot be written; it was tampered with, so nothing was written — run \`shadowgit verify\`.`, 'ETAMPERED');
    if (content && !verified.has(oid) && kept + content.length <= KEEP_VERIFIED_BYTES) {
      verified.set(oid, content);
      kept += content.length;
    }
  });
  return verified;
}

export async function writeJournal(repo: Repository, journal: Journal): Promise<void> {
  await faultPoint('journal');
  await writeFileAtomic(repo.statePath(CHECKOUT_JOURNAL), JSON.stringify(journal));
}

export async function readJournal(repo: Repository): Promise<Journal | undefined> {
  const raw = await readFileIfExists(repo.statePath(CHECKOUT_JOURNAL));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as Journal;
  } catch {
    return undefined;
  }
}

export async function clearJournal(repo: Repository): Promise<void> {
  await fsp.rm(repo.statePath(CHECKOUT_JOURNAL), { force: true });
}
