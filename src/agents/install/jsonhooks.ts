import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, parseTree, getNodeValue, printParseErrorCode, type FormattingOptions, type JSONPath, type ParseError } from 'jsonc-parser';
import { ShadowGitError } from '../../engine/errors.js';
import { isShadowgitHook } from './invocation.js';
import { eventLabel, type JsonAgent } from './types.js';

/** One entry the file should hold: the event, its matcher and the hook object. */
export interface WantedHook {
  event: string;
  matcher?: string;
  hook: Record<string, unknown>;
}

/** Where one of our hooks sits in the file, and what it is. */
interface FoundHook {
  event: string;
  /** Index in the event's list. */
  index: number;
  /** Index in the group's `hooks` (grouped shape). */
  inner?: number;
  matcher?: string;
  hook: Record<string, unknown>;
}

/** A settings file that cannot be merged into: the file is left as it is. */
export class UnmergeableFileError extends ShadowGitError {
  constructor(message: string) {
    super(message, 'EHOOKCONFIG');
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a settings file (JSON; comments are kept, as the JSONC parser reads them): the root
 * object, or an error naming the file and line. An empty file reads as `{}`.
 */
export function readSettings(text: string, file: string): Json {
  if (text.trim() === '') return {};
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length > 0 || !tree) {
    const first = errors[0];
    const line = first ? text.slice(0, first.offset).split('\n').length : 1;
    throw new UnmergeableFileError(`${file} is not valid JSON (${first ? printParseErrorCode(first.error) : 'empty'} at line ${line}); fix it by hand, then run the command again — it was left as it is.`);
  }
  // Plain objects (the parser's have no prototype), so that they compare equal to literals.
  const root: unknown = JSON.parse(JSON.stringify(getNodeValue(tree)));
  if (!isObject(root)) throw new UnmergeableFileError(`${file} does not hold a JSON object; fix it by hand, then run the command again — it was left as it is.`);
  if (root.hooks !== undefined && !isObject(root.hooks)) throw new UnmergeableFileError(`${file}: "hooks" is not an object; fix it by hand, then run the command again — it was left as it is.`);
  return root;
}

/** Our hooks in a parsed settings file, wherever they are. */
function findOurs(agent: JsonAgent, root: Json): FoundHook[] {
  const found: FoundHook[] = [];
  const hooks = isObject(root.hooks) ? root.hooks : {};
  for (const [event, list] of Object.entries(hooks)) {
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, index) => {
      if (!isObject(entry)) return;
      if (agent.shape === 'flat') {
        if (!isShadowgitHook(entry.command)) return;
        const { matcher, ...hook } = entry;
        found.push({ event, index, matcher: typeof matcher === 'string' ? matcher : undefined, hook });
        return;
      }
      if (!Array.isArray(entry.hooks)) return;
      entry.hooks.forEach((hook: unknown, inner) => {
        if (isObject(hook) && isShadowgitHook(hook.command)) found.push({ event, index, inner, matcher: typeof entry.matcher === 'string' ? entry.matcher : undefined, hook });
      });
    });
  }
  return found;
}

/**
 * The events installed (ours, as labels), and whether they are exactly what installing would
 * write now (`wanted`, with --guard when an installed entry has it).
 */
export function jsonHooksStatus(agent: JsonAgent, text: string, file: string, wanted: (guard: boolean) => WantedHook[]): { installed: string[]; current: boolean } {
  const ours = findOurs(agent, readSettings(text, file));
  const guard = ours.some((o) => String(o.hook.command).endsWith(' --guard'));
  const { missing, stale } = compare(ours, wanted(guard));
  return { installed: ours.map(eventLabel), current: ours.length > 0 && missing.length === 0 && stale.length === 0 };
}

function compare(ours: FoundHook[], wanted: WantedHook[]): { kept: WantedHook[]; missing: WantedHook[]; stale: FoundHook[] } {
  const claimed = new Set<FoundHook>();
  const kept: WantedHook[] = [];
  const missing: WantedHook[] = [];
  for (const w of wanted) {
    const match = ours.find((o) => !claimed.has(o) && o.event === w.event && o.matcher === w.matcher && isDeepStrictEqual(o.hook, w.hook));
    if (match) {
      claimed.add(match);
      kept.push(w);
    } else {
      missing.push(w);
    }
  }
  return { kept, missing, stale: ours.filter((o) => !claimed.has(o)) };
}

/** The file's own indentation and line ends, so that what is added looks like what was there. */
function formattingOf(text: string): FormattingOptions {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  return { insertSpaces: !indent?.startsWith('\t'), tabSize: indent && !indent.startsWith('\t') ? indent.length : 2, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/**
 * The file's text with exactly `wanted` as our hooks: ours that differ or are no longer wanted
 * are removed, missing ones added as entries of their own at the end of their event's list;
 * nothing else is touched (other keys, other tools' hooks, comments, formatting). A group, an
 * event's list or `hooks` that becomes empty because ours were removed goes too; `null` when
 * what is left is only the agent's skeleton (the file held nothing but our hooks). With
 * `wanted` empty this is uninstalling.
 */
export function mergeJsonHooks(agent: JsonAgent, text: string | undefined, file: string, wanted: WantedHook[]): { text: string | null; added: string[]; removed: string[]; unchanged: string[] } {
  let current = text === undefined || text.trim() === '' ? `${JSON.stringify(agent.skeleton, null, 2)}\n` : text;
  const formattingOptions = formattingOf(current);
  const edit = (path: JSONPath, value: unknown) => {
    current = applyEdits(current, modify(current, path, value, { formattingOptions }));
  };
  const root = readSettings(current, file);
  const { kept, missing, stale } = compare(findOurs(agent, root), wanted);
  for (const w of missing) {
    const list = isObject(root.hooks) ? root.hooks[w.event] : undefined;
    if (list !== undefined && !Array.isArray(list)) throw new UnmergeableFileError(`${file}: "hooks.${w.event}" is not a list; fix it by hand, then run the command again — it was left as it is.`);
  }

  // Removals from the last position back, so that the positions still to remove stay valid.
  const byPosition = [...stale].sort((a, b) => a.event.localeCompare(b.event) || b.index - a.index || (b.inner ?? 0) - (a.inner ?? 0));
  const emptiedEvents = new Set<string>();
  for (const s of byPosition) {
    const value = readSettings(current, file);
    const list = (value.hooks as Json)[s.event] as unknown[];
    if (s.inner === undefined) {
      edit(['hooks', s.event, s.index], undefined);
    } else if ((list[s.index] as { hooks: unknown[] }).hooks.length === 1) {
      edit(['hooks', s.event, s.index], undefined);
    } else {
      edit(['hooks', s.event, s.index, 'hooks', s.inner], undefined);
    }
    if (list.length === 1 && (s.inner === undefined || (list[0] as { hooks: unknown[] }).hooks.length === 1)) emptiedEvents.add(s.event);
  }
  for (const event of emptiedEvents) if (!missing.some((w) => w.event === event)) edit(['hooks', event], undefined);

  for (const w of missing) {
    const entry = agent.shape === 'flat' ? { ...w.hook, ...(w.matcher !== undefined ? { matcher: w.matcher } : {}) } : { ...(w.matcher !== undefined ? { matcher: w.matcher } : {}), hooks: [w.hook] };
    const value = readSettings(current, file);
    const hooks = isObject(value.hooks) ? value.hooks : undefined;
    if (!hooks) edit(['hooks'], { [w.event]: [entry] });
    else if (!Array.isArray(hooks[w.event])) edit(['hooks', w.event], [entry]);
    else edit(['hooks', w.event, -1], entry);
  }

  const after = readSettings(current, file);
  if (stale.length > 0 && isObject(after.hooks) && Object.keys(after.hooks).length === 0 && isObject(root.hooks) && Object.keys(root.hooks).length > 0) {
    edit(['hooks'], undefined);
  }
  const left = readSettings(current, file);
  const onlySkeleton = stale.length > 0 && isDeepStrictEqual(left, agent.skeleton);
  return {
    text: onlySkeleton ? null : current,
    added: missing.map(eventLabel),
    removed: stale.map(eventLabel),
    unchanged: kept.map(eventLabel),
  };
}
