/**
 * What an agent may pass to the MCP tools, or a page to the browser UI's API, checked before
 * anything is read or written: paths stay inside the working tree and revisions are words the
 * revision resolver reads, never options or anything git would take for one.
 */
import path from 'node:path';
import { ShadowGitError } from '../engine/errors.js';

const CONTROL = /[\u0000-\u001f\u007f]/;
/** Longer than any path or revision a tree can hold: a mistake, not a name. */
const MAX_PATH = 4096;
const MAX_REVISION = 256;

/** A mistake in a tool's arguments: the agent reads the sentence and calls again. */
export class ArgumentError extends ShadowGitError {
  constructor(message: string) {
    super(message, 'EUSAGE');
  }
}

/**
 * `p` unchanged, when it names something inside the working tree relative to its root: not
 * empty, no control character (NUL included), no leading `-`, not absolute, no `..` component.
 */
export function treePath(p: string): string {
  const shown = JSON.stringify(p);
  if (p === '') throw new ArgumentError('a path is empty; name a file or directory relative to the working tree root, or "." for all of it.');
  if (p.length > MAX_PATH) throw new ArgumentError(`a path is ${p.length} characters long; name a file or directory of the working tree.`);
  if (CONTROL.test(p)) throw new ArgumentError(`the path ${shown} holds a control character (NUL, newline, …); name the file without it.`);
  if (p.startsWith('-')) throw new ArgumentError(`the path ${shown} starts with "-"; write it as ${JSON.stringify(`./${p}`)}.`);
  if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p)) throw new ArgumentError(`the path ${shown} is absolute; name it relative to the working tree root.`);
  if (p.split(/[\\/]/).includes('..')) throw new ArgumentError(`the path ${shown} has a ".." component; name it relative to the working tree root, without "..".`);
  return p;
}

/** Every path of a tool's `paths`, checked (see treePath); undefined stays undefined. */
export function treePaths(paths: string[] | undefined): string[] | undefined {
  return paths?.map(treePath);
}

/**
 * `rev` unchanged, when it can be a revision: not empty, no control character, no leading `-`.
 * Whether it names a snapshot is the resolver's to say (the one the CLI uses).
 */
export function revision(rev: string): string {
  const shown = JSON.stringify(rev);
  if (rev.trim() === '') throw new ArgumentError('a revision is empty; name a snapshot id, a commit hash, an approved name, or latest~N.');
  if (rev.length > MAX_REVISION) throw new ArgumentError(`a revision is ${rev.length} characters long; name a snapshot id, a commit hash, an approved name, or latest~N.`);
  if (CONTROL.test(rev)) throw new ArgumentError(`the revision ${shown} holds a control character; name a snapshot id, a commit hash, an approved name, or latest~N.`);
  if (rev.startsWith('-')) throw new ArgumentError(`the revision ${shown} starts with "-", which no revision does; name a snapshot id, a commit hash, an approved name, or latest~N.`);
  return rev;
}

/** A session id or other short identifier: not empty, no control character, no leading `-`. */
export function identifier(text: string, what: string): string {
  if (text.trim() === '' || CONTROL.test(text) || text.startsWith('-')) throw new ArgumentError(`the ${what} ${JSON.stringify(text)} is not one; pass it as \`shadowgit sessions\` or list_snapshots shows it.`);
  return text;
}

/** A snapshot message or approval text: any text but NUL and control characters other than tab and newline. */
export function freeText(text: string, what: string): string {
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw new ArgumentError(`the ${what} holds a control character; write it without one (tabs and newlines are fine).`);
  return text;
}
