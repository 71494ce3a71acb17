import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fingerprint, git, refsAndObjects, repoOf, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

/**
 * Issue #18, items 7 and 15: a command that fails, or has nothing to do, writes nothing — no
 * safety snapshot, no object, no ref — checked with native git through the real CLI.
 */

let sb: Sandbox;
useSandbox('sg-refused-', (s) => (sb = s));

describe('refused and empty commands write nothing', () => {
  test('restore, rollback, undo, approve and export refused before the first write; "Already at" records nothing', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n', 'keep/x.txt': 'x\n' });
    const first = runJson(sb, ['snapshot', '-m', 'first']);
    runJson(sb, ['approve', 'taken']);
    // An unrecorded change: any safety snapshot taken on the way would record it.
    await writeTree(sb.worktree, { 'a.txt': 'two\n' });
    const repo = repoOf(sb);
    const before = refsAndObjects(repo);
    const tree = await fingerprint(sb.worktree);

    const refused: Array<[string[], number, RegExp]> = [
      [['restore', 'latest', '--', 'nonexist.ts'], 1, /nonexist\.ts is in neither snapshot/],
      [['restore', 'nope', '--', 'a.txt'], 1, /no snapshot, commit or approved revision matches "nope"/],
      [['rollback', 'nope', '--yes'], 1, /matches "nope"/],
      [['undo'], 1, /no rollback or restore to undo/],
      [['approve', ''], 2, /the approved name is empty/],
      [['approve', '!!!'], 2, /no letters or digits/],
      [['approve', 'taken'], 1, /"taken" is already in use/],
      [['export', 'nope', path.join(sb.dir, 'out')], 1, /matches "nope"/],
      [['export', 'latest', path.join(sb.worktree, 'a.txt')], 1, /inside the working tree/],
    ];
    for (const [args, code, message] of refused) {
      const result = runCli(sb, args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(refsAndObjects(repo)).toBe(before);
    }
    await expect(fsp.access(path.join(sb.dir, 'out'))).rejects.toThrow();

    // A conflict in the tree: the target needs `keep/` where an ignored file `keep` is now.
    await fsp.rm(path.join(sb.worktree, 'keep'), { recursive: true });
    await writeTree(sb.worktree, { keep: 'ignored, in the way\n', '.gitignore': 'keep\n' });
    const conflict = runCli(sb, ['rollback', first.id, '--yes']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/keep is a file that is not recorded/);
    expect(refsAndObjects(repo)).toBe(before);
    await fsp.rm(path.join(sb.worktree, '.gitignore'));
    await fsp.rm(path.join(sb.worktree, 'keep'));
    await writeTree(sb.worktree, { 'keep/x.txt': 'x\n' });
    expect(await fingerprint(sb.worktree)).not.toBe(tree);

    // A blob of the target that does not read back is found before the safety snapshot too.
    const blob = (git(repo, ['rev-parse', `${first.commit}:a.txt`]) as string).trim();
    const file = path.join(repo, 'objects', blob.slice(0, 2), blob.slice(2));
    await fsp.chmod(file, 0o644);
    await fsp.truncate(file, 10);
    const damagedBefore = refsAndObjects(repo);
    const damaged = runCli(sb, ['rollback', first.id, '--yes']);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/cannot be read|nothing was written/);
    expect(refsAndObjects(repo)).toBe(damagedBefore);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('two\n');

    // Nothing to do: the restored path, or the whole tree, already matches.
    await writeTree(sb.worktree, { 'a.txt': 'two\n' });
    const latest = runJson(sb, ['snapshot']);
    const recorded = refsAndObjects(repo);
    const restore = runCli(sb, ['restore', 'latest', '--', 'a.txt']);
    expect({ code: restore.code, stdout: restore.stdout }).toEqual({ code: 0, stdout: `The paths named already match ${latest.id} (${latest.commit.slice(0, 10)}); nothing to do.\n` });
    const rollback = runJson(sb, ['rollback', latest.id, '--yes']);
    expect(rollback).toEqual({ target: { id: latest.id, commit: latest.commit }, written: 0, deleted: 0, writtenPaths: [], deletedPaths: [] });
    expect(runCli(sb, ['rollback', latest.id]).stdout).toBe(`Already at ${latest.id} (${latest.commit.slice(0, 10)}); nothing to do.\n`);
    expect(refsAndObjects(repo)).toBe(recorded);
  });
});
