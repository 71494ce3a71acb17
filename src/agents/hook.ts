import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ShadowGit, SnapshotReport } from '../shadowgit.js';
import { claude } from './claude.js';
import { cline } from './cline.js';
import { codex } from './codex.js';
import { cursor } from './cursor.js';
import type { AgentAdapter, HookEvent, Payload } from './event.js';
import { gemini } from './gemini.js';
import { DEFAULT_DESTRUCTIVE, destructiveMatch } from './guard.js';

// `shadowgit hook AGENT EVENT`: the one flow every agent's hook runs. The contract with the agent
// comes first: stdout carries only the answer the agent reads (or nothing), a failure is one line
// the caller prints on stderr, and the agent always goes on (exit 0) — except that with --guard
// a destructive shell command is put to the person. A running watcher records the snapshot; the
// engine loads only when none answers.

const ADAPTERS: Record<string, AgentAdapter> = { claude, codex, cursor, gemini, cline };

/** The agents `shadowgit hook` reads, by the name their hooks give. */
export const AGENTS = Object.keys(ADAPTERS);

/** A prompt or a patch is far smaller; a larger input is a mistake, not a hook's payload. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** How much of a prompt's first line or a command a snapshot's message keeps. */
const HEADLINE_CHARS = 72;

/** A failure the hook reports in one line and gets past. */
class HookProblem extends Error {}

/** What the hook prints: `stdout` for the agent; `problem`, when set, is the line for stderr. */
export interface HookAnswer {
  stdout: string;
  problem?: string;
}

type SnapshotRequest = NonNullable<Parameters<ShadowGit['snapshot']>[0]>;

/** The first non-blank line of `value`, without control characters, at most `chars` long (an ellipsis marks a cut). */
function headline(value: string, chars = HEADLINE_CHARS): string {
  const line = value.split('\n').find((l) => l.trim() !== '') ?? '';
  // eslint-disable-next-line no-control-regex
  const words = [...line.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim()];
  return words.length > chars ? `${words.slice(0, chars - 1).join('')}…` : words.join('');
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');

/** The agent's JSON object from `input`: bounded, UTF-8, an object; anything else is a HookProblem. */
async function readPayload(input: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<Payload> {
  if (input.isTTY) throw new HookProblem("`shadowgit hook` reads the JSON an agent's hook sends on stdin; it runs from the agent's hook settings (`shadowgit hooks install`), not by hand.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) throw new HookProblem(`the hook's input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB, which no agent sends; nothing was recorded.`);
    chunks.push(Buffer.from(chunk));
  }
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HookProblem("the hook's input is not UTF-8 text; nothing was recorded.");
  }
  if (json.trim() === '') throw new HookProblem('the hook got nothing on stdin, where the agent sends its JSON; nothing was recorded.');
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (err) {
    throw new HookProblem(`the hook's input is not JSON (${(err as Error).name}); nothing was recorded.`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new HookProblem("the hook's input is JSON but not an object; nothing was recorded.");
  return payload as Payload;
}

/** The event's working directory, checked: the tree is found from there as with `-C`. */
async function workingDirectory(cwd: string | undefined): Promise<string> {
  if (cwd === undefined) throw new HookProblem("the hook's JSON names no working directory, so there is no telling which tree to protect; nothing was recorded.");
  if (!path.isAbsolute(cwd)) throw new HookProblem(`the hook's working directory ${JSON.stringify(cwd)} is not an absolute path; nothing was recorded.`);
  const stat = await fsp.stat(cwd).catch(() => undefined);
  if (!stat?.isDirectory()) throw new HookProblem(`the hook's working directory ${cwd} ${stat ? 'is not a directory' : 'does not exist'}; nothing was recorded.`);
  return cwd;
}

async function openTree(cwd: string): Promise<ShadowGit> {
  const { ShadowGit } = await import('../shadowgit.js');
  return ShadowGit.open({ cwd });
}

/** A hook never makes the first snapshot of the home directory: that needs a person's yes. */
async function refuseNewHome(sg: ShadowGit): Promise<void> {
  if (!(await sg.initialized()) && (await sg.isHomeDirectory())) {
    throw new HookProblem(`${sg.worktree} is your home directory and has no shadow repository, so nothing was recorded; run \`shadowgit init\` there if you mean to protect all of it, or start the agent in a project directory.`);
  }
}

/** Records `request` for the tree found from `cwd`: by its running watcher if one takes it, else here. */
async function record(cwd: string, request: SnapshotRequest, opened?: ShadowGit): Promise<SnapshotReport> {
  const { snapshotViaWatcher } = await import('../engine/worktree/watchclient.js');
  const byWatcher = await snapshotViaWatcher({ cwd }, request);
  if (byWatcher) return byWatcher as unknown as SnapshotReport;
  const sg = opened ?? (await openTree(cwd));
  await refuseNewHome(sg);
  return sg.snapshot(request);
}

/** `file` as the agent's directory sees it: relative when inside it. */
function shownPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** The snapshot an event asks for: trigger, message, note and who asked. */
function requestFor(agent: string, hook: HookEvent, cwd: string): SnapshotRequest {
  const provenance = {
    agent,
    session: hook.session,
    event: hook.event,
    ...(hook.tool ? { tool: hook.tool } : {}),
    ...(hook.toolUseId ? { toolUseId: hook.toolUseId } : {}),
    ...(hook.promptId ? { promptId: hook.promptId } : {}),
  };
  if (hook.kind === 'prompt') {
    const prompt = hook.prompt ?? '';
    // Recorded even when nothing changed since the last snapshot: "before prompt N" always exists.
    return { trigger: 'agent-prompt', message: `before: ${headline(prompt) || 'an empty prompt'}`, ...(prompt.trim() ? { note: prompt } : {}), provenance, recordUnchanged: true };
  }
  if (hook.kind === 'tool') {
    const what = hook.path !== undefined ? shownPath(hook.path, cwd) : headline(hook.command ?? '');
    return { trigger: 'agent-tool', message: headline(`${hook.after ? 'after' : 'before'}: ${hook.tool ?? hook.event}${what ? ` ${what}` : ''}`), provenance };
  }
  return { trigger: 'agent-turn', message: 'end of turn', provenance };
}

/** "5 min", "3 h": how long ago a snapshot was taken. */
function age(date: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(date)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** What a session starts knowing: the tree is protected, its latest snapshot, and how to go back. */
async function sessionContext(cwd: string, session: string): Promise<string> {
  const sg = await openTree(cwd);
  await refuseNewHome(sg);
  const [latest] = await sg.list({ limit: 1 });
  const list = session ? `\`shadowgit list --session ${session}\` lists this session's snapshots` : '`shadowgit list` lists the snapshots';
  const prompts = session ? ` (\`prompt:N@${session}\` names the one taken before this session's prompt N)` : '';
  return [
    `This working tree (${sg.worktree}) is protected by shadowgit: the whole tree is recorded in a shadow git repository before each prompt and before each tool call that may write files, whoever changes them.`,
    latest ? `Latest snapshot: ${latest.id}, ${age(latest.date)} ago ("${latest.message}").` : 'No snapshot yet: the first prompt records one.',
    `To go back: ${list}; \`shadowgit diff ID\` shows what changed since one; \`shadowgit rollback ID --yes\` returns the tree to it${prompts}, recording the current state first so \`shadowgit undo\` reverses it. Ask the person before rolling back.`,
  ].join(' ');
}

/** What the person is told when a guarded command waits for their yes (or, where the agent cannot ask, was refused). */
function guardReason(adapter: AgentAdapter, command: string, outcome: { id: string } | { error: string }): string {
  const what = `\`${headline(command)}\` can delete work in this tree (it matches shadowgit's destructive-command list).`;
  const safety = 'id' in outcome
    ? `Snapshot ${outcome.id} holds the tree as it is now: \`shadowgit rollback ${outcome.id} --yes\` brings it back.`
    : `shadowgit could not record a snapshot first (${outcome.error}), so nothing would bring back what it deletes.`;
  const refused = adapter.canAsk ? '' : " This agent's hooks cannot ask for a confirmation, so shadowgit refused the command: if it is intended, the person can run it.";
  return `shadowgit: ${what} ${safety}${refused}`;
}

/**
 * --guard on a shell command: when it matches the destructive list (the tree's `.shadowgit`
 * "hooks.destructive", else the built-in one), snapshot first, then have the person confirm —
 * even when the snapshot failed. No answer when the command is not destructive; the tree's
 * handle, when opened, is passed on.
 */
async function guard(adapter: AgentAdapter, hook: HookEvent & { command: string }, cwd: string, request: SnapshotRequest): Promise<{ answer?: HookAnswer; opened?: ShadowGit }> {
  let opened: ShadowGit | undefined;
  let patterns = DEFAULT_DESTRUCTIVE;
  try {
    opened = await openTree(cwd);
    patterns = opened.config.hooks?.destructive ?? DEFAULT_DESTRUCTIVE;
  } catch {
    // Settings that cannot be read leave the built-in list on guard; the snapshot reports why.
  }
  if (!destructiveMatch(hook.command, patterns)) return { opened };
  try {
    const report = await record(cwd, request, opened);
    return { answer: { stdout: adapter.askAnswer(guardReason(adapter, hook.command, { id: report.id })) } };
  } catch (err) {
    return { answer: { stdout: adapter.askAnswer(guardReason(adapter, hook.command, { error: oneLine(err) })), problem: oneLine(err) } };
  }
}

/**
 * Runs one hook: reads the agent's JSON from `input`, records what the event asks for and
 * returns the answer to print. Never throws: every failure becomes `problem`.
 */
export async function runHook(agentName: string | undefined, eventArg: string | undefined, input: NodeJS.ReadableStream & { isTTY?: boolean }, options: { guard?: boolean } = {}): Promise<HookAnswer> {
  const agent = agentName?.toLowerCase();
  const adapter = agent !== undefined && Object.hasOwn(ADAPTERS, agent) ? ADAPTERS[agent]! : undefined;
  if (!adapter) {
    const named = agentName === undefined ? 'no agent was named' : `there is no agent "${agentName}"`;
    return { stdout: '', problem: `${named}; the hook's command is \`shadowgit hook AGENT EVENT\` with AGENT one of ${AGENTS.join(', ')}.` };
  }
  try {
    const payload = await readPayload(input);
    const event = adapter.eventName(payload) ?? eventArg;
    if (event === undefined) throw new HookProblem("neither the hook's JSON nor its command names the event; the hook's command is `shadowgit hook AGENT EVENT`.");
    const hook = adapter.read(event, payload);
    if (hook.kind === 'other') return { stdout: adapter.quiet };
    const cwd = await workingDirectory(hook.cwd);
    if (hook.kind === 'start') return { stdout: adapter.startAnswer(await sessionContext(cwd, hook.session)) };
    const request = requestFor(agent!, hook, cwd);
    let opened: ShadowGit | undefined;
    if (options.guard && hook.kind === 'tool' && hook.command !== undefined) {
      const guarded = await guard(adapter, { ...hook, command: hook.command }, cwd, request);
      if (guarded.answer) return guarded.answer;
      opened = guarded.opened;
    }
    await record(cwd, request, opened);
    return { stdout: adapter.quiet };
  } catch (err) {
    return { stdout: adapter.quiet, problem: oneLine(err) };
  }
}
