// Helpers of the huge-file tests (test/perf: 200 MiB in `npm test`; test/large: 2 GiB in
// `npm run test:large`): peak memory measured by each CLI process itself, and blob ids computed
// independently of shadowgit.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, type Sandbox } from './sandbox.js';

export const MIB = 1024 * 1024;
export const RSS_LIMIT_KIB = 256 * 1024;

/** Runs the CLI with a preloaded reporter that writes the process's own peak RSS (KiB). */
export function runMeasured(sb: Sandbox, args: string[]): { json: any; peakRssKiB: number } {
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
export function stamp(file: string, offset: number, seed: number): void {
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

export const fileId = (file: string) => blobId(createReadStream(file, { highWaterMark: 4 * MIB }), statSync(file).size);

/** The id of what native git inflates from the repository for `oid` (`size` bytes): proves the stored bytes. */
export function storedId(repo: string, oid: string, size: number): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const child = spawn('git', ['--git-dir', repo, 'cat-file', 'blob', oid], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return blobId(child.stdout, size);
}
