/**
 * The query parameters of the read-only API, checked before anything is read: paths and
 * revisions as the MCP server checks its arguments (src/frontend/args.ts: no NUL or control
 * character, not absolute, no `..`, length caps), then normalised by the facade as the CLI's
 * are. A mistake is a ShadowGitError with code EUSAGE (400).
 */
import { ShadowGitError } from '../../engine/errors.js';
import { revision, treePath } from '../../frontend/args.js';
import type { ApiRequest } from '../route.js';

function required(req: ApiRequest, name: string, what: string): string {
  const value = req.query.get(name);
  if (value === null) throw new ShadowGitError(`the query parameter "${name}" is missing; pass ${what}.`, 'EUSAGE');
  return value;
}

/** The worktree-relative path in parameter `name`; absent or empty: `fallback`, or a usage error when there is none. */
export function pathParam(req: ApiRequest, name: string, fallback?: string): string {
  const value = req.query.get(name);
  if (!value && fallback !== undefined) return fallback;
  return treePath(value ?? required(req, name, 'a path relative to the working tree root'));
}

/** The revision in parameter `name`; absent: undefined. */
export function optionalRevision(req: ApiRequest, name: string): string | undefined {
  const value = req.query.get(name);
  return value === null ? undefined : revision(value);
}

/** The revision in parameter `name`, which must be there. */
export function revisionParam(req: ApiRequest, name: string): string {
  return revision(required(req, name, 'a snapshot id, a commit hash, an approved name or latest~N'));
}

/** A whole number from 1 to `max` in parameter `name`; absent: `fallback`. */
export function countParam(req: ApiRequest, name: string, fallback: number, max: number): number {
  const value = req.query.get(name);
  if (value === null) return fallback;
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw new ShadowGitError(`"${name}" must be a whole number from 1 to ${max}, not ${JSON.stringify(value.slice(0, 40))}.`, 'EUSAGE');
  return n;
}

/** The first `cap` of `list`, and whether any were left out. */
export function capped<T>(list: readonly T[], cap: number): { shown: T[]; truncated: boolean } {
  return { shown: list.slice(0, cap), truncated: list.length > cap };
}

/** A snapshot as the answers name it. */
export function snapshotRef(s: { id: string; commit: string }): { id: string; commit: string } {
  return { id: s.id, commit: s.commit };
}
