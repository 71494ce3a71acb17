import { sessionStartContext, permissionDecision, readClaudeStyle, text, type AgentAdapter, type EventKind } from './event.js';

// Codex CLI hooks (https://developers.openai.com/codex/hooks; schemas in openai/codex
// codex-rs/hooks/schema/generated): Claude Code's format. Every event carries session_id,
// transcript_path, cwd, hook_event_name, model, permission_mode; turn-scoped ones (PreToolUse,
// UserPromptSubmit, Stop) a turn_id. PreToolUse names the shell tool `Bash` and the file editor
// `apply_patch`, whose tool_input.command is the patch. Codex honours only "deny" of the
// permission decisions: "ask" is rejected as unsupported and the call goes ahead.

const KINDS: Record<string, EventKind> = { userpromptsubmit: 'prompt', pretooluse: 'tool', stop: 'turn', sessionstart: 'start' };

const WRITING_TOOLS = new Set(['Bash', 'apply_patch']);

/** The files an apply_patch body names (`*** Update File: src/a.ts`). */
function patchedFiles(patch: string): string[] {
  return [...patch.matchAll(/^\*\*\* (?:Add|Update|Delete) File: (.+)$/gm)].map((match) => match[1]!.trim());
}

export const codex: AgentAdapter = {
  read(event, payload) {
    const read = { ...readClaudeStyle(event, payload, KINDS, WRITING_TOOLS), promptId: text(payload.turn_id) };
    if (read.tool !== 'apply_patch' || read.command === undefined) return read;
    const files = patchedFiles(read.command);
    // A patch is not a shell command: the guard has nothing to read in it.
    return { ...read, command: undefined, path: files.length > 1 ? `${files[0]} (+${files.length - 1} more)` : files[0] };
  },
  eventName: (payload) => text(payload.hook_event_name),
  startAnswer: sessionStartContext,
  askAnswer: (reason) => permissionDecision('deny', reason),
  canAsk: false,
  quiet: '',
};
