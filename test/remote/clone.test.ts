// clone and verify --remote against a real server (git http-backend behind
// test/helpers/gitserver.ts). The remote is built with native git to exactly the layout a push
// writes (docs/remote.md, "Names on the remote"), so these tests stand on their own; native git
// is the oracle for what arrives on disk and in the new shadow repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { ShadowGit } from '../../src/index.js';
import { startGitServer, type GitServer } from '../helpers/gitserver.js';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, makeSandbox, withHome, runCliAsync, writeTree, type Sandbox } from '../helpers/sandbox.js';

const LAPTOP = 'laptop-3f2a';
const DESKTOP = 'desktop-9b0c';
const SECRET = 'tok-5e1f-sekrit';

let sb: Sandbox;
let server: GitServer;
let source: string;
let serverRepo: string;
let url: string;
let tip: string;
let first: string;
let tag: string;
let clones = 0;

const NATIVE = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

/** What a push of `source`'s chain, approval and notes as machine `machine` leaves on the server, written with native git. */
function pushAsMachine(serverPath: string, machine: string): void {
  git(source, ['push', '-q', serverPath, `refs/heads/snapshots:refs/heads/${machine}`, `${tag}:refs/tags/${machine}/${tag.slice('refs/tags/'.length)}`, `refs/notes/commits:refs/notes/${machine}`]);
}

/** A fresh machine: its own SHADOWGIT_HOME; returns the env and a directory path that does not exist yet. */
async function freshMachine(): Promise<{ env: NodeJS.ProcessEnv; home: string; dir: string }> {
  const base = path.join(sb.dir, `machine-${++clones}`);
  const home = path.join(base, 'home');
  await fsp.mkdir(home, { recursive: true });
  return { env: { SHADOWGIT_HOME: home }, home, dir: path.join(base, 'restored', 'app') };
}

/** The shadow repositories under a SHADOWGIT_HOME. */
async function reposIn(home: string): Promise<string[]> {
  return (await fsp.readdir(path.join(home, 'repos')).catch(() => [] as string[])).map((name) => path.join(home, 'repos', name));
}

beforeAll(async () => {
  sb = makeSandbox('sg-clone-');
  server = await startGitServer();
  url = server.url('backup.git');
  serverRepo = server.createRepo('backup.git', { appendOnly: true });
  await withHome(sb.home, async () => {
    await writeTree(sb.worktree, { 'README.md': '# app\n', 'src/a.ts': 'export const a = 1;\n', 'bin/run.sh': '#!/bin/sh\necho run\n', 'data/blob.bin': Buffer.from([0, 1, 2, 255, 254]) });
    await fsp.chmod(path.join(sb.worktree, 'bin/run.sh'), 0o755);
    await fsp.symlink('../README.md', path.join(sb.worktree, 'src/readme-link'));
    const shadow = await ShadowGit.open({ cwd: sb.worktree });
    first = (await shadow.snapshot({ message: 'first', note: 'the first note' })).commit;
    await writeTree(sb.worktree, { 'src/b.ts': 'export const b = 2;\n', 'README.md': '# app, second\n' });
    const approved = await shadow.approve('Feature Complete', { description: 'ready to ship' });
    tag = approved.tag;
    await writeTree(sb.worktree, { 'src/a.ts': 'export const a = 3;\n' });
    await shadow.snapshot({ message: 'third', note: 'the third note' });
    source = shadow.repoPath;
    tip = (git(source, ['rev-parse', 'refs/heads/snapshots']) as string).trim();
  });
  pushAsMachine(serverRepo, LAPTOP);
  // An older machine: the first snapshot again, committed in 2020, so the laptop's chain is the newest.
  const message = (git(source, ['cat-file', 'commit', first]) as string).split('\n\n').slice(1).join('\n\n');
  const old = execFileSync('git', ['--git-dir', source, 'commit-tree', `${first}^{tree}`], { input: message, encoding: 'utf8', env: { ...NATIVE, GIT_AUTHOR_NAME: 'shadowgit', GIT_AUTHOR_EMAIL: 'shadowgit@localhost', GIT_COMMITTER_NAME: 'shadowgit', GIT_COMMITTER_EMAIL: 'shadowgit@localhost', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' } }).trim();
  git(source, ['push', '-q', serverRepo, `${old}:refs/heads/${DESKTOP}`]);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await sb?.cleanup();
});

describe('clone', () => {
  test('onto a fresh machine: the newest machine, byte-exact to its latest snapshot; approvals, notes and the remote are local; a snapshot and status work after it', async () => {
    const machine = await freshMachine();
    const cloned = await runCliAsync(sb, ['clone', url, machine.dir, '--json'], { cwd: sb.dir, env: machine.env });
    expect(cloned.code).toBe(0);
    const report = JSON.parse(cloned.stdout);
    expect(report).toMatchObject({ machine: LAPTOP, otherMachines: [DESKTOP], remote: 'origin', snapshots: 3, approved: 1, checkedOut: { commit: tip } });
    expect(cloned.stderr).toContain(`took ${LAPTOP}`);
    expect(cloned.stderr).toContain(DESKTOP);
    // Byte-exact, modes and the symlink included, against native git's reading of the commit.
    expectSameFiles(await diskFiles(machine.dir), gitTreeFiles(source, tip));
    expect((await fsp.lstat(path.join(machine.dir, 'src/readme-link'))).isSymbolicLink()).toBe(true);

    const [repo] = await reposIn(machine.home);
    expect(report.repo).toBe(repo);
    fsck(repo!);
    expect((git(repo!, ['rev-parse', 'refs/heads/snapshots']) as string).trim()).toBe(tip);
    expect((git(repo!, ['config', 'remote.origin.url']) as string).trim()).toBe(url);
    expect(git(repo!, ['notes', 'show', tip])).toContain('the third note');
    expect(git(repo!, ['notes', 'show', first])).toContain('the first note');
    const listed = JSON.parse((await runCliAsync(sb, ['list', '--json'], { cwd: machine.dir, env: machine.env })).stdout);
    expect(listed.map((s: { commit: string }) => s.commit)).toEqual((git(source, ['rev-list', 'refs/heads/snapshots']) as string).trim().split('\n'));
    expect(listed.flatMap((s: { tags: string[] }) => s.tags)).toEqual(['Feature Complete']);

    const status = JSON.parse((await runCliAsync(sb, ['status', '--json'], { cwd: machine.dir, env: machine.env })).stdout);
    expect(status.changes).toEqual({ added: [], modified: [], deleted: [] });
    expect(status.snapshots).toBe(3);
    await writeTree(machine.dir, { 'src/c.ts': 'export const c = 3;\n' });
    const snap = await runCliAsync(sb, ['snapshot', '-m', 'after the clone', '--json'], { cwd: machine.dir, env: machine.env });
    expect(snap.code).toBe(0);
    expect(JSON.parse(snap.stdout).created).toBe(true);
    expect((git(repo!, ['rev-parse', 'refs/heads/snapshots~1']) as string).trim()).toBe(tip);
    const after = JSON.parse((await runCliAsync(sb, ['status', '--json'], { cwd: machine.dir, env: machine.env })).stdout);
    expect(after.changes).toEqual({ added: [], modified: [], deleted: [] });
    fsck(repo!);

    // verify --remote by the name the clone recorded, from inside the restored tree.
    const verified = await runCliAsync(sb, ['verify', '--remote', 'origin'], { cwd: machine.dir, env: machine.env });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('all intact');
  });

  test('--rev an older snapshot and --machine another machine', async () => {
    const older = await freshMachine();
    const byRev = await runCliAsync(sb, ['clone', url, older.dir, '--rev', 'latest~2', '--json'], { cwd: sb.dir, env: older.env });
    expect(byRev.code).toBe(0);
    expect(JSON.parse(byRev.stdout).checkedOut.commit).toBe(first);
    expectSameFiles(await diskFiles(older.dir), gitTreeFiles(source, first));
    expect(JSON.parse((await runCliAsync(sb, ['status', '--json'], { cwd: older.dir, env: older.env })).stdout).changes).toEqual({ added: [], modified: [], deleted: [] });

    // Credentials in the URL are used (the server ignores them) and written nowhere.
    const desktop = await freshMachine();
    const withToken = url.replace('http://', `http://me:${SECRET}@`);
    const byMachine = await runCliAsync(sb, ['clone', withToken, desktop.dir, '--machine', DESKTOP, '--name', 'backup'], { cwd: sb.dir, env: desktop.env });
    expect(byMachine.code).toBe(0);
    expect(byMachine.stdout).toContain(`1 snapshot(s) and 0 approved revision(s) of machine ${DESKTOP}`);
    expect(`${byMachine.stdout}${byMachine.stderr}`).not.toContain(SECRET);
    expectSameFiles(await diskFiles(desktop.dir), gitTreeFiles(source, first));
    const [repo] = await reposIn(desktop.home);
    expect((git(repo!, ['config', 'remote.backup.url']) as string).trim()).toBe(url);
    const grep = spawnSync('grep', ['-r', '-l', SECRET, desktop.home], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
  });

  test('refusals: a non-empty directory, a file, a symlink, an unknown machine, a revision the chain lacks, a tree that has snapshots — one sentence, nothing left behind; a shadow repository without snapshots is taken over', async () => {
    const machine = await freshMachine();
    const full = path.join(sb.dir, 'full');
    await writeTree(full, { 'keep.txt': 'mine\n' });
    const file = path.join(sb.dir, 'a-file');
    await fsp.writeFile(file, 'x');
    const link = path.join(sb.dir, 'a-link');
    await fsp.mkdir(path.join(sb.dir, 'empty-target'));
    await fsp.symlink(path.join(sb.dir, 'empty-target'), link);
    // Through the CLI once: a usage exit and one sentence.
    const refused = await runCliAsync(sb, ['clone', url, full], { cwd: sb.dir, env: machine.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^shadowgit: \S+ is not empty; clone into a new or empty directory/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const cases: Array<[string, { rev?: string; machine?: string }, RegExp, string]> = [
      [file, {}, /is not a directory/, 'EUSAGE'],
      [link, {}, /is a symbolic link/, 'EUSAGE'],
      [machine.dir, { machine: 'nobody' }, /has no machine named "nobody"; it holds desktop-9b0c, laptop-3f2a/, 'EUSAGE'],
      [machine.dir, { rev: 'no-such-name' }, /no-such-name/, 'EBADREV'],
    ];
    await withHome(machine.home, async () => {
      for (const [dir, options, message, code] of cases) await expect(ShadowGit.clone(url, dir, options)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
      expect(await reposIn(machine.home)).toEqual([]);

      // A shadow repository without snapshots (what a clone killed mid-fetch leaves) is taken over;
      // one with snapshots is not, even when its tree was emptied.
      const reused = path.join(sb.dir, 'reused');
      await fsp.mkdir(reused);
      const initialized = await ShadowGit.open({ worktree: reused });
      await initialized.init();
      expect((await ShadowGit.clone(url, reused, { machine: LAPTOP })).repo).toBe(initialized.repoPath);
      for (const name of await fsp.readdir(reused)) await fsp.rm(path.join(reused, name), { recursive: true });
      await expect(ShadowGit.clone(url, reused)).rejects.toMatchObject({ code: 'EUSAGE', message: expect.stringMatching(/already has snapshots in/) });
      expect(await fsp.readdir(reused)).toEqual([]);
    });
    expect(await fsp.readFile(path.join(full, 'keep.txt'), 'utf8')).toBe('mine\n');
    expect(await fsp.readdir(path.join(sb.dir, 'empty-target'))).toEqual([]);
    await expect(fsp.lstat(machine.dir)).rejects.toThrow();
  });

  test('a server killed mid-fetch leaves no directory and no shadow repository; the clone run again succeeds', async () => {
    const machine = await freshMachine();
    server.killNextFetchAfter(300);
    const cut = await runCliAsync(sb, ['clone', url, machine.dir, '--machine', LAPTOP], { cwd: sb.dir, env: machine.env });
    expect(cut.code).toBe(1);
    expect(cut.stderr.trim().split('\n')).toHaveLength(1);
    expect(server.requests.some((r) => r.status === -1)).toBe(true);
    await expect(fsp.lstat(machine.dir)).rejects.toThrow();
    expect(await reposIn(machine.home)).toEqual([]);

    const again = await runCliAsync(sb, ['clone', url, machine.dir, '--machine', LAPTOP], { cwd: sb.dir, env: machine.env });
    expect(again.code).toBe(0);
    expectSameFiles(await diskFiles(machine.dir), gitTreeFiles(source, tip));
  });
});

describe('verify --remote', () => {
  test('a clean remote passes (native fsck --strict agrees); a remote with a damaged blob names it and exits 1; the temporary repository is gone either way', async () => {
    fsck(serverRepo);
    const clean = await runCliAsync(sb, ['verify', '--remote', url, '--json'], { cwd: sb.dir });
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(0);
    const report = JSON.parse(clean.stdout);
    expect(report.ok).toBe(true);
    expect(report.machines.map((m: { machine: string }) => m.machine)).toEqual([DESKTOP, LAPTOP]);
    expect(report.machines.find((m: { machine: string }) => m.machine === LAPTOP).snapshots).toHaveLength(3);

    // The same backups on a second repository, then one blob's loose object replaced by another content's.
    const damagedRepo = server.createRepo('damaged.git');
    pushAsMachine(damagedRepo, LAPTOP);
    const blob = (git(source, ['rev-parse', `${tip}:src/b.ts`]) as string).trim();
    const loose = path.join(damagedRepo, 'objects', blob.slice(0, 2), blob.slice(2));
    await fsp.rm(loose, { force: true });
    await fsp.writeFile(loose, deflateSync(Buffer.from('blob 20\0export const b = 9;\n')));
    const damaged = await runCliAsync(sb, ['verify', '--remote', server.url('damaged.git')], { cwd: sb.dir });
    expect(damaged.code).toBe(1);
    expect(`${damaged.stdout}${damaged.stderr}`).toContain(blob.slice(0, 7));
    const tmpLeft = (await fsp.readdir(path.dirname(sb.dir))).filter((name) => name.startsWith('shadowgit-verify-remote-'));
    expect(tmpLeft).toEqual([]);
  });
});
