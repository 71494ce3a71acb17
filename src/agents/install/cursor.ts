import path from 'node:path';
import type { JsonAgent } from './types.js';

/**
 * Cursor reads hooks from `.cursor/hooks.json` (project) and `~/.cursor/hooks.json` (user):
 * `{version: 1, hooks: {EVENT: [{command, timeout}]}}`, event names in lowerCamelCase,
 * timeout in seconds.
 */
export const cursor: JsonAgent = {
  kind: 'json',
  name: 'cursor',
  title: 'Cursor',
  docs: 'https://cursor.com/docs/agent/hooks',
  shape: 'flat',
  skeleton: { version: 1 },
  events: [
    { event: 'sessionStart' },
    { event: 'beforeSubmitPrompt' },
    { event: 'beforeShellExecution', shell: true },
    { event: 'afterFileEdit' },
    { event: 'stop' },
  ],
  markers: (_scope, base) => [path.join(base, '.cursor')],
  file: (_scope, base) => path.join(base, '.cursor', 'hooks.json'),
  hook: (command) => ({ command, timeout: 30 }),
};
