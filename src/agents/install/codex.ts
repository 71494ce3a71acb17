import path from 'node:path';
import type { JsonAgent, Places, Scope } from './types.js';

/** Codex keeps its user configuration in $CODEX_HOME, else ~/.codex. */
const codexDir = (scope: Scope, base: string, places: Places) => (scope === 'user' && places.env.CODEX_HOME ? path.resolve(places.env.CODEX_HOME) : path.join(base, '.codex'));

/**
 * Codex CLI reads hooks from a `hooks.json` beside each configuration layer (`.codex/hooks.json`
 * in a trusted project, `~/.codex/hooks.json`), in Claude Code's shape; file edits are the
 * `apply_patch` tool, shell commands `Bash`. The same hooks can be written as `[hooks]` tables
 * in config.toml; hooks.json is used so that config.toml is never rewritten.
 */
export const codex: JsonAgent = {
  kind: 'json',
  name: 'codex',
  title: 'Codex CLI',
  docs: 'https://developers.openai.com/codex/hooks',
  shape: 'grouped',
  skeleton: {},
  events: [
    { event: 'SessionStart' },
    { event: 'UserPromptSubmit' },
    { event: 'PreToolUse', matcher: 'apply_patch' },
    { event: 'PreToolUse', matcher: 'Bash', shell: true },
    { event: 'Stop' },
  ],
  markers: (scope, base, places) => [codexDir(scope, base, places)],
  file: (scope, base, places) => path.join(codexDir(scope, base, places), 'hooks.json'),
  hook: (command) => ({ type: 'command', command, timeout: 30 }),
  note: 'Codex runs a new or changed hook only after you trust it: open `/hooks` in Codex and trust the shadowgit hooks (a project\'s hooks also need the project to be trusted).',
};
