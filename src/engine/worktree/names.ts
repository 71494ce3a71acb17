import { isUtf8 } from 'node:buffer';
import type { TreeEntry } from '../store/gitformat.js';

/**
 * What a snapshot may record and a checkout may write: one policy, used by the scan, the
 * checkout, and verify, so nothing is recorded that cannot be restored.
 */

/** Linux's PATH_MAX: readlink never returns more, and symlink(2) refuses longer targets. */
export const MAX_SYMLINK_TARGET_BYTES = 4095;

/** Why `target` (a symlink blob's content) cannot be written as a symlink, or undefined if it can. */
export function symlinkTargetProblem(target: Buffer): string | undefined {
  if (target.length === 0) return 'an empty symlink target';
  if (target.includes(0)) return 'a NUL byte in a symlink target';
  if (target.length > MAX_SYMLINK_TARGET_BYTES) return `a symlink target of ${target.length} bytes (at most ${MAX_SYMLINK_TARGET_BYTES})`;
  // Symlinks are written from a string: invalid bytes would come back as U+FFFD, another target.
  if (!isUtf8(target)) return 'a symlink target that is not valid UTF-8';
  return undefined;
}

/** The reason a scan gives for leaving out what a checkout would refuse (`problem`). */
export const notRecorded = (problem: string, fix: string) => `${problem} cannot be restored, so it is not recorded; ${fix} to back it up`;

/** On Windows a backslash separates path components, so `a\b` would be written as `b` inside `a`. */
const BACKSLASH_SEPARATES = process.platform === 'win32';

/**
 * Why a tree entry called `name` cannot be written into its directory, or undefined if it can:
 * it could land outside the directory, inside a `.git`, or is not one name. Git itself refuses
 * `.git` in any case in a tree (`git fsck`: hasDotgit); a case-insensitive file system would
 * write `.GIT` into the user's `.git`.
 */
export function entryNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/')) return `a slash in the name "${name}"`;
  if (name.includes('\0')) return 'a NUL byte in a name';
  if (name.length === 4 && name.toLowerCase() === '.git') return `the name "${name}" (git reserves ".git" in any case)`;
  if (BACKSLASH_SEPARATES && name.includes('\\')) return `a backslash in the name "${name}" (a path separator on Windows)`;
  return undefined;
}

/**
 * Why a tree's entries cannot all be written, or undefined if they can: a name the policy
 * refuses, a name that is not valid UTF-8 (the scan never records one; decoded, it could be any
 * of several), or one name twice (one write could land through the other, a symlink and a
 * directory say). `content` is the tree as stored, `entries` its decoding.
 */
export function treeEntriesProblem(content: Buffer, entries: readonly TreeEntry[]): string | undefined {
  const names = new Set<string>();
  for (const entry of entries) {
    const problem = entryNameProblem(entry.name) ?? (names.has(entry.name) ? `the name "${entry.name}" twice` : undefined);
    if (problem) return problem;
    names.add(entry.name);
  }
  // Decoding turns invalid bytes into U+FFFD: only then are the stored bytes worth looking at.
  if (entries.some((entry) => entry.name.includes('\uFFFD'))) {
    for (let at = 0; at < content.length; ) {
      const start = content.indexOf(0x20, at) + 1;
      const end = content.indexOf(0, start);
      const raw = content.subarray(start, end);
      if (!isUtf8(raw)) return `the name "${escapedName(raw)}", which is not valid UTF-8`;
      at = end + 21;
    }
  }
  return undefined;
}

/**
 * A name's bytes as text for messages, each byte that is not part of valid UTF-8, and each
 * control character (a newline would split a one-line message), written `\xNN`.
 */
export function escapedName(raw: Buffer): string {
  let text = '';
  for (let at = 0; at < raw.length; ) {
    const length = utf8SequenceLength(raw, at);
    if (length > 0) {
      text += raw.toString('utf8', at, at + length);
      at += length;
    } else text += `\\x${raw[at++]!.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** Length of the valid UTF-8 sequence starting at `at`, 0 when the byte there does not start one or is a control character. */
function utf8SequenceLength(raw: Buffer, at: number): number {
  const lead = raw[at]!;
  if (lead < 0x20 || lead === 0x7f) return 0;
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  return length > 0 && at + length <= raw.length && isUtf8(raw.subarray(at, at + length)) ? length : 0;
}
