import path from 'node:path';
import type { JsonAgent } from './types.js';

/**
 * Claude Code reads hooks from `.claude/settings.json` (project) and `~/.claude/settings.json`
 * (user): `hooks.EVENT = [{matcher, hooks: [{type: "command", command, timeout}]}]`, timeout in
 * seconds; a matcher is a regular expression over tool names.
 */
export const claude: JsonAgent = {
  kind: 'json',
  name: 'claude',
  title: 'Claude Code',
  docs: 'https://docs.claude.com/en/docs/claude-code/hooks',
  shape: 'grouped',
  skeleton: {},
  events: [
    { event: 'SessionStart' },
    { event: 'UserPromptSubmit' },
    { event: 'PreToolUse', matcher: 'Edit|Write|MultiEdit|NotebookEdit' },
    { event: 'PreToolUse', matcher: 'Bash|PowerShell', shell: true },
    { event: 'Stop' },
  ],
  markers: (_scope, base) => [path.join(base, '.claude')],
  file: (_scope, base) => path.join(base, '.claude', 'settings.json'),
  hook: (command) => ({ type: 'command', command, timeout: 30 }),
};
