import { isUtf8 } from 'node:buffer';
import { ShadowGitError } from '../errors.js';
import { forEachLimit } from '../fsutil.js';
import type { FileChange } from '../snapshot/diff.js';
import { MODE_EXEC, MODE_FILE, MODE_LINK, type EntryMode, type FlatEntry, type FlatTree } from '../store/gitformat.js';
import type { Repository } from '../store/repo.js';
import type { AnchoredTree } from '../worktree/anchored.js';
import { entryNameProblem, escapedName, MAX_SYMLINK_TARGET_BYTES, symlinkTargetProblem } from '../worktree/names.js';
import type { SkippedPath } from '../worktree/scan.js';
import { inScope } from '../worktree/scope.js';

// A checkout's plan, and every check made on it before the first write: which paths to write
// and delete, whether the tree lets them be written (checkPlan), and whether the snapshot's
// content is sound (verifyPlanObjects). Nothing here writes.

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
