import { spawn, spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Repository } from '../../src/engine/store/repo.js';
import { TreeWatcher } from '../../src/engine/worktree/treewatch.js';
import { ChangeLog } from '../../src/engine/protect/changelog.js';
import { askWatcher } from '../../src/engine/worktree/watchclient.js';
import { newWatchCookie, WATCH_COOKIE_PREFIX } from '../../src/engine/worktree/watchcookie.js';
import { git, repoOf, runCli, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { fileAt, headOf, killLeftovers, opsOf, startCli, waitFor, type Running } from './helpers.js';

let sb: Sandbox;
let shadowRepo: string;
const watchers: Running[] = [];

// Declared before the sandbox's own hooks, so a watcher left by a failed test dies before cleanup.
afterEach(async () => {
  await killLeftovers(watchers);
});
useSandbox('sg-wq-', (s) => (sb = s), { setHome: true });
beforeEach(async () => {
  await writeTree(sb.worktree, {
    '.gitignore': 'dist/\n*.log\n',
    'src/app.ts': 'export const v = 1;\n',
    'src/lib/a.ts': 'a\n',
    'src/lib/b.ts': 'b\n',
    'README.md': 'readme\n',
    'dist/out.js': 'built\n',
    'node_modules/dep/index.js': 'dep\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
  });
  shadowRepo = repoOf(sb);
});

const stateFile = () => path.join(shadowRepo, 'shadowgit', 'watch.json');
// The watcher claims watch.json (O_EXCL) before it writes it: an empty or partial file is not read yet.
const readState = () => fsp.readFile(stateFile(), 'utf8').then((text) => { try { return JSON.parse(text); } catch { return undefined; } }, () => undefined);
const ask = async (since: string | undefined, timeoutMs?: number) => askWatcher(await Repository.open({ worktree: sb.worktree }), since, timeoutMs);
const write = (rel: string, content: string) => fsp.writeFile(path.join(sb.worktree, rel), content);
const cookiesIn = async (dir: string) => (await fsp.readdir(dir)).filter((name) => name.startsWith(WATCH_COOKIE_PREFIX));

const watchSnapshots = () => opsOf(shadowRepo).filter((o) => o.op === 'snapshot' && o.args.trigger === 'watch').length;

/** The real CLI watcher, once it has taken its initial snapshot (then signals stop it cleanly). */
async function startWatcher(): Promise<{ running: Running; socket: string }> {
  const before = watchSnapshots();
  const running = startCli(sb, ['watch', '--debounce', '0.2', '--interval', '30']);
  watchers.push(running);
  await waitFor(`the initial watch snapshot (output: ${running.output()})`, () => watchSnapshots() > before);
  const state = await readState();
  expect(state).toMatchObject({ pid: running.child.pid, socket: expect.any(String) });
  return { running, socket: state.socket };
}

async function stopWatcher(running: Running): Promise<void> {
  running.child.kill('SIGTERM');
  expect((await running.exited).code).toBe(0);
}

/** The first answer of a watcher: 'all', with a token to start from. */
async function firstToken(): Promise<string> {
  const first = await ask(undefined);
  expect(first?.paths).toBe('all');
  return first!.token;
}

/** Sends `payload` as it is and returns everything the watcher answers before closing. */
function rawExchange(socket: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const client = net.connect(socket, () => client.write(payload));
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (answer += chunk));
    client.on('end', () => resolve(answer));
    client.on('error', reject);
  });
}

test('the change log answers all for tokens from before what it kept, before lost events, or not its own', () => {
  const log = new ChangeLog(3);
  const start = log.token();
  log.record('a');
  const afterA = log.token();
  log.record('b');
  log.record('c');
  const afterC = log.token();
  expect(log.changesSince(start)).toEqual(['a', 'b', 'c']);
  log.record('a');
  expect(log.changesSince(afterA)).toEqual(['b', 'c', 'a']);
  log.record('d'); // four paths: b, the oldest, is forgotten
  expect(log.changesSince(start)).toBe('all');
  expect(log.changesSince(afterA)).toBe('all');
  expect(log.changesSince(afterC)).toEqual(['a', 'd']);
  const beforeLoss = log.token();
  log.forgetAll();
  expect(log.changesSince(beforeLoss)).toBe('all');
  expect(log.changesSince(log.token())).toEqual([]);
  const unknown = [undefined, new ChangeLog().token(), 'nonsense', log.token().replace(/\d+$/, (n) => String(Number(n) + 1))];
  for (const token of unknown) expect({ token, paths: log.changesSince(token) }).toEqual({ token, paths: 'all' });
});

test('an edit in a directory removed and made again is seen, also when the new directory has the old one\'s inode number (a rollback does this to docs/)', async () => {
  const changed = new Set<string>();
  const tree = new TreeWatcher(sb.worktree, [], { onChange: (p) => changed.add(p), onWarning: () => undefined, onCookie: () => undefined, onLost: () => undefined });
  await tree.start();
  try {
    const lib = path.join(sb.worktree, 'src', 'lib');
    const ino = (await fsp.lstat(lib)).ino;
    // The file system often hands a freed inode number to the next new directory: remove and
    // make until it does (this process reads no event meanwhile: spawnSync blocks it). Other
    // processes making files may take the number first; the edit must be seen either way.
    const script = 'i=0; while [ $i -lt 2000 ]; do rm -rf lib; mkdir lib; [ "$(stat -c %i lib)" = "$1" ] && exit 0; i=$((i+1)); done; exit 3';
    const remade = spawnSync('sh', ['-c', script, 'sh', String(ino)], { cwd: path.join(sb.worktree, 'src') });
    expect([0, 3]).toContain(remade.status);
    expect((await fsp.lstat(lib)).ino === ino).toBe(remade.status === 0);
    await waitFor('the directory to be seen again', async () => (await tree.settled(), changed.has('src/lib')));
    await tree.settled();
    changed.clear();
    await write('src/lib/new.ts', 'new\n');
    await waitFor('the edit in the directory made again', async () => (await tree.settled(), changed.has('src/lib/new.ts')));
  } finally {
    tree.close();
  }
});

test('a burst of events as long as the kernel queue may have overflowed counts as lost events', async () => {
  const queueLimit = Number(await fsp.readFile('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
  const lost = jest.fn();
  const changed = new Set<string>();
  let cookieSeen = false;
  const tree = new TreeWatcher(sb.worktree, [], { onChange: (p) => changed.add(p), onWarning: () => undefined, onCookie: () => (cookieSeen = true), onLost: lost });
  await tree.start();
  try {
    // Files created while this process cannot read events (spawnSync blocks it) arrive at once.
    const touch = (count: number) => spawnSync('sh', ['-c', `seq 1 ${count} | sed 's/^/t/' | xargs touch`], { cwd: path.join(sb.worktree, 'src') });
    touch(100);
    // What the query server does: a cookie's event, then everything before it handled.
    await write(newWatchCookie(), '');
    await waitFor('the cookie event', () => cookieSeen);
    await tree.settled();
    expect(changed.has('src/t100')).toBe(true);
    expect(lost).not.toHaveBeenCalled();
    // Enough events to fill the kernel's queue (a cookie now might be dropped: no sync possible).
    touch(Math.ceil(queueLimit / 2) + 100);
    await waitFor('lost events to be reported', () => lost.mock.calls.length > 0);
  } finally {
    tree.close();
  }
});

test('without a watcher, askWatcher answers undefined', async () => {
  expect(await ask(undefined)).toBeUndefined();
  runCli(sb, ['snapshot']);
  expect(await ask(undefined)).toBeUndefined();
});

test('a killed watcher leaves watch.json and its socket behind: askWatcher answers undefined without waiting for the timeout', async () => {
  const { running, socket } = await startWatcher();
  running.child.kill('SIGKILL');
  await running.exited;
  expect((await fsp.lstat(socket)).isSocket()).toBe(true);
  // A timeout longer than this test's own: only a refused connection can end the wait in time.
  expect(await ask(undefined, 120000)).toBeUndefined();

  // The same socket with a live pid in watch.json (a reused pid): the connection is still refused.
  const bystander = spawn('sleep', ['60']);
  try {
    await fsp.writeFile(stateFile(), JSON.stringify({ ...(await readState()), pid: bystander.pid }));
    expect(await ask(undefined, 120000)).toBeUndefined();
  } finally {
    bystander.kill();
  }
}, 30000);

test('changes completed just before a query are always in its answer; cookies are never reported', async () => {
  // Trees built outside the worktree and moved in with one rename: the watcher must walk and
  // watch each before it can report it, so it is still busy when the query comes.
  const staged = (i: number) => path.join(sb.dir, `staged${i}`);
  for (let i = 0; i < 20; i++) {
    await writeTree(staged(i), Object.fromEntries(Array.from({ length: 6 }, (_, j) => [`d${j}/${'deeper/'.repeat(12)}f.ts`, `${j}\n`])));
  }
  await startWatcher();
  const repo = await Repository.open({ worktree: sb.worktree });
  let token = await firstToken();
  for (let i = 0; i < 20; i++) {
    await write('src/app.ts', `export const v = ${i};\n`);
    await fsp.rename(staged(i), path.join(sb.worktree, `src/in${i}`));
    const answer = (await askWatcher(repo, token))!;
    // Each directory of the moved-in tree, none of its files (they were never events).
    const expected = ['src/app.ts', `src/in${i}`, ...Array.from({ length: 6 }, (_, j) => Array.from({ length: 13 }, (_, depth) => `src/in${i}/d${j}${'/deeper'.repeat(depth)}`)).flat()];
    expect({ i, paths: answer.paths === 'all' ? 'all' : answer.paths.sort() }).toEqual({ i, paths: expected.sort() });
    token = answer.token;
  }
  // The moved-in trees are watched by the time the answer comes.
  const deepFile = `src/in3/d1/${'deeper/'.repeat(12)}f.ts`;
  await write(deepFile, 'edited\n');
  const deep = (await askWatcher(repo, token))!;
  expect(deep.paths).toEqual([deepFile]);
  // Queries without changes in between: the cookies they created are not changes.
  const quiet = (await askWatcher(repo, deep.token))!;
  expect(quiet.paths).toEqual([]);
  expect((await askWatcher(repo, quiet.token))!.paths).toEqual([]);
});

test('changes in ignored directories, ignored files and .git are never reported', async () => {
  await startWatcher();
  const token = await firstToken();
  await writeTree(sb.worktree, { 'node_modules/dep/index.js': 'changed\n', 'node_modules/new/x.js': 'x\n', 'dist/out.js': 'rebuilt\n', 'src/debug.log': 'log\n', '.git/index': 'x', '.git/refs/heads/main': 'abc\n' });
  await write('README.md', 'edited\n');
  expect((await ask(token))!.paths).toEqual(['README.md']);
});

test('a deleted directory, a new nested directory, a renamed directory and files in them are reported', async () => {
  await startWatcher();
  let token = await firstToken();
  const next = async () => {
    const answer = (await ask(token))!;
    token = answer.token;
    return answer.paths;
  };

  await fsp.rm(path.join(sb.worktree, 'src/lib'), { recursive: true });
  expect(await next()).toEqual(expect.arrayContaining(['src/lib', 'src/lib/a.ts', 'src/lib/b.ts']));

  await writeTree(sb.worktree, { 'src/gen/deep/er/x.ts': 'x\n', 'src/gen/y.ts': 'y\n' });
  expect(await next()).toEqual(expect.arrayContaining(['src/gen']));
  // The new directories are watched by the time the answer comes: a file right after is seen.
  await write('src/gen/deep/er/z.ts', 'z\n');
  expect(await next()).toEqual(['src/gen/deep/er/z.ts']);

  // A directory replaced in one step (rename over an empty one): the new one gets a watch too.
  await fsp.mkdir(path.join(sb.dir, 'replacement/sub'), { recursive: true });
  await fsp.mkdir(path.join(sb.worktree, 'src/gen/empty'));
  expect(await next()).toEqual(['src/gen/empty']);
  await fsp.rename(path.join(sb.dir, 'replacement'), path.join(sb.worktree, 'src/gen/empty'));
  expect(await next()).toEqual(expect.arrayContaining(['src/gen/empty', 'src/gen/empty/sub']));
  await write('src/gen/empty/sub/w.ts', 'w\n');
  expect(await next()).toEqual(['src/gen/empty/sub/w.ts']);

  await fsp.rename(path.join(sb.worktree, 'src/gen'), path.join(sb.worktree, 'moved'));
  expect(await next()).toEqual(expect.arrayContaining(['src/gen', 'moved']));
  await write('moved/deep/er/x.ts', 'x2\n');
  expect(await next()).toEqual(['moved/deep/er/x.ts']);
});

test('a token from an earlier watcher, or from before an ignore file changed, is answered with all', async () => {
  const first = await startWatcher();
  const oldToken = await firstToken();
  await stopWatcher(first.running);
  await expect(fsp.access(first.socket)).rejects.toThrow();
  expect(await ask(oldToken)).toBeUndefined();

  await startWatcher();
  const fresh = (await ask(oldToken))!;
  expect(fresh.paths).toBe('all');
  expect((await ask(fresh.token))!.paths).toEqual([]);

  await fsp.appendFile(path.join(sb.worktree, '.gitignore'), 'src/gen/\n');
  const afterIgnore = (await ask(fresh.token))!;
  expect(afterIgnore.paths).toBe('all');
  // The new rules apply from then on: the newly ignored directory is not reported.
  await writeTree(sb.worktree, { 'src/gen/out.js': 'generated\n' });
  await write('README.md', 'edited\n');
  expect((await ask(afterIgnore.token))!.paths).toEqual(['README.md']);
});

test('a watcher stopped while it starts takes its first snapshot, exits 0 and leaves neither watch.json nor its socket', async () => {
  const running = startCli(sb, ['watch', '--debounce', '0.2', '--interval', '30']);
  watchers.push(running);
  // watch.json is claimed at the start, before the first snapshot.
  await waitFor('watch.json', () => readState());
  running.child.kill('SIGTERM');
  expect((await running.exited).code).toBe(0);
  expect(headOf(shadowRepo)).toBeDefined();
  await expect(fsp.access(stateFile())).rejects.toThrow();
  await expect(fsp.access(path.join(shadowRepo, 'shadowgit', 'watch.sock'))).rejects.toThrow();
});

test('malformed requests get an error line and do not disturb the watcher', async () => {
  const { running, socket } = await startWatcher();
  const token = await firstToken();
  for (const payload of ['not json\n', '{"since": 5}\n', '[]\n', 'null\n', '{"snapshot": 5}\n', '{"snapshot": {"message": 3}}\n', '{"status": 1}\n', '{"status": []}\n', `{"since": "x"}${' '.repeat((1 << 20) + 100)}`]) {
    const answer = await rawExchange(socket, payload);
    expect({ payload: payload.slice(0, 20), answer: JSON.parse(answer) }).toEqual({ payload: payload.slice(0, 20), answer: { error: expect.stringMatching(/request/) } });
  }
  // A client that hangs up mid-request.
  await new Promise<void>((resolve) => {
    const client = net.connect(socket, () => client.end('{"since": nu', resolve));
  });
  // An unknown token is not an error: the watcher cannot tell, so 'all'.
  expect(JSON.parse(await rawExchange(socket, '{"since": "nonsense"}\n')).paths).toBe('all');

  await write('README.md', 'edited\n');
  expect((await ask(token))!.paths).toEqual(['README.md']);
  expect(running.child.exitCode).toBeNull();
});

test('concurrent queries all see the change; cookies never stay in the tree or reach a snapshot', async () => {
  await startWatcher();
  const token = await firstToken();
  await write('src/app.ts', 'export const v = 2;\n');
  const answers = await Promise.all(Array.from({ length: 10 }, () => ask(token, 5000)));
  for (const answer of answers) expect(answer?.paths).toEqual(['src/app.ts']);
  expect(await cookiesIn(sb.worktree)).toEqual([]);

  // A watch snapshot and a manual one, both taken after the queries, record no cookie.
  const watchSnapshot = await waitFor('the watch snapshot of the edit', () => {
    const head = headOf(shadowRepo);
    return head && fileAt(shadowRepo, head, 'src/app.ts')?.includes('2') && head;
  });
  expect(runCli(sb, ['snapshot', '-m', 'manual']).code).toBe(0);
  for (const commit of [watchSnapshot, headOf(shadowRepo)!]) {
    const recorded = (git(shadowRepo, ['ls-tree', '-r', '--name-only', commit]) as string).split('\n').filter(Boolean);
    expect(recorded).toContain('src/app.ts');
    expect(recorded.filter((name) => name.includes(WATCH_COOKIE_PREFIX))).toEqual([]);
  }
});

test('when the state directory path is too long for a socket, the socket lives in a private temp directory', async () => {
  const longHome = path.join(sb.dir, 'h'.repeat(120));
  process.env.SHADOWGIT_HOME = longHome;
  sb.env.SHADOWGIT_HOME = longHome;
  shadowRepo = repoOf(sb);
  const { running, socket } = await startWatcher();
  const privateDir = path.dirname(socket);
  expect(privateDir).toBe(path.join(os.tmpdir(), `shadowgit-${process.getuid!()}`));
  expect((await fsp.stat(privateDir)).mode & 0o777).toBe(0o700);
  const token = await firstToken();
  await write('README.md', 'edited\n');
  expect((await ask(token))!.paths).toEqual(['README.md']);
  await stopWatcher(running);
  await expect(fsp.access(socket)).rejects.toThrow();
});
