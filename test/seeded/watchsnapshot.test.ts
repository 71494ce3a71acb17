// `shadowgit snapshot` and `shadowgit status` while a watcher runs are handed to the watcher,
// which keeps the stat cache in memory and knows what changed. These tests check that what it
// records and reports is exactly the tree (native git as oracle) even when other processes roll
// back and collect garbage in between, and that the CLI does the work itself whenever the
// watcher does not deliver.
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { changesBetween, filesOf, nativeTree, oracleRepo, randomEditor } from '../helpers/edits.js';
import { fsck, git, repoOf, runCli, runCliAsync, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { newWatchCookie, WATCH_COOKIE_PREFIX } from '../../src/engine/worktree/watchcookie.js';
import { headOf, killLeftovers, startCli, waitFor, type Running } from '../protect/helpers.js';

let sb: Sandbox;
let shadowRepo: string;
const watchers: Running[] = [];
const servers: net.Server[] = [];

// Declared before the sandbox's own hooks, so a watcher left by a failed test dies before cleanup.
afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  await killLeftovers(watchers);
});
useSandbox('sg-wsnap-', (s) => (sb = s), { setHome: true });
beforeEach(async () => {
  await writeTree(sb.worktree, { '.gitignore': '*.log\n', 'src/a.ts': 'a\n', 'src/lib/b.ts': 'b\n', 'docs/r.md': 'r\n' });
  shadowRepo = repoOf(sb);
});

interface SnapshotJson {
  id: string;
  commit: string;
  created: boolean;
  byWatcher: boolean;
  changes: { added: number; modified: number; deleted: number };
}

const cookiesIn = async (dir: string) => (await fsp.readdir(dir)).filter((name) => name.startsWith(WATCH_COOKIE_PREFIX));
const treeOf = (commit: string) => (git(shadowRepo, ['rev-parse', `${commit}^{tree}`]) as string).trim();

interface StatusJson {
  byWatcher: boolean;
  changes: { added: string[]; modified: string[]; deleted: string[] };
}

/**
 * What `status --json` must list: the changes to the tree native git sees from the latest
 * snapshot, or from `base`, the snapshot a rollback checked out since.
 */
function expectedChanges(base = headOf(shadowRepo)!): StatusJson['changes'] {
  return changesBetween(filesOf(shadowRepo, treeOf(base)), filesOf(oracleRepo(sb), nativeTree(sb)));
}

const sorted = (changes: StatusJson['changes']) => ({ added: [...changes.added].sort(), modified: [...changes.modified].sort(), deleted: [...changes.deleted].sort() });

test('snapshots taken and statuses told by the watcher hold exactly the tree, also after another process rolled back or collected garbage (native git as oracle)', async () => {
  runCli(sb, ['snapshot']);
  // No automatic snapshots during the test: every one is asked for.
  const running = startCli(sb, ['watch', '--debounce', '600', '--interval', '600']);
  watchers.push(running);
  await waitFor(`the watcher's socket (output: ${running.output()})`, async () => JSON.parse(await fsp.readFile(path.join(shadowRepo, 'shadowgit', 'watch.json'), 'utf8').catch(() => '{}')).socket);

  const editor = randomEditor(sb.worktree, 11);
  const taken: SnapshotJson[] = [];
  // The snapshot status compares with: after a rollback its target, until a snapshot is recorded
  // after it (edits that bring the tree back to the target record nothing, so it can last rounds).
  let base: string | undefined;
  for (let round = 0; round < 12; round++) {
    await editor.edit();
    if (round === 5 || round === 10) {
      // Another process rewrites the tree and the stat cache file: the watcher's copy in memory is stale.
      const rolledBack = runCli(sb, ['rollback', taken[round - 5]!.id, '--yes']);
      expect(rolledBack.code).toBe(0);
      // Already there, a rollback checks nothing out and leaves the base as it was.
      if (!/^Already at /m.test(rolledBack.stdout)) base = taken[round - 5]!.commit;
      await editor.edit();
    }
    // Another process packs every object and removes the emptied object directories.
    if (round === 8) expect(runCli(sb, ['gc', '--grace', '0']).code).toBe(0);
    const status = runJson<StatusJson>(sb, ['status', '--json']);
    expect({ round, byWatcher: status.byWatcher, changes: sorted(status.changes) }).toEqual({ round, byWatcher: true, changes: expectedChanges(base) });
    const report = runJson<SnapshotJson>(sb, ['snapshot', '--json']);
    expect({ round, byWatcher: report.byWatcher, tree: treeOf(report.commit) }).toEqual({ round, byWatcher: true, tree: nativeTree(sb) });
    taken.push(report);
    if (report.created) base = undefined;
  }

  // Nothing happened since: the snapshot changes nothing, not even the stat cache file (the
  // watcher's token only moves with events).
  const cacheFile = path.join(shadowRepo, 'shadowgit', 'statcache');
  const cacheBefore = await fsp.stat(cacheFile);
  const unchanged = runJson<SnapshotJson>(sb, ['snapshot', '--json']);
  expect({ byWatcher: unchanged.byWatcher, created: unchanged.created, commit: unchanged.commit }).toEqual({ byWatcher: true, created: false, commit: taken.at(-1)!.commit });
  const cacheAfter = await fsp.stat(cacheFile);
  expect({ ino: cacheAfter.ino, mtimeMs: cacheAfter.mtimeMs }).toEqual({ ino: cacheBefore.ino, mtimeMs: cacheBefore.mtimeMs });

  await writeTree(sb.worktree, { 'src/noted.ts': 'noted\n' });
  const noted = runJson<SnapshotJson>(sb, ['snapshot', '--json', '-m', 'asked of the watcher', '--note', 'the prompt that led here']);
  expect(noted.byWatcher).toBe(true);
  expect((git(shadowRepo, ['log', '-1', '--format=%s', noted.commit]) as string).trim()).toBe('asked of the watcher');
  expect(runJson(sb, ['show', noted.id, '--json']).note).toBe('the prompt that led here\n');
  // The human form says who recorded it.
  await writeTree(sb.worktree, { 'src/plain.ts': 'plain\n' });
  expect(runCli(sb, ['snapshot']).stdout).toMatch(/^Recorded snapshot \w+ \(\w+\) by the running watcher: \+1 ~0 -0$/m);

  running.child.kill('SIGTERM');
  expect((await running.exited).code).toBe(0);
  fsck(shadowRepo);
}, 90_000);

/**
 * A stand-in for a watcher: watch.json names this process and a socket whose answers to
 * snapshot and status requests `serve` scripts (change queries are hung up on: the CLI then scans). The CLI
 * must run asynchronously (runCliAsync) for this process to answer.
 */
async function fakeWatcher(serve: (socket: net.Socket, request: unknown) => void): Promise<void> {
  const socketPath = path.join(sb.dir, 'fake.sock');
  const server = net.createServer((socket) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!received.includes('\n')) return;
      const request = JSON.parse(received.slice(0, received.indexOf('\n'))) as { snapshot?: unknown; status?: unknown };
      if (request.snapshot || request.status) serve(socket, request);
      else socket.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const worktree = await fsp.realpath(sb.worktree);
  await fsp.writeFile(path.join(shadowRepo, 'shadowgit', 'watch.json'), JSON.stringify({ pid: process.pid, host: os.hostname(), worktree, socket: socketPath }));
}

/** A fakeWatcher that answers as the behaviour last chosen with `act`; `requests` collects what it was sent. */
async function scriptedWatcher(behaviours: Record<string, (socket: net.Socket) => void>): Promise<{ act: (name: string) => void; requests: unknown[] }> {
  let behaviour = '';
  const requests: unknown[] = [];
  await fakeWatcher((socket, request) => {
    requests.push(request);
    behaviours[behaviour]!(socket);
  });
  return { act: (name) => void (behaviour = name), requests };
}

test('when the watcher does not deliver (refuses, hangs, goes away or silent after accepting, answers nonsense), the CLI takes the snapshot itself', async () => {
  runCli(sb, ['snapshot']);
  const behaviours: Record<string, (socket: net.Socket) => void> = {
    refuses: (socket) => socket.end('{"error": "this watcher does no work for other commands."}\n'),
    hangs: () => undefined,
    'goes away after accepting': (socket) => {
      socket.write('{"accepted": true}\n{"progress": 3}\n');
      socket.destroy();
    },
    'answers nonsense': (socket) => socket.end('{"accepted": true}\n{"report": {"id": 5}}\n'),
    // A real watcher sends a progress line at least every second; this one hangs after accepting.
    'goes silent after accepting': (socket) => socket.write('{"accepted": true}\n{"progress": 1}\n'),
  };
  const { act, requests } = await scriptedWatcher(behaviours);
  for (const [name, i] of Object.keys(behaviours).map((key, index) => [key, index] as const)) {
    act(name);
    await writeTree(sb.worktree, { [`src/new${i}.ts`]: `${name}\n` });
    const before = headOf(shadowRepo);
    // Silence is given up on after as long as a command waits for the lock.
    const run = await runCliAsync(sb, ['snapshot', '--json', '-m', `while the watcher ${name}`], { env: { SHADOWGIT_LOCK_TIMEOUT: '1500' } });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as SnapshotJson;
    expect({ name, byWatcher: report.byWatcher, created: report.created, parentIsBefore: (git(shadowRepo, ['rev-parse', `${report.commit}^`]) as string).trim() === before }).toEqual({ name, byWatcher: false, created: true, parentIsBefore: true });
    expect(treeOf(report.commit)).toBe(nativeTree(sb));
  }
  expect(requests).toEqual(Object.keys(behaviours).map((name) => ({ snapshot: { message: `while the watcher ${name}` } })));
}, 30_000);

test('when the watcher does not deliver a status, the CLI works it out itself; its error is reported as the command\'s own', async () => {
  runCli(sb, ['snapshot']);
  await writeTree(sb.worktree, { 'src/a.ts': 'changed\n', 'src/new.ts': 'new\n', 'x.log': 'ignored\n' });
  await fsp.rm(path.join(sb.worktree, 'docs/r.md'));
  const behaviours: Record<string, (socket: net.Socket) => void> = {
    refuses: (socket) => socket.end('{"error": "this watcher does no work for other commands."}\n'),
    'goes away after accepting': (socket) => {
      socket.write('{"accepted": true}\n');
      socket.destroy();
    },
    'answers nonsense': (socket) => socket.end('{"accepted": true}\n{"report": {"worktree": "/", "changes": {"added": 1}}}\n'),
  };
  const { act, requests } = await scriptedWatcher(behaviours);
  for (const name of Object.keys(behaviours)) {
    act(name);
    const run = await runCliAsync(sb, ['status', '--json']);
    expect({ name, code: run.code }).toEqual({ name, code: 0 });
    const status = JSON.parse(run.stdout) as StatusJson;
    expect({ name, byWatcher: status.byWatcher, changes: sorted(status.changes) }).toEqual({ name, byWatcher: false, changes: { added: ['src/new.ts'], modified: ['src/a.ts'], deleted: ['docs/r.md'] } });
  }
  expect(requests).toEqual(Object.keys(behaviours).map(() => ({ status: {} })));

  act('fails');
  behaviours.fails = (socket) => socket.end('{"accepted": true}\n{"error": "the shadow repository is damaged (objects/ab); run `shadowgit doctor`.", "code": "ECORRUPT"}\n');
  const failed = await runCliAsync(sb, ['status']);
  expect({ code: failed.code, stderr: failed.stderr.trim(), stdout: failed.stdout }).toEqual({ code: 1, stderr: 'shadowgit: the shadow repository is damaged (objects/ab); run `shadowgit doctor`.', stdout: '' });
});

test("the watcher's failure is reported as the command's own: one line on stderr, exit 1, nothing recorded", async () => {
  runCli(sb, ['snapshot']);
  const before = headOf(shadowRepo);
  await fakeWatcher((socket) => socket.end('{"accepted": true}\n{"progress": 10}\n{"error": "no space left on the device holding the shadow repository; free some space.", "code": "ENOSPC"}\n'));
  await writeTree(sb.worktree, { 'src/more.ts': 'more\n' });
  const result = await runCliAsync(sb, ['snapshot']);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe('shadowgit: no space left on the device holding the shadow repository; free some space.');
  expect(headOf(shadowRepo)).toBe(before);
});

test('a watcher killed while it takes a requested snapshot: the CLI takes it over the stale lock, and the repository stays whole', async () => {
  runCli(sb, ['snapshot']);
  const running = startCli(sb, ['watch', '--debounce', '600', '--interval', '600']);
  watchers.push(running);
  await waitFor(`the watcher's socket (output: ${running.output()})`, async () => JSON.parse(await fsp.readFile(path.join(shadowRepo, 'shadowgit', 'watch.json'), 'utf8').catch(() => '{}')).socket);
  // Large enough that the watcher is still hashing it when it dies.
  await writeTree(sb.worktree, { 'big.bin': Buffer.alloc(256 << 20, 7), 'src/small.ts': 'small\n' });
  const lockFile = path.join(shadowRepo, 'shadowgit', 'lock');
  const cli = runCliAsync(sb, ['snapshot', '--json']);
  // The watcher holds the lock: it has accepted and is recording.
  await waitFor('the watcher to take the lock', async () => (await fsp.readFile(lockFile, 'utf8').catch(() => '')).includes(`"pid":${running.child.pid}`), 30_000);
  running.child.kill('SIGKILL');
  await running.exited;
  const result = await cli;
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as SnapshotJson;
  expect({ byWatcher: report.byWatcher, created: report.created }).toEqual({ byWatcher: false, created: true });
  // Killed between creating and removing a sync cookie, the watcher left it; the CLI cleared it.
  expect(await cookiesIn(sb.worktree)).toEqual([]);
  expect(treeOf(report.commit)).toBe(nativeTree(sb));
  fsck(shadowRepo);
  expect(runCli(sb, ['verify']).code).toBe(0);
}, 90_000);

test("a snapshot after a watcher died clears the sync cookies it left in the tree, and only those", async () => {
  runCli(sb, ['snapshot']);
  const exited = spawnSync(process.execPath, ['-e', '']);
  const deadPid = exited.pid!;
  const state = path.join(shadowRepo, 'shadowgit', 'watch.json');
  await fsp.writeFile(state, JSON.stringify({ pid: deadPid, host: os.hostname(), worktree: sb.worktree, socket: path.join(sb.dir, 'gone.sock') }));
  const dead = newWatchCookie(deadPid);
  const live = newWatchCookie();
  await writeTree(sb.worktree, { [dead]: '', [live]: '', 'src/a.ts': 'a2\n' });
  const result = runCli(sb, ['snapshot', '--json']);
  expect(result.code).toBe(0);
  // A live watcher's cookie is its own business: it removes it when its query is answered.
  expect(await cookiesIn(sb.worktree)).toEqual([live]);
  await fsp.rm(path.join(sb.worktree, live));
  expect(treeOf((JSON.parse(result.stdout) as SnapshotJson).commit)).toBe(nativeTree(sb));
});

test('after a rollback the watcher tells the same base as the CLI and records nothing for the tree the rollback wrote; undo still returns', async () => {
  const first = runJson<SnapshotJson>(sb, ['snapshot']);
  await writeTree(sb.worktree, { 'src/a.ts': 'a edited\n', 'src/new.ts': 'new\n' });
  const running = startCli(sb, ['watch', '--debounce', '100', '--interval', '100']);
  watchers.push(running);
  await waitFor(`the watcher's socket (output: ${running.output()})`, async () => JSON.parse(await fsp.readFile(path.join(shadowRepo, 'shadowgit', 'watch.json'), 'utf8').catch(() => '{}')).socket);

  const rollback = runJson(sb, ['rollback', first.id, '--yes']);
  const tip = headOf(shadowRepo);
  const viaWatcher = runJson(sb, ['status']);
  expect(viaWatcher).toMatchObject({ byWatcher: true, base: { id: first.id, commit: first.commit, by: 'rollback' }, changes: { added: [], modified: [], deleted: [] } });
  // The CLI's own answer (the watcher hands nothing over while a fault is set) is the same.
  const own = runJson(sb, ['status'], { env: { SHADOWGIT_FAULT: 'none' } });
  expect(own.byWatcher).toBe(false);
  expect({ base: own.base, changes: own.changes }).toEqual({ base: viaWatcher.base, changes: viaWatcher.changes });

  // The watcher's snapshots of the rolled-back tree: the one asked for and the one its events schedule.
  expect(runJson<SnapshotJson>(sb, ['snapshot'])).toMatchObject({ byWatcher: true, created: false, id: first.id, commit: first.commit });
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect(runJson<SnapshotJson>(sb, ['snapshot'])).toMatchObject({ byWatcher: true, created: false, id: first.id });
  expect(headOf(shadowRepo)).toBe(tip);

  const undo = runJson(sb, ['undo']);
  expect(undo.target.commit).toBe(rollback.preRollback.commit);
  expect(await fsp.readFile(path.join(sb.worktree, 'src/new.ts'), 'utf8')).toBe('new\n');
  expect(runJson(sb, ['status'])).toMatchObject({ byWatcher: true, base: { id: rollback.preRollback.id, by: 'undo' } });
});
