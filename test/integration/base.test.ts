// The snapshot the working tree was last made to match (issue #18 items 4 and 12): after a
// rollback, undo or guard restore, `status` and `diff` compare with the snapshot checked out, not
// with the state it replaced, and a snapshot of that same tree records nothing. Through the real
// CLI, with native git reading the shadow repository.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fsck, git, repoOf, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-base-', (s) => (sb = s));

interface StatusJson {
  lastSnapshot?: { id: string; commit: string };
  base?: { id: string; commit: string; by: string; at: string };
  changes: { added: string[]; modified: string[]; deleted: string[] };
}

const status = () => runJson<StatusJson>(sb, ['status']);
const files = () => diskFiles(sb.worktree);
const chainLength = (repo: string) => Number(git(repo, ['rev-list', '--count', 'refs/heads/snapshots']).trim());
const noChanges = { added: [], modified: [], deleted: [] };

describe('the tree\'s base after a checkout', () => {
  test('rollback: status says which snapshot the tree matches and lists only later edits; a snapshot of the same tree records nothing; undo still returns', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n', 'src/b.txt': 'b\n' });
    const one = runJson(sb, ['snapshot', '-m', 'one']);
    await writeTree(sb.worktree, { 'a.txt': 'two\n', 'src/c.txt': 'c\n' });
    runJson(sb, ['snapshot', '-m', 'two']);
    await writeTree(sb.worktree, { 'a.txt': 'unrecorded edit\n' });
    const edited = await files();
    const repo = repoOf(sb);

    const rollback = runJson(sb, ['rollback', one.id, '--yes']);
    const afterRollback = await files();
    const chain = chainLength(repo);
    let now = status();
    expect(now.base).toMatchObject({ id: one.id, commit: one.commit, by: 'rollback' });
    // The latest snapshot is still the state the rollback replaced: the way back.
    expect(now.lastSnapshot?.commit).toBe(rollback.preRollback.commit);
    expect(now.changes).toEqual(noChanges);
    expect(runCli(sb, ['status']).stdout).toMatch(new RegExp(`Working tree matches snapshot ${one.id} \\(${one.commit.slice(0, 10)}\\), checked out by rollback \\d+s ago\\.`));
    expect(runCli(sb, ['diff']).stdout).toBe('No differences.\n');
    // `latest` names the newest snapshot, as always: the pre-rollback one.
    expect(runJson(sb, ['diff', 'latest']).changes).toEqual([
      { path: 'a.txt', status: 'modified' },
      { path: 'src/c.txt', status: 'deleted' },
    ]);

    // A snapshot of the tree the rollback wrote is that snapshot: nothing new is recorded.
    const again = runJson(sb, ['snapshot']);
    expect(again).toMatchObject({ id: one.id, commit: one.commit, created: false });
    expect(runCli(sb, ['snapshot']).stdout).toMatch(`No changes since snapshot ${one.id}`);
    expect(chainLength(repo)).toBe(chain);

    // An edit after the rollback is the only change listed, against the snapshot checked out.
    await writeTree(sb.worktree, { 'src/b.txt': 'b edited\n' });
    now = status();
    expect(now.base?.id).toBe(one.id);
    expect(now.changes).toEqual({ added: [], modified: ['src/b.txt'], deleted: [] });
    expect(runCli(sb, ['status']).stdout).toMatch(new RegExp(`Changes since snapshot ${one.id} \\(${one.commit.slice(0, 10)}\\), checked out by rollback \\d+s ago \\(1\\):\\n  M src/b.txt`));
    expect(runJson(sb, ['diff']).changes).toEqual([{ path: 'src/b.txt', status: 'modified' }]);
    await writeTree(sb.worktree, { 'src/b.txt': 'b\n' });

    // undo returns to the state before the rollback; the tree's base is then that snapshot.
    const undo = runJson(sb, ['undo']);
    expect(undo.target.commit).toBe(rollback.preRollback.commit);
    expect(undo.preRollback).toEqual({ id: one.id, commit: one.commit, created: false });
    expectSameFiles(await files(), edited);
    now = status();
    expect(now.base).toMatchObject({ id: rollback.preRollback.id, by: 'undo' });
    expect(now.changes).toEqual(noChanges);
    // …and undo again redoes the rollback.
    runJson(sb, ['undo']);
    expectSameFiles(await files(), afterRollback);
    expect(status().base).toMatchObject({ id: one.id, by: 'undo' });
    expect(chainLength(repo)).toBe(chain);

    // A snapshot of a new state supersedes the checkout: the latest snapshot is the base again.
    await writeTree(sb.worktree, { 'd.txt': 'd\n' });
    const later = runJson(sb, ['snapshot']);
    expect(later.created).toBe(true);
    expect(git(repo, ['rev-parse', `${later.commit}^`]).trim()).toBe(rollback.preRollback.commit);
    now = status();
    expect(now.base).toBeUndefined();
    expect(now.changes).toEqual(noChanges);
    expect(runCli(sb, ['status']).stdout).toMatch('No changes since the last snapshot.');
    fsck(repo);
  });

  test('guard restore sets the base; a restore of some paths matches no snapshot and sets none', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const first = runJson(sb, ['snapshot']);
    const guarded = runCli(sb, ['guard', '--', 'sh', '-c', 'echo broken > a.txt; exit 3']);
    expect(guarded.code).toBe(3);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('a\n');
    const now = status();
    expect(now.base).toMatchObject({ id: first.id, by: 'guard' });
    expect(now.changes).toEqual(noChanges);
    expect(runCli(sb, ['status']).stdout).toMatch(`Working tree matches snapshot ${first.id}`);

    // Two rollbacks in a row: the second one's way back is the first one's target, not the
    // latest snapshot, and doctor expects the files of the tree's base, not of the latest.
    await writeTree(sb.worktree, { 'b.txt': 'b3\n' });
    const x = runJson(sb, ['snapshot', '-m', 'x']);
    await writeTree(sb.worktree, { 'pkg/package.json': '{}\n' });
    runJson(sb, ['snapshot', '-m', 'with a package']);
    runJson(sb, ['rollback', x.id, '--yes']);
    expect(runJson(sb, ['rollback', first.id, '--yes']).preRollback).toEqual({ id: x.id, commit: x.commit, created: false });
    const critical = (JSON.parse(runCli(sb, ['doctor', '--json']).stdout) as { findings: Array<{ check: string }> }).findings.filter((f) => f.check === 'critical-file');
    expect(critical).toEqual([]);

    // restore brings one file back from the failed state: the tree is no snapshot now, so the
    // changes are against the latest snapshot (the state before the restore), as git shows a
    // `git checkout REV -- PATH`.
    await writeTree(sb.worktree, { 'b.txt': 'b2\n' });
    const failed = runJson<Array<{ id: string; trigger: string }>>(sb, ['list']).find((s) => s.trigger === 'guard-failed')!;
    runJson(sb, ['restore', failed.id, '--', 'a.txt']);
    const afterRestore = status();
    expect(afterRestore.base).toBeUndefined();
    expect(afterRestore.changes).toEqual({ added: [], modified: ['a.txt'], deleted: [] });
  });
});
