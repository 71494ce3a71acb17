import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../engine/fsutil.js';
import { claude } from './claude.js';
import { cline } from './cline.js';
import { codex } from './codex.js';
import { cursor } from './cursor.js';
import { gemini } from './gemini.js';
import { hookCommandLine, isShadowgitHook } from './invocation.js';
import { jsonHooksStatus, mergeJsonHooks, UnmergeableFileError, type WantedHook } from './jsonhooks.js';
import { eventLabel, type Agent, type AgentName, type HookChange, type JsonAgent, type Places, type Scope, type ScriptAgent } from './types.js';

export { AGENT_NAMES, SCOPES, type AgentName, type HookChange, type Places, type Scope } from './types.js';
export { shadowgitInvocation } from './invocation.js';

export const AGENTS: Record<AgentName, Agent> = { claude, cursor, codex, gemini, cline };

/** The directory a scope's configuration is found from: the tree's root, or the home directory. */
function baseOf(scope: Scope, places: Places): string {
  if (scope === 'user') return places.home;
  if (!places.root) throw new Error('project scope needs the tree root');
  return places.root;
}

/** Where an agent's hooks live at a scope: its settings file, or its hooks directory. */
function hooksLocation(agent: Agent, scope: Scope, places: Places): string {
  const base = baseOf(scope, places);
  return agent.kind === 'json' ? agent.file(scope, base, places) : agent.dir(scope, base, places);
}

/** The agents whose configuration directory exists at this scope. */
export async function detectAgents(scope: Scope, places: Places): Promise<Agent[]> {
  const base = baseOf(scope, places);
  const found: Agent[] = [];
  for (const agent of Object.values(AGENTS)) {
    for (const marker of agent.markers(scope, base, places)) {
      if (await fsp.stat(marker).then((s) => s.isDirectory(), () => false)) {
        found.push(agent);
        break;
      }
    }
  }
  return found;
}

/** The marker directories, as a user would look for them (`.claude`), for the message that found none. */
export function markerNames(scope: Scope, places: Places): string[] {
  const base = baseOf(scope, places);
  return Object.values(AGENTS).flatMap((agent) => agent.markers(scope, base, places).map((m) => path.relative(base, m) || m));
}

/** A file to write (`content`) or remove (`null`); `path` is where the bytes go (a symlink's target). */
interface FileWrite {
  path: string;
  content: string | null;
  executable?: true;
}

export interface HookPlan {
  change: HookChange;
  writes: FileWrite[];
  /** Said after installing: a step the agent needs before the hooks run. */
  note?: string;
}

/**
 * The text of a file to merge into, and where writing it goes. A symlinked file is written
 * through to its target when that is a regular file (the link stays, dotfile managers keep
 * working); a link to nothing or to something else, or a path that is not a regular file, is
 * refused.
 */
async function readTarget(file: string): Promise<{ path: string; text?: string; symlink: boolean }> {
  let stat;
  try {
    stat = await fsp.lstat(file);
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOENT') return { path: file, symlink: false };
    if (code === 'ENOTDIR') throw new UnmergeableFileError(`${path.dirname(file)} is a file, not a directory; move it away, then run the command again.`);
    throw err;
  }
  if (stat.isSymbolicLink()) {
    const target = await fsp.realpath(file).catch(() => undefined);
    const targetStat = target ? await fsp.stat(target).catch(() => undefined) : undefined;
    if (!target || !targetStat?.isFile()) throw new UnmergeableFileError(`${file} is a symbolic link to ${target ?? (await fsp.readlink(file))}, which is not a regular file; point it at a file (or remove it), then run the command again.`);
    return { path: target, text: await fsp.readFile(target, 'utf8'), symlink: true };
  }
  if (!stat.isFile()) throw new UnmergeableFileError(`${file} is not a regular file; move it away, then run the command again.`);
  return { path: file, text: await fsp.readFile(file, 'utf8'), symlink: false };
}

/** The hooks an agent should hold. */
function wantedHooks(agent: Agent, program: string, guard: boolean): Array<{ event: string; matcher?: string; command: string }> {
  return agent.events.map((e) => ({ event: e.event, matcher: e.matcher, command: hookCommandLine(program, agent.name, e.event, guard && Boolean(e.shell)) }));
}

const jsonWanted = (agent: JsonAgent, program: string, guard: boolean): WantedHook[] => wantedHooks(agent, program, guard).map((w) => ({ event: w.event, matcher: w.matcher, hook: agent.hook(w.command) }));

/**
 * What installing (`program` set) or uninstalling (`program` undefined) changes for one agent
 * at one scope; nothing is written. A file that cannot be merged into throws, so a request is
 * checked whole before anything is written.
 */
export async function planHooks(agent: Agent, scope: Scope, places: Places, program: string | undefined, guard = false): Promise<HookPlan> {
  const location = hooksLocation(agent, scope, places);
  const base = { agent: agent.name, scope, file: location, skipped: [] as string[] };
  if (agent.kind === 'scripts') return planScripts(agent, location, base, program, guard);
  const target = await readTarget(location);
  // Nothing of ours can be in a file that never names a shadowgit hook: uninstalling from every
  // agent is not stopped by another tool's broken settings.
  if (program === undefined && !/shadowgit\S* hook /.test(target.text ?? '')) return { change: { ...base, added: [], removed: [], unchanged: [] }, writes: [] };
  const merged = mergeJsonHooks(agent, target.text, location, program === undefined ? [] : jsonWanted(agent, program, guard));
  const changed = merged.added.length + merged.removed.length > 0;
  // A symlinked file is never removed: the link's target keeps an empty configuration instead.
  const content = merged.text === null && target.symlink ? `${JSON.stringify(agent.skeleton, null, 2)}\n` : merged.text;
  return {
    change: { ...base, added: merged.added, removed: merged.removed, unchanged: merged.unchanged },
    writes: changed ? [{ path: target.path, content }] : [],
    ...(agent.note && program !== undefined && merged.added.length > 0 ? { note: agent.note } : {}),
  };
}

/** The marker line of a script shadowgit wrote: the command it runs. */
const scriptCommand = (text: string) => /^exec (.+)$/m.exec(text)?.[1];
const isOurScript = (text: string) => isShadowgitHook(scriptCommand(text));
const scriptFor = (command: string) => `#!/bin/sh\n# Written by \`shadowgit hooks install\`; \`shadowgit hooks uninstall\` removes it.\nexec ${command}\n`;

/** Our scripts in a hooks directory, by event name, with their text. */
async function ourScripts(dir: string): Promise<Map<string, string>> {
  const ours = new Map<string, string>();
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const text = await fsp.readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text !== undefined && text.length < 4096 && isOurScript(text)) ours.set(name, text);
  }
  return ours;
}

async function planScripts(agent: ScriptAgent, dir: string, base: Omit<HookChange, 'added' | 'removed' | 'unchanged'>, program: string | undefined, guard: boolean): Promise<HookPlan> {
  if (process.platform === 'win32') throw new UnmergeableFileError(`${agent.title} runs PowerShell hook scripts on Windows, which shadowgit does not write yet; add ${dir}\\PreToolUse.ps1 and the others by hand, running \`shadowgit hook ${agent.name} EVENT\`.`);
  // Only installing needs the directory; a file in its place holds nothing of ours to uninstall.
  for (const level of program === undefined ? [] : [path.dirname(dir), dir]) {
    if (await fsp.stat(level).then((s) => !s.isDirectory(), () => false)) {
      throw new UnmergeableFileError(`${level} is a file, but ${agent.title} reads hooks from the directory ${dir}; turn ${path.basename(level)} into a directory (move what it holds into a file inside it), then run the command again.`);
    }
  }
  const ours = await ourScripts(dir);
  const change: HookChange = { ...base, added: [], removed: [], unchanged: [], skipped: [] };
  const writes: FileWrite[] = [];
  const wanted = program === undefined ? [] : wantedHooks(agent, program, guard);
  for (const w of wanted) {
    const file = path.join(dir, w.event);
    const content = scriptFor(w.command);
    const target = await readTarget(file);
    if (target.text === content) {
      change.unchanged.push(eventLabel(w));
    } else if (target.text === undefined || isOurScript(target.text)) {
      if (target.text !== undefined) change.removed.push(eventLabel(w));
      change.added.push(eventLabel(w));
      writes.push({ path: target.path, content, executable: true });
    } else {
      change.skipped.push(eventLabel(w));
    }
  }
  for (const event of ours.keys()) {
    if (wanted.some((w) => w.event === event)) continue;
    change.removed.push(event);
    const target = await readTarget(path.join(dir, event));
    writes.push({ path: target.path, content: null });
  }
  return { change, writes };
}

/** Carries out a plan: every file by temp file + rename, keeping its mode; a removed file is unlinked. */
export async function applyPlan(plan: HookPlan): Promise<void> {
  for (const write of plan.writes) {
    if (write.content === null) {
      await fsp.rm(write.path, { force: true });
      continue;
    }
    await fsp.mkdir(path.dirname(write.path), { recursive: true });
    await writeFileAtomic(write.path, write.content, write.executable ? { mode: 0o755 } : { keepMode: true });
  }
}

export interface HookStatus {
  agent: AgentName;
  title: string;
  scope: Scope;
  file: string;
  /** Our events found there (labels). */
  installed: string[];
  /** Every event of ours is there, as the installed shadowgit would write it. */
  current: boolean;
  /** Why the file could not be read, when it could not. */
  problem?: string;
}

/**
 * What is installed for an agent at a scope, compared with what `install` would write now
 * (with --guard when the installed shell entry has it).
 */
export async function hooksStatus(agent: Agent, scope: Scope, places: Places, program: string): Promise<HookStatus> {
  const file = hooksLocation(agent, scope, places);
  const row = { agent: agent.name, title: agent.title, scope, file };
  try {
    if (agent.kind === 'scripts') {
      const ours = await ourScripts(file);
      const guard = [...ours.values()].some((text) => / --guard$/m.test(text));
      const plan = await planScripts(agent, file, { ...row, skipped: [] }, program, guard);
      return { ...row, installed: [...ours.keys()], current: ours.size > 0 && plan.writes.length === 0 && plan.change.skipped.length === 0 };
    }
    const target = await readTarget(file);
    if (target.text === undefined) return { ...row, installed: [], current: false };
    return { ...row, ...jsonHooksStatus(agent, target.text, file, (guard) => jsonWanted(agent, program, guard)) };
  } catch (err) {
    if (!(err instanceof UnmergeableFileError)) throw err;
    return { ...row, installed: [], current: false, problem: err.message };
  }
}
