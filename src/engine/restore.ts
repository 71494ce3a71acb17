import { isUtf8 } from 'node:buffer';
import { lstatSync, promises as fsp, constants as fsc, type Stats } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from './errors.js';
import { forEachLimit, readFileIfExists, TEMP_NAME, tempPathFor, writeFileAtomic } from './fsutil.js';
import { processAlive } from './lock.js';
import { faultPoint } from './faults.js';
import type { FileChange } from './diff.js';
import { MODE_EXEC, MODE_LINK, type EntryMode } from './gitformat.js';
import { escapedName } from './names.js';
import type { FlatEntry, FlatTree } from './record.js';
import type { Repository } from './repo.js';
import type { SkippedPath } from './scan.js';

export const JOURNAL = 'journal.json';

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
}

export interface RestorePlan {
  write: string[];
  delete: string[];
}

export function inScope(relPath: string, scope: string[] | undefined): boolean {
  if (!scope) return true;
  return scope.some((prefix) => prefix === '' || relPath === prefix || relPath.startsWith(`${prefix}/`));
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
 * lstat, or undefined when nothing is there (a parent may be a file now); other errors throw.
 * Synchronous: a checkout looks at each path it writes and each parent directory one after the
 * other, and a thread-pool round trip per lstat cost more than the lstat itself.
 */
export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP, ENAMETOOLONG: a parent is a symlink (a loop, a long target), so nothing of the tree is there.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return undefined;
    throw err;
  }
}

/**
 * Refuses, before anything is written, a plan that would write through a symlink, replace a
 * file nobody could back up, or replace a directory that still holds unrecorded files.
 */
export async function checkPlan(worktree: string, plan: RestorePlan, skipped: SkippedPath[]): Promise<void> {
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
      const stat = lstatOrUndefined(path.join(worktree, dir));
      if (!stat || stat.isDirectory()) continue;
      if (deleting.has(dir)) {
        replaced.add(dir);
        belowReplaced = true;
        continue;
      }
      throw new ShadowGitError(`${dir} is ${stat.isSymbolicLink() ? 'a symlink' : 'a file'} that is not recorded (ignored or unreadable), where the target needs a directory; move it away and try again.`, 'ECONFLICT');
    }
    if (belowReplaced) continue;
    const stat = lstatOrUndefined(path.join(worktree, rel));
    if (stat?.isDirectory()) {
      const leftovers = await unrecordedUnder(worktree, rel, deleting);
      if (leftovers.length > 0) {
        throw new ShadowGitError(`${rel} is a directory holding files that are not recorded (${leftovers.slice(0, 3).join(', ')}), where the target has a file; move them away and try again.`, 'ECONFLICT');
      }
    }
  }
}

async function unrecordedUnder(worktree: string, rel: string, deleting: Set<string>): Promise<string[]> {
  const found: string[] = [];
  const entries = await fsp.readdir(path.join(worktree, rel), { withFileTypes: true, encoding: 'buffer' });
  for (const entry of entries) {
    // As bytes: a name that is not UTF-8 is never recorded, yet decoded it can equal one that is.
    if (!isUtf8(entry.name)) {
      found.push(`${rel}/${escapedName(entry.name)}`);
      continue;
    }
    const child = `${rel}/${entry.name.toString()}`;
    if (entry.isDirectory()) found.push(...(await unrecordedUnder(worktree, child, deleting)));
    else if (!deleting.has(child)) found.push(child);
  }
  return found;
}

/**
 * Makes sure every parent of `rel` is a real directory, never following a symlink: a component
 * that is a symlink or file at this point was recorded and planned for deletion, so it goes.
 */
async function ensureParents(worktree: string, rel: string, made: Set<string>): Promise<void> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (made.has(dir)) continue;
    const full = path.join(worktree, dir);
    const stat = lstatOrUndefined(full);
    if (stat && !stat.isDirectory()) await fsp.unlink(full);
    if (!stat || !stat.isDirectory()) await fsp.mkdir(full).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    made.add(dir);
  }
}

async function writeEntry(repo: Repository, rel: string, entry: { oid: string; mode: string }, current: FlatTree, verified: VerifiedBlobs): Promise<void> {
  const full = path.join(repo.worktree, rel);
  const before = current.get(rel);
  if (before && before.oid === entry.oid && before.mode !== MODE_LINK && entry.mode !== MODE_LINK) {
    await fsp.chmod(full, entry.mode === MODE_EXEC ? 0o755 : 0o644);
    return;
  }
  const existing = lstatOrUndefined(full);
  if (existing?.isDirectory()) await fsp.rm(full, { recursive: true });
  const tmp = tempPathFor(full);
  if (entry.mode === MODE_LINK) {
    await fsp.symlink((verified.get(entry.oid) ?? (await repo.objects.readTyped(entry.oid, 'blob', rel))).toString('utf8'), tmp);
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
}

/** Removes directories emptied by deletions, deepest first; non-empty ones stay. */
async function pruneEmptyDirs(worktree: string, deleted: string[], scope: string[] | undefined): Promise<void> {
  const dirs = new Set<string>();
  for (const rel of deleted) for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of deepestFirst) {
    if (scope && !inScope(dir, scope)) continue;
    await fsp.rmdir(path.join(worktree, dir)).catch(() => undefined);
  }
}

/**
 * Applies a checked plan: deletions first (so file↔directory swaps have room), then writes, each
 * file through a temp file and rename in its own directory.
 */
export async function applyPlan(repo: Repository, plan: RestorePlan, current: FlatTree, target: FlatTree, verified: VerifiedBlobs, scope?: string[]): Promise<void> {
  for (const rel of plan.delete) {
    const full = path.join(repo.worktree, rel);
    const stat = lstatOrUndefined(full);
    if (stat && !stat.isDirectory()) await fsp.unlink(full);
    await faultPoint('worktree-file');
  }
  await pruneEmptyDirs(repo.worktree, plan.delete, scope);
  const made = new Set<string>();
  // Parents are created in path order first, so concurrent writers never race on a mkdir.
  for (const rel of plan.write) await ensureParents(repo.worktree, rel, made);
  await forEachLimit(plan.write, 16, async (rel) => writeEntry(repo, rel, target.get(rel)!, current, verified));
}

/**
 * Deletes the temp files a killed checkout left beside the files it was writing (their writer is
 * dead; we hold the lock), so a restore of some paths does not leave them in the tree for good.
 * A directory reached through a symlink is not the working tree's and is left alone.
 */
export async function removeStrayTemps(worktree: string, target: FlatTree, scope: string[] | undefined): Promise<void> {
  const dirs = new Set([...target.keys()].filter((p) => inScope(p, scope)).map((p) => path.posix.dirname(p)));
  for (const dir of dirs) {
    const full = dir === '.' ? worktree : path.join(worktree, dir);
    if ((await fsp.realpath(full).catch(() => undefined)) !== full) continue;
    for (const name of await fsp.readdir(full).catch(() => [] as string[])) {
      const writer = TEMP_NAME.exec(name)?.[1];
      if (writer && !processAlive(Number(writer))) await fsp.rm(path.join(full, name), { force: true });
    }
  }
}

/** Blob contents already read and verified, by id: writing them needs no second read. */
export type VerifiedBlobs = ReadonlyMap<string, Buffer>;

/** How much verified content a checkout keeps for its writes; the rest is read again as written. */
const KEEP_VERIFIED_BYTES = 64 * 1024 * 1024;

/**
 * Reads every blob the plan will write, so a damaged snapshot is refused before any write.
 * Returns what it read whole, up to KEEP_VERIFIED_BYTES, for applyPlan to write as it is.
 */
export async function verifyPlanObjects(repo: Repository, plan: RestorePlan, target: FlatTree): Promise<VerifiedBlobs> {
  const verified = new Map<string, Buffer>();
  let kept = 0;
  await forEachLimit(plan.write, 16, async (rel) => {
    const { oid } = target.get(rel)!;
    const content = await repo.objects.verifyBlob(oid, rel);
    if (content && !verified.has(oid) && kept + content.length <= KEEP_VERIFIED_BYTES) {
      verified.set(oid, content);
      kept += content.length;
    }
  });
  return verified;
}

export async function writeJournal(repo: Repository, journal: Journal): Promise<void> {
  await faultPoint('journal');
  await writeFileAtomic(repo.statePath(JOURNAL), JSON.stringify(journal));
}

export async function readJournal(repo: Repository): Promise<Journal | undefined> {
  const raw = await readFileIfExists(repo.statePath(JOURNAL));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as Journal;
  } catch {
    return undefined;
  }
}

export async function clearJournal(repo: Repository): Promise<void> {
  await fsp.rm(repo.statePath(JOURNAL), { force: true });
}
