import type { SessionSummary } from '../../shadowgit.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { outputWidth, truncateEnd } from '../fit.js';
import { renderFitted, type Column } from '../layout.js';
import { badValue } from '../usage.js';
import { absoluteTime, color, print, printJson, relativeTime, visible } from '../output.js';

interface Args extends GlobalArgs {
  agent?: string;
  limit?: number;
}

/** Width of the listing off a terminal, as `list`'s. */
const PIPED_WIDTH = 100;
const MIN_PROMPT = 16;

const filesOf = (s: SessionSummary) => (s.filesChanged === null ? '?' : String(s.filesChanged));
const promptOf = (s: SessionSummary) => (s.firstPrompt === null ? '' : visible(s.firstPrompt));
const labelColumn: Column<SessionSummary> = { head: 'session', cell: (s) => visible(s.label), paint: color.bold };
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Every column: for terminals of 100 columns or more, and for pipes. */
const WIDE: Column<SessionSummary>[] = [
  labelColumn,
  { head: 'started', cell: (s) => absoluteTime(s.started) },
  { head: 'last active', cell: (s) => relativeTime(s.lastActivity) },
  { head: 'prompts', cell: (s) => String(s.prompts) },
  { head: 'snapshots', cell: (s) => String(s.snapshots) },
  { head: 'files', cell: filesOf },
  { head: 'first prompt', cell: promptOf, shrinkTo: MIN_PROMPT },
];

/** 80-column terminals: the last activity over its date, the prompts over the files; no start, no snapshot count. */
const NARROW: Column<SessionSummary>[] = [
  labelColumn,
  { head: 'last active', cell: (s) => `${relativeTime(s.lastActivity)}\n${absoluteTime(s.lastActivity)}`, paint: (text) => text.replace(/\n(.*)$/, (_, absolute: string) => `\n${color.dim(absolute)}`) },
  { head: 'prompts\nfiles', cell: (s) => `${s.prompts}\n${filesOf(s)}` },
  { head: 'first prompt', cell: promptOf, shrinkTo: MIN_PROMPT },
];

/** Narrower than any table: two lines a session, each cut to the width. */
function renderLines(sessions: SessionSummary[], width: number): string {
  return sessions
    .flatMap((s) => {
      const label = visible(s.label);
      const head = truncateEnd(`${label} ${relativeTime(s.lastActivity)}, ${plural(s.prompts, 'prompt')}, ${plural(s.snapshots, 'snapshot')}, ${filesOf(s)} files`, width);
      return [head.replace(label, color.bold(label)), truncateEnd(`  ${promptOf(s)}`, width)];
    })
    .join('\n');
}

export const sessionsCommand = defineCommand<Args>({
  name: 'sessions',
  describe: "List the AI agent sessions whose hooks recorded snapshots, the most recently active first",
  flags: {
    agent: { type: 'string', describe: 'Only the sessions of this agent (claude, cursor, codex, gemini, cline)' },
    limit: { alias: 'n', type: 'number', describe: 'Show at most N sessions' },
  },
  check: (args) => {
    if (args.limit !== undefined && !(Number.isInteger(args.limit) && args.limit > 0)) return `${badValue('--limit', 'a whole number greater than 0', String(args.limit))}.`;
    if (args.agent !== undefined && !String(args.agent).trim()) return `${badValue('--agent', "an agent's name", String(args.agent))}.`;
    return undefined;
  },
  examples: [
    ['$0 sessions', 'every agent session'],
    ['$0 sessions --agent claude -n 5', "Claude Code's five latest sessions"],
    ['$0 rollback prompt:2@3f2a', 'the tree as it was right before prompt 2 of session 3f2a…'],
  ],
  epilog: `files: the paths that differ between the session's first snapshot (before its first prompt ran) and its latest. A session's prompts are named prompt:1, prompt:2 … (prompt:-1 the last) with @SESSION (an id prefix) wherever a revision is taken; without @SESSION, of the latest session. The table fits the terminal as \`list\`'s does.`,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const sessions = await sg.sessions({ agent: args.agent, limit: args.limit });
      if (args.json) {
        printJson(sessions);
        return;
      }
      if (sessions.length === 0) {
        print(args.agent !== undefined ? `No sessions of agent ${visible(args.agent)}; \`shadowgit sessions\` lists every agent's.` : "No agent sessions yet: they appear once an agent's hooks record snapshots (`shadowgit hooks install`).");
        return;
      }
      print(renderFitted([{ columns: WIDE, from: PIPED_WIDTH }, { columns: NARROW }], sessions, outputWidth(process.stdout, PIPED_WIDTH), renderLines));
    }),
});
