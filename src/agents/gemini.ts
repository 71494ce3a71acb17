import { sessionStartContext, readClaudeStyle, text, type AgentAdapter, type EventKind } from './event.js';

// Gemini CLI hooks (https://geminicli.com/docs/hooks/reference): stdin carries session_id,
// transcript_path, cwd, hook_event_name, timestamp; BeforeAgent adds prompt, BeforeTool
// tool_name/tool_input, AfterAgent prompt/prompt_response, SessionStart source. Exit 0 with JSON
// on stdout; an empty stdout makes Gemini read stderr as the hook's plain-text answer, so
// shadowgit always prints a JSON object. BeforeTool's `decision: "ask"` forces the person's
// confirmation, with `systemMessage` shown in it (google-gemini/gemini-cli#21146).

const KINDS: Record<string, EventKind> = { beforeagent: 'prompt', beforetool: 'tool', afteragent: 'turn', sessionstart: 'start' };

const WRITING_TOOLS = new Set(['write_file', 'replace', 'run_shell_command']);

export const gemini: AgentAdapter = {
  read: (event, payload) => readClaudeStyle(event, payload, KINDS, WRITING_TOOLS),
  eventName: (payload) => text(payload.hook_event_name),
  startAnswer: sessionStartContext,
  askAnswer: (reason) => JSON.stringify({ decision: 'ask', reason, systemMessage: reason }),
  canAsk: true,
  quiet: '{}',
};
