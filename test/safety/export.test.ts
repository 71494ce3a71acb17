import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fingerprint, fsck, git, gitTreeFiles, repoOf, runCli, runJson, useSandbox, writeTree, type CliResult, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-export-safety-', (s) => (sb = s));

const MARKER = '.shadowgit-export';
/** Raw errno text, or the "please report it" of an unexpected error: never what a refusal should say. */
const RAW_ERROR = /\bE[A-Z]{3,}\b|unexpected error/;

/** The user's own git, with a commit, a stash entry and a staged change, plus untracked and ignored files. */
function userGit(args: string[]): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  return execFileSync('git', ['-c', 'user.name=U', '-c', 'user.email=u@example.com', ...args], { cwd: sb.worktree, env, encoding: 'utf8' });
}

async function userRepository(): Promise<void> {
  await writeTree(sb.worktree, { 'src/app.ts': 'v1\n', '.gitignore': '*.log\n', 'notes.txt': 'committed\n' });
  userGit(['init', '-q']);
  userGit(['add', '.']);
  userGit(['commit', '-qm', 'first']);
  await writeTree(sb.worktree, { 'notes.txt': 'stashed change\n' });
  userGit(['stash', '-q']);
  await writeTree(sb.worktree, { 'src/app.ts': 'v2 staged\n' });
  userGit(['add', 'src/app.ts']);
  await writeTree(sb.worktree, { 'untracked.txt': 'not in git\n', 'debug.log': 'ignored by git\n' });
}

/** What native git says about the user's repository: commit, stash, index, status with ignored files. */
function userGitState(): string[] {
  return [userGit(['rev-parse', 'HEAD']), userGit(['stash', 'list', '--format=%H %s']), userGit(['diff', '--cached']), userGit(['status', '--porcelain', '--ignored']), userGit(['fsck', '--strict', '--no-progress'])];
}

function expectRefused(result: CliResult, message: RegExp, code = 1): void {
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(RAW_ERROR);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.code).toBe(code);
}

test('export --force pointed at the working tree, above it or into it refuses and leaves .git, untracked and ignored files intact', async () => {
  await userRepository();
  runJson(sb, ['snapshot']);
  const gitBefore = userGitState();
  const treeBefore = await fingerprint(sb.worktree);

  expectRefused(runCli(sb, ['export', 'latest', '.', '--force']), /cannot export to .*: it is the working tree .*; choose a place outside it\.$/m);
  expectRefused(runCli(sb, ['export', 'latest', 'src', '--force']), /it is inside the working tree/);
  expectRefused(runCli(sb, ['export', 'latest', 'snap.tar']), /it is inside the working tree/);
  expectRefused(runCli(sb, ['export', 'latest', '..', '--force']), /it holds the working tree .*; choose a place that does not hold it\.$/m);
  expectRefused(runCli(sb, ['export', 'latest', '.git/out', '--force']), /it is inside the working tree/);

  expect(await fingerprint(sb.worktree)).toBe(treeBefore);
  expect(userGitState()).toEqual(gitBefore);
  expect(runJson(sb, ['list'])).toHaveLength(1);
});

test('export refuses the shadow repository, SHADOWGIT_HOME, a symlink to the tree and any git directory (compared as real paths)', async () => {
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  const snap = runJson(sb, ['snapshot']);
  const repo = repoOf(sb);
  await fsp.symlink(sb.worktree, path.join(sb.dir, 'tree-link'));
  await fsp.symlink(sb.home, path.join(sb.dir, 'home-link'));
  // Another repository of the user's, and a bare one: their git directories are off limits too.
  const other = path.join(sb.dir, 'other');
  await writeTree(other, { 'x.txt': 'x\n' });
  execFileSync('git', ['init', '-q', other]);
  execFileSync('git', ['init', '-q', '--bare', path.join(sb.dir, 'bare.git')]);
  const protectedDirs = [sb.worktree, sb.home, other, path.join(sb.dir, 'bare.git')];
  const before = await Promise.all(protectedDirs.map(fingerprint));

  const cases: Array<[string, RegExp]> = [
    [repo, /it is the shadow repository/],
    [path.join(repo, 'objects'), /it is inside the shadow repository/],
    [sb.home, /it is shadowgit's home \(SHADOWGIT_HOME\)/],
    [path.join(sb.dir, 'home-link'), /it is shadowgit's home/],
    [path.join(sb.dir, 'tree-link'), /it is the working tree/],
    [path.join(sb.dir, 'tree-link', 'sub'), /it is inside the working tree/],
    [path.join(other, '.git'), /it is the git directory/],
    [path.join(other, '.git', 'refs', 'x.tar.gz'), /it is inside the git directory/],
    [path.join(sb.dir, 'bare.git'), /it is the git directory/],
    [path.join(sb.dir, 'bare.git', 'new'), /it is inside the git directory/],
  ];
  for (const [out, message] of cases) {
    expectRefused(runCli(sb, ['export', 'latest', out, '--force']), message);
  }

  expect(await Promise.all(protectedDirs.map(fingerprint))).toEqual(before);
  fsck(repo);
  expect(runJson(sb, ['list']).map((s: { id: string }) => s.id)).toEqual([snap.id]);
});

test('an empty OUT (an unset shell variable) is a usage error, not the current directory', async () => {
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  runJson(sb, ['snapshot']);
  const before = await fingerprint(sb.dir);
  for (const cwd of [sb.worktree, sb.dir]) {
    expectRefused(runCli(sb, ['export', 'latest', '', '--force'], { cwd }), /OUT is empty .*; name the directory or \.tar\/\.tar\.gz file to write/, 2);
  }
  expect(await fingerprint(sb.dir)).toBe(before);
});

test('tar and tar.gz stream from the object store: nothing staged in TMPDIR; native tar lists modes and symlinks; content equals git archive', async () => {
  await writeTree(sb.worktree, {
    'src/app.ts': 'export const x = 1;\n',
    'bin/tool': '#!/bin/sh\nexit 0\n',
    '.env': 'SECRET=1\n',
    'empty.txt': '',
    'data/ünïcode name.txt': 'u\n',
    [`deep/${'d'.repeat(60)}/${'n'.repeat(60)}.txt`]: 'long path\n',
    // Above the stream threshold, random so its loose object is large: it must stream, not sit in memory.
    'big.bin': randomBytes(9 * 1024 * 1024),
  });
  await fsp.chmod(path.join(sb.worktree, 'bin/tool'), 0o755);
  await fsp.symlink('../src/app.ts', path.join(sb.worktree, 'bin/app-link'));
  await fsp.symlink(`/${'t'.repeat(150)}`, path.join(sb.worktree, 'long-link'));
  const snap = runJson(sb, ['snapshot']);
  const repo = repoOf(sb);
  const expected = gitTreeFiles(repo, snap.commit);

  // Native git's own archive of the same commit, unpacked: the independent oracle.
  const fromGit = path.join(sb.dir, 'from-git');
  await fsp.mkdir(fromGit);
  execFileSync('tar', ['-xf', '-', '-C', fromGit], { input: git(repo, ['archive', '--format=tar', snap.commit], { encoding: 'buffer' }) });
  expectSameFiles(await diskFiles(fromGit), expected);

  // TMPDIR is a file: any staging there fails, so passing proves there is none.
  const notADirectory = path.join(sb.dir, 'tmp-is-a-file');
  await fsp.writeFile(notADirectory, '');
  for (const name of ['snap.tar', 'snap.tar.gz']) {
    const archive = path.join(sb.dir, name);
    const result = runCli(sb, ['--json', 'export', snap.id, archive], { env: { TMPDIR: notADirectory } });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ files: 7, symlinks: 2, format: name.endsWith('.gz') ? 'tar.gz' : 'tar' });

    const listing = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/tool$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* \.env$/m);
    expect(listing).toMatch(/^l\S+ .* bin\/app-link -> \.\.\/src\/app\.ts$/m);
    expect(listing).toMatch(new RegExp(`^l\\S+ .* long-link -> /${'t'.repeat(150)}$`, 'm'));

    const unpacked = path.join(sb.dir, `unpacked-${name}`);
    await fsp.mkdir(unpacked);
    execFileSync('tar', ['-xf', archive, '-C', unpacked]);
    expectSameFiles(await diskFiles(unpacked), expected);
    expectSameFiles(await diskFiles(unpacked), await diskFiles(fromGit));
  }
  // Nothing was left beside the archives.
  expect((await fsp.readdir(sb.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
});

test('a killed export leaves OUT as it was and only a private temp, which the next export removes', async () => {
  await writeTree(sb.worktree, { 'a.txt': 'first\n', '.env': 'SECRET=1\n', 'sub/b.txt': 'b\n' });
  runJson(sb, ['snapshot']);
  const exports = path.join(sb.dir, 'exports');
  const temps = async () => (await fsp.readdir(exports)).filter((entry) => entry.endsWith('.tmp'));
  for (const name of ['out.tar', 'out.tar.gz', 'out']) {
    const out = path.join(exports, name);
    runJson(sb, ['export', 'latest', out]);
    const previous = await fingerprint(exports);
    await writeTree(sb.worktree, { 'a.txt': `changed for ${name}\n` });
    runJson(sb, ['snapshot']);

    const killed = runCli(sb, ['export', 'latest', out, '--force'], { env: { SHADOWGIT_FAULT: 'export:2' } });
    expect(killed.code).toBe(-1);
    // OUT is untouched; the only thing added is one temp directory that no one else can enter.
    const [temp, ...more] = await temps();
    expect(more).toEqual([]);
    expect((await fsp.lstat(path.join(exports, temp!))).mode & 0o777).toBe(0o700);
    await fsp.rename(path.join(exports, temp!), path.join(sb.dir, 'kept-aside'));
    expect(await fingerprint(exports)).toBe(previous);
    await fsp.rename(path.join(sb.dir, 'kept-aside'), path.join(exports, temp!));

    runJson(sb, ['export', 'latest', out, '--force']);
    expect(await temps()).toEqual([]);
    const unpacked = name === 'out' ? out : path.join(sb.dir, `unpacked-${name}`);
    if (name !== 'out') {
      await fsp.mkdir(unpacked);
      execFileSync('tar', ['-xf', out, '-C', unpacked]);
    }
    expect(await fsp.readFile(path.join(unpacked, 'a.txt'), 'utf8')).toBe(`changed for ${name}\n`);
  }
});

test('--force replaces only a previous export; directories, files, links and git repositories in the way get one sentence each', async () => {
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  const snap = runJson(sb, ['snapshot']);
  const place = path.join(sb.dir, 'place');
  const at = (name: string) => path.join(place, name);
  await writeTree(place, { 'dir.tar/mine.txt': 'precious\n', 'mine/notes.txt': 'precious\n', 'plain.tar': 'not an archive\n', 'afile': 'a file\n', 'file-out': 'a file\n' });
  // A real tar of the user's (not an export) is not replaced either.
  execFileSync('tar', ['-cf', at('theirs.tar'), '-C', at('mine'), 'notes.txt']);
  await fsp.symlink(at('mine'), at('link-to-dir'));
  await fsp.symlink(at('plain.tar'), at('link.tar'));
  const before = await fingerprint(place);

  expectRefused(runCli(sb, ['export', 'latest', at('dir.tar'), '--force']), /dir\.tar is a directory, but a name ending in \.tar, \.tar\.gz or \.tgz is written as an archive file; choose another name/);
  expectRefused(runCli(sb, ['export', 'latest', at('afile/out')]), /cannot export to .*afile\/out: .*afile is a file, not a directory; choose another place\.$/m);
  expectRefused(runCli(sb, ['export', 'latest', at('afile/deeper/out.tar'), '--force']), /afile is a file, not a directory/);
  expectRefused(runCli(sb, ['export', 'latest', at('file-out'), '--force']), /file-out is a file, and a directory export needs a directory there/);
  expectRefused(runCli(sb, ['export', 'latest', at('mine'), '--force']), /mine already exists, is not empty and is not a previous export \(it has no \.shadowgit-export\); choose another place/);
  expectRefused(runCli(sb, ['export', 'latest', at('plain.tar'), '--force']), /plain\.tar already exists and was not written by `shadowgit export`; choose another place/);
  expectRefused(runCli(sb, ['export', 'latest', at('theirs.tar'), '--force']), /was not written by `shadowgit export`/);
  expectRefused(runCli(sb, ['export', 'latest', at('link-to-dir'), '--force']), /link-to-dir is a symbolic link, and export never writes through one/);
  expectRefused(runCli(sb, ['export', 'latest', at('link.tar'), '--force']), /link\.tar is a symbolic link/);
  // An archive format export does not write is refused by name, not made a directory called x.zip.
  for (const [name, ext] of [['x.zip', 'zip'], ['x.tar.xz', 'tar.xz'], ['X.7Z', '7Z']]) {
    expectRefused(runCli(sb, ['export', 'latest', at(name!)]), new RegExp(`export writes a directory, a \\.tar or a \\.tar\\.gz \\(\\.tgz\\) archive, not \\.${ext!.replace('.', '\\.')}; name the output`), 2);
  }
  expect(await fingerprint(place)).toBe(before);

  // Previous exports are replaced with --force: the directory by its marker, the archive by its global header.
  runJson(sb, ['export', 'latest', at('copy')]);
  expect(await fsp.readFile(path.join(at('copy'), MARKER), 'utf8')).toContain(snap.commit);
  runJson(sb, ['export', 'latest', at('copy.tgz')]);
  expectRefused(runCli(sb, ['export', 'latest', at('copy.tgz')]), /copy\.tgz already exists; choose another place, or pass --force to replace it\.$/m);
  await writeTree(at('copy'), { 'added.txt': 'added\n' });
  runJson(sb, ['export', 'latest', at('copy'), '--force']);
  expect(await fsp.readdir(at('copy'))).toEqual(expect.not.arrayContaining(['added.txt']));
  runJson(sb, ['export', 'latest', at('copy.tgz'), '--force']);

  // An export the user turned into a repository is theirs now.
  execFileSync('git', ['init', '-q', at('copy')]);
  const turned = await fingerprint(at('copy'));
  expectRefused(runCli(sb, ['export', 'latest', at('copy'), '--force']), /copy is a previous export, but it now holds a git repository \(.*copy\/\.git\); move that out of it, or choose another place\.$/m);
  expect(await fingerprint(at('copy'))).toBe(turned);
  // An empty directory needs no --force.
  await fsp.mkdir(at('empty'));
  runJson(sb, ['export', 'latest', at('empty')]);
  expect(await fsp.readFile(path.join(at('empty'), 'a.txt'), 'utf8')).toBe('a\n');
});
