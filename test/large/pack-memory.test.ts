// A pack of 2.4 GB (`npm run test:large`), written by native `git fast-import`: three 800 MiB
// blobs of incompressible bytes (stored at level 0: the test is about reading, not writing),
// undeltified, then a small blob whose offset lies past 2 GiB (in the index's 64-bit offset
// table). A child process reads the small blob and streams the last large one through the
// store; its peak RSS must stay under 256 MiB (measured: 89–116 MiB) — the pack is read through
// its index, one entry at a time, never whole.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIB, RSS_LIMIT_KIB } from '../helpers/huge.js';
import { git, makeSandbox, ROOT, type Sandbox } from '../helpers/sandbox.js';

const BLOBS = 3;
const SIZE = 800 * MIB;
const SMALL = 'a small object stored after 2.4 GB of others\n';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('sg-pack-large-');
});
afterAll(async () => {
  await sb?.cleanup();
});

/** Feeds fast-import `BLOBS` seeded blobs and the small one; returns each blob's id, computed here. */
async function fastImport(gitdir: string): Promise<{ large: string[]; small: string }> {
  const child = spawn('git', ['-c', 'pack.compression=0', '-c', 'fastimport.unpackLimit=0', '--git-dir', gitdir, 'fast-import', '--quiet', '--big-file-threshold=1m'], {
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const write = async (bytes: Buffer | string) => {
    if (!child.stdin.write(bytes)) await once(child.stdin, 'drain');
  };
  const large: string[] = [];
  const zeros = Buffer.alloc(4 * MIB);
  for (let n = 0; n < BLOBS; n++) {
    const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, n + 1), Buffer.alloc(16, 0));
    const hash = createHash('sha1').update(`blob ${SIZE}\0`);
    await write(`blob\nmark :${n + 1}\ndata ${SIZE}\n`);
    for (let written = 0; written < SIZE; written += zeros.length) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, SIZE - written)));
      hash.update(chunk);
      await write(chunk);
    }
    await write('\n');
    large.push(hash.digest('hex'));
  }
  await write(`blob\nmark :${BLOBS + 1}\ndata ${Buffer.byteLength(SMALL)}\n${SMALL}\n`);
  child.stdin.end();
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`git fast-import exited ${code}`);
  return { large, small: createHash('sha1').update(`blob ${Buffer.byteLength(SMALL)}\0${SMALL}`).digest('hex') };
}

const READ = `
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ObjectStore } from './dist/engine/store/objects.js';
const store = new ObjectStore(process.env.GITDIR);
const small = await store.read(process.env.SMALL_ID);
const size = store.largeBlobSize(process.env.LARGE_ID);
const hash = createHash('sha1').update('blob ' + size + '\\0');
let seen = 0;
await store.streamBlobTo(process.env.LARGE_ID, new Writable({ write(chunk, _enc, done) { hash.update(chunk); seen += chunk.length; done(); } }));
process.stdout.write(JSON.stringify({ small: small.content.toString(), size, seen, id: hash.digest('hex') }));
`;

test('one small object and one 800 MiB blob read from a 2.4 GB pack stay under 256 MiB of memory', async () => {
  const gitdir = path.join(sb.dir, 'repo.git');
  git(gitdir, ['init', '-q', '--bare']);
  const ids = await fastImport(gitdir);
  const packDir = path.join(gitdir, 'objects', 'pack');
  const pack = readdirSync(packDir).find((name) => name.endsWith('.pack'))!;
  expect(statSync(path.join(packDir, pack)).size).toBeGreaterThan(BLOBS * SIZE);
  // The small blob's offset is past 2 GiB: the index has an 8-byte offset table after the 4-byte one.
  const idx = readFileSync(path.join(packDir, pack.replace(/\.pack$/, '.idx')));
  expect(idx.length).toBeGreaterThan(8 + 1024 + (BLOBS + 1) * 28 + 40);

  const rssFile = path.join(sb.dir, 'rss');
  const child = spawn(process.execPath, ['--require', path.join(ROOT, 'scripts/bench/maxrss.cjs'), '--input-type=module', '-e', READ], {
    cwd: ROOT,
    env: { ...sb.env, GITDIR: gitdir, SMALL_ID: ids.small, LARGE_ID: ids.large[BLOBS - 1]!, SHADOWGIT_BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const [code] = (await once(child, 'close')) as [number];
  expect(code).toBe(0);
  const result = JSON.parse(stdout) as { small: string; size: number; seen: number; id: string };
  expect(result).toEqual({ small: SMALL, size: SIZE, seen: SIZE, id: ids.large[BLOBS - 1] });
  const peakRssKiB = Number(readFileSync(rssFile, 'utf8'));
  console.log(`peak RSS reading from a ${(statSync(path.join(packDir, pack)).size / 2 ** 30).toFixed(2)} GiB pack: ${Math.round(peakRssKiB / 1024)} MiB`);
  expect(peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
}, 20 * 60_000);
