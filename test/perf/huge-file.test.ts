// A 2 GiB file through snapshot, change, snapshot and rollback with the real CLI, in `npm test`:
// the file is sparse (real bytes in four places) so the run takes tens of seconds, not minutes,
// yet every byte of it is hashed, deflated, inflated and written. Memory is measured by each
// process itself; native git reads the ids and the stored bytes back.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, git, makeSandbox, type Sandbox } from '../helpers/sandbox.js';

const SIZE = 2 * 1024 ** 3;
const MIB = 1024 * 1024;
const RSS_LIMIT_KIB = 256 * 1024;

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('sg-huge-');
});
afterAll(async () => {
  await sb.cleanup();
});

/** Runs the CLI with a preloaded reporter that writes the process's own peak RSS (KiB). */
function runMeasured(args: string[]): { json: any; peakRssKiB: number } {
  const rssFile = path.join(sb.dir, 'rss');
  const result = spawnSync(process.execPath, ['--require', path.join(ROOT, 'scripts/bench/maxrss.cjs'), BIN, ...args, '--json'], {
    cwd: sb.worktree,
    env: { ...sb.env, SHADOWGIT_BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { json: JSON.parse(result.stdout), peakRssKiB: Number(readFileSync(rssFile, 'utf8')) };
}

/** Writes 1 MiB of bytes derived from `seed` at `offset`. */
function stamp(file: string, offset: number, seed: number): void {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) block[i] = (i * 31 + seed * 17 + (i >> 9)) & 0xff;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, block, 0, MIB, offset);
  } finally {
    closeSync(fd);
  }
}

/** Git's blob id of a byte stream of `size` bytes, computed here (independently of shadowgit). */
async function blobId(stream: NodeJS.ReadableStream, size: number): Promise<string> {
  const hash = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const fileId = (file: string) => blobId(createReadStream(file, { highWaterMark: 4 * MIB }), statSync(file).size);

/** The id of what native git inflates from the repository for `oid`: proves the stored bytes. */
function storedId(repo: string, oid: string): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const child = spawn('git', ['--git-dir', repo, 'cat-file', 'blob', oid], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return blobId(child.stdout, SIZE);
}

test('a 2 GiB file: snapshot and rollback stay under 256 MiB of memory and native git reads back the same bytes', async () => {
  const file = path.join(sb.worktree, 'huge.bin');
  closeSync(openSync(file, 'w'));
  // Sparse, with real bytes at the start, the middle and the very end.
  spawnSync('truncate', ['-s', String(SIZE), file]);
  for (const offset of [0, SIZE / 2, SIZE - MIB]) stamp(file, offset, offset / MIB);
  const original = await fileId(file);

  const first = runMeasured(['snapshot', '-m', 'huge']);
  expect(first.json.created).toBe(true);
  expect(first.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  const repo = JSON.parse(spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' }).stdout).repo as string;
  expect((git(repo, ['rev-parse', `${first.json.commit}:huge.bin`]) as string).trim()).toBe(original);
  expect(Number((git(repo, ['cat-file', '-s', original]) as string).trim())).toBe(SIZE);
  expect(await storedId(repo, original)).toBe(original);

  stamp(file, SIZE / 4, 99);
  const changed = await fileId(file);
  const second = runMeasured(['snapshot', '-m', 'changed']);
  expect(second.json.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
  expect((git(repo, ['rev-parse', `${second.json.commit}:huge.bin`]) as string).trim()).toBe(changed);

  const rollback = runMeasured(['rollback', first.json.id]);
  expect(rollback.json.written).toBe(1);
  expect(rollback.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(statSync(file).size).toBe(SIZE);
  expect(await fileId(file)).toBe(original);
  // Every object and ref is there and well-formed (the blobs' bytes were proven above).
  git(repo, ['fsck', '--strict', '--connectivity-only', '--no-progress']);
}, 10 * 60_000);

test('a 200 MiB file of zeros, under 1 MiB deflated, is still inflated as a stream when rolled back', async () => {
  const file = path.join(sb.worktree, 'zeros.img');
  closeSync(openSync(file, 'w'));
  spawnSync('truncate', ['-s', String(200 * MIB), file]);
  const zeros = await fileId(file);
  const first = runMeasured(['snapshot', '-m', 'zeros']);
  const repo = JSON.parse(spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' }).stdout).repo as string;
  expect((git(repo, ['rev-parse', `${first.json.commit}:zeros.img`]) as string).trim()).toBe(zeros);
  // Small on disk: only its header says it is large.
  expect(statSync(path.join(repo, 'objects', zeros.slice(0, 2), zeros.slice(2))).size).toBeLessThan(MIB);

  stamp(file, 0, 7);
  runMeasured(['snapshot', '-m', 'stamped']);
  const rollback = runMeasured(['rollback', first.json.id]);
  expect(rollback.json.writtenPaths).toContain('zeros.img');
  // Inflated whole it took ~470 MiB (the content twice, plus its inflate buffers).
  expect(rollback.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(await fileId(file)).toBe(zeros);
}, 5 * 60_000);
