import { firstOf, kindOf, text, type AgentAdapter, type EventKind } from './event.js';

// Cursor hooks (https://cursor.com/docs/agent/hooks): every event carries conversation_id,
// generation_id, hook_event_name, workspace_roots (and model, cursor_version, user_email,
// transcript_path in newer versions); beforeSubmitPrompt adds prompt and attachments,
// beforeShellExecution command and cwd, afterFileEdit file_path and edits, stop status,
// sessionStart session_id. beforeShellExecution answers {permission, user_message,
// agent_message}; sessionStart {additional_context}. The tree is the first workspace root.

const KINDS: Record<string, EventKind> = { beforesubmitprompt: 'prompt', beforeshellexecution: 'tool', afterfileedit: 'tool', stop: 'turn', sessionstart: 'start' };

export const cursor: AgentAdapter = {
  read(event, payload) {
    const shell = event.toLowerCase() === 'beforeshellexecution';
    const edit = event.toLowerCase() === 'afterfileedit';
    return {
      kind: kindOf(event, KINDS),
      event,
      session: text(payload.conversation_id) ?? text(payload.session_id) ?? '',
      cwd: firstOf(payload.workspace_roots) ?? text(payload.cwd),
      ...(shell ? { tool: 'Shell', command: text(payload.command) } : {}),
      ...(edit ? { tool: 'Edit', path: text(payload.file_path), after: true } : {}),
      promptId: text(payload.generation_id),
      prompt: typeof payload.prompt === 'string' ? payload.prompt : undefined,
    };
  },
  eventName: (payload) => text(payload.hook_event_name),
  startAnswer: (context) => JSON.stringify({ additional_context: context }),
  askAnswer: (reason) => JSON.stringify({ permission: 'ask', user_message: reason, agent_message: reason }),
  canAsk: true,
  quiet: '',
};
