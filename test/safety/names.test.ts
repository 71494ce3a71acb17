import { spawnSync } from 'node:child_process';
import { promises as fsp, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, exportedFiles, fsck, git, gitTreeFiles, makeSandbox, repoOf, runCli, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';

/**
 * Names a snapshot records are names a rollback can write back (names.ts): each case goes
 * through the real CLI, with native git reading the shadow repository as the oracle.
 */

interface SnapshotJson {
  id: string;
  commit: string;
  skipped: Array<{ path: string; reason: string }>;
}

let sb: Sandbox;
beforeEach(() => (sb = makeSandbox('sg-names-')));
afterEach(async () => sb.cleanup());

const snapshot = (message: string) => runJson<SnapshotJson>(sb, ['snapshot', '-m', message]);
const recordedPaths = (commit: string) => [...gitTreeFiles(repoOf(sb), commit).keys()].sort();
/** The working tree as the CLI should have recorded it: no `.git`, nothing named in `leftOut`. */
const onDisk = (leftOut: string[] = []) => diskFiles(sb.worktree, (rel, name) => name === '.git' || leftOut.includes(rel));
const bytePath = (...parts: Array<string | Buffer>) => Buffer.concat([Buffer.from(`${sb.worktree}/`), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))]);

function expectOk(args: string[]): string {
  const result = runCli(sb, args);
  if (result.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

test('a name with a backslash is recorded, and rollback, restore, export, diff --patch and verify handle it (an ordinary character on POSIX)', async () => {
  await writeTree(sb.worktree, { 'back\\slash': 'from a zip made on Windows\n', 'dir\\name/inner.txt': 'inner\n', 'plain.txt': 'one\n' });
  const first = snapshot('first');
  expect(first.skipped).toEqual([]);
  expect(recordedPaths(first.commit)).toEqual(['back\\slash', 'dir\\name/inner.txt', 'plain.txt']);
  const wanted = await onDisk();

  await writeTree(sb.worktree, { 'back\\slash': 'edited\n', 'plain.txt': 'two\n' });
  await fsp.rm(path.join(sb.worktree, 'dir\\name'), { recursive: true });
  const second = snapshot('second');
  expectOk(['rollback', first.commit, '--yes']);
  expectSameFiles(await onDisk(), wanted);
  expectSameFiles(await onDisk(), gitTreeFiles(repoOf(sb), first.commit));

  await fsp.writeFile(path.join(sb.worktree, 'back\\slash'), 'edited again\n');
  expectOk(['restore', first.commit, '--', 'back\\slash']);
  expect(readFileSync(path.join(sb.worktree, 'back\\slash'), 'utf8')).toBe('from a zip made on Windows\n');
  const out = path.join(sb.dir, 'exported');
  expectOk(['export', first.commit, out]);
  expectSameFiles(await exportedFiles(out), wanted);
  expect(expectOk(['diff', first.commit, second.commit, '--patch'])).toMatch(/^\+edited$/m);
  expectOk(['verify']);
  fsck(repoOf(sb));
});

test('a directory or file named .git in another case is skipped and reported, never recorded; rollback still works', async () => {
  await writeTree(sb.worktree, { '.Git/config': 'not a repo\n', 'sub/.GIT': 'a file\n', 'sub/keep.txt': 'keep\n', 'top.txt': 'one\n' });
  const first = snapshot('first');
  expect(first.skipped.map((s) => s.path).sort()).toEqual(['.Git', 'sub/.GIT']);
  for (const s of first.skipped) expect(s.reason).toMatch(/"\.git" in any case.*not recorded; rename it/);
  expect(recordedPaths(first.commit)).toEqual(['sub/keep.txt', 'top.txt']);
  fsck(repoOf(sb));
  const wanted = await onDisk(['.Git', 'sub/.GIT']);

  await writeTree(sb.worktree, { 'top.txt': 'two\n', 'sub/keep.txt': 'changed\n' });
  snapshot('second');
  expectOk(['rollback', first.commit, '--yes']);
  expectSameFiles(await onDisk(['.Git', 'sub/.GIT']), wanted);
  // Never recorded, never touched.
  expect(readFileSync(path.join(sb.worktree, '.Git/config'), 'utf8')).toBe('not a repo\n');
  expect(readFileSync(path.join(sb.worktree, 'sub/.GIT'), 'utf8')).toBe('a file\n');
  expectOk(['verify']);
});

test('a name that is not UTF-8 beside the real name it decodes to: one tree entry each, the bad one skipped and reported; later snapshots and status work', async () => {
  const realName = 'a\uFFFD';
  writeFileSync(bytePath('a', Buffer.from([0xff])), 'invalid bytes\n');
  writeFileSync(path.join(sb.worktree, realName), 'real U+FFFD\n');
  mkdirSync(bytePath('d', Buffer.from([0xfe])));
  writeFileSync(bytePath('d', Buffer.from([0xfe]), '/x.txt'), 'in a non-UTF-8 directory\n');
  await writeTree(sb.worktree, { 'd\uFFFD/x.txt': 'in a real U+FFFD directory\n' });

  const first = snapshot('first');
  expect(first.skipped.map((s) => s.path).sort()).toEqual(['a\\xff', 'd\\xfe']);
  for (const s of first.skipped) expect(s.reason).toMatch(/not valid UTF-8/);
  const recorded = gitTreeFiles(repoOf(sb), first.commit);
  expect([...recorded.keys()].sort()).toEqual([realName, 'd\uFFFD/x.txt']);
  expect(recorded.get(realName)!.content.toString()).toBe('real U+FFFD\n');
  expect(recorded.get('d\uFFFD/x.txt')!.content.toString()).toBe('in a real U+FFFD directory\n');
  fsck(repoOf(sb));

  writeFileSync(path.join(sb.worktree, realName), 'edited\n');
  const second = snapshot('second');
  expect(gitTreeFiles(repoOf(sb), second.commit).get(realName)!.content.toString()).toBe('edited\n');
  expect(runJson(sb, ['status']).changes).toEqual({ added: [], modified: [], deleted: [] });
  expectOk(['rollback', first.commit, '--yes']);
  expect(readFileSync(path.join(sb.worktree, realName), 'utf8')).toBe('real U+FFFD\n');
  expect(readFileSync(bytePath('a', Buffer.from([0xff])), 'utf8')).toBe('invalid bytes\n');
  expect(readdirSync(sb.worktree, { encoding: 'buffer' }).length).toBe(4);
  fsck(repoOf(sb));
});

test('a rollback that needs a file where a directory holds an unrecorded non-UTF-8 name refuses, even beside the recorded name it decodes to', async () => {
  await writeTree(sb.worktree, { d: 'a file\n' });
  const first = snapshot('first');
  await fsp.rm(path.join(sb.worktree, 'd'));
  await writeTree(sb.worktree, { 'd/a\uFFFD': 'recorded\n' });
  writeFileSync(bytePath('d/a', Buffer.from([0xff])), 'never recorded\n');
  expect(snapshot('second').skipped.map((s) => s.path)).toEqual(['d/a\\xff']);
  const result = runCli(sb, ['rollback', first.commit, '--yes']);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/d is a directory holding files that are not recorded \(d\/a\\xff\)/);
  expect(readFileSync(bytePath('d/a', Buffer.from([0xff])), 'utf8')).toBe('never recorded\n');
  expect(readFileSync(path.join(sb.worktree, 'd/a\uFFFD'), 'utf8')).toBe('recorded\n');
});

test('a symlink whose target is not UTF-8 is skipped and reported (a rollback could not write it back), and left alone', async () => {
  await writeTree(sb.worktree, { 'a.txt': 'one\n' });
  const target = Buffer.from([0x74, 0xfe]);
  symlinkSync(target, path.join(sb.worktree, 'odd-link'));
  const first = snapshot('first');
  expect(first.skipped).toEqual([{ path: 'odd-link', reason: expect.stringMatching(/symlink target that is not valid UTF-8/) }]);
  expect(recordedPaths(first.commit)).toEqual(['a.txt']);
  await writeTree(sb.worktree, { 'a.txt': 'two\n' });
  snapshot('second');
  expectOk(['rollback', first.commit, '--yes']);
  expect(readFileSync(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('one\n');
  expect((await fsp.readlink(path.join(sb.worktree, 'odd-link'), { encoding: 'buffer' })).equals(target)).toBe(true);
});

test('files named like the watcher cookie are the user\'s: recorded and rolled back, at the root and below', async () => {
  await writeTree(sb.worktree, { '.shadowgit-cookie-notes': 'mine\n', 'sub/.shadowgit-cookie-123-4': 'also mine\n', '.shadowgit-cookie-99-0123456789abcdeg': 'not hex\n' });
  const first = snapshot('first');
  expect(first.skipped).toEqual([]);
  expect(recordedPaths(first.commit)).toEqual(['.shadowgit-cookie-99-0123456789abcdeg', '.shadowgit-cookie-notes', 'sub/.shadowgit-cookie-123-4']);
  const wanted = await onDisk();
  await writeTree(sb.worktree, { '.shadowgit-cookie-notes': 'changed\n', 'sub/.shadowgit-cookie-123-4': 'changed\n' });
  expect(runJson(sb, ['status']).changes.modified.sort()).toEqual(['.shadowgit-cookie-notes', 'sub/.shadowgit-cookie-123-4']);
  snapshot('second');
  expectOk(['rollback', first.commit, '--yes']);
  expectSameFiles(await onDisk(), wanted);
});

interface VerifyJson {
  ok: boolean;
  snapshots: Array<{ id: string; commit: string; ok: boolean; problems: Array<{ oid: string; path: string; problem: string }> }>;
}

/** Native git, reading `input` on stdin. */
function gitInput(gitdir: string, args: string[], input: Uint8Array | string): string {
  const result = spawnSync('git', ['--git-dir', gitdir, ...args], { input, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'tamperer', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'tamperer', GIT_COMMITTER_EMAIL: 't@example.com' } });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.toString().trim();
}

/**
 * A snapshot made by hand with native git on top of the latest one: its root holds `ok.txt`
 * and the given entries (mode, name bytes, content).
 */
function tamperedSnapshot(gitdir: string, entries: Array<{ mode: string; name: Buffer; content: Buffer }>): string {
  const blob = (content: Buffer) => gitInput(gitdir, ['hash-object', '-w', '--stdin'], content);
  const lines: Uint8Array[] = [Buffer.from(`100644 blob ${blob(Buffer.from('fine\n'))}\tok.txt\0`)];
  for (const e of entries) lines.push(Buffer.from(`${e.mode} blob ${blob(e.content)}\t`), e.name, Buffer.from('\0'));
  const tree = gitInput(gitdir, ['mktree', '-z'], Buffer.concat(lines));
  const head = (git(gitdir, ['rev-parse', 'refs/heads/snapshots']) as string).trim();
  const commit = gitInput(gitdir, ['commit-tree', tree, '-p', head, '-m', 'tampered'], '');
  git(gitdir, ['update-ref', 'refs/heads/snapshots', commit]);
  return commit;
}

test('verify flags symlink blobs no rollback can write (empty, a NUL, over 4 KiB) and names that are refused, naming snapshot and path', async () => {
  await writeTree(sb.worktree, { 'ok.txt': 'fine\n' });
  snapshot('intact');
  const gitdir = repoOf(sb);
  const commit = tamperedSnapshot(gitdir, [
    { mode: '120000', name: Buffer.from('empty-link'), content: Buffer.alloc(0) },
    { mode: '120000', name: Buffer.from('nul-link'), content: Buffer.from('a\0b') },
    { mode: '120000', name: Buffer.from('long-link'), content: Buffer.alloc(5000, 'x') },
    { mode: '120000', name: Buffer.from('fine-link'), content: Buffer.from('ok.txt') },
    // The same content as a file is fine: only a symlink's target has these limits.
    { mode: '100644', name: Buffer.from('empty-file'), content: Buffer.alloc(0) },
  ]);
  const result = runCli(sb, ['verify', '--json']);
  expect(result.code).toBe(1);
  const report = JSON.parse(result.stdout) as VerifyJson;
  const tampered = report.snapshots.find((s) => s.commit === commit)!;
  expect(tampered.ok).toBe(false);
  expect(tampered.problems.map((p) => [p.path, p.problem]).sort()).toEqual([
    ['empty-link', 'an empty symlink target'],
    ['long-link', expect.stringMatching(/^a symlink target of 5000 bytes/)],
    ['nul-link', 'a NUL byte in a symlink target'],
  ]);
  expect(report.snapshots.filter((s) => s.commit !== commit).every((s) => s.ok)).toBe(true);
  const human = runCli(sb, ['verify']);
  expect(`${human.stdout}${human.stderr}`).toMatch(/empty-link/);

  tamperedSnapshot(gitdir, [{ mode: '100644', name: Buffer.from('.GIT'), content: Buffer.from('x') }]);
  const dotGit = JSON.parse(runCli(sb, ['verify', '--json']).stdout) as VerifyJson;
  expect(dotGit.snapshots[0]!.problems).toEqual([expect.objectContaining({ path: '/', problem: expect.stringMatching(/"\.GIT"/) })]);

  tamperedSnapshot(gitdir, [{ mode: '100644', name: Buffer.from([0x61, 0xff]), content: Buffer.from('x') }]);
  const notUtf8 = JSON.parse(runCli(sb, ['verify', '--json']).stdout) as VerifyJson;
  expect(notUtf8.snapshots[0]!.problems).toEqual([expect.objectContaining({ path: '/', problem: expect.stringMatching(/"a\\xff", which is not valid UTF-8/) })]);
  const rollback = runCli(sb, ['rollback', notUtf8.snapshots[0]!.commit, '--yes']);
  expect(rollback.code).not.toBe(0);
  expect(rollback.stderr).toMatch(/tampered/);
});
