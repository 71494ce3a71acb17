import path from 'node:path';
import type { JsonAgent } from './types.js';

/**
 * Gemini CLI reads hooks from `.gemini/settings.json` (project) and `~/.gemini/settings.json`
 * (user), in Claude Code's shape with its own event and tool names; a hook has a `name`, and
 * its timeout is in milliseconds.
 */
export const gemini: JsonAgent = {
  kind: 'json',
  name: 'gemini',
  title: 'Gemini CLI',
  docs: 'https://geminicli.com/docs/hooks/reference',
  shape: 'grouped',
  skeleton: {},
  events: [
    { event: 'SessionStart' },
    { event: 'BeforeAgent' },
    { event: 'BeforeTool', matcher: 'write_file|replace' },
    { event: 'BeforeTool', matcher: 'run_shell_command', shell: true },
    { event: 'AfterAgent' },
  ],
  markers: (_scope, base) => [path.join(base, '.gemini')],
  file: (_scope, base) => path.join(base, '.gemini', 'settings.json'),
  hook: (command) => ({ name: 'shadowgit', type: 'command', command, timeout: 30000 }),
};
