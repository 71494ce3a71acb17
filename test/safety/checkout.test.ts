/**
 * Checkout safety (issue #17, findings 4, 5, 6 and parts of 11): a directory swapped for a
 * symlink mid-rollback, chmod through a hard link, a bad entry found half-way, path arguments,
 * and revisions resolved before the lock. The real CLI, real directories, native git as oracle.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fingerprint, fsck, git, gitTreeFiles, repoOf, runCli, runJson, useSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { diskTree, makeScratch } from '../faults/lib/native.js';
import { journalOf, startCli, victimPrint, waitStopped } from './checkout-helpers.js';

let sb: Sandbox;
useSandbox('sg-checkout-', (s) => (sb = s));

const snapshot = (message: string) => runJson<{ id: string; commit: string }>(sb, ['snapshot', '-m', message]);
const oneClearLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^shadowgit: /);
  expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
};

async function makeVictim(): Promise<string> {
  const victim = path.join(sb.dir, 'victim');
  const files: Record<string, string> = {};
  // Same names as the tree's files: a write through a symlinked directory would replace them.
  for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `victim ${i}\n`;
  await writeTree(victim, files);
  return victim;
}

describe('finding 4: a directory swapped for a symlink while the rollback writes into it', () => {
  // worktree-dir:1 stops right after the rollback made `d`; worktree-file:1 after its first file's temp file is in `d`.
  test.each([
    ['worktree-dir:1:stop', 'just after the rollback made it'],
    ['worktree-file:1:stop', 'after the first file was written into it'],
  ])('%s (%s): nothing lands in the victim, the rollback stops journalled, the next command finishes it', async (fault) => {
    const files: Record<string, string> = { 'keep.txt': 'keep\n' };
    for (let i = 0; i < 1000; i++) files[`d/f${i}.txt`] = `tree ${i}\n`;
    await writeTree(sb.worktree, files);
    const withD = snapshot('with d');
    await fsp.rm(path.join(sb.worktree, 'd'), { recursive: true });
    snapshot('without d');
    const victim = await makeVictim();
    const victimBefore = await victimPrint(victim);
    const repo = repoOf(sb);

    const run = startCli(sb, ['rollback', 'latest~1', '--yes'], { SHADOWGIT_FAULT: fault });
    expect(await waitStopped(run.child.pid!)).toBe(true);
    // Another process swaps d for a symlink to the victim (what was in d is moved out of the tree).
    await fsp.rename(path.join(sb.worktree, 'd'), path.join(sb.dir, 'moved-d'));
    await fsp.symlink(victim, path.join(sb.worktree, 'd'));
    run.child.kill('SIGCONT');
    const result = await run.done;

    expect(await victimPrint(victim)).toBe(victimBefore);
    expect(result.code).not.toBe(0);
    oneClearLine(result.stderr);
    expect(result.stderr).toMatch(/symlink|do not match/);
    expect(await journalOf(repo)).toMatchObject({ op: 'rollback', target: withD.commit });

    // The next writing command records the tree as the rollback left it, then finishes it.
    const next = runCli(sb, ['snapshot', '-m', 'after the race']);
    expect(next.stderr).toBe('');
    expect(await journalOf(repo)).toBeUndefined();
    // Native git hashes the tree on disk: the same tree id means the same bytes, modes and names.
    expect(await diskTree(await makeScratch(path.join(sb.dir, 'scratch.git')), sb.worktree)).toBe(git(repo, ['rev-parse', `${withD.commit}^{tree}`]).trim());
    expect(await victimPrint(victim)).toBe(victimBefore);
    fsck(repo);
  });
});

describe('finding 5: a mode-only change never chmods a file that is hard-linked elsewhere', () => {
  test('h.txt hard-linked to a file outside the tree: the outside file keeps its mode, h.txt gets the target mode', async () => {
    await writeTree(sb.worktree, { 'h.txt': 'shared\n' });
    await fsp.chmod(path.join(sb.worktree, 'h.txt'), 0o755);
    const executable = snapshot('executable');
    await fsp.chmod(path.join(sb.worktree, 'h.txt'), 0o644);
    snapshot('plain');
    // Same content and mode as recorded, but the inode is shared with a file outside the tree.
    const outside = path.join(sb.dir, 'outside.txt');
    await fsp.writeFile(outside, 'shared\n', { mode: 0o644 });
    await fsp.chmod(outside, 0o644);
    await fsp.rm(path.join(sb.worktree, 'h.txt'));
    await fsp.link(outside, path.join(sb.worktree, 'h.txt'));

    const result = runCli(sb, ['rollback', executable.id, '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const outsideStat = await fsp.stat(outside);
    expect(outsideStat.mode & 0o777).toBe(0o644);
    expect(await fsp.readFile(outside, 'utf8')).toBe('shared\n');
    const inside = await fsp.stat(path.join(sb.worktree, 'h.txt'));
    expect(inside.mode & 0o777).toBe(0o755);
    expect(inside.ino).not.toBe(outsideStat.ino);
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repoOf(sb), executable.commit));
  });
});

/** A snapshot commit made by native git: the latest snapshot's tree plus `bad-link`, a symlink whose blob holds `target`. */
function tamperedSnapshot(repo: string, target: Buffer): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  const gitIn = (args: string[], input?: Buffer | string) => execFileSync('git', ['--git-dir', repo, ...args], { env, input, encoding: 'utf8' }).trim();
  const blob = gitIn(['hash-object', '-w', '--stdin'], target);
  const head = gitIn(['rev-parse', 'refs/heads/snapshots']);
  const listing = gitIn(['ls-tree', head]);
  const tree = gitIn(['mktree'], `${listing}\n120000 blob ${blob}\tbad-link\n`);
  const commit = gitIn(['commit-tree', tree, '-p', head, '-m', 'tampered']);
  gitIn(['update-ref', 'refs/heads/snapshots', commit]);
  return commit;
}

describe('finding 6: every entry is checked before the first write; an unfinishable journal has a way out', () => {
  test.each([
    ['empty', Buffer.alloc(0)],
    ['holding a NUL byte', Buffer.from('a\0b')],
    ['over 4 KiB', Buffer.alloc(5000, 'x')],
  ])('a tampered symlink blob (%s): rollback refuses before writing anything, and no command is stuck', async (_kind, target) => {
    const five: Record<string, string> = {};
    for (let i = 0; i < 5; i++) five[`old${i}.txt`] = `old ${i}\n`;
    await writeTree(sb.worktree, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    const good = snapshot('good');
    const repo = repoOf(sb);
    const tampered = tamperedSnapshot(repo, target);
    await writeTree(sb.worktree, { ...five, 'a.txt': 'changed\n' });
    const before = await fingerprint(sb.worktree);

    const result = runCli(sb, ['rollback', tampered.slice(0, 12), '--yes']);
    expect(result.code).not.toBe(0);
    oneClearLine(result.stderr);
    expect(result.stderr).toMatch(/bad-link.*symlink.*tampered/);
    expect(await fingerprint(sb.worktree)).toBe(before);
    expect(await journalOf(repo)).toBeUndefined();

    // Nothing is stuck: status, snapshot and a rollback to an intact snapshot all work.
    expect(runJson(sb, ['status']).interruptedOperation).toBeUndefined();
    expect(runCli(sb, ['snapshot', '-m', 'after']).code).toBe(0);
    expect(runCli(sb, ['rollback', good.id, '--yes']).code).toBe(0);
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, good.commit));
  });

  test('a journal that cannot be finished names `recover --abandon-interrupted`, which records the tree and frees every command', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const good = snapshot('good');
    const repo = repoOf(sb);
    const tampered = tamperedSnapshot(repo, Buffer.alloc(0));
    await writeTree(sb.worktree, { 'a.txt': 'half-written\n', 'new.txt': 'new\n' });
    // What an older shadowgit left after failing half-way into the tampered snapshot.
    await fsp.writeFile(path.join(repo, 'shadowgit', 'journal.json'), JSON.stringify({ op: 'rollback', target: tampered, before: good.commit, startedAt: new Date().toISOString() }));
    const halfWritten = await diskFiles(sb.worktree);

    const stuck = runCli(sb, ['snapshot']);
    expect(stuck.code).not.toBe(0);
    oneClearLine(stuck.stderr);
    expect(stuck.stderr).toContain('shadowgit recover --abandon-interrupted');

    const abandoned = runJson(sb, ['recover', '--abandon-interrupted']);
    expect(abandoned).toMatchObject({ op: 'rollback', target: tampered, before: good.commit });
    expect(await journalOf(repo)).toBeUndefined();
    expectSameFiles(gitTreeFiles(repo, abandoned.left.commit), halfWritten);
    expect(git(repo, ['log', '-1', '--format=%B', abandoned.left.commit])).toContain('Shadowgit-Trigger: interrupted');
    expectSameFiles(await diskFiles(sb.worktree), halfWritten);

    expect(runCli(sb, ['snapshot']).code).toBe(0);
    // undo returns to the state before the abandoned rollback.
    expect(runCli(sb, ['undo']).code).toBe(0);
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, good.commit));
    const nothing = runCli(sb, ['recover', '--abandon-interrupted']);
    expect(nothing.code).not.toBe(0);
    oneClearLine(nothing.stderr);
  });
});

describe('finding 11: path arguments of restore, and revisions resolved before the lock', () => {
  test('`restore latest -- ..foo` restores the file named ..foo', async () => {
    await writeTree(sb.worktree, { '..foo': 'dots\n', 'other.txt': 'o\n' });
    snapshot('dots');
    await fsp.writeFile(path.join(sb.worktree, '..foo'), 'changed\n');
    const result = runCli(sb, ['restore', 'latest', '--', '..foo']);
    expect(result.stderr).toBe('');
    expect(await fsp.readFile(path.join(sb.worktree, '..foo'), 'utf8')).toBe('dots\n');
    expect(runCli(sb, ['restore', 'latest', '--', '../x']).stderr).toMatch(/outside the working tree/);
  });

  test('`restore REV -- ""` is a usage error and changes nothing', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    snapshot('first');
    await writeTree(sb.worktree, { 'a.txt': 'edited\n', 'new.txt': 'unsaved\n' });
    const before = await fingerprint(sb.worktree);
    const result = runCli(sb, ['restore', 'latest', '--', '']);
    expect(result.code).toBe(2);
    oneClearLine(result.stderr);
    expect(result.stderr).toMatch(/empty/);
    expect(await fingerprint(sb.worktree)).toBe(before);
  });

  test('two rollbacks to latest~1 started together both land on the snapshot latest~1 named when they started', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      await fsp.writeFile(path.join(sb.worktree, 'f.txt'), `${n}\n`);
      ids.push(snapshot(`state ${n}`).id);
    }
    await fsp.writeFile(path.join(sb.worktree, 'f.txt'), 'unsaved\n');
    // The first stops while recording its pre-rollback snapshot, holding the lock; the second
    // starts then (latest~1 is state 2), resolves, and stops before waiting for the lock.
    const first = startCli(sb, ['--json', 'rollback', 'latest~1', '--yes'], { SHADOWGIT_FAULT: 'object:1:stop' });
    expect(await waitStopped(first.child.pid!)).toBe(true);
    const second = startCli(sb, ['--json', 'rollback', 'latest~1', '--yes'], { SHADOWGIT_FAULT: 'lock-wait:1:stop' });
    await waitStopped(second.child.pid!, 5000);
    first.child.kill('SIGCONT');
    const firstResult = await first.done;
    second.child.kill('SIGCONT');
    const secondResult = await second.done;

    expect(firstResult.code).toBe(0);
    expect(secondResult.code).toBe(0);
    expect(JSON.parse(firstResult.stdout).target.id).toBe(ids[1]);
    expect(JSON.parse(secondResult.stdout).target.id).toBe(ids[1]);
    expect(await fsp.readFile(path.join(sb.worktree, 'f.txt'), 'utf8')).toBe('2\n');
  });
});
