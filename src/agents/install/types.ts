/** What `shadowgit hooks install` knows about an agent: where its hook configuration lives and what goes in it. */

export const AGENT_NAMES = ['claude', 'cursor', 'codex', 'gemini', 'cline'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export const SCOPES = ['project', 'user'] as const;
/** project: the tree's root; user: the home directory (every project of that user). */
export type Scope = (typeof SCOPES)[number];

/** The directories a scope's files are found from. */
export interface Places {
  /** The working tree's root, for project scope. */
  root?: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

/** One event the hooks listen to; `shell`: the entry for shell commands, which `--guard` applies to. */
export interface HookEvent {
  event: string;
  matcher?: string;
  shell?: true;
}

interface AgentBase {
  name: AgentName;
  /** The agent's own name, for messages. */
  title: string;
  /** The agent's hook documentation, for docs and `--help`. */
  docs: string;
  events: readonly HookEvent[];
  /** Directories whose presence says the agent is used at this scope (install without --agent). */
  markers(scope: Scope, base: string, places: Places): string[];
  /** Said after installing, when the agent needs a step of its own before the hooks run. */
  note?: string;
}

/**
 * An agent configured by a JSON file: `grouped` is Claude Code's shape
 * (`hooks.EVENT = [{matcher, hooks: [HOOK]}]`), `flat` Cursor's (`hooks.EVENT = [HOOK with matcher]`).
 */
export interface JsonAgent extends AgentBase {
  kind: 'json';
  file(scope: Scope, base: string, places: Places): string;
  shape: 'grouped' | 'flat';
  /** What a new file holds besides the hooks (Cursor's `version`); a file left holding only this is removed. */
  skeleton: Record<string, unknown>;
  /** The hook object for a command (type, timeout, name as the agent wants them). */
  hook(command: string): Record<string, unknown>;
}

/** An agent configured by one executable script per event, named after the event (Cline). */
export interface ScriptAgent extends AgentBase {
  kind: 'scripts';
  dir(scope: Scope, base: string, places: Places): string;
}

export type Agent = JsonAgent | ScriptAgent;

/** What installing or uninstalling did (or, with --dry-run, would do) to one agent's configuration at one scope. */
export interface HookChange {
  agent: AgentName;
  scope: Scope;
  /** The settings file, or the hooks directory of a script agent. */
  file: string;
  added: string[];
  removed: string[];
  unchanged: string[];
  /** Events left alone because a file that is not ours holds their place. */
  skipped: string[];
}

/** The label of an event in reports: `PreToolUse (Bash|PowerShell)`. */
export const eventLabel = (e: { event: string; matcher?: string }) => (e.matcher ? `${e.event} (${e.matcher})` : e.event);
