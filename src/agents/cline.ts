import { firstOf, kindOf, object, text, type AgentAdapter, type EventKind } from './event.js';

// Cline hooks (https://docs.cline.bot/features/hooks/hook-reference): every hook gets
// clineVersion, hookName, timestamp, taskId, workspaceRoots, userId and its own object
// (userPromptSubmit {prompt, attachments}, preToolUse {toolName, parameters}, taskStart
// {taskMetadata}, …). It answers {cancel, contextModification, errorMessage}; no JSON lets the
// action proceed. Cline's hooks cannot ask the person: cancel is their only stop.

const KINDS: Record<string, EventKind> = { userpromptsubmit: 'prompt', pretooluse: 'tool', taskcomplete: 'turn', taskcancel: 'turn', taskstart: 'start', taskresume: 'start' };

const WRITING_TOOLS = new Set(['write_to_file', 'replace_in_file', 'apply_patch', 'execute_command']);

export const cline: AgentAdapter = {
  read(event, payload) {
    const use = object(payload.preToolUse);
    const parameters = object(use.parameters);
    const tool = text(use.toolName);
    const prompt = object(payload.userPromptSubmit).prompt;
    return {
      kind: kindOf(event, KINDS, tool, WRITING_TOOLS),
      event,
      session: text(payload.taskId) ?? '',
      cwd: firstOf(payload.workspaceRoots),
      tool,
      prompt: typeof prompt === 'string' ? prompt : undefined,
      command: text(parameters.command),
      path: text(parameters.path),
    };
  },
  eventName: (payload) => text(payload.hookName),
  startAnswer: (context) => JSON.stringify({ cancel: false, contextModification: context }),
  askAnswer: (reason) => JSON.stringify({ cancel: true, errorMessage: reason, contextModification: reason }),
  canAsk: false,
  quiet: '',
};
