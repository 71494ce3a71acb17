import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fingerprint, fsck, git, gitTreeFiles, runCli, runCliAsync, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-e2e-', (s) => (sb = s));

const worktreeFiles = (root: string) => diskFiles(root, (_rel, name) => name === '.git' || name === 'node_modules');

describe('shadowgit CLI', () => {
  test('snapshot → approve → rollback → undo, checked with native git', async () => {
    await writeTree(sb.worktree, { 'src/app.ts': 'v1\n', 'README.md': 'hello\n' });
    execFileSync('git', ['init', '-q', sb.worktree]);
    const userGit = await fingerprint(path.join(sb.worktree, '.git'));

    const first = runJson(sb, ['snapshot', '-m', 'first']);
    expect(first).toEqual({ id: expect.stringMatching(/^[k-z]{8}$/), commit: expect.stringMatching(/^[0-9a-f]{40}$/), created: true, changes: { added: 2, modified: 0, deleted: 0 }, skipped: [], byWatcher: false });
    const unchanged = runJson(sb, ['snapshot']);
    expect(unchanged.created).toBe(false);
    expect(unchanged.commit).toBe(first.commit);
    expect(runCli(sb, ['snapshot']).stdout).toMatch(/No changes since snapshot/);

    const approved = runJson(sb, ['approve', 'Feature Complete', '-m', 'login works']);
    expect(approved).toMatchObject({ name: 'Feature Complete', tag: 'feature-complete', commit: first.commit });
    const v1 = await worktreeFiles(sb.worktree);

    await writeTree(sb.worktree, { 'src/app.ts': 'v2 broken\n', 'src/new.ts': 'new\n' });
    const v2 = await worktreeFiles(sb.worktree);
    const rollback = runJson(sb, ['rollback', 'Feature Complete', '--yes']);
    expect(rollback).toMatchObject({ target: { commit: first.commit }, preRollback: { commit: expect.stringMatching(/^[0-9a-f]{40}$/) }, written: 1, deleted: 1 });
    expectSameFiles(await worktreeFiles(sb.worktree), v1);

    const { repo } = runJson(sb, ['status']);
    fsck(repo);
    expectSameFiles(gitTreeFiles(repo, rollback.preRollback.commit), v2);
    expect(git(repo, ['tag', '-n']).trim()).toBe('feature-complete Feature Complete: login works');
    expect(git(repo, ['log', '--format=%(trailers:key=Shadowgit-Trigger,valueonly)']).split('\n').filter(Boolean)).toEqual(['pre-rollback', 'manual']);

    const undo = runJson(sb, ['undo']);
    expect(undo.target.commit).toBe(rollback.preRollback.commit);
    // The tree undo replaced was the rollback's target as checked out: recorded already, not again.
    expect(undo.preRollback).toEqual({ id: first.id, commit: first.commit, created: false });
    expectSameFiles(await worktreeFiles(sb.worktree), v2);
    expect(await fingerprint(path.join(sb.worktree, '.git'))).toBe(userGit);

    const list = runJson(sb, ['list']);
    expect(list.map((s: { trigger: string }) => s.trigger)).toEqual(['pre-rollback', 'manual']);
    expect(list[1]).toMatchObject({ id: first.id, commit: first.commit, message: 'first', tags: ['Feature Complete'] });
    expect(Object.keys(list[0]).sort()).toEqual(['changes', 'commit', 'date', 'id', 'message', 'tags', 'trigger']);
    expect(runJson(sb, ['list', '--approved']).map((s: { id: string }) => s.id)).toEqual([first.id]);
    expect(runJson(sb, ['list', '--limit', '1'])).toHaveLength(1);
    const table = runCli(sb, ['list']).stdout;
    expect(table).toContain(first.id);
    expect(table).toContain('Feature Complete');
  });

  test('errors: one sentence on stderr, exit 1; usage errors exit 2; nothing changes', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    runJson(sb, ['snapshot']);
    const before = await fingerprint(sb.worktree);

    const bad = runCli(sb, ['rollback', 'no-such-thing', '--yes']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/no snapshot, commit or approved revision matches "no-such-thing".*shadowgit list/);

    const noRev = runCli(sb, ['rollback']);
    expect(noRev.code).toBe(2);
    expect(noRev.stderr).toMatch(/name the revision to roll back to/);

    const dup = runCli(sb, ['approve', 'x']);
    expect(dup.code).toBe(0);
    const again = runCli(sb, ['approve', 'x']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already in use.*--force/);
    expect(runCli(sb, ['approve', 'x', '--force']).code).toBe(0);

    expect(runCli(sb, ['frobnicate']).code).toBe(2);
    expect(runCli(sb, ['list', '--limit']).code).toBe(2);
    expect(runCli(sb, ['restore', 'latest']).code).toBe(2);
    // Commands that read plain argument lists without yargs hand every mistake to yargs.
    for (const [args, message] of [
      [['snapshot', '--bogus'], /^shadowgit snapshot: there is no option --bogus; see `shadowgit snapshot --help`\.\n$/],
      [['snapshot', '--note', 'a', '--note-file', 'b'], /--note-file and --note cannot be used together/],
      [['status', 'extra'], /^shadowgit status: unexpected argument "extra"; see `shadowgit status --help`\.\n$/],
      [['approve'], /^shadowgit approve: name the revision to approve, e\.g\. `shadowgit approve "Feature Complete"`; see `shadowgit approve --help`\.\n$/],
    ] as const) {
      const mistake = runCli(sb, [...args]);
      expect({ args, code: mistake.code, stdout: mistake.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(mistake.stderr).toMatch(message);
    }
    expect(await fingerprint(sb.worktree)).toBe(before);
  });

  test('every command has --help with examples; --version prints the version', () => {
    const help = runCli(sb, ['--help']);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}shadowgit (\w+)/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['snapshot', 'list', 'approve', 'rollback', 'undo', 'restore', 'diff', 'status']));
    for (const command of commands) {
      const out = runCli(sb, [command, '--help']);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('Examples:');
    }
    expect(runCli(sb, ['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('-C and discovery: the working tree is the nearest ancestor holding .git or .shadowgit', async () => {
    await writeTree(sb.worktree, { 'deep/er/file.txt': 'x', '.shadowgit': '{}' });
    const fromSub = runJson(sb, ['status'], { cwd: path.join(sb.worktree, 'deep/er') });
    await fsp.rm(path.join(sb.worktree, '.shadowgit'));
    runJson(sb, ['snapshot']);
    // Once a tree has a shadow repo, its subdirectories find it without any marker file.
    expect(runJson(sb, ['status'], { cwd: path.join(sb.worktree, 'deep') }).worktree).toBe(sb.worktree);
    expect(fromSub.worktree).toBe(sb.worktree);
    const viaC = runJson(sb, ['-C', sb.worktree, 'status'], { cwd: sb.dir });
    expect(viaC.repo).toBe(fromSub.repo);
    expect(viaC.repo.startsWith(sb.home)).toBe(true);
    const missing = runCli(sb, ['-C', path.join(sb.dir, 'nope'), 'status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });

  test('restore and diff from the command line', async () => {
    await writeTree(sb.worktree, { 'src/a.ts': 'one\ntwo\n', 'src/b.ts': 'b\n' });
    const first = runJson(sb, ['snapshot']);
    await writeTree(sb.worktree, { 'src/a.ts': 'one\nTWO\n', 'c.ts': 'c\n' });

    const names = runCli(sb, ['diff']);
    expect(names.stdout.trim().split('\n')).toEqual(['A c.ts', 'M src/a.ts']);
    const patch = runCli(sb, ['diff', '--patch']).stdout;
    expect(patch).toContain('-two');
    expect(patch).toContain('+TWO');
    const json = runJson(sb, ['diff']);
    expect(json.changes).toEqual([{ path: 'c.ts', status: 'added' }, { path: 'src/a.ts', status: 'modified' }]);

    const restored = runJson(sb, ['restore', first.id, '--', 'a.ts'], { cwd: path.join(sb.worktree, 'src') });
    expect(restored.written).toBe(1);
    expect(await fsp.readFile(path.join(sb.worktree, 'src/a.ts'), 'utf8')).toBe('one\ntwo\n');
    expect(await fsp.readFile(path.join(sb.worktree, 'c.ts'), 'utf8')).toBe('c\n');
    const second = runJson(sb, ['snapshot']);
    expect(runJson(sb, ['diff', first.id, second.id]).changes).toEqual([{ path: 'c.ts', status: 'added' }]);
    // The snapshot after a restore reuses cached ids: every object it names must exist.
    fsck(runJson(sb, ['status']).repo);
  });

  test('status reports the repo, the last snapshot and what changed since', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    const before = runJson(sb, ['status']);
    expect(before).toMatchObject({ worktree: sb.worktree, initialized: false });
    const snap = runJson(sb, ['snapshot']);
    await writeTree(sb.worktree, { 'b.txt': 'b' });
    const status = runJson(sb, ['status']);
    expect(status).toMatchObject({ worktree: sb.worktree, initialized: true, snapshots: 1, approved: 0, lastSnapshot: { id: snap.id, commit: snap.commit }, changes: { added: ['b.txt'], modified: [], deleted: [] } });
    expect(path.isAbsolute(status.repo)).toBe(true);
    expect(status.repoBytes).toBeGreaterThan(0);
  });

  test('two processes snapshotting at once both succeed and leave a linear chain', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    runJson(sb, ['snapshot']);
    const runs = [];
    for (let i = 0; i < 4; i++) {
      await writeTree(sb.worktree, { [`f${i}.txt`]: String(i) });
      runs.push(runCliAsync(sb, ['snapshot', '--json', '-m', `p${i}`]));
    }
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code).toBe(0);
    const { repo } = runJson(sb, ['status']);
    fsck(repo);
    const chain: string[] = (git(repo, ['rev-list', '--parents', 'refs/heads/snapshots']) as string).trim().split('\n');
    for (const line of chain) expect(line.split(' ').length).toBeLessThanOrEqual(2);
    const created = results.map((r) => JSON.parse(r.stdout)).filter((r) => r.created);
    for (const c of created) expect(chain.some((line) => line.startsWith(c.commit))).toBe(true);
    expectSameFiles(gitTreeFiles(repo, 'refs/heads/snapshots'), await worktreeFiles(sb.worktree));
  });

  test('a file the user cannot read is skipped with a warning and the snapshot completes', async () => {
    await writeTree(sb.worktree, { 'ok.txt': 'fine', 'secret.txt': 'hidden' });
    await fsp.chmod(path.join(sb.worktree, 'secret.txt'), 0o000);
    let result;
    if (process.getuid?.() === 0) {
      // root reads everything: run the CLI as nobody over a tree nobody owns.
      execFileSync('chown', ['-R', '65534:65534', sb.dir]);
      const child = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, path.resolve('bin/shadowgit'), 'snapshot', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      result = JSON.parse(child);
    } else {
      result = runJson(sb, ['snapshot']);
    }
    expect(result.created).toBe(true);
    expect(result.skipped).toEqual([{ path: 'secret.txt', reason: 'permission denied' }]);
    expect(result.changes.added).toBe(1);
  });
});
