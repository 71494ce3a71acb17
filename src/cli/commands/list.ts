import type { ListedSnapshot } from '../../shadowgit.js';
import { changeCounts } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { displayWidth, outputWidth, truncateEnd } from '../fit.js';
import { badValue } from '../usage.js';
import { absoluteTime, color, print, printJson, relativeTime, short, table, visible } from '../output.js';

interface Args extends GlobalArgs {
  limit?: number;
  approved?: boolean;
}

/** Width of the listing when it is not drawn on a terminal: fixed, so what reads it sees one layout. */
const PIPED_WIDTH = 100;
/** Narrowest a message column may get before a layout gives way to a narrower one. */
const MIN_MESSAGE = 20;

interface Column {
  head: string;
  /** The cell, plain text (lines separated by \n); coloured after the widths are settled. */
  cell: (s: ListedSnapshot) => string;
  paint?: (text: string) => string;
  /** Wraps to fit (the others keep their natural width); the value is the narrowest it may get. */
  shrinkTo?: number;
}

/** A commit prefix as long as an id: the narrow layouts put it under or beside the id. */
const briefCommit = (s: ListedSnapshot) => s.commit.slice(0, 8);
const changesOf = (s: ListedSnapshot) => changeCounts(s.changes);
const whenOf = (s: ListedSnapshot) => `${relativeTime(s.date)}\n${absoluteTime(s.date)}`;
/** On one line: a message's own line breaks would make rows of any height and break the two-line layout. */
const messageOf = (s: ListedSnapshot) => visible(s.message.replace(/\s*\n\s*/g, ' '));
const tagsOf = (s: ListedSnapshot) => s.tags.map(visible).join('\n');
const paintWhen = (text: string) => text.replace(/\n(.*)$/, (_, absolute: string) => `\n${color.dim(absolute)}`);

/** Every column: for terminals of 100 columns or more, and for pipes. */
const WIDE: Column[] = [
  { head: 'id', cell: (s) => s.id, paint: color.bold },
  { head: 'commit', cell: (s) => short(s.commit) },
  { head: 'when', cell: whenOf, paint: paintWhen },
  { head: 'trigger', cell: (s) => s.trigger },
  { head: 'message', cell: messageOf, shrinkTo: MIN_MESSAGE },
  { head: 'approved', cell: tagsOf, paint: color.green, shrinkTo: 'approved'.length },
  { head: 'changes', cell: changesOf },
];

/** 80-column terminals: the commit under the id, the trigger over the changes, approved names under the message. */
const NARROW: Column[] = [
  { head: 'id\ncommit', cell: (s) => `${s.id}\n${briefCommit(s)}`, paint: (text) => text.replace(/^([^\n]*)\n/, (_, id: string) => `${color.bold(id)}\n`) },
  { head: 'when', cell: whenOf, paint: paintWhen },
  { head: 'trigger\nchanges', cell: (s) => `${s.trigger}\n${changesOf(s)}` },
  { head: 'message', cell: (s) => [messageOf(s), ...s.tags.map((t) => `approved: ${visible(t)}`)].join('\n'), paint: (text) => text.replace(/^approved: .*$/gm, (line) => color.green(line)), shrinkTo: MIN_MESSAGE },
];

/** Columns a cell's widest line takes, with the table's padding of one either side. */
function naturalWidth(column: Column, snapshots: ListedSnapshot[]): number {
  const lines = [column.head, ...snapshots.map(column.cell)].flatMap((text) => text.split('\n'));
  return Math.max(...lines.map(displayWidth)) + 2;
}

/**
 * Column widths that fit `width` (borders included), taking from the widest shrinkable column
 * first; undefined when even their narrowest does not fit.
 */
function fitColumns(columns: Column[], snapshots: ListedSnapshot[], width: number): number[] | undefined {
  const widths = columns.map((c) => naturalWidth(c, snapshots));
  for (let excess = widths.reduce((a, b) => a + b, 0) + columns.length + 1 - width; excess > 0; excess--) {
    const shrinkable = columns.flatMap((c, i) => (c.shrinkTo !== undefined && widths[i]! > c.shrinkTo + 2 ? [i] : []));
    if (shrinkable.length === 0) return undefined;
    widths[shrinkable.reduce((a, b) => (widths[b]! > widths[a]! ? b : a))]!--;
  }
  return widths;
}

function renderTable(columns: Column[], snapshots: ListedSnapshot[], widths: number[]): string {
  const rows = snapshots.map((s) => columns.map((c) => (c.paint ?? String)(c.cell(s))));
  return table(columns.map((c) => c.head), rows, { colWidths: widths });
}

/** Narrower than any table: two lines a snapshot, each cut to the width. */
function renderLines(snapshots: ListedSnapshot[], width: number): string {
  return snapshots
    .flatMap((s) => {
      const head = truncateEnd(`${s.id} ${briefCommit(s)} ${relativeTime(s.date)} ${s.trigger} ${changesOf(s)}`, width);
      const detail = truncateEnd(`  ${[messageOf(s), ...s.tags.map((t) => `[${visible(t)}]`)].join(' ')}`, width);
      return [head.replace(s.id, color.bold(s.id)), detail];
    })
    .join('\n');
}

/** The listing in the widest layout that fits `width`. */
function renderList(snapshots: ListedSnapshot[], width: number): string {
  for (const layout of width >= PIPED_WIDTH ? [WIDE, NARROW] : [NARROW]) {
    const widths = fitColumns(layout, snapshots, width);
    if (widths) return renderTable(layout, snapshots, widths);
  }
  return renderLines(snapshots, width);
}

export const listCommand = defineCommand<Args>({
  name: 'list',
  aliases: ['ls'],
  describe: 'List snapshots, newest first',
  flags: {
    limit: { alias: 'n', type: 'number', describe: 'Show at most N snapshots' },
    approved: { type: 'boolean', describe: 'Only approved revisions' },
  },
  check: (args) => (args.limit !== undefined && !(Number.isInteger(args.limit) && args.limit > 0) ? `${badValue('--limit', 'a whole number greater than 0', String(args.limit))}.` : undefined),
  examples: [
    ['$0 list', 'all snapshots'],
    ['$0 list -n 10 --approved', 'the ten newest approved revisions'],
    ['$0 list --json', 'machine-readable list'],
  ],
  epilog: `The table fits the terminal (a narrower layout below ${PIPED_WIDTH} columns); piped, it is at most ${PIPED_WIDTH} columns wide. Scripts should read --json.`,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const snapshots = await sg.list({ limit: args.limit, approved: args.approved });
      if (args.json) {
        printJson(snapshots.map(({ id, commit, date, message, trigger, tags, changes }) => ({ id, commit, date, message, trigger, tags, changes })));
        return;
      }
      if (snapshots.length === 0) {
        print(args.approved ? 'No approved revisions yet; `shadowgit approve NAME` makes one.' : 'No snapshots yet; `shadowgit snapshot` records the first.');
        return;
      }
      print(renderList(snapshots, outputWidth(process.stdout, PIPED_WIDTH)));
    }),
});
