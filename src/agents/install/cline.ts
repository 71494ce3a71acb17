import path from 'node:path';
import type { ScriptAgent } from './types.js';

/**
 * Cline runs an executable file named after the event (no extension) from `.clinerules/hooks/`
 * (project) or the global hooks directory, `~/Documents/Cline/Hooks/`, which both the VS Code
 * extension and the newer `~/.cline` layout read. A script per event means one file can hold
 * only one tool's hook: a file there that is not ours is left alone and its event skipped.
 */
export const cline: ScriptAgent = {
  kind: 'scripts',
  name: 'cline',
  title: 'Cline',
  docs: 'https://docs.cline.bot/customization/hooks',
  events: [
    { event: 'TaskStart' },
    { event: 'TaskResume' },
    { event: 'UserPromptSubmit' },
    // Cline's PreToolUse has no matcher: it fires for every tool, shell commands included.
    { event: 'PreToolUse', shell: true },
    { event: 'TaskComplete' },
  ],
  markers: (scope, base) => (scope === 'user' ? [path.join(base, 'Documents', 'Cline'), path.join(base, '.cline')] : [path.join(base, '.clinerules'), path.join(base, '.cline')]),
  dir: (scope, base) => (scope === 'user' ? path.join(base, 'Documents', 'Cline', 'Hooks') : path.join(base, '.clinerules', 'hooks')),
};
