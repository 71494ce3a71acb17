import { sessionStartContext, permissionDecision, readClaudeStyle, text, type AgentAdapter, type EventKind } from './event.js';

// Claude Code (https://code.claude.com/docs/en/hooks): JSON on stdin with session_id,
// transcript_path, cwd, permission_mode, hook_event_name, prompt_id; UserPromptSubmit adds
// prompt, PreToolUse tool_name/tool_input/tool_use_id, SessionStart source, Stop
// stop_hook_active. Exit 0 lets the agent go on; stdout is read as JSON when it is JSON, and for
// UserPromptSubmit and SessionStart plain text becomes context, so shadowgit prints nothing there.

const KINDS: Record<string, EventKind> = { userpromptsubmit: 'prompt', pretooluse: 'tool', stop: 'turn', sessionstart: 'start' };

/** The tools that can change the tree; Read, Grep, Glob, WebFetch… need no snapshot. */
const WRITING_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'Bash', 'PowerShell']);

export const claude: AgentAdapter = {
  read: (event, payload) => ({ ...readClaudeStyle(event, payload, KINDS, WRITING_TOOLS), promptId: text(payload.prompt_id) }),
  eventName: (payload) => text(payload.hook_event_name),
  startAnswer: sessionStartContext,
  askAnswer: (reason) => permissionDecision('ask', reason),
  canAsk: true,
  quiet: '',
};
