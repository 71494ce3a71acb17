import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, git, gitTreeFiles, runCli, runJson, useSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';

/**
 * A damaged latest snapshot (issue #17, finding 7): damage made on disk by hand, the real CLI,
 * native git as the oracle of what the shadow repository holds.
 */

let sb: Sandbox;
useSandbox('sg-damaged-', (s) => (sb = s));

interface History {
  ids: string[];
  commits: string[];
  repo: string;
}

/** Three snapshots: the third adds src/c.ts, so its `src` tree and that blob are its own. */
async function threeSnapshots(): Promise<History> {
  const ids: string[] = [];
  const commits: string[] = [];
  const steps: Array<Record<string, string>> = [{ 'src/a.ts': 'a\n', 'src/b.ts': 'b\n', 'lib/l.ts': 'l\n', 'top.txt': 'top\n' }, { 'top.txt': 'top, edited\n' }, { 'src/c.ts': 'c\n' }];
  for (const [i, files] of steps.entries()) {
    await writeTree(sb.worktree, files);
    const s = runJson(sb, ['snapshot', '-m', `s${i + 1}`]);
    ids.push(s.id);
    commits.push(s.commit);
  }
  return { ids, commits, repo: runJson(sb, ['status']).repo };
}

/** Truncates a loose object to 10 bytes, as a crash or a bad disk would. */
async function truncateObject(repo: string, oid: string): Promise<void> {
  const file = path.join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
  await fsp.chmod(file, 0o644);
  await fsp.truncate(file, 10);
}

async function deleteStatCache(repo: string): Promise<void> {
  await fsp.rm(path.join(repo, 'shadowgit', 'statcache'));
}

/** The objects native `git fsck` calls corrupt or missing (dangling ones are not damage). */
function fsckDamage(repo: string): string[] {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const result = spawnSync('git', ['--git-dir', repo, 'fsck', '--strict', '--no-progress', '--no-dangling'], { env, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  const damaged = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /^(?:error: ([0-9a-f]{40}): object corrupt or missing|missing \w+ ([0-9a-f]{40}))/.exec(line);
    if (match) damaged.add((match[1] ?? match[2])!);
    else if (line.trim() && !/^error: (unable to unpack|inflate|corrupt loose object)/.test(line)) throw new Error(`git fsck reports more than damaged objects: ${line}`);
  }
  return [...damaged].sort();
}

const oidOf = (repo: string, rev: string) => (git(repo, ['rev-parse', rev]) as string).trim();
const parentOf = (repo: string, commit: string) => (git(repo, ['rev-parse', `${commit}^`]) as string).trim();

test('a damaged src tree in the latest snapshot: status names it, rollback to an intact snapshot works', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  const srcTree = oidOf(repo, `${commits[2]}:src`);
  await truncateObject(repo, srcTree);
  await deleteStatCache(repo);
  await writeTree(sb.worktree, { 'src/a.ts': 'a, edited after the damage\n' });

  const status = runCli(sb, ['status']);
  expect(status.stderr).toBe('');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`snapshot ${ids[2]} (commit ${commits[2]!.slice(0, 10)})`);
  expect(status.stdout).toContain(srcTree);
  expect(status.stdout).toContain('shadowgit verify');
  expect(runJson(sb, ['status']).lastSnapshotDamage).toContain(srcTree);

  const before = await diskFiles(sb.worktree);
  const rollback = runCli(sb, ['--json', 'rollback', ids[1]!, '--yes']);
  expect(rollback.stderr).toBe('');
  expect(rollback.code).toBe(0);
  expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, commits[1]!));
  // The state before the rollback is a whole, readable snapshot on top of the damaged one.
  const pre = JSON.parse(rollback.stdout).preRollback.commit as string;
  expectSameFiles(gitTreeFiles(repo, pre), before);
  expect(parentOf(repo, pre)).toBe(commits[2]);
  expect(fsckDamage(repo)).toEqual([srcTree]);
});

test('snapshot after a damaged latest tree records the whole working tree and names the damaged snapshot', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  const srcTree = oidOf(repo, `${commits[2]}:src`);
  await truncateObject(repo, srcTree);
  await deleteStatCache(repo);
  await writeTree(sb.worktree, { 'src/a.ts': 'a, edited after the damage\n' });

  const result = runCli(sb, ['--json', 'snapshot']);
  expect(result.code).toBe(0);
  const snapshot = JSON.parse(result.stdout);
  expect(snapshot.created).toBe(true);
  expect(snapshot.warnings.join(' ')).toContain(`${ids[2]} (commit ${commits[2]!.slice(0, 10)})`);
  expectSameFiles(gitTreeFiles(repo, snapshot.commit), await diskFiles(sb.worktree));
  expect(parentOf(repo, snapshot.commit)).toBe(commits[2]);
  expect(fsckDamage(repo)).toEqual([srcTree]);

  // The commands that read the damaged snapshot say which one it is and what to do.
  for (const args of [['show', ids[2]!], ['diff', ids[1]!, ids[2]!], ['rollback', ids[2]!, '--yes']]) {
    const failed = runCli(sb, args);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`snapshot ${ids[2]} (commit ${commits[2]!.slice(0, 10)})`);
    expect(failed.stderr).toContain('shadowgit verify');
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
  }
});

test('a snapshot without a stat cache writes a damaged object it would reuse again, from the working tree', async () => {
  const { commits, repo } = await threeSnapshots();
  const srcTree = oidOf(repo, `${commits[2]}:src`);
  const blob = oidOf(repo, `${commits[2]}:src/c.ts`);
  await truncateObject(repo, srcTree);
  await truncateObject(repo, blob);
  await deleteStatCache(repo);
  expect(fsckDamage(repo)).toEqual([blob, srcTree].sort());

  const result = runCli(sb, ['--json', 'snapshot']);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).warnings.join(' ')).toContain('2 damaged object(s)');
  // Same content, same ids: the damaged snapshot is whole again, and the damaged copies are kept.
  expect(fsckDamage(repo)).toEqual([]);
  expectSameFiles(gitTreeFiles(repo, commits[2]!), await diskFiles(sb.worktree));
  expect((await fsp.readdir(path.join(repo, 'shadowgit', 'damaged-objects'))).map((name) => name.split('.')[0]).sort()).toEqual([blob, srcTree].sort());
});

test('a damaged blob: rollback to a snapshot that does not need it works; restoring it names the snapshot', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  const blob = oidOf(repo, `${commits[2]}:src/c.ts`);
  await truncateObject(repo, blob);
  await deleteStatCache(repo);
  await writeTree(sb.worktree, { 'src/c.ts': 'c, edited after the damage\n' });

  const rollback = runCli(sb, ['rollback', ids[1]!, '--yes']);
  expect(rollback.stderr).toBe('');
  expect(rollback.code).toBe(0);
  expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, commits[1]!));
  expect(fsckDamage(repo)).toEqual([blob]);

  const restore = runCli(sb, ['restore', ids[2]!, '--', 'src/c.ts']);
  expect(restore.code).toBe(1);
  expect(restore.stderr).toContain(`snapshot ${ids[2]} (commit ${commits[2]!.slice(0, 10)})`);
  expect(restore.stderr).toContain(blob);
  expect(restore.stderr).toContain('shadowgit verify');
  await expect(fsp.access(path.join(sb.worktree, 'src/c.ts'))).rejects.toThrow();
});

test('a truncated latest commit: commands name the ref and commit; snapshot continues the chain from the newest intact one', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  await truncateObject(repo, commits[2]!);
  await deleteStatCache(repo);
  const refFile = path.join(repo, 'refs', 'heads', 'snapshots');

  for (const args of [['status'], ['list'], ['rollback', ids[0]!, '--yes']]) {
    const failed = runCli(sb, args);
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain('unexpected error');
    expect(failed.stderr).toContain(refFile);
    expect(failed.stderr).toContain(commits[2]);
    expect(failed.stderr).toContain('shadowgit snapshot');
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
  }

  const snapshot = runJson(sb, ['snapshot']);
  expect(snapshot.created).toBe(true);
  expect(snapshot.warnings.join(' ')).toContain(commits[2]);
  expect(parentOf(repo, snapshot.commit)).toBe(commits[1]);
  expectSameFiles(gitTreeFiles(repo, snapshot.commit), await diskFiles(sb.worktree));
  const kept = await fsp.readdir(path.join(repo, 'shadowgit', 'broken-refs'));
  expect(kept).toHaveLength(1);
  expect((await fsp.readFile(path.join(repo, 'shadowgit', 'broken-refs', kept[0]!), 'utf8')).trim()).toBe(commits[2]);
  expect(fsckDamage(repo)).toEqual([commits[2]]);

  expect(runCli(sb, ['rollback', ids[0]!, '--yes']).code).toBe(0);
  expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, commits[0]!));
});

test.each([
  ['junk', 'garbage!\n'],
  ['a missing commit', `${'1234567890'.repeat(4)}\n`],
])('a snapshots ref holding %s: one sentence naming the ref file; snapshot keeps it and resumes the chain', async (_kind, content) => {
  const { ids, commits, repo } = await threeSnapshots();
  const refFile = path.join(repo, 'refs', 'heads', 'snapshots');
  await fsp.writeFile(refFile, content);

  for (const args of [['status'], ['list'], ['show'], ['diff'], ['rollback', ids[0]!, '--yes']]) {
    const failed = runCli(sb, args);
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain('unexpected error');
    expect(failed.stderr).toContain(refFile);
    expect(failed.stderr).toContain('shadowgit snapshot');
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
  }
  // verify reports a missing commit in its table; junk it cannot read says the same sentence.
  const verify = runCli(sb, ['verify']);
  expect(verify.code).toBe(1);
  expect(verify.stderr).not.toContain('unexpected error');

  const snapshot = runJson(sb, ['snapshot']);
  expect(snapshot.created).toBe(true);
  expect(parentOf(repo, snapshot.commit)).toBe(commits[2]);
  expect(runJson(sb, ['list']).map((s: { id: string }) => s.id)).toEqual([snapshot.id, ...[...ids].reverse()]);
  const kept = await fsp.readdir(path.join(repo, 'shadowgit', 'broken-refs'));
  expect(await fsp.readFile(path.join(repo, 'shadowgit', 'broken-refs', kept[0]!), 'utf8')).toBe(content);
  expect(fsckDamage(repo)).toEqual([]);
});

test('a damaged older commit: snapshots after it can still be rolled back to by id, and list names the break', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  await truncateObject(repo, commits[0]!);

  const list = runCli(sb, ['list']);
  expect(list.code).toBe(1);
  expect(list.stderr).toContain(`${commits[0]}, the parent of snapshot ${ids[1]}`);
  expect(list.stderr).toContain('shadowgit verify');

  const rollback = runCli(sb, ['rollback', ids[1]!, '--yes']);
  expect(rollback.stderr).toBe('');
  expect(rollback.code).toBe(0);
  expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, commits[1]!));
  expect(fsckDamage(repo)).toEqual([commits[0]]);
});

test('a damaged blob behind an intact stat cache: a rollback that deletes the file writes its blob again first', async () => {
  const { ids, commits, repo } = await threeSnapshots();
  const blob = oidOf(repo, `${commits[2]}:src/c.ts`);
  await truncateObject(repo, blob);

  const rollback = runCli(sb, ['rollback', ids[1]!, '--yes']);
  expect(rollback.stderr).toBe('');
  expect(rollback.code).toBe(0);
  expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(repo, commits[1]!));
  // The deleted file's only copy is whole again: nothing was lost.
  expect(fsckDamage(repo)).toEqual([]);
  expect(gitTreeFiles(repo, commits[2]!).get('src/c.ts')!.content.toString()).toBe('c\n');
});
