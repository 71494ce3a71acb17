// Push and fetch of a shadow repository holding a 300 MB file of incompressible bytes, against a
// real `git http-backend` (`npm run test:large`): each transfer runs in its own node process,
// whose peak RSS must stay within the 512 MiB (isomorphic-git's push took about four
// times the pack). Native git proves the fetched blob's bytes.
import { spawn } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { startGitServer, type GitServer } from '../helpers/gitserver.js';
import { fileId, MIB, runMeasured, storedId } from '../helpers/huge.js';
import { git, makeSandbox, ROOT, type Sandbox } from '../helpers/sandbox.js';

const SIZE = 300 * MIB;
const RSS_LIMIT_KIB = 512 * 1024;
const USER = 'carol';
const PASSWORD = 'large-test-token';

let sb: Sandbox;
let server: GitServer;
beforeAll(async () => {
  sb = makeSandbox('sg-remote-large-');
  server = await startGitServer({ auth: { username: USER, password: PASSWORD } });
});
afterAll(async () => {
  await server?.close();
  await sb?.cleanup();
});

/** `size` bytes of a seeded keystream (AES-CTR over zeros): incompressible, the same every run. */
async function writeSeeded(file: string, size: number): Promise<void> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const out = createWriteStream(file);
  const zeros = Buffer.alloc(4 * MIB);
  for (let written = 0; written < size; written += zeros.length) {
    if (!out.write(cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written))))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * Runs a transfer in a child node process (the built engine in dist/) and returns its peak RSS
 * in KiB. Asynchronous: the server answers from this process.
 */
async function measured(script: string, env: Record<string, string>): Promise<number> {
  const rssFile = path.join(sb.dir, `rss-${Date.now()}`);
  const child = spawn(process.execPath, ['--require', path.join(ROOT, 'scripts/bench/maxrss.cjs'), '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...sb.env, ...env, SHADOWGIT_BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`transfer exited ${code}: ${stderr}`);
  return Number(readFileSync(rssFile, 'utf8'));
}

const PUSH = `
import { Repository } from './dist/engine/store/repo.js';
import { sendPack } from './dist/engine/remote/sendpack.js';
const repo = await Repository.open({ cwd: process.env.TREE });
const endpoint = { url: process.env.URL, credentials: { username: process.env.USER_NAME, password: process.env.PASSWORD } };
const updates = [...(await repo.refs.list('refs/'))].map(([ref, oid]) => ({ ref, old: undefined, new: oid }));
await sendPack(repo, endpoint, updates);
`;

const FETCH = `
import { Repository } from './dist/engine/store/repo.js';
import { advertisedRefs } from './dist/engine/remote/discover.js';
import { fetchPack } from './dist/engine/remote/fetchpack.js';
const repo = await Repository.open({ cwd: process.env.TREE });
await repo.ensureCreated();
const endpoint = { url: process.env.URL, credentials: { username: process.env.USER_NAME, password: process.env.PASSWORD } };
const { refs } = await advertisedRefs(endpoint, 'git-upload-pack');
await fetchPack(repo, endpoint, [...refs.values()]);
for (const [ref, oid] of refs) await repo.refs.write(ref, oid);
`;

test('push and fetch of a 300 MB file stay within 512 MiB of memory, and the fetched blob holds the same bytes', async () => {
  const file = path.join(sb.worktree, 'large.bin');
  await writeSeeded(file, SIZE);
  const original = await fileId(file);
  runMeasured(sb, ['snapshot', '-m', 'large']);
  server.createRepo('large.git');
  const common = { URL: server.url('large.git'), USER_NAME: USER, PASSWORD };

  const pushRss = await measured(PUSH, { ...common, TREE: sb.worktree });
  const serverRepo = path.join(server.root, 'large.git');
  expect(Number((git(serverRepo, ['cat-file', '-s', original]) as string).trim())).toBe(SIZE);

  const elsewhere = path.join(sb.dir, 'elsewhere');
  mkdirSync(elsewhere);
  const fetchRss = await measured(FETCH, { ...common, TREE: elsewhere });
  const fetchedRepo = JSON.parse((await runStatus(elsewhere)).trim()).repo as string;
  expect(await storedId(fetchedRepo, original, SIZE)).toBe(original);
  git(fetchedRepo, ['fsck', '--strict', '--connectivity-only', '--no-progress']);

  // Reported for the record (docs/remote.md quotes them); the bound is the assertion.
  console.log(`peak RSS: push ${Math.round(pushRss / 1024)} MiB, fetch ${Math.round(fetchRss / 1024)} MiB`);
  expect(pushRss).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(fetchRss).toBeLessThanOrEqual(RSS_LIMIT_KIB);
}, 10 * 60_000);

/** `shadowgit status --json` in `dir`, for the path of its shadow repository. */
async function runStatus(dir: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'shadowgit'), 'status', '--json'], { cwd: dir, env: sb.env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  await once(child, 'close');
  return out;
}
