import path from 'node:path';
import { createRequire } from 'node:module';
import type { Node, ParseError, ParseErrorCode } from 'jsonc-parser';
import { ShadowGitError } from './errors.js';
import { NotRegularFileError, readRegularFile } from './fsutil.js';

/** Loaded only when a tree has a config file: ~20 ms of start-up every command would pay. */
const jsonc = (): typeof import('jsonc-parser') => createRequire(import.meta.url)('jsonc-parser');

export const CONFIG_FILE = '.shadowgit';
/** Where a message sends someone who needs the keys explained (not into shadowgit's install directory). */
const CONFIG_HELP = '`shadowgit help config`';

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
  /** `shadowgit mcp`: `allowApprove` offers the agent an `approve` tool (approving is a person's call otherwise). */
  mcp?: { allowApprove?: boolean };
  /** `shadowgit hook --guard`: regular expressions a shell command must not match without the person's yes (default: the built-in list). */
  hooks?: { destructive?: string[] };
  /** Off-machine copies (docs/remote.md): the default remote, when to push automatically, the per-file limit. */
  remote?: RemoteConfig;
}

export const REMOTE_PUSH_MODES = ['never', 'approve', 'interval'] as const;
export interface RemoteConfig {
  name?: string;
  push?: (typeof REMOTE_PUSH_MODES)[number];
  /** How often the watcher pushes when push is "interval": 90s, 15m, 2h (default 15m). */
  interval?: string;
  /** A push naming a file larger than this is refused before anything is sent (default 100 MiB). */
  maxFileBytes?: number;
}
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;
export const DEFAULT_PUSH_INTERVAL = '15m';

/** "90s", "15m", "2h" in milliseconds; undefined when the text is not such a span (at least 1 s). */
export function pushIntervalMs(text: string): number | undefined {
  const match = /^(\d+)(s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  return ms >= 1000 ? ms : undefined;
}

type FieldKind = 'string' | 'string[]' | 'number' | 'boolean' | 'object';
const SCHEMA: Record<string, FieldKind> = {
  repo: 'string',
  exclude: 'string[]',
  critical: 'string[]',
  retention: 'object',
  tests: 'string[]',
  watch: 'object',
  mcp: 'object',
  hooks: 'object',
  remote: 'object',
};
const NESTED: Record<string, Record<string, FieldKind>> = {
  retention: { keepLast: 'number', keepHourly: 'number', keepDaily: 'number', keepWeekly: 'number', keepMonthly: 'number', keepWithin: 'string' },
  watch: { debounce: 'number', interval: 'number' },
  mcp: { allowApprove: 'boolean' },
  hooks: { destructive: 'string[]' },
  remote: { name: 'string', push: 'string', interval: 'string', maxFileBytes: 'number' },
};

/** The range of seconds `watch` takes, from .shadowgit or its flags. */
const WATCH_SECONDS = { min: 0.05, max: 86400 };
const isWatchSeconds = (value: unknown) => typeof value === 'number' && value >= WATCH_SECONDS.min && value <= WATCH_SECONDS.max;
const WATCH_SECONDS_TEXT = `a number of seconds between ${WATCH_SECONDS.min} and ${WATCH_SECONDS.max}`;
/** A JavaScript regular expression that compiles: a typo in one must not switch the guard off silently. */
const isRegExp = (source: string) => {
  try {
    new RegExp(source);
    return source !== '';
  } catch {
    return false;
  }
};
/** Values a key's type alone does not rule out: what the value must be, when it is not. */
const VALUE_RULES: Record<string, { valid: (value: unknown) => boolean; expected: string }> = {
  'watch.debounce': { valid: isWatchSeconds, expected: WATCH_SECONDS_TEXT },
  'watch.interval': { valid: isWatchSeconds, expected: WATCH_SECONDS_TEXT },
  'remote.name': { valid: (value) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value as string), expected: 'a remote name (letters, digits, ".", "_" and "-")' },
  'remote.push': { valid: (value) => (REMOTE_PUSH_MODES as readonly string[]).includes(value as string), expected: `one of ${REMOTE_PUSH_MODES.map((m) => `"${m}"`).join(', ')}` },
  'remote.interval': { valid: (value) => pushIntervalMs(value as string) !== undefined, expected: 'a span such as "90s", "15m" or "2h"' },
  'remote.maxFileBytes': { valid: (value) => Number.isInteger(value) && (value as number) > 0, expected: 'a positive whole number of bytes' },
  'hooks.destructive': { valid: (value) => (value as string[]).every(isRegExp), expected: 'a list of non-empty JavaScript regular expressions (escape a backslash as \\\\ in JSON)' },
};

/** 1-based line and column (in UTF-16 units, as editors count) of `offset` in `text`. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - lineStart + 1 };
}

function lineOf(text: string, offset: number): number {
  return positionOf(text, offset).line;
}

/** jsonc-parser's error codes (ParseErrorCode) in words. */
const JSON_ERRORS: Record<ParseErrorCode, string> = {
  1: 'unexpected text',
  2: 'a number is malformed',
  3: 'a key in double quotes is expected',
  4: 'a value is missing',
  5: 'a colon is missing',
  6: 'a comma is missing',
  7: 'a closing } is missing',
  8: 'a closing ] is missing',
  9: 'there is more text after the end',
  10: 'comments are not allowed here',
  11: 'a /* comment is never closed',
  12: 'a string is never closed (a missing ")',
  13: 'a number is cut off',
  14: 'a \\u escape is malformed',
  15: 'a \\ escape in a string is not one JSON knows',
  16: 'a string holds a raw control character (write a tab or newline as \\t or \\n)',
};
const INVALID_SYMBOL = 1;
const VALUE_EXPECTED = 4;
/** How the text found at the spot follows the words, for the errors where it says where to look. */
const FOUND_TEXT: Partial<Record<number, string>> = { 3: ' instead of ', 5: ' before ', 6: ' before ', 9: ': ' };

/**
 * A JSON syntax error in words, and where it is: { line: 3, column: 5, what: 'a comma is missing
 * before "b"' }. Shared by `.shadowgit` and doctor's checks of JSON files.
 */
export function describeJsonError(text: string, error: ParseError): { line: number; column: number; what: string } {
  const token = text.slice(error.offset, error.offset + Math.min(error.length, 24)).split('\n')[0]!;
  // A string token shows with its own quotes; anything else is quoted (and escaped) here.
  const found = token.startsWith('"') ? token : JSON.stringify(token);
  const words = JSON_ERRORS[error.error] ?? `JSON error ${error.error}`;
  const joiner = FOUND_TEXT[error.error];
  const context = joiner === undefined ? '' : token === '' ? ' at the end of the file' : `${joiner}${found}`;
  return { ...positionOf(text, error.offset), what: error.error === INVALID_SYMBOL ? `unexpected ${found}` : `${words}${context}` };
}

function kindOf(node: Node): FieldKind | 'other' {
  if (node.type === 'string') return 'string';
  if (node.type === 'number') return 'number';
  if (node.type === 'boolean') return 'boolean';
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
      throw new ShadowGitError(`${where}: unknown key "${prefix}${key}"; the keys are ${Object.keys(schema).map((k) => prefix + k).join(', ')} (see ${CONFIG_HELP}).`, 'ECONFIG');
    }
    if (kindOf(valueNode) !== expected) {
      throw new ShadowGitError(`${where}: "${prefix}${key}" must be ${expected === 'string[]' ? 'a list of strings' : `a ${expected}`}; fix that line.`, 'ECONFIG');
    }
    const value = expected === 'object' ? checkObject(text, file, valueNode, NESTED[key]!, `${key}.`) : nodeValue(valueNode);
    const rule = VALUE_RULES[prefix + key];
    if (rule && !rule.valid(value)) {
      throw new ShadowGitError(`${where}: ${prefix}${key} must be ${rule.expected}, not ${text.slice(valueNode.offset, valueNode.offset + valueNode.length)}; fix that line.`, 'ECONFIG');
    }
    out[key] = value;
  }
  checkCombinations(text, file, node, prefix, out);
  return out;
}

/** Rules between keys of one object: a watch interval shorter than its debounce could never wait out the quiet. */
function checkCombinations(text: string, file: string, node: Node, prefix: string, values: Record<string, unknown>): void {
  if (prefix !== 'watch.' || typeof values.debounce !== 'number' || typeof values.interval !== 'number' || values.interval >= values.debounce) return;
  const intervalKey = (node.children ?? []).find((prop) => prop.children?.[0]?.value === 'interval')!.children![0]!;
  throw new ShadowGitError(`${file}:${lineOf(text, intervalKey.offset)}: watch.interval (${values.interval} s) must not be shorter than watch.debounce (${values.debounce} s); fix that line.`, 'ECONFIG');
}

function nodeValue(node: Node): unknown {
  if (node.type === 'array') return (node.children ?? []).map((c) => c.value);
  return node.value;
}

/**
 * Parses `.shadowgit` text (JSON with comments); errors name the file, line and key. A file
 * with nothing but whitespace and comments holds no settings, like an empty object.
 */
export function parseConfig(text: string, file = CONFIG_FILE): ShadowGitConfig {
  const errors: ParseError[] = [];
  const root = jsonc().parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const onlyNoValue = !root && errors.length === 1 && errors[0]!.error === VALUE_EXPECTED && errors[0]!.offset === text.length;
  if (onlyNoValue) return { exclude: [], critical: [] };
  if (errors.length > 0) {
    const { line, column, what } = describeJsonError(text, errors[0]!);
    throw new ShadowGitError(`${file}:${line}:${column}: ${what}; fix the JSON (comments and trailing commas are allowed).`, 'ECONFIG');
  }
  if (!root) return { exclude: [], critical: [] };
  if (root.type !== 'object') throw new ShadowGitError(`${file}:1: the file must hold one JSON object ({ … }); see ${CONFIG_HELP}.`, 'ECONFIG');
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
      throw new ShadowGitError(`${file} is ${what}; replace it with a small JSON file (see ${CONFIG_HELP}) or remove it.`, 'ECONFIG');
    }
    throw new ShadowGitError(`cannot read ${file} (${(err as Error).message}); fix its permissions.`, 'ECONFIG');
  }
  if (data === undefined) return { exclude: [], critical: [] };
  return parseConfig(data.toString('utf8'), file);
}
