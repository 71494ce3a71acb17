// The smart-HTTP transport against a real server: native `git http-backend` behind
// test/helpers/gitserver.ts, native git as the oracle for what arrived on either side.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { ShadowGit } from '../../src/index.js';
import { ShadowGitError } from '../../src/engine/errors.js';
import { lookupCredentials } from '../../src/engine/remote/credentials.js';
import { advertisedRefs } from '../../src/engine/remote/discover.js';
import { fetchPack } from '../../src/engine/remote/fetchpack.js';
import { readPackStream } from '../../src/engine/remote/packstream.js';
import { ByteReader } from '../../src/engine/remote/pktline.js';
import { proxyFor, type Endpoint } from '../../src/engine/remote/http.js';
import { sendPack, type RefUpdate } from '../../src/engine/remote/sendpack.js';
import { encodeCommit, signatureNow } from '../../src/engine/store/gitformat.js';
import { Repository } from '../../src/engine/store/repo.js';
import { startGitServer, type GitServer } from '../helpers/gitserver.js';
import { fsck, git, makeSandbox, useHome, writeTree, type Sandbox } from '../helpers/sandbox.js';

const SECRET = 'tok-3f9a1c-sekrit';
const USER = 'alice';

let sb: Sandbox;
let server: GitServer;
let shadow: ShadowGit;
let repo: Repository;
let serverRepo: string;
let endpoint: Endpoint;
let restoreHome: () => void;

/** A text file that changes by one line per snapshot: material for the server's deltas. */
function longText(version: number): string {
  return Array.from({ length: 400 }, (_, i) => `line ${i} of a file that changes a little ${i === 200 ? version : ''}`).join('\n');
}

/** Every ref of a repository with its object, as native git lists them. */
function refsOf(gitdir: string): string {
  return git(gitdir, ['for-each-ref', '--format=%(refname) %(objectname)']) as string;
}

/** Every ref of the local shadow repository as a push creating it on the server. */
async function creations(): Promise<RefUpdate[]> {
  return [...(await repo.refs.list('refs/'))].map(([ref, oid]) => ({ ref, old: undefined, new: oid }));
}

/** Updates bringing the server's refs to the local ones. */
async function catchUp(): Promise<RefUpdate[]> {
  const { refs } = await advertisedRefs(endpoint, 'git-receive-pack');
  return [...(await repo.refs.list('refs/'))].map(([ref, oid]) => ({ ref, old: refs.get(ref), new: oid }));
}

async function freshShadow(name: string): Promise<Repository> {
  const worktree = path.join(sb.dir, name);
  await fsp.mkdir(worktree);
  await (await ShadowGit.open({ cwd: worktree })).init();
  return Repository.open({ cwd: worktree });
}

async function caught(promise: Promise<unknown>): Promise<ShadowGitError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ShadowGitError) return err;
    throw err;
  }
  throw new Error('expected a ShadowGitError');
}

beforeAll(async () => {
  sb = makeSandbox('sg-remote-');
  restoreHome = useHome(sb.home);
  server = await startGitServer({ auth: { username: USER, password: SECRET } });
  serverRepo = server.createRepo('backup.git', { appendOnly: true });
  endpoint = { url: server.url('backup.git'), credentials: { username: USER, password: SECRET } };
  await writeTree(sb.worktree, { 'README.md': '# project\n', 'src/a.ts': 'export const a = 1;\n', 'notes.txt': longText(1) });
  shadow = await ShadowGit.open({ cwd: sb.worktree });
  await shadow.snapshot({ message: 'first', note: 'the first note' });
  await writeTree(sb.worktree, { 'src/b.ts': 'export const b = 2;\n', 'notes.txt': longText(2) });
  await shadow.snapshot({ message: 'second', note: 'the second note' });
  await shadow.approve('v1', { description: 'release one\n\nwith a body line' });
  repo = await Repository.open({ cwd: sb.worktree });
}, 60_000);

afterAll(async () => {
  await server?.close();
  restoreHome?.();
  await sb?.cleanup();
});

describe('push', () => {
  test('snapshots, an annotated tag and notes go in one atomic push; a native mirror clone passes fsck --strict and reads tags and notes', async () => {
    const updates = await creations();
    expect(updates.map((u) => u.ref).sort()).toEqual(expect.arrayContaining(['refs/heads/snapshots', 'refs/notes/commits', 'refs/tags/v1']));
    const messages: string[] = [];
    const result = await sendPack(repo, endpoint, updates, { onProgress: (p) => p.message && messages.push(p.message) });
    expect([...result.refs.values()].every((status) => status === 'ok')).toBe(true);
    const local = repo.gitdir;
    const everything = (git(local, ['rev-list', '--objects', '--all']) as string).trim().split('\n');
    expect(result.objects).toBe(everything.length);
    // One receive-pack request carried every ref.
    expect(server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'))).toHaveLength(1);
    expect(refsOf(serverRepo)).toBe(refsOf(local));

    const mirror = path.join(sb.dir, 'mirror.git');
    // Asynchronous: the server runs in this process.
    await promisify(execFile)('git', ['clone', '-q', '--mirror', `http://${USER}:${SECRET}@${server.url('backup.git').slice('http://'.length)}`, mirror], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
    fsck(mirror);
    expect(git(mirror, ['cat-file', 'tag', 'refs/tags/v1'])).toContain('release one\n\nwith a body line');
    const tip = (git(mirror, ['rev-parse', 'refs/heads/snapshots']) as string).trim();
    expect(git(mirror, ['notes', 'show', tip])).toContain('the second note');
  });

  test('a second push sends only the new objects', async () => {
    const before = (git(serverRepo, ['for-each-ref', '--format=%(objectname)']) as string).trim().split('\n');
    await writeTree(sb.worktree, { 'src/c.ts': 'export const c = 3;\n' });
    await shadow.snapshot({ message: 'third', note: 'the third note' });
    const updates = await catchUp();
    const expected = (git(repo.gitdir, ['rev-list', '--objects', ...updates.map((u) => u.new!), '--not', ...before]) as string).trim().split('\n');
    const result = await sendPack(repo, endpoint, updates);
    // The commit, its tree, the changed src/ tree and the new blob; the notes commit, its tree and the note blob.
    expect(result.objects).toBe(expected.length);
    expect(result.objects).toBe(7);
    expect(refsOf(serverRepo)).toBe(refsOf(repo.gitdir));
    fsck(serverRepo);
    // The same push again (its answer lost, say): already applied, nothing sent.
    const posts = server.requests.filter((r) => r.method === 'POST').length;
    expect((await sendPack(repo, endpoint, updates)).objects).toBe(0);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(posts);
    // A new ref naming a commit the server has: an empty pack, accepted.
    const tip = (await repo.refs.read('refs/heads/snapshots'))!;
    const alias = await sendPack(repo, endpoint, [{ ref: 'refs/heads/alias', old: undefined, new: tip }]);
    expect(alias).toEqual({ refs: new Map([['refs/heads/alias', 'ok']]), objects: 0 });
    expect((git(serverRepo, ['rev-parse', 'refs/heads/alias']) as string).trim()).toBe(tip);
  });

  test('the append-only hook refuses a non-fast-forward update with its reason, and atomic leaves every ref as it was', async () => {
    const tip = (await repo.refs.read('refs/heads/snapshots'))!;
    const tree = (git(repo.gitdir, ['rev-parse', `${tip}^{tree}`]) as string).trim();
    const signature = signatureNow();
    const orphan = await repo.objects.write('commit', encodeCommit({ tree, parents: [], author: signature, committer: signature, message: 'rewritten\n' }));
    const before = refsOf(serverRepo);
    const err = await caught(
      sendPack(repo, endpoint, [
        { ref: 'refs/heads/extra', old: undefined, new: tip },
        { ref: 'refs/heads/snapshots', old: tip, new: orphan },
      ]),
    );
    expect(err.code).toBe('EREJECTED');
    expect(err.message).toContain('refs/heads/snapshots');
    expect(err.message).toContain('non-fast-forward');
    expect(err.message.split('\n')).toHaveLength(1);
    expect(refsOf(serverRepo)).toBe(before);
  });

  test('a push cut off mid-transfer leaves the remote as it was, and a retry completes it', async () => {
    await writeTree(sb.worktree, { 'big.bin': randomBytes(3 * 1024 * 1024) });
    await shadow.snapshot({ message: 'big' });
    const before = refsOf(serverRepo);
    const updates = await catchUp();
    server.killNextPushAfter(512 * 1024);
    const err = await caught(sendPack(repo, endpoint, updates));
    expect(err.code).toBe('ENETWORK');
    expect(refsOf(serverRepo)).toBe(before);
    const retry = await sendPack(repo, endpoint, updates);
    expect([...retry.refs.values()].every((status) => status === 'ok')).toBe(true);
    for (const update of updates) expect((git(serverRepo, ['rev-parse', update.ref]) as string).trim()).toBe(update.new);
    fsck(serverRepo);
  });

  test('a body over the server limit is ETOOLARGE', async () => {
    await writeTree(sb.worktree, { 'big2.bin': randomBytes(256 * 1024) });
    await shadow.snapshot({ message: 'too big for the server' });
    server.setMaxBodyBytes(64 * 1024);
    try {
      const err = await caught(sendPack(repo, endpoint, await catchUp()));
      expect(err.code).toBe('ETOOLARGE');
    } finally {
      server.setMaxBodyBytes(undefined);
    }
  });
});

describe('fetch', () => {
  /** Fetches every server ref into a new shadow repository and checks it with native git. */
  async function fetchAll(name: string): Promise<number> {
    const target = await freshShadow(name);
    const { refs } = await advertisedRefs(endpoint, 'git-upload-pack');
    const { objects } = await fetchPack(target, endpoint, [...refs.values()]);
    for (const [ref, oid] of refs) await target.refs.write(ref, oid);
    const wanted = (git(serverRepo, ['rev-list', '--objects', '--all']) as string).trim().split('\n').map((line) => line.slice(0, 40));
    const check = spawnSync('git', ['--git-dir', target.gitdir, 'cat-file', '--batch-check'], { input: `${wanted.join('\n')}\n`, encoding: 'utf8' });
    expect(check.stdout).not.toContain('missing');
    fsck(target.gitdir);
    expect(refsOf(target.gitdir)).toBe(refsOf(serverRepo));
    return objects;
  }

  test('brings every object of the remote into a fresh shadow repository', async () => {
    const objects = await fetchAll('second-machine');
    expect(objects).toBe((git(serverRepo, ['rev-list', '--objects', '--all']) as string).trim().split('\n').length);
  });

  test('delta-compressed server packs are resolved', async () => {
    git(serverRepo, ['gc', '-q', '--aggressive']);
    const deltas = (git(serverRepo, ['verify-pack', '-v', ...(await packIndexes(serverRepo))]) as string).split('\n').filter((line) => /^[0-9a-f]{40} \w+ +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(line));
    expect(deltas.length).toBeGreaterThan(0);
    await fetchAll('third-machine');
  });

  test('a pack with REF_DELTA entries (native pack-objects without --delta-base-offset) is resolved, and a damaged one is refused', async () => {
    const native = path.join(sb.dir, 'native.git');
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    git(native, ['init', '-q', '--bare']);
    let parent: string | undefined;
    for (const version of [1, 2, 3]) {
      const blob = spawnSync('git', ['--git-dir', native, 'hash-object', '-w', '--stdin'], { input: longText(version), encoding: 'utf8', env }).stdout.trim();
      const tree = spawnSync('git', ['--git-dir', native, 'mktree'], { input: `100644 blob ${blob}\tnotes.txt\n`, encoding: 'utf8', env }).stdout.trim();
      parent = spawnSync('git', ['--git-dir', native, 'commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `v${version}`], { encoding: 'utf8', env }).stdout.trim();
    }
    const ids = (git(native, ['rev-list', '--objects', parent!]) as string).trim().split('\n').map((line) => line.slice(0, 40));
    const pack = spawnSync('git', ['--git-dir', native, 'pack-objects', '--stdout', '-q'], { input: `${ids.join('\n')}\n`, env }).stdout as Buffer;
    // Two of the three blobs are deltas, REF_DELTA ones (pack-objects' default).
    const listing = spawnSync('git', ['--git-dir', native, 'index-pack', '--stdin', '-v'], { input: pack, encoding: 'utf8', env });
    expect(listing.status).toBe(0);
    const stats = git(native, ['verify-pack', '-v', ...(await packIndexes(native))]) as string;
    expect(stats).toContain('chain length = 1: 2 objects');
    const target = await freshShadow('from-a-file');
    const chunks = async function* (bytes: Buffer) {
      for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
    };
    expect(await readPackStream(target.objects, new ByteReader(chunks(pack)))).toBe(ids.length);
    const check = spawnSync('git', ['--git-dir', target.gitdir, 'cat-file', '--batch-check'], { input: `${ids.join('\n')}\n`, encoding: 'utf8' });
    expect(check.stdout).not.toContain('missing');
    const damaged = Buffer.from(pack);
    damaged[damaged.length - 1] ^= 0xff;
    const err = await caught(readPackStream((await freshShadow('damaged')).objects, new ByteReader(chunks(damaged))));
    expect(err.code).toBe('ECORRUPT');
  });

  test('asks only for what is missing: a repository that has everything fetches nothing', async () => {
    const { refs } = await advertisedRefs(endpoint, 'git-upload-pack');
    expect(await fetchPack(repo, endpoint, [...refs.values()])).toEqual({ objects: 0 });
  });
});

async function packIndexes(gitdir: string): Promise<string[]> {
  const dir = path.join(gitdir, 'objects', 'pack');
  return (await fsp.readdir(dir)).filter((name) => name.endsWith('.idx')).map((name) => path.join(dir, name));
}

describe('credentials', () => {
  test('a wrong password is one sentence that never holds it', async () => {
    const wrong = 'wrong-pass-77c1';
    const err = await caught(advertisedRefs({ url: endpoint.url, credentials: { username: USER, password: wrong } }, 'git-receive-pack'));
    expect(err.code).toBe('EAUTH');
    expect(err.message).toMatch(/rejected the credentials/);
    expect(err.message.split('\n')).toHaveLength(1);
    const everything = JSON.stringify({ ...err, message: err.message, stack: err.stack });
    expect(everything).not.toContain(wrong);
    // Nor a password given in the URL.
    const inUrl = await caught(advertisedRefs({ url: endpoint.url.replace('http://', `http://${USER}:${wrong}@`) }, 'git-upload-pack'));
    expect(JSON.stringify({ ...inUrl, message: inUrl.message, stack: inUrl.stack })).not.toContain(wrong);
  });

  test('401 without credentials says how to supply them; supplied, the same request succeeds', async () => {
    const err = await caught(advertisedRefs({ url: endpoint.url }, 'git-upload-pack'));
    expect(err.code).toBe('EAUTH');
    expect(err.message).toContain('SHADOWGIT_REMOTE_TOKEN');
    const url = endpoint.url.replace('http://', `http://${USER}@`);
    const credentials = await lookupCredentials(url, { env: { SHADOWGIT_REMOTE_TOKEN: SECRET } });
    expect(credentials?.source).toBe('the environment variable SHADOWGIT_REMOTE_TOKEN');
    const { refs } = await advertisedRefs({ url, credentials }, 'git-upload-pack');
    expect(refs.get('refs/heads/snapshots')).toBe((git(serverRepo, ['rev-parse', 'refs/heads/snapshots']) as string).trim());
  });

  test('the credential file is refused while others may read it, and used once it is 0600', async () => {
    const home = path.join(sb.dir, 'cred-home');
    await fsp.mkdir(home);
    const file = path.join(home, 'credentials');
    await fsp.writeFile(file, `# shadowgit remotes\nhttps://bob:other@example.com\n${server.url('')}`.replace(/\/$/, '').replace('http://', `http://${USER}:${encodeURIComponent(SECRET)}@`) + '\n', { mode: 0o644 });
    await fsp.chmod(file, 0o644);
    const env = { SHADOWGIT_HOME: home };
    const refused = await caught(lookupCredentials(endpoint.url, { env }));
    expect(refused.code).toBe('EUNSAFE');
    expect(refused.message).toContain('chmod 600');
    await fsp.chmod(file, 0o600);
    const found = await lookupCredentials(endpoint.url, { env });
    expect(found).toMatchObject({ username: USER, password: SECRET });
    await advertisedRefs({ url: endpoint.url, credentials: found }, 'git-upload-pack');
  });

  test('HTTP_PROXY carries the requests, unless NO_PROXY names the host', async () => {
    let proxied = 0;
    const proxy = http.createServer((req, res) => {
      proxied++;
      const target = new URL(req.url!);
      const forward = http.request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    try {
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      delete process.env.NO_PROXY;
      await advertisedRefs(endpoint, 'git-upload-pack');
      expect(proxied).toBe(1);
      process.env.NO_PROXY = 'localhost,127.0.0.1';
      await advertisedRefs(endpoint, 'git-upload-pack');
      expect(proxied).toBe(1);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test('HTTPS_PROXY opens a CONNECT tunnel to the host; NO_PROXY matches domain suffixes and ports', async () => {
    const tunnels: string[] = [];
    const proxy = http.createServer();
    proxy.on('connect', (req, socket: Socket) => {
      tunnels.push(req.url!);
      // TLS to a plain HTTP server fails: enough to prove the request went into the tunnel.
      const [host, port] = req.url!.split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const saved = process.env.HTTPS_PROXY;
    try {
      process.env.HTTPS_PROXY = proxyUrl;
      const target = new URL(endpoint.url);
      const err = await caught(advertisedRefs({ ...endpoint, url: endpoint.url.replace('http://', 'https://'), timeouts: { connectMs: 5000, idleMs: 5000 } }, 'git-upload-pack'));
      expect(err.code).toBe('ENETWORK');
      expect(tunnels).toEqual([`${target.hostname}:${target.port}`]);
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
    const env = { HTTPS_PROXY: proxyUrl, NO_PROXY: '.example.com, other.org:8443' };
    expect(proxyFor(new URL('https://git.example.com/backup.git'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://example.com/backup.git'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://other.org:8443/x'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://other.org/x'), env)?.toString()).toBe(`${proxyUrl}/`);
    expect(proxyFor(new URL('https://notexample.com/x'), env)?.toString()).toBe(`${proxyUrl}/`);
  });
});
