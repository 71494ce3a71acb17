// `diff [FROM [TO]] [--] [PATH...]` and `--stat` (issue #18 item 5), through the real CLI, with
// native git's own `diff --stat` and `--numstat` on the shadow repository as the oracle.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { git, repoOf, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-diff-', (s) => (sb = s));

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

/** Native git's `diff --stat` of two snapshots, as wide as `columns` (git reads $COLUMNS, as the CLI does). */
function gitStat(repo: string, from: string, to: string, paths: string[], columns: number): string {
  const env = { ...process.env, COLUMNS: String(columns), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  return execFileSync('git', ['--git-dir', repo, 'diff', '--no-renames', '--stat', from, to, '--', ...paths], { env, encoding: 'utf8' });
}

describe('diff', () => {
  test('path filters (after --, or recognised as paths, relative to the current directory) and --stat as git prints it', async () => {
    await writeTree(sb.worktree, {
      'package.json': '{}\n',
      'src/app.ts': lines(1, 40),
      'src/lib/util.ts': 'export {};\n',
      'src/lib/gone.ts': 'old\n',
      'docs/guide.md': '# guide\n',
      'assets/logo.bin': Buffer.from([1, 0, 2, 3]),
      'a/very/long/directory/name/that/does/not/fit/in/forty/columns/file.txt': 'x\n',
    });
    const a = runJson(sb, ['snapshot', '-m', 'a']);
    await writeTree(sb.worktree, {
      'package.json': '{"name": "x"}\n',
      'src/app.ts': lines(5, 300),
      'src/lib/util.ts': 'export const x = 1;\nexport {};\n',
      'src/lib/new.ts': 'new\n',
      'docs/guide.md': '# guide\n\nmore\n',
      'assets/logo.bin': Buffer.from([1, 0, 2, 3, 4, 5]),
      'a/very/long/directory/name/that/does/not/fit/in/forty/columns/file.txt': 'y\n',
    });
    await fsp.rm(path.join(sb.worktree, 'src/lib/gone.ts'));
    await fsp.chmod(path.join(sb.worktree, 'src/lib/util.ts'), 0o755);
    const b = runJson(sb, ['snapshot', '-m', 'b']);
    const repo = repoOf(sb);

    // Snapshot to snapshot: the same text as git's, at the default width and a narrow one.
    for (const columns of [80, 40]) {
      for (const paths of [[], ['src/lib', 'package.json']]) {
        const ours = runCli(sb, ['diff', a.id, b.id, '--stat', '--', ...paths], { env: { COLUMNS: String(columns) } });
        expect({ columns, paths, out: ours.stdout, code: ours.code }).toEqual({ columns, paths, out: gitStat(repo, a.commit, b.commit, paths, columns), code: 0 });
      }
    }
    // --json carries git's numstat numbers per file and the totals.
    const json = runJson(sb, ['diff', a.id, b.id, '--stat']);
    const numstat = (git(repo, ['diff', '--no-renames', '--numstat', a.commit, b.commit]) as string).trim().split('\n').map((line) => line.split('\t'));
    expect(json.changes.map((c: { path: string; insertions?: number; deletions?: number; binary?: boolean }) => [c.binary ? '-' : String(c.insertions), c.binary ? '-' : String(c.deletions), c.path])).toEqual(numstat);
    const total = (i: number) => numstat.reduce((sum, row) => sum + (row[i] === '-' ? 0 : Number(row[i])), 0);
    expect(json.stat).toEqual({ files: numstat.length, insertions: total(0), deletions: total(1) });
    expect(json.changes.find((c: { path: string }) => c.path === 'assets/logo.bin')).toMatchObject({ binary: true, oldBytes: 4, newBytes: 6 });

    // Against the working tree: only the paths named, resolved from the current directory.
    await writeTree(sb.worktree, { 'package.json': '{"name": "y"}\n', 'src/lib/util.ts': 'changed\n', 'docs/guide.md': 'changed\n' });
    const patch = runCli(sb, ['diff', '--patch', '--', 'package.json']).stdout;
    expect(patch).toContain('+{"name": "y"}');
    expect(patch).not.toMatch(/util\.ts|guide\.md/);
    // A word that names no revision but an existing path starts the paths, as in git.
    expect(runJson(sb, ['diff', 'latest', 'package.json'])).toEqual(runJson(sb, ['diff', 'latest', '--', 'package.json']));
    expect(runJson(sb, ['diff', 'latest', 'package.json']).changes).toEqual([{ path: 'package.json', status: 'modified' }]);
    const fromSrc = { cwd: path.join(sb.worktree, 'src') };
    expect(runJson(sb, ['diff', 'lib'], fromSrc).changes).toEqual([{ path: 'src/lib/util.ts', status: 'modified' }]);
    expect(runJson(sb, ['diff', '--', '../docs', 'lib/util.ts'], fromSrc).changes.map((c: { path: string }) => c.path)).toEqual(['docs/guide.md', 'src/lib/util.ts']);
    expect(runCli(sb, ['diff', '--stat', '--', 'package.json']).stdout).toBe(' package.json | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n');
    // A deleted path exists only after `--`; a word that is neither revision nor path is the revision's error.
    expect(runJson(sb, ['diff', a.id, '--', 'src/lib/gone.ts']).changes).toEqual([{ path: 'src/lib/gone.ts', status: 'deleted' }]);
    const neither = runCli(sb, ['diff', 'src/lib/gone.ts']);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch('no snapshot, commit or approved revision matches "src/lib/gone.ts"');
    await writeTree(sb.worktree, { latest: 'a file named like a revision\n' });
    const ambiguous = runCli(sb, ['diff', 'latest']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch('"latest" is both a revision and a path');
    expect(runJson(sb, ['diff', 'latest', '--']).changes.length).toBe(4);
    expect(runJson(sb, ['diff', '--', 'latest']).changes).toEqual([{ path: 'latest', status: 'added' }]);
    // A path outside the tree, or beyond a symlink of it (recorded as a link, as git does), is a usage mistake.
    expect(runCli(sb, ['diff', '--', '../outside'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/outside the working tree/) });
    await fsp.symlink('src', path.join(sb.worktree, 'link'));
    expect(runCli(sb, ['diff', '--', 'link/lib/util.ts'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/link\/lib\/util\.ts is beyond the symbolic link link/) });
    expect(runJson(sb, ['diff', '--', 'link']).changes).toEqual([{ path: 'link', status: 'added' }]);
    await fsp.rm(path.join(sb.worktree, 'link'));

    // Trees outside the paths are never read: a diff of src stands though a tree of docs is gone.
    const docsTree = (git(repo, ['rev-parse', `${b.commit}:docs`]) as string).trim();
    await fsp.rm(path.join(repo, 'objects', docsTree.slice(0, 2), docsTree.slice(2)));
    expect(runJson(sb, ['diff', a.id, b.id, '--', 'src/lib']).changes.map((c: { path: string }) => c.path)).toEqual(['src/lib/gone.ts', 'src/lib/new.ts', 'src/lib/util.ts']);
    expect(runCli(sb, ['diff', a.id, b.id]).code).toBe(1);
  });
});
