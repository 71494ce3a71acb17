import { makeSandbox, type Sandbox } from '../helpers/sandbox.js';
import { cliDriver, libraryDriver, roundTrip, type Entry } from './roundtrip-harness.js';

/**
 * The minimal cases the round-trip harness shrank its failures to, kept as fixed cases (each
 * failed before its fix): a snapshot, a change, a rollback, checked as the harness checks.
 */

let sb: Sandbox;
beforeEach(() => (sb = makeSandbox('sg-found-')));
afterEach(async () => sb.cleanup());

const name = (text: string | number[]) => (typeof text === 'string' ? Buffer.from(text) : Buffer.from(text));
const dir = (n: string | number[], entries: Entry[]): Entry => ({ name: name(n), node: { kind: 'dir', entries } });
const link = (n: string | number[], target: string): Entry => ({ name: name(n), node: { kind: 'link', target: Buffer.from(target) } });
const file = (n: string | number[], content = ''): Entry => ({ name: name(n), node: { kind: 'file', content: Buffer.from(content), exec: false } });

test('a symlink that loops on itself, where a directory held a file: the read-back met ELOOP ("unexpected error")', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [dir('x', [link('x', 'x')])], b: [dir('x', [dir('x', [file('x')])])] });
});

test('a directory replaced by a symlink with a 4095-byte target: the read-back met ENAMETOOLONG ("unexpected error")', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [dir('b', [link('b', 'b/b')])], b: [link('b', 'a'.repeat(4095))] });
});

test('a file where a directory holds an empty directory whose name is not UTF-8: refused clearly (it was "unexpected error: ENOENT scandir")', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [file('e')], b: [dir('e', [dir([0x3e, 0x57, 0x50, 0x1d, 0xe3], [])])] });
});

test('a directory that became a symlink to a directory with the same layout: the plan check looked through the link and refused', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [dir('d', [file('x', 'a')])], b: [link('d', 'r'), dir('r', [dir('x', [file('f', 'f')])])] });
});

test('a refusal naming a non-UTF-8 name with a newline in it stays one line', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [file('d')], b: [dir('d', [file([0xb6, 0x0a, 0x41], 'never recorded')])] });
});

test('a file where a directory held recorded files with a tab and a newline in their names: no false refusal', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [file('d')], b: [dir('d', [file('tab\there'), dir('new\nline', [file('f')])])] });
});

test('a file where a directory holds an empty directory named .gIT: refused (the rollback deleted the skipped directory)', async () => {
  await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), { a: [file('4._')], b: [dir('4._', [dir('.gIT', [])])] });
});

test('an empty tree snapshotted twice through the library: the native lstat helper refused the empty listing', async () => {
  const previousHome = process.env.SHADOWGIT_HOME;
  process.env.SHADOWGIT_HOME = sb.home;
  try {
    await roundTrip(sb.worktree, libraryDriver(sb.worktree), { a: [], b: [] });
  } finally {
    if (previousHome === undefined) delete process.env.SHADOWGIT_HOME;
    else process.env.SHADOWGIT_HOME = previousHome;
  }
});
