// `npm run test:slow`: a 2 GiB file through snapshot and rollback with the real CLI, memory
// measured by the process itself, content checked by native git. Kept out of `npm test` for its
// run time (minutes of hashing and deflating), not because it is allowed to fail.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, fsck, git, makeSandbox, type Sandbox } from '../../helpers/sandbox.js';

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

/** Writes `count` MiB of bytes derived from `seed` at `offset`. */
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

/** Native git's id for the file on disk (it streams large files itself). */
const nativeHash = (file: string) => (spawnSync('git', ['hash-object', file], { encoding: 'utf8' }).stdout as string).trim();

test('a 2 GiB file: snapshot and rollback stay under 256 MiB of memory and native git reads back the same bytes', () => {
  const file = path.join(sb.worktree, 'huge.bin');
  const fd = openSync(file, 'w');
  closeSync(fd);
  // Sparse, with real bytes at the start, the middle and the very end.
  spawnSync('truncate', ['-s', String(SIZE), file]);
  for (const offset of [0, SIZE / 2, SIZE - MIB]) stamp(file, offset, offset / MIB);
  const original = nativeHash(file);

  const first = runMeasured(['snapshot', '-m', 'huge']);
  expect(first.json.created).toBe(true);
  expect(first.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  const repo = JSON.parse(spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' }).stdout).repo as string;
  expect((git(repo, ['rev-parse', `${first.json.commit}:huge.bin`]) as string).trim()).toBe(original);
  expect(Number((git(repo, ['cat-file', '-s', original]) as string).trim())).toBe(SIZE);

  stamp(file, SIZE / 4, 99);
  const changed = nativeHash(file);
  const second = runMeasured(['snapshot', '-m', 'changed']);
  expect(second.json.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
  expect((git(repo, ['rev-parse', `${second.json.commit}:huge.bin`]) as string).trim()).toBe(changed);

  const rollback = runMeasured(['rollback', first.json.id]);
  expect(rollback.json.written).toBe(1);
  expect(rollback.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(statSync(file).size).toBe(SIZE);
  expect(nativeHash(file)).toBe(original);
  fsck(repo);
}, 30 * 60_000);
