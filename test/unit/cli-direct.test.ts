import type { DirectCommand } from '../../src/cli/command.js';
import { approveCommand } from '../../src/cli/commands/approve.js';
import { diffCommand } from '../../src/cli/commands/diff.js';
import { gcCommand } from '../../src/cli/commands/gc.js';
import { guardCommand } from '../../src/cli/commands/guard.js';
import { impactCommand } from '../../src/cli/commands/impact.js';
import { commands } from '../../src/cli/commands/index.js';
import { listCommand } from '../../src/cli/commands/list.js';
import { logCommand } from '../../src/cli/commands/log.js';
import { pruneCommand } from '../../src/cli/commands/prune.js';
import { restoreCommand } from '../../src/cli/commands/restore.js';
import { rollbackCommand } from '../../src/cli/commands/rollback.js';
import { showCommand } from '../../src/cli/commands/show.js';
import { snapshotCommand } from '../../src/cli/commands/snapshot.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { watchCommand } from '../../src/cli/commands/watch.js';
import { parserFor } from '../../src/cli/main.js';
import { closest } from '../../src/cli/usage.js';
import { prng } from '../../scripts/bench/tree.mjs';

// The direct reading of simple argument lists must never disagree with yargs, the CLI's
// reference parser: whatever it accepts, yargs must accept with the same values. yargs is run
// here exactly as the CLI sets it up, with the command's handler swapped for a recorder.

type Parsed = Record<string, unknown>;

async function viaYargs(command: DirectCommand, argv: string[]): Promise<Parsed | Error> {
  let seen: Parsed | undefined;
  try {
    await parserFor(argv)
      .command({ ...command, handler: (args) => void (seen = args) })
      .fail((message, err) => {
        throw err ?? new Error(message);
      })
      .parseAsync();
  } catch (err) {
    return err as Error;
  }
  return seen ?? new Error('no handler ran');
}

/** The values a handler can read: everything but yargs' bookkeeping and unset keys. */
function values(args: Parsed): Parsed {
  return Object.fromEntries(Object.entries(args).filter(([key, value]) => key !== '_' && key !== '$0' && value !== undefined));
}

const wordOf = (command: DirectCommand) => String(command.command).split(' ')[0]!;

/** Argument pieces, well-formed and not, that a user or a script might pass. */
const PIECES: Record<string, string[][]> = {
  snapshot: [['-m', 'before refactor'], ['--message', 'x'], ['--message=a=b'], ['-mfoo'], ['-m'], ['-m', '-x'], ['--note', 'prompt'], ['--note-file', '-'], ['--note-file', 'n.txt'], ['--noteFile', 'n.txt'], ['--message', ''], ['-m', '5'], ['--message', '0x10'], ['-m', '-5']],
  status: [],
  undo: [],
  rollback: [['latest~1'], ['1234'], ['Feature Complete'], ['--yes'], ['-y'], ['-y', 'true'], ['--yes', 'false'], ['--yes=false'], ['extra'], ['true']],
  approve: [['Feature Complete'], ['v2'], ['0777'], ['-m', 'reviewed'], ['-f'], ['--force'], ['-fm', 'x'], ['-f', 'false'], ['--message']],
  list: [['--remote', 'origin'], ['--remote', 'o', '--machine', 'laptop-3f2a'], ['--machine'], ['-n', '5'], ['--limit', '0'], ['--limit', 'abc'], ['--limit=7'], ['-n', '007'], ['-n', '1e3'], ['-n', '-3'], ['--approved'], ['-n'], ['--session', '3f2a'], ['--session', ''], ['--session'], ['--agent', 'claude'], ['--agent=cursor']],
  sessions: [['-n', '5'], ['--limit', '0'], ['--limit=2'], ['-n'], ['--agent', 'claude'], ['--agent', ''], ['--agent']],
  restore: [['latest'], ['src/a.ts'], ['--', 'b.ts'], ['--', '-x'], ['---'], ['5']],
  diff: [['latest~1'], ['a.ts'], ['-p'], ['--patch'], ['--stat'], ['--', 'x'], ['--', '--stat'], ['-p', 'true'], ['0x10']],
  show: [['latest~1'], ['Feature Complete'], ['007']],
  prune: [['--keep-last', '5'], ['--keep-daily', '7'], ['--keep-within', '2d'], ['--keep-within', ''], ['--keep-last', 'x'], ['--keep-last'], ['-n'], ['--dry-run'], ['--no-gc'], ['--gc', 'false'], ['--grace', '0'], ['--grace'], ['--keepLast', '3']],
  gc: [['--grace', '0'], ['--grace', '2h'], ['--grace'], ['--grace=90s']],
  verify: [['--quick'], ['--quick', 'true'], ['--remote', 'origin'], ['--remote=https://h/r.git'], ['--remote']],
  remote: [['add', 'origin', 'https://h/r.git'], ['list'], ['remove', 'origin'], ['prune', 'origin', '--keep-last', '5'], ['prune', 'o', '-n'], ['bogus'], ['add', 'origin'], ['list', 'x'], ['--keep-last'], ['--dry-run'], ['remove']],
  push: [['origin'], ['o', 'extra'], ['--json']],
  fetch: [['origin'], ['o', 'extra'], ['--json']],
  clone: [['https://h/r.git', 'dir'], ['u', 'a b'], ['https://h/r.git', 'd', '--rev', 'latest~1'], ['u', 'd', '--machine', 'laptop-3f2a'], ['x', 'y', '--name=backup'], ['--name', 'backup'], ['--rev']],
  export: [['latest', '../out.tar'], ['a b', 'out dir'], ['v2', 'x.tgz'], ['-f'], ['--force']],
  watch: [['--debounce', '5'], ['--interval', '60'], ['--debounce'], ['--stop'], ['--detach'], ['-y'], ['--yes']],
  guard: [['--keep'], ['--', 'npm', 'test'], ['npm'], ['--', '-x', '--keep'], ['--', '--']],
  doctor: [['--fix'], ['--bundle', 'b.tgz'], ['--bundle'], ['-f'], ['-v'], ['--verbose']],
  recover: [['a.json'], ['--', 'b.json'], ['--abandon-interrupted'], ['--abandonInterrupted']],
  log: [['-n', '5'], ['-n=12x'], ['--limit', '0'], ['--op', 'guard'], ['--op', 'rollback'], ['--op'], ['--op=guard']],
  impact: [['a.ts'], ['--since', 'latest'], ['--since'], ['--depth', '2'], ['--depth', 'x'], ['--format', 'dot'], ['--format', 'bad'], ['--format'], ['--no-types'], ['--types', 'false'], ['--tests-only'], ['--', 'b.ts']],
  precheck: [['a.ts'], ['b.ts'], ['--no-types'], ['--types'], ['--', 'c.ts']],
  mcp: [],
  ui: [['--port', '8765'], ['--port', 'x'], ['--port'], ['--idle-timeout', '90s'], ['--idle-timeout'], ['--no-open'], ['--open', 'false'], ['--idleTimeout', '1h']],
  init: [],
  hooks: [['install'], ['uninstall'], ['status'], ['install', '--agent', 'cursor'], ['uninstall', '--scope', 'user'], ['status', '--json'], ['bogus'], ['--agent', 'claude'], ['--agent', 'nope'], ['--agent'], ['--scope', 'user'], ['--scope', 'x'], ['--dry-run'], ['--dryRun'], ['--guard'], ['--guard', 'true']],
  hook: [['claude'], ['cursor', 'beforeShellExecution'], ['PreToolUse'], ['--guard'], ['--guard', 'false'], ['-g'], ['claude', 'Stop', 'extra']],
};
const COMMON = [['--json'], ['-C', '/tmp/tree'], ['-C/tmp/tree'], ['--C=/tmp/tree'], ['-C'], ['--json=false'], ['--no-json'], ['--help'], ['--version'], ['--'], ['--bogus'], ['-x'], ['stray']];

describe('reading simple argument lists without yargs', () => {
  test.each(commands.map((c) => [wordOf(c), c] as const))(
    '%s: every list read directly gives what yargs gives (random lists of real and broken pieces)',
    async (word, command) => {
      const random = prng(word.length * 7919);
      const pieces = [...PIECES[word]!, ...COMMON];
      let direct = 0;
      for (let round = 0; round < 150; round++) {
        const rest: string[] = [];
        const count = Math.floor(random() * 4);
        for (let i = 0; i < count; i++) rest.push(...pieces[Math.floor(random() * pieces.length)]!);
        const read = command.readDirectly(rest);
        if (!read) continue;
        direct++;
        const reference = await viaYargs(command, [word, ...rest]);
        if (reference instanceof Error) throw new Error(`read directly, but yargs refuses ${JSON.stringify(rest)}: ${reference.message}`);
        // The one deliberate difference: yargs blanks a word of three or more dashes it puts in a
        // positional; read directly it keeps what was typed (`approve ---` is a name without letters).
        const dashes = rest.filter((w) => /^-{3,}$/.test(w));
        if (dashes.length > 0) {
          expect({ argv: rest, kept: Object.values(values(read)).flat() }).toEqual({ argv: rest, kept: expect.arrayContaining(dashes) });
          continue;
        }
        expect({ argv: rest, values: values(read) }).toEqual({ argv: rest, values: values(reference) });
      }
      // A reader that gave up on everything would pass the loop above; simple lists must go direct.
      expect(direct).toBeGreaterThan(10);
    },
  );

  test.each([
    [snapshotCommand, ['-m', 'before refactor', '--json'], { message: 'before refactor', m: 'before refactor', json: true }],
    [snapshotCommand, ['--note-file', '-', '-C', '/w'], { 'note-file': '-', noteFile: '-', C: '/w' }],
    [rollbackCommand, ['latest~1', '--yes'], { rev: 'latest~1', yes: true, y: true }],
    [approveCommand, ['Feature Complete', '-m', 'ok'], { name: 'Feature Complete', message: 'ok', m: 'ok' }],
    [statusCommand, ['--json'], { json: true }],
    [restoreCommand, ['latest', '--', 'src/a.ts', '-x'], { rev: 'latest', paths: [], '--': ['src/a.ts', '-x'] }],
    [restoreCommand, ['latest', 'src/a.ts', 'b'], { rev: 'latest', paths: ['src/a.ts', 'b'] }],
    [guardCommand, ['--keep', '--', 'npm', 'test', '--json'], { keep: true, command: [], '--': ['npm', 'test', '--json'] }],
    [guardCommand, ['--', 'printf', '0x10', '1e3', '007'], { command: [], '--': ['printf', '0x10', '1e3', '007'] }],
    [diffCommand, ['latest~1', '--stat', '--', 'a'], { from: 'latest~1', stat: true, paths: [], '--': ['a'] }],
    [showCommand, [], { rev: 'latest' }],
    [listCommand, ['-n', '5', '--approved'], { limit: 5, n: 5, approved: true }],
    [logCommand, ['--op', 'guard', '--op', 'rollback'], { limit: 20, n: 20, op: ['guard', 'rollback'] }],
    [pruneCommand, ['--keep-last', '20', '-n'], { 'keep-last': 20, keepLast: 20, 'dry-run': true, dryRun: true, n: true, gc: true, grace: '15m' }],
  ])('%#: the everyday forms go direct, with the values yargs gives', async (command, rest, expected) => {
    const read = command.readDirectly(rest);
    expect(read && values(read)).toEqual(expected);
    expect(values((await viaYargs(command, [wordOf(command), ...rest])) as Parsed)).toEqual(expected);
  });

  test.each([
    [snapshotCommand, ['-mfoo']],
    [snapshotCommand, ['-m', 'a', '--message', 'b']],
    [snapshotCommand, ['--note', 'a', '--note-file', 'b']],
    [snapshotCommand, ['--help']],
    [statusCommand, ['stray']],
    [rollbackCommand, ['a', 'b']],
    [rollbackCommand, ['--', 'latest']],
    [rollbackCommand, ['-y', 'true']],
    [approveCommand, []],
    [approveCommand, ['--version', 'x']],
    [rollbackCommand, ['--', 'latest']],
    [listCommand, ['-n', '0']],
    [listCommand, ['-n', '0x10']],
    [logCommand, ['--op', 'guard', 'rollback']],
    [pruneCommand, ['--no-gc']],
    [watchCommand, ['--stop', '--detach']],
    [showCommand, ['a', 'b']],
  ])('%#: anything unusual is left to yargs', (command, rest) => {
    expect(command.readDirectly(rest)).toBeUndefined();
  });

  test('a flag that takes a value needs one, even where it has a default', async () => {
    for (const [command, rest] of [
      [gcCommand, ['--grace']],
      [pruneCommand, ['--keep-last']],
      [pruneCommand, ['--keep-within']],
      [impactCommand, ['--format']],
    ] as const) {
      expect(command.readDirectly([...rest])).toBeUndefined();
      expect(((await viaYargs(command, [wordOf(command), ...rest])) as Error).message).toBe(`Not enough arguments following: ${rest[0].slice(2)}`);
    }
  });
});

describe('usage mistakes', () => {
  test.each([
    ['roll', ['rollback']],
    ['rollbak', ['rollback']],
    ['stauts', ['status']],
    ['lgo', ['log']],
    ['re', ['recover', 'restore']],
    ['LS', ['list']],
    ['x', []],
    ['bogus', []],
  ])('a mistyped %s suggests %j', (typed, expected) => {
    const names = { rollback: 'rollback', status: 'status', log: 'log', recover: 'recover', restore: 'restore', list: 'list', ls: 'list', undo: 'undo' };
    expect(closest(typed, names)).toEqual(expected);
  });
});
