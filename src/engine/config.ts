import path from 'node:path';
import { createRequire } from 'node:module';
import type { Node, ParseError } from 'jsonc-parser';
import { ShadowGitError } from './errors.js';
import { NotRegularFileError, readRegularFile } from './fsutil.js';

/** Loaded only when a tree has a config file: ~20 ms of start-up every command would pay. */
const jsonc = (): typeof import('jsonc-parser') => createRequire(import.meta.url)('jsonc-parser');

export const CONFIG_FILE = '.shadowgit';

export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepWithin?: string;
}

export interface ShadowGitConfig {
  /** Where the shadow repository lives; default under $SHADOWGIT_HOME. */
  repo?: string;
  /** Extra gitignore-style patterns, relative to the working tree root. */
  exclude: string[];
  /** Globs of files `doctor` checks and `recover` restores. */
  critical: string[];
  retention?: RetentionPolicy;
  /** Globs that mark test files for `impact`. */
  tests?: string[];
  watch?: { debounce?: number; interval?: number };
}

type FieldKind = 'string' | 'string[]' | 'number' | 'object';
const SCHEMA: Record<string, FieldKind> = {
  repo: 'string',
  exclude: 'string[]',
  critical: 'string[]',
  retention: 'object',
  tests: 'string[]',
  watch: 'object',
};
const NESTED: Record<string, Record<string, FieldKind>> = {
  retention: { keepLast: 'number', keepHourly: 'number', keepDaily: 'number', keepWeekly: 'number', keepMonthly: 'number', keepWithin: 'string' },
  watch: { debounce: 'number', interval: 'number' },
};

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function kindOf(node: Node): FieldKind | 'other' {
  if (node.type === 'string') return 'string';
  if (node.type === 'number') return 'number';
  if (node.type === 'object') return 'object';
  if (node.type === 'array' && (node.children ?? []).every((c) => c.type === 'string')) return 'string[]';
  return 'other';
}

function checkObject(text: string, file: string, node: Node, schema: Record<string, FieldKind>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const prop of node.children ?? []) {
    const [keyNode, valueNode] = prop.children ?? [];
    if (!keyNode || !valueNode) continue;
    const key = String(keyNode.value);
    const where = `${file}:${lineOf(text, keyNode.offset)}`;
    // Own keys only: "__proto__" or "constructor" must not find Object.prototype's.
    const expected = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!expected) {
      throw new ShadowGitError(`${where}: unknown key "${prefix}${key}"; the keys are ${Object.keys(schema).map((k) => prefix + k).join(', ')} (see .shadowgit.example).`, 'ECONFIG');
    }
    if (kindOf(valueNode) !== expected) {
      throw new ShadowGitError(`${where}: "${prefix}${key}" must be ${expected === 'string[]' ? 'a list of strings' : `a ${expected}`}; fix that line.`, 'ECONFIG');
    }
    out[key] = expected === 'object' ? checkObject(text, file, valueNode, NESTED[key]!, `${key}.`) : nodeValue(valueNode);
  }
  return out;
}

function nodeValue(node: Node): unknown {
  if (node.type === 'array') return (node.children ?? []).map((c) => c.value);
  return node.value;
}

/** Parses `.shadowgit` text (JSON with comments); errors name the file, line and key. */
export function parseConfig(text: string, file = CONFIG_FILE): ShadowGitConfig {
  const errors: ParseError[] = [];
  const { parseTree, printParseErrorCode } = jsonc();
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new ShadowGitError(`${file}:${lineOf(text, first.offset)}: ${printParseErrorCode(first.error)}; fix the JSON (comments are allowed).`, 'ECONFIG');
  }
  if (!root) return { exclude: [], critical: [] };
  if (root.type !== 'object') throw new ShadowGitError(`${file}:1: the file must hold one JSON object; see .shadowgit.example.`, 'ECONFIG');
  const raw = checkObject(text, file, root, SCHEMA, '') as Partial<ShadowGitConfig>;
  return { ...raw, exclude: raw.exclude ?? [], critical: raw.critical ?? [] };
}

/** Far more than any real config; a larger `.shadowgit` is a mistake, not a config. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads `.shadowgit` only as a regular file (a symlink to one is followed): a FIFO there must not hang every command. */
export async function loadConfig(worktree: string): Promise<ShadowGitConfig> {
  const file = path.join(worktree, CONFIG_FILE);
  let data: Buffer | undefined;
  try {
    data = await readRegularFile(file, { maxBytes: MAX_CONFIG_BYTES, followSymlinks: true });
  } catch (err) {
    if (err instanceof NotRegularFileError) {
      const what = err.reason === 'too large' ? `larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB` : 'not a regular file';
      throw new ShadowGitError(`${file} is ${what}; replace it with a small JSON file (see .shadowgit.example) or remove it.`, 'ECONFIG');
    }
    throw new ShadowGitError(`cannot read ${file} (${(err as Error).message}); fix its permissions.`, 'ECONFIG');
  }
  if (data === undefined) return { exclude: [], critical: [] };
  return parseConfig(data.toString('utf8'), file);
}
