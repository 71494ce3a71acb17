// `remote` and `push` through the real CLI against a real server (git http-backend behind
// test/helpers/gitserver.ts, basic auth, the append-only hook), native git as the oracle.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ShadowGit } from '../../src/index.js';
import { startGitServer, type GitServer } from '../helpers/gitserver.js';
import { fsck, git, makeSandbox, useHome, runCliAsync, writeTree, type CliResult, type Sandbox } from '../helpers/sandbox.js';

const SECRET = 'tok-7c2e9b-push-sekrit';
const USER = 'alice';

let sb: Sandbox;
let server: GitServer;
let serverRepo: string;
let url: string;
/** The remote as added: the user name in the URL (no password), the token from the environment. */
let remoteUrl: string;
let restoreHome: () => void;
/** The shadow repository (its path), for native git. */
let local: string;

/** The CLI with the token in the environment, run asynchronously: the server answers from this process. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliAsync(sb, args, { env: { SHADOWGIT_REMOTE_TOKEN: SECRET, ...env } });
}

async function json<T = any>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  const result = await cli(['--json', ...args], { SHADOWGIT_DEBUG: '1', ...env });
  if (result.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Setup steps go through the library in this process: the CLI is what is tested, not the snapshot. */
async function shadow(): Promise<ShadowGit> {
  return ShadowGit.open({ cwd: sb.worktree });
}

async function snapshot(message: string, note?: string): Promise<void> {
  await (await shadow()).snapshot({ message, ...(note ? { note } : {}) });
}

/** Every ref of the server's repository with its object, as native git lists them. */
function serverRefs(): string {
  return git(serverRepo, ['for-each-ref', '--format=%(refname) %(objectname)']) as string;
}

/** The snapshot ids on a chain, newest first, read by native git from the commits' trailers. */
function idsOn(gitdir: string, ref: string): string[] {
  return (git(gitdir, ['log', '--format=%(trailers:key=Shadowgit-Id,valueonly)', ref]) as string).split('\n').filter(Boolean);
}

async function mirror(name: string): Promise<string> {
  const dir = path.join(sb.dir, name);
  await promisify(execFile)('git', ['clone', '-q', '--mirror', `http://${USER}:${SECRET}@${url.slice('http://'.length)}`, dir], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  return dir;
}

/** Every file under `dir` whose bytes hold `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await fsp.readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

beforeAll(async () => {
  sb = makeSandbox('sg-push-');
  restoreHome = useHome(sb.home);
  server = await startGitServer({ auth: { username: USER, password: SECRET } });
  serverRepo = server.createRepo('backup.git', { appendOnly: true });
  url = server.url('backup.git');
  remoteUrl = url.replace('http://', `http://${USER}@`);
  await writeTree(sb.worktree, { 'README.md': '# project\n', 'src/a.ts': 'export const a = 1;\n' });
  await snapshot('first', 'the first note');
  await writeTree(sb.worktree, { 'src/b.ts': 'export const b = 2;\n' });
  await snapshot('second', 'the second note');
  await (await shadow()).approve('Release One', { description: 'release one\n\nwith a body line' });
  local = (await shadow()).repoPath;
}, 60_000);

afterAll(async () => {
  await server?.close();
  restoreHome?.();
  await sb?.cleanup();
});

describe('remote and push', () => {
  let machine: string;

  test('remote add refuses a URL with a password in one sentence and keeps the URL in the shadow repo config; remote list shows it', async () => {
    const withPassword = await cli(['remote', 'add', 'origin', `http://${USER}:${SECRET}@127.0.0.1/backup.git`]);
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr.trim().split('\n')).toHaveLength(1);
    expect(withPassword.stderr).toContain('SHADOWGIT_REMOTE_TOKEN');
    expect(withPassword.stderr).not.toContain(SECRET);

    expect((await cli(['remote', 'add', 'origin', remoteUrl])).code).toBe(0);
    expect((await cli(['remote', 'add', 'origin', remoteUrl])).code).toBe(1);
    expect((git(local, ['config', 'remote.origin.url']) as string).trim()).toBe(remoteUrl);
    const { remotes } = await json(['remote', 'list']);
    // Shown without the user name.
    expect(remotes).toEqual([{ name: 'origin', url, unpushed: 2 }]);
    const human = await cli(['remote', 'list']);
    expect(human.stdout).toMatch(/origin.*backup\.git.*never.*2/);

    expect((await cli(['remote', 'add', 'spare', url])).code).toBe(0);
    const ambiguous = await cli(['push']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('origin, spare');
    expect((await cli(['remote', 'remove', 'spare'])).code).toBe(0);
    expect((await json(['remote', 'list'])).remotes.map((r: { name: string }) => r.name)).toEqual(['origin']);
    // The section goes with its key (an empty one made status load the remote code), and the
    // config, rewritten through temp file + rename, keeps the marker that makes the repo ours.
    const config = await fsp.readFile(path.join(local, 'config'), 'utf8');
    expect(config).not.toContain('[remote "spare"]');
    expect((git(local, ['config', 'shadowgit.worktree']) as string).trim()).not.toBe('');
  });

  test('wrong credentials: one sentence, exit 1, the error recorded for remote list; nothing on the server', async () => {
    const result = await cli(['push'], { SHADOWGIT_REMOTE_TOKEN: 'not-the-token' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain('not-the-token');
    const [origin] = (await json(['status'])).remotes;
    expect(origin.lastError.message).toMatch(/reject|credential/i);
    expect((await cli(['status'])).stdout).toMatch(/Remote: +origin — last push never, 2 snapshot\(s\) not pushed yet\n.*the last push failed/);
    expect(serverRefs()).toBe('');
  });

  test('a file over remote.maxFileBytes is named before anything is sent', async () => {
    await writeTree(sb.worktree, { 'assets/big.bin': randomBytes(6000), '.shadowgit': JSON.stringify({ remote: { maxFileBytes: 4096 } }) });
    await snapshot('big file');
    const posts = server.requests.filter((r) => r.method === 'POST').length;
    const result = await cli(['push']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('assets/big.bin');
    expect(result.stderr).toContain('maxFileBytes');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(posts);
    expect(serverRefs()).toBe('');
    await fsp.rm(path.join(sb.worktree, '.shadowgit'));
  });

  test('a push cut off mid-transfer leaves the remote unchanged; the retry completes it', async () => {
    server.killNextPushAfter(300);
    const cut = await cli(['push']);
    expect(cut.code).toBe(1);
    expect(serverRefs()).toBe('');
    const report = await json(['push']);
    machine = report.machine;
    expect(machine).toMatch(/^[a-z0-9-]+-[0-9a-f]{4}$/);
    expect(report.pushed.map((p: { id: string }) => p.id)).toHaveLength(3);
    expect(report.refs.map((r: { ref: string }) => r.ref).sort()).toEqual([`refs/heads/${machine}`, `refs/notes/${machine}`, `refs/tags/${machine}/release-one`]);
    expect(report.objects).toBeGreaterThan(0);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  test('every ref type round-trips: a native mirror clone passes fsck --strict, reads the tag with its description and the notes', async () => {
    const dir = await mirror('mirror1.git');
    fsck(dir);
    expect(idsOn(dir, `refs/heads/${machine}`)).toEqual(idsOn(local, 'refs/heads/snapshots'));
    // No prune yet: the remote chain is the local chain itself.
    expect((git(dir, ['rev-parse', `refs/heads/${machine}`]) as string).trim()).toBe((git(local, ['rev-parse', 'refs/heads/snapshots']) as string).trim());
    expect(git(dir, ['cat-file', 'tag', `refs/tags/${machine}/release-one`])).toContain('Release One: release one\n\nwith a body line');
    const second = (git(dir, ['rev-parse', `refs/heads/${machine}~1`]) as string).trim();
    expect(git(dir, ['notes', `--ref=refs/notes/${machine}`, 'show', second])).toContain('the second note');
    const [origin] = (await json(['remote', 'list'])).remotes;
    expect(origin).toMatchObject({ machine, unpushed: 0 });
    expect(origin.lastError).toBeUndefined();
    expect((await cli(['push'])).stdout).toContain('up to date');
  });

  test('append-only server: after a local prune the push still succeeds and every snapshot pushed before and after is on the remote chain', async () => {
    const before = idsOn(local, 'refs/heads/snapshots');
    expect((await (await shadow()).prune({ policy: { keepLast: 1 }, grace: '0' })).removed).toBeGreaterThan(0);
    await writeTree(sb.worktree, { 'src/c.ts': 'export const c = 3;\n' });
    await snapshot('after prune', 'a note after the prune');
    // An approval moved locally is not moved on the remote.
    await (await shadow()).approve('Release One', { force: true });
    const tagBefore = (git(serverRepo, ['rev-parse', `refs/tags/${machine}/release-one`]) as string).trim();

    const result = await cli(['--json', 'push']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.warnings.join(' ')).toContain('the remote keeps the earlier one');
    expect(result.stderr).toBe('');
    const after = idsOn(local, 'refs/heads/snapshots');
    const onRemote = idsOn(serverRepo, `refs/heads/${machine}`);
    for (const id of new Set([...before, ...after])) expect(onRemote).toContain(id);
    expect((git(serverRepo, ['rev-parse', `refs/tags/${machine}/release-one`]) as string).trim()).toBe(tagBefore);
    const dir = await mirror('mirror2.git');
    fsck(dir);
    expect(git(dir, ['notes', `--ref=refs/notes/${machine}`, 'show', `refs/heads/${machine}`])).toContain('a note after the prune');
    // The grafts are kept alive here by the tracking ref.
    expect((git(local, ['rev-parse', `refs/remotes/origin/${machine}`]) as string).trim()).toBe((git(serverRepo, ['rev-parse', `refs/heads/${machine}`]) as string).trim());
  });

  test('a 413 makes the push go in chunks, oldest first, and it succeeds', async () => {
    for (const n of [1, 2, 3]) {
      await writeTree(sb.worktree, { [`data/${n}.bin`]: randomBytes(3000) });
      await snapshot(`data ${n}`);
    }
    server.setMaxBodyBytes(5000);
    try {
      const report = await json(['push']);
      expect(report.requests).toBeGreaterThan(1);
      expect(report.pushed).toHaveLength(3);
    } finally {
      server.setMaxBodyBytes(undefined);
    }
    expect(idsOn(serverRepo, `refs/heads/${machine}`)).toEqual(expect.arrayContaining(idsOn(local, 'refs/heads/snapshots')));
    fsck(await mirror('mirror3.git'));
  });

  test('"remote": {"push": "approve"} pushes after an approval; status shows everything pushed', async () => {
    await writeTree(sb.worktree, { '.shadowgit': JSON.stringify({ remote: { push: 'approve' } }) });
    const approved = await json(['approve', 'Second Release']);
    expect(approved.pushed).toBe(true);
    expect(serverRefs()).toContain(`refs/tags/${machine}/second-release`);
    const [origin] = (await json(['status'])).remotes;
    expect(origin).toMatchObject({ name: 'origin', machine, unpushed: 0 });
    expect(origin.lastError).toBeUndefined();
  });

  test('"remote": {"push": "interval"}: the watcher pushes in the background', async () => {
    await writeTree(sb.worktree, { '.shadowgit': JSON.stringify({ remote: { push: 'interval', interval: '1s' } }) });
    expect((await cli(['watch', '--detach', '--debounce', '0.2'])).code).toBe(0);
    try {
      await writeTree(sb.worktree, { 'src/watched.ts': 'export const w = 1;\n' });
      let latest: string | undefined;
      for (let i = 0; i < 150; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const [newest] = await (await shadow()).list({ limit: 1 });
        latest = newest?.trigger === 'watch' ? newest.id : undefined;
        if (latest && idsOn(serverRepo, `refs/heads/${machine}`).includes(latest)) break;
      }
      expect(latest).toBeDefined();
      expect(idsOn(serverRepo, `refs/heads/${machine}`)).toContain(latest);
    } finally {
      expect((await cli(['watch', '--stop'])).code).toBe(0);
      await fsp.rm(path.join(sb.worktree, '.shadowgit'));
    }
  });

  test('remote prune: an append-only server refuses it with its message; a plain one gets a chain of the kept snapshots', async () => {
    const before = serverRefs();
    const refused = await cli(['remote', 'prune', 'origin', '--keep-last', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('append-only: refusing a non-fast-forward update');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(serverRefs()).toBe(before);

    const plainRepo = server.createRepo('plain.git');
    expect((await cli(['remote', 'add', 'plain', server.url('plain.git').replace('http://', `http://${USER}@`)])).code).toBe(0);
    expect((await json(['push', 'plain'])).machine).toBe(machine);
    const pushed = idsOn(plainRepo, `refs/heads/${machine}`);
    const report = await json(['remote', 'prune', 'plain', '--keep-last', '2']);
    const kept = idsOn(plainRepo, `refs/heads/${machine}`);
    expect(kept).toHaveLength(report.kept);
    expect(kept.length).toBeLessThan(pushed.length);
    expect(kept.slice(0, 2)).toEqual(pushed.slice(0, 2));
    // Approvals are kept, and moved onto the new chain.
    const tag = (git(plainRepo, ['rev-parse', `refs/tags/${machine}/release-one^{commit}`]) as string).trim();
    expect(git(plainRepo, ['merge-base', '--is-ancestor', tag, `refs/heads/${machine}`])).toBe('');
    fsck(plainRepo);
    // The next push continues the pruned chain.
    await writeTree(sb.worktree, { 'src/d.ts': 'export const d = 4;\n' });
    await snapshot('after remote prune');
    expect((await json(['push', 'plain'])).pushed).toHaveLength(1);
    expect(idsOn(plainRepo, `refs/heads/${machine}`).slice(1)).toEqual(kept);
  });

  test('the token is in no file under the shadow repository, nor in the op log', async () => {
    expect(await filesHolding(local, SECRET)).toEqual([]);
    const log = await cli(['--json', 'log']);
    expect(log.stdout).toContain('push');
    expect(log.stdout).not.toContain(SECRET);
  });
});
