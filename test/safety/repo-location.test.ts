import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { BIN, fingerprint, fsck, git, runCli, useSandbox, writeTree, type CliResult, type Sandbox } from '../helpers/sandbox.js';

/**
 * Where the shadow repository may live: compared on real paths, never inside the tree, any git
 * directory, nor around the tree; only a directory shadowgit made (its marker) is opened; no
 * directory holding it may be writable by others. Every refusal is one sentence and changes nothing.
 */

let sb: Sandbox;
useSandbox('sg-place-', (s) => (sb = s));

const setRepo = (repo: string) => fsp.writeFile(path.join(sb.worktree, '.shadowgit'), JSON.stringify({ repo }));

/** One line on stderr, exit 1, nothing on stdout, and no stack or errno text. */
function expectRefusal(result: CliResult, ...mentions: RegExp[]): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
  expect(result.stderr).toMatch(/^shadowgit: [^\n]+\.\n$/);
  expect(result.stderr).not.toMatch(/unexpected error|E[A-Z]{3,}:/);
  for (const mention of mentions) expect(result.stderr).toMatch(mention);
}

const userGit = (dir: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });

/** A git repository with two commits, the second only in the reflog, a stash and a staged change. */
async function userRepository(dir: string): Promise<void> {
  await writeTree(dir, { 'a.txt': 'one\n' });
  userGit(dir, ['init', '-q']);
  userGit(dir, ['add', '-A']);
  userGit(dir, ['commit', '-qm', 'one']);
  await writeTree(dir, { 'a.txt': 'two\n' });
  userGit(dir, ['commit', '-qam', 'two']);
  userGit(dir, ['reset', '-q', '--hard', 'HEAD~1']);
  await writeTree(dir, { 'a.txt': 'stashed\n' });
  userGit(dir, ['stash', '-q']);
  await writeTree(dir, { 'b.txt': 'staged\n' });
  userGit(dir, ['add', 'b.txt']);
}

describe('real paths', () => {
  test('"repo" through a symlink to the tree\'s own .git is refused, and the user\'s repository is untouched', async () => {
    await userRepository(sb.worktree);
    const dotGit = path.join(sb.worktree, '.git');
    await fsp.symlink(sb.worktree, path.join(sb.dir, 't2link'));
    await setRepo(path.join(sb.dir, 't2link', '.git'));
    const [before, refs] = [await fingerprint(dotGit), git(dotGit, ['for-each-ref'])];
    for (const command of [['snapshot'], ['gc', '--grace', '0'], ['status'], ['init']]) {
      expectRefusal(runCli(sb, command), /would be inside the working tree/, new RegExp(`really ${dotGit}`));
    }
    expect(await fingerprint(dotGit)).toBe(before);
    expect(git(dotGit, ['for-each-ref'])).toBe(refs);
    fsck(dotGit);
  });

  test('SHADOWGIT_HOME through a symlink into the tree is refused; through a symlink to elsewhere it is used, at its real path', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n', 'inner/keep.txt': 'k\n' });
    const inner = path.join(sb.worktree, 'inner');
    await fsp.symlink(inner, path.join(sb.dir, 'into-tree'));
    const before = await fingerprint(inner);
    expectRefusal(runCli(sb, ['snapshot'], { env: { SHADOWGIT_HOME: path.join(sb.dir, 'into-tree') } }), /would be inside the working tree/, /SHADOWGIT_HOME/);
    expect(await fingerprint(inner)).toBe(before);

    await fsp.mkdir(path.join(sb.dir, 'elsewhere'));
    await fsp.symlink(path.join(sb.dir, 'elsewhere'), path.join(sb.dir, 'home-link'));
    const env = { SHADOWGIT_HOME: path.join(sb.dir, 'home-link') };
    expect(runCli(sb, ['snapshot'], { env }).code).toBe(0);
    const repo = JSON.parse(runCli(sb, ['status', '--json'], { env }).stdout).repo as string;
    expect(path.dirname(path.dirname(repo))).toBe(path.join(sb.dir, 'elsewhere'));
    fsck(repo);
  });

  test('"repo" around the tree, or inside any git directory or repository, is refused and nothing is written there', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const other = path.join(sb.dir, 'other');
    await userRepository(other);
    const bare = path.join(sb.dir, 'bare.git');
    execFileSync('git', ['clone', '-q', '--bare', other, bare]);
    const cases: Array<[string, RegExp]> = [
      [sb.dir, /would contain the working tree/],
      [path.join(other, '.git'), /git's own/],
      [path.join(other, '.git', 'refs', 'shadow.git'), /git's own/],
      [path.join(bare, 'shadow.git'), /git's own/],
    ];
    for (const [repo, why] of cases) {
      const [otherBefore, bareBefore] = [await fingerprint(other), await fingerprint(bare)];
      await setRepo(repo);
      expectRefusal(runCli(sb, ['snapshot']), why);
      expect([await fingerprint(other), await fingerprint(bare)]).toEqual([otherBefore, bareBefore]);
    }
    fsck(path.join(other, '.git'));
    fsck(bare);
  });
});

describe('only a shadow repository is opened', () => {
  test('a git repository shadowgit did not make (no [shadowgit] marker in its config) is refused, bare or not', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const other = path.join(sb.dir, 'other');
    await userRepository(other);
    const bare = path.join(sb.dir, 'bare.git');
    execFileSync('git', ['clone', '-q', '--bare', other, bare]);
    await setRepo(bare);
    const before = await fingerprint(bare);
    for (const command of [['snapshot'], ['list'], ['gc', '--grace', '0']]) expectRefusal(runCli(sb, command), /is not a shadow repository/, /\[shadowgit\]/);
    expect(await fingerprint(bare)).toBe(before);
    fsck(bare);
  });

  test('a shadow repository whose marker was removed is refused; with it back, it opens again', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const repo = path.join(sb.dir, 'store.git');
    await setRepo(repo);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    expect(git(repo, ['config', 'shadowgit.worktree']).trim()).toBe(sb.worktree);
    git(repo, ['config', '--remove-section', 'shadowgit']);
    expectRefusal(runCli(sb, ['snapshot']), /is not a shadow repository/);
    git(repo, ['config', 'shadowgit.worktree', sb.worktree]);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
  });

  test('a copied tree cannot share the shadow repository of the original; a moved tree keeps it', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const repo = path.join(sb.dir, 'store.git');
    await setRepo(repo);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    const copy = path.join(sb.dir, 'copy');
    execFileSync('cp', ['-a', sb.worktree, copy]);
    const before = await fingerprint(repo);
    expectRefusal(runCli(sb, ['snapshot'], { cwd: copy }), new RegExp(`holds the snapshots of ${sb.worktree}`));
    expect(await fingerprint(repo)).toBe(before);

    await fsp.rm(copy, { recursive: true });
    const moved = path.join(sb.dir, 'moved');
    await fsp.rename(sb.worktree, moved);
    await writeTree(moved, { 'b.txt': 'b\n' });
    expect(runCli(sb, ['snapshot'], { cwd: moved }).code).toBe(0);
    expect(git(repo, ['config', 'shadowgit.worktree']).trim()).toBe(moved);
    expect(JSON.parse(runCli(sb, ['list', '--json'], { cwd: moved }).stdout)).toHaveLength(2);
    fsck(repo);
  });

  test('"repo" set to /, /etc, a file or a directory with content is refused in one sentence, and nothing is created or changed', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    await writeTree(sb.dir, { 'notes.txt': 'mine\n', 'docs/readme.md': 'docs\n' });
    const listing = async (dir: string) => JSON.stringify(await fsp.readdir(dir));
    const notes = path.join(sb.dir, 'notes.txt');
    const docs = path.join(sb.dir, 'docs');
    const cases: Array<[string, RegExp, () => Promise<string[]>]> = [
      ['/', /would contain the working tree/, async () => [await listing('/')]],
      ['/etc', /\/etc is not a shadow repository/, async () => [await listing('/'), await listing('/etc')]],
      [notes, /is a file, not a directory/, async () => [await listing(sb.dir), await fsp.readFile(notes, 'utf8')]],
      [docs, /docs is not a shadow repository/, async () => [await listing(sb.dir), await fingerprint(docs)]],
      [path.join(notes, 'repo.git'), /goes through a file/, async () => [await listing(sb.dir), await fsp.readFile(notes, 'utf8')]],
    ];
    for (const [repo, why, state] of cases) {
      await setRepo(repo);
      const before = await state();
      for (const command of [['snapshot'], ['init']]) expectRefusal(runCli(sb, command), why);
      expect(await state()).toEqual(before);
    }
  });

  test('an empty directory is taken as the place for a new shadow repository', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const repo = path.join(sb.dir, 'empty.git');
    await fsp.mkdir(repo, { mode: 0o700 });
    await setRepo(repo);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    expect((await fsp.stat(repo)).mode & 0o777).toBe(0o700);
    fsck(repo);
  });

  test('a symlinked shadow repository path is refused, naming the link', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const repo = path.join(sb.dir, 'store.git');
    await setRepo(repo);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    await fsp.symlink(repo, path.join(sb.dir, 'link.git'));
    await setRepo(path.join(sb.dir, 'link.git'));
    expectRefusal(runCli(sb, ['snapshot']), /link\.git is a symlink/);
    expectRefusal(runCli(sb, ['status']), /link\.git is a symlink/);
  });
});

describe('directories others could write to', () => {
  test('SHADOWGIT_HOME/repos or SHADOWGIT_HOME writable by others is refused with the chmod to run; once fixed, it works', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    const repos = path.join(sb.home, 'repos');
    for (const [dir, mode] of [[repos, 0o777], [repos, 0o775], [sb.home, 0o777], [sb.home, 0o770]] as const) {
      await fsp.chmod(dir, mode);
      const before = await fingerprint(sb.home);
      expectRefusal(runCli(sb, ['snapshot']), /writable by others/, new RegExp(`chmod 700 ${dir}\``));
      expect(await fingerprint(sb.home)).toBe(before);
      await fsp.chmod(dir, 0o700);
      expect(runCli(sb, ['status']).code).toBe(0);
    }
  });

  test('a world-writable directory holding "repo" is refused unless sticky, like /tmp', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const shared = path.join(sb.dir, 'shared');
    await fsp.mkdir(shared);
    await fsp.chmod(shared, 0o777);
    await setRepo(path.join(shared, 'store.git'));
    expectRefusal(runCli(sb, ['snapshot']), /the directory .*shared, which holds the shadow repository, is writable by others/);
    expect(await fsp.readdir(shared)).toEqual([]);
    await fsp.chmod(shared, 0o1777);
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    expect((await fsp.stat(path.join(shared, 'store.git'))).mode & 0o777).toBe(0o700);
  });

  test('a new SHADOWGIT_HOME, its repos directory and the shadow repository are created 0700', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    const home = path.join(sb.dir, 'fresh', 'home');
    expect(runCli(sb, ['snapshot'], { env: { SHADOWGIT_HOME: home } }).code).toBe(0);
    const repo = JSON.parse(runCli(sb, ['status', '--json'], { env: { SHADOWGIT_HOME: home } }).stdout).repo as string;
    for (const dir of [home, path.join(home, 'repos'), repo]) expect([dir, (await fsp.stat(dir)).mode & 0o777]).toEqual([dir, 0o700]);
  });
});

describe('.shadowgit itself', () => {
  /** The CLI with a deadline: a hang is a failure, not a stuck test run. */
  const runBounded = (args: string[]) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd: sb.worktree, env: sb.env, encoding: 'utf8', timeout: 20_000 });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };

  test.each([
    ['a FIFO', (file: string) => execFileSync('mkfifo', [file]), /is not a regular file/],
    ['a directory', (file: string) => fsp.mkdir(file), /is not a regular file/],
    ['larger than 1 MiB', (file: string) => fsp.writeFile(file, `{${' '.repeat(2 << 20)}}`), /is larger than 1 MiB/],
  ])('.shadowgit that is %s: one sentence, no hang', async (_what, make, why) => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    await make(path.join(sb.worktree, '.shadowgit'));
    for (const command of [['snapshot'], ['status']]) expectRefusal(runBounded(command), why, /\.shadowgit/);
  });

  test.each(['__proto__', 'constructor', 'toString'])('config key "%s" is an unknown key like any other', async (key) => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n', '.shadowgit': `{\n  "exclude": [],\n  "${key}": {}\n}\n` });
    expectRefusal(runCli(sb, ['snapshot']), new RegExp(`\\.shadowgit:3: unknown key "${key}"; the keys are repo, exclude`));
  });
});
