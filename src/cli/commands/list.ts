import type { ListedSnapshot } from '../../shadowgit.js';
import { agentSummary } from '../../engine/provenance.js';
import { changeCounts } from '../changes.js';
import { defineCommand } from '../command.js';
import { ShadowGitError } from '../../engine/errors.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { outputWidth, truncateEnd } from '../fit.js';
import { renderFitted, type Column } from '../layout.js';
import { badValue } from '../usage.js';
import { absoluteTime, color, print, printJson, relativeTime, short, visible } from '../output.js';

interface Args extends GlobalArgs {
  limit?: number;
  approved?: boolean;
  session?: string;
  agent?: string;
  remote?: string;
  machine?: string;
}

/** Width of the listing when it is not drawn on a terminal: fixed, so what reads it sees one layout. */
const PIPED_WIDTH = 100;
/** Narrowest a message column may get before a layout gives way to a narrower one. */
const MIN_MESSAGE = 20;

/** A commit prefix as long as an id: the narrow layouts put it under or beside the id. */
const briefCommit = (s: ListedSnapshot) => s.commit.slice(0, 8);
const changesOf = (s: ListedSnapshot) => changeCounts(s.changes);
const whenOf = (s: ListedSnapshot) => `${relativeTime(s.date)}\n${absoluteTime(s.date)}`;
/** On one line: a message's own line breaks would make rows of any height and break the two-line layout. */
const messageOf = (s: ListedSnapshot) => visible(s.message.replace(/\s*\n\s*/g, ' '));
const tagsOf = (s: ListedSnapshot) => s.tags.map(visible).join('\n');
const paintWhen = (text: string) => text.replace(/\n(.*)$/, (_, absolute: string) => `\n${color.dim(absolute)}`);
/** Who asked, on an agent's snapshot: "claude·3f2a #2" (its session, and the prompt's number on a prompt's snapshot). */
const agentOf = (s: ListedSnapshot) => (s.agent ? visible(`${s.agent.label}${s.agent.prompt ? ` #${s.agent.prompt}` : ''}`) : '');
/** The trigger, with who asked under it: the when column already makes every row two lines high. */
const triggerOf = (s: ListedSnapshot) => (s.agent ? `${s.trigger}\n${agentOf(s)}` : s.trigger);
const paintTrigger = (text: string) => text.replace(/\n(.*)$/, (_, agent: string) => `\n${color.cyan(agent)}`);

/** Every column: for terminals of 100 columns or more, and for pipes. */
const WIDE: Column<ListedSnapshot>[] = [
  { head: 'id', cell: (s) => s.id, paint: color.bold },
  { head: 'commit', cell: (s) => short(s.commit) },
  { head: 'when', cell: whenOf, paint: paintWhen },
  { head: 'trigger', cell: triggerOf, paint: paintTrigger },
  { head: 'message', cell: messageOf, shrinkTo: MIN_MESSAGE },
  { head: 'approved', cell: tagsOf, paint: color.green, shrinkTo: 'approved'.length },
  { head: 'changes', cell: changesOf },
];

/** 80-column terminals: the commit under the id, the trigger over the changes, approved names and who asked under the message. */
const NARROW: Column<ListedSnapshot>[] = [
  { head: 'id\ncommit', cell: (s) => `${s.id}\n${briefCommit(s)}`, paint: (text) => text.replace(/^([^\n]*)\n/, (_, id: string) => `${color.bold(id)}\n`) },
  { head: 'when', cell: whenOf, paint: paintWhen },
  { head: 'trigger\nchanges', cell: (s) => `${s.trigger}\n${changesOf(s)}` },
  {
    head: 'message',
    cell: (s) => [messageOf(s), ...(s.agent ? [`by ${agentOf(s)}`] : []), ...s.tags.map((t) => `approved: ${visible(t)}`)].join('\n'),
    paint: (text) => text.replace(/^approved: .*$/gm, (line) => color.green(line)).replace(/^by .*$/m, (line) => color.cyan(line)),
    shrinkTo: MIN_MESSAGE,
  },
];

/** Narrower than any table: two lines a snapshot, each cut to the width (who asked before the message). */
function renderLines(snapshots: ListedSnapshot[], width: number): string {
  return snapshots
    .flatMap((s) => {
      const head = truncateEnd(`${s.id} ${briefCommit(s)} ${relativeTime(s.date)} ${s.trigger} ${changesOf(s)}`, width);
      const detail = truncateEnd(`  ${[...(s.agent ? [`${agentOf(s)}:`] : []), messageOf(s), ...s.tags.map((t) => `[${visible(t)}]`)].join(' ')}`, width);
      return [head.replace(s.id, color.bold(s.id)), detail];
    })
    .join('\n');
}

/** The listing in the widest layout that fits `width`. */
const renderList = (snapshots: ListedSnapshot[], width: number) => renderFitted([{ columns: WIDE, from: PIPED_WIDTH }, { columns: NARROW }], snapshots, width, renderLines);

/** `list --remote`: the same layouts with the machine each snapshot was pushed from first. */
const MACHINE: Column<ListedSnapshot> = { head: 'machine', cell: (s) => (s as ListedSnapshot & { machine: string }).machine };
const renderRemoteList = (snapshots: ListedSnapshot[], width: number) => renderFitted([{ columns: [MACHINE, ...WIDE], from: PIPED_WIDTH }, { columns: [MACHINE, ...NARROW] }], snapshots, width, renderLines);

const listedJson = ({ id, commit, date, message, trigger, tags, changes, agent }: ListedSnapshot) => ({ id, commit, date, message, trigger, tags, changes, ...(agent && { agent: agentSummary(agent) }) });

function emptyListing(args: Args): string {
  if (args.session !== undefined || args.agent !== undefined) {
    const whose = args.session !== undefined ? 'that session' : `agent ${visible(args.agent!)}`;
    return args.approved ? `No approved revisions among the snapshots of ${whose}.` : `No snapshots recorded by ${whose}; \`shadowgit sessions\` lists the agent sessions.`;
  }
  return args.approved ? 'No approved revisions yet; `shadowgit approve NAME` makes one.' : 'No snapshots yet; `shadowgit snapshot` records the first.';
}

export const listCommand = defineCommand<Args>({
  name: 'list',
  aliases: ['ls'],
  describe: 'List snapshots, newest first',
  flags: {
    limit: { alias: 'n', type: 'number', describe: 'Show at most N snapshots' },
    approved: { type: 'boolean', describe: 'Only approved revisions' },
    session: { type: 'string', describe: "Only the snapshots of this agent session (its id or a unique prefix; see `shadowgit sessions`)" },
    agent: { type: 'string', describe: 'Only the snapshots an agent recorded (claude, cursor, codex, gemini, cline)' },
    remote: { type: 'string', describe: 'The snapshots fetched from this remote (`shadowgit fetch NAME`), every machine\'s, with a machine column' },
    machine: { type: 'string', describe: 'With --remote: only this machine\'s snapshots' },
  },
  check: (args) => {
    if (args.limit !== undefined && !(Number.isInteger(args.limit) && args.limit > 0)) return `${badValue('--limit', 'a whole number greater than 0', String(args.limit))}.`;
    if (args.session !== undefined && !String(args.session).trim()) return `${badValue('--session', 'a session id or a prefix of one', String(args.session))}.`;
    if (args.agent !== undefined && !String(args.agent).trim()) return `${badValue('--agent', "an agent's name", String(args.agent))}.`;
    if (args.machine !== undefined && args.remote === undefined) return '--machine goes with --remote NAME.';
    if (args.remote !== undefined && (args.session !== undefined || args.agent !== undefined || args.approved)) return '--remote lists fetched snapshots; --session, --agent and --approved list local ones.';
    return undefined;
  },
  examples: [
    ['$0 list', 'all snapshots'],
    ['$0 list -n 10 --approved', 'the ten newest approved revisions'],
    ['$0 list --session 3f2a', "what one agent session's hooks recorded"],
    ['$0 list --json', 'machine-readable list'],
    ['$0 list --remote origin --machine laptop-3f2a', "the snapshots another machine pushed, once fetched (name one as origin/laptop-3f2a/ID)"],
  ],
  epilog: `The table fits the terminal (a narrower layout below ${PIPED_WIDTH} columns); piped, it is at most ${PIPED_WIDTH} columns wide. Scripts should read --json.`,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      if (args.remote !== undefined) {
        const fetched = await sg.listRemote(args.remote, { machine: args.machine, limit: args.limit });
        if (args.json) printJson(fetched.map((s) => ({ ...listedJson(s), machine: s.machine })));
        else if (fetched.length === 0) print(`Nothing fetched from ${visible(args.remote)} yet; \`shadowgit fetch ${visible(args.remote)}\` brings its snapshots.`);
        else print(renderRemoteList(fetched, outputWidth(process.stdout, PIPED_WIDTH)));
        return;
      }
      // A --session that names no session or several is a mistake in this command's arguments.
      const snapshots = await sg.list({ limit: args.limit, approved: args.approved, session: args.session, agent: args.agent }).catch((err: unknown) => {
        throw err instanceof ShadowGitError && err.code === 'EUSAGE' ? new UsageError(err.message, 'list') : err;
      });
      if (args.json) {
        printJson(snapshots.map(listedJson));
        return;
      }
      if (snapshots.length === 0) {
        print(emptyListing(args));
        return;
      }
      print(renderList(snapshots, outputWidth(process.stdout, PIPED_WIDTH)));
    }),
});
