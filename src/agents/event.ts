// What every agent's hook payload comes down to, and the shape of an agent's adapter: each
// agent's module (claude.ts, cursor.ts, …) reads its own JSON into a HookEvent and writes its own
// answers; hook.ts runs the one flow for all of them.

/** What a hook event asks of shadowgit. */
export type EventKind = 'prompt' | 'tool' | 'turn' | 'start' | 'other';

/** An agent's hook payload, normalised. */
export interface HookEvent {
  /** `tool` only for a tool that may write the tree; a read-only tool is `other`. */
  kind: EventKind;
  /** The agent's own name for the event, as it sent it. */
  event: string;
  session: string;
  /** The directory the agent works in: the tree is found from there, as with `-C`. */
  cwd?: string;
  tool?: string;
  toolUseId?: string;
  promptId?: string;
  prompt?: string;
  /** The shell command a tool is about to run: what `--guard` looks at. */
  command?: string;
  /** The file a tool writes (absolute, or relative to cwd). */
  path?: string;
  /** The event comes after the tool ran (Cursor's afterFileEdit), so its snapshot is "after:". */
  after?: boolean;
}

/** The JSON object an agent sent. */
export type Payload = Record<string, unknown>;

export interface AgentAdapter {
  /** Reads the payload of `event` (the agent's name for it). */
  read(event: string, payload: Payload): HookEvent;
  /** The payload's own name for the event, when it carries one. */
  eventName(payload: Payload): string | undefined;
  /** The session-start answer that puts `context` in front of the model. */
  startAnswer(context: string): string;
  /**
   * The answer that makes the person confirm a tool call; an agent whose hooks cannot ask
   * (`canAsk` false) refuses the call instead, and the reason says so.
   */
  askAnswer(reason: string): string;
  canAsk: boolean;
  /** What to print when there is nothing to say (an agent may read an empty answer as plain text). */
  quiet: string;
}

/** `value` when it is a non-empty string. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `value` when it is a JSON object, else an empty one. */
export function object(value: unknown): Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : {};
}

/** The first string of a list (Cursor's and Cline's workspace roots). */
export function firstOf(value: unknown): string | undefined {
  return Array.isArray(value) ? text(value[0]) : undefined;
}

/**
 * The kind of `event`, its name compared without case (`pretooluse` names PreToolUse too); a
 * tool event for a tool outside `writingTools` is `other`: a read-only tool needs no snapshot.
 */
export function kindOf(event: string, kinds: Record<string, EventKind>, tool?: string, writingTools?: ReadonlySet<string>): EventKind {
  const kind = kinds[event.toLowerCase()] ?? 'other';
  return kind === 'tool' && writingTools && !(tool && writingTools.has(tool)) ? 'other' : kind;
}

/**
 * The fields agents that follow Claude Code's hook format send (Claude Code, Codex CLI, Gemini
 * CLI): session_id, cwd, hook_event_name, prompt, tool_name, tool_input, tool_use_id.
 */
export function readClaudeStyle(event: string, payload: Payload, kinds: Record<string, EventKind>, writingTools: ReadonlySet<string>): HookEvent {
  const input = object(payload.tool_input);
  const tool = text(payload.tool_name);
  return {
    kind: kindOf(event, kinds, tool, writingTools),
    event,
    session: text(payload.session_id) ?? '',
    cwd: text(payload.cwd),
    tool,
    toolUseId: text(payload.tool_use_id),
    prompt: typeof payload.prompt === 'string' ? payload.prompt : undefined,
    command: text(input.command),
    path: text(input.file_path) ?? text(input.notebook_path),
  };
}

/** The SessionStart answer in Claude Code's format, which puts context in front of the model (Codex and Gemini read it too). */
export function sessionStartContext(context: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: context } });
}

/** A PreToolUse permission decision in Claude Code's format. */
export function permissionDecision(decision: 'ask' | 'deny', reason: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: decision, permissionDecisionReason: reason } });
}
