// The store's pack reader against native git as the oracle: packs made by `git repack` with
// OFS_DELTA chains, with REF_DELTA chains, and with every offset in the index's 64-bit table;
// every object read through ObjectStore must equal `git cat-file` byte for byte. A damaged pack
// must surface as CorruptObjectError and nothing else.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import fc from 'fast-check';
import { CorruptObjectError } from '../../src/engine/errors.js';
import { ObjectStore, STREAM_THRESHOLD } from '../../src/engine/store/objects.js';
import { git } from '../helpers/sandbox.js';

const VERSIONS = 30;

let dir: string;
let source: string;
/** Every object of the repository: id and type, with the bytes native git gives for it. */
let objects: Array<{ oid: string; type: string; bytes: Buffer }>;

/** A text file's version `n`: 600 lines, a few of which change from one version to the next. */
function version(n: number, salt: string): string {
  const lines: string[] = [];
  for (let line = 0; line < 600; line++) lines.push(`${salt} line ${line}: ${line % 37 === n % 37 ? `edited in version ${n}` : 'the same in every version'}`);
  return `${lines.join('\n')}\n`;
}

/** A repository of VERSIONS commits of two text files, made by `git fast-import` (loose objects are not its output: it writes one pack). */
function makeRepository(gitdir: string): void {
  git(gitdir, ['init', '-q', '--bare']);
  let stream = '';
  for (let n = 0; n < VERSIONS; n++) {
    const files = { 'a.txt': version(n, 'alpha'), 'dir/b.txt': version(n * 7, 'beta') };
    stream += `commit refs/heads/main\ncommitter A <a@example.com> ${1_700_000_000 + n} +0000\ndata 9\nversion ${n % 10}\n`;
    for (const [name, text] of Object.entries(files)) stream += `M 100644 inline ${name}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
  }
  execFileSync('git', ['--git-dir', gitdir, 'fast-import', '--quiet'], { input: stream, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
}

/** A copy of the source repository repacked with `args` (and config `config`). */
function repacked(name: string, args: string[], config: string[] = []): string {
  const gitdir = path.join(dir, name);
  cpSync(source, gitdir, { recursive: true });
  git(gitdir, [...config, 'repack', '-adfq', '--window=50', '--depth=50', ...args]);
  return gitdir;
}

/** The kinds of entry `git verify-pack -v` lists for the repository's pack. */
function entryKinds(gitdir: string): { deltas: number; whole: number } {
  const pack = packFile(gitdir, '.idx');
  const lines = git(gitdir, ['verify-pack', '-v', pack]).split('\n') as string[];
  const rows = lines.filter((line) => /^[0-9a-f]{40} /.test(line)).map((line) => line.split(/\s+/));
  return { deltas: rows.filter((row) => row.length >= 7).length, whole: rows.filter((row) => row.length < 7).length };
}

function packFile(gitdir: string, ext: string): string {
  const packDir = path.join(gitdir, 'objects', 'pack');
  return path.join(packDir, readdirSync(packDir).find((name) => name.endsWith(ext))!);
}

/** A pack of REF_DELTA entries (each inserting one byte into a one-byte base) and its version 2 index, ids as given. */
function writeCraftedPack(packDir: string, entries: Array<{ oid: string; base: string }>): void {
  const body: Buffer[] = [Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, entries.length])];
  const offsets = new Map<string, number>();
  let offset = 12;
  for (const { oid, base } of entries) {
    const delta = Buffer.from([1, 1, 1, 0x41]); // base size 1, result size 1, insert "A"
    const entry = Buffer.concat([Buffer.from([(7 << 4) | delta.length]), Buffer.from(base, 'hex'), zlib.deflateSync(delta)]);
    offsets.set(oid, offset);
    body.push(entry);
    offset += entry.length;
  }
  const pack = Buffer.concat(body);
  const checksum = createHash('sha1').update(pack).digest();
  const sorted = [...offsets.keys()].sort();
  const fanout = Buffer.alloc(1024);
  for (let byte = 0; byte < 256; byte++) fanout.writeUInt32BE(sorted.filter((oid) => parseInt(oid.slice(0, 2), 16) <= byte).length, byte * 4);
  const u32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
  const idx = Buffer.concat([Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]), fanout, ...sorted.map((oid) => Buffer.from(oid, 'hex')), ...sorted.map(() => u32(0)), ...sorted.map((oid) => u32(offsets.get(oid)!)), checksum]);
  const name = `pack-${checksum.toString('hex')}`;
  writeFileSync(path.join(packDir, `${name}.pack`), Buffer.concat([pack, checksum]));
  writeFileSync(path.join(packDir, `${name}.idx`), Buffer.concat([idx, createHash('sha1').update(idx).digest()]));
}

/** Git writes packs read-only: a new file in place of the old. */
function replaceFile(file: string, bytes: Buffer): void {
  rmSync(file, { force: true });
  writeFileSync(file, bytes);
}

async function expectAllEqualNative(gitdir: string, order: number[] = objects.map((_, i) => i)): Promise<void> {
  const store = new ObjectStore(gitdir);
  for (const i of order) {
    const { oid, type, bytes } = objects[i]!;
    const read = await store.read(oid);
    expect(read.type).toBe(type);
    expect(read.content.equals(bytes)).toBe(true);
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-packread-'));
  source = path.join(dir, 'source.git');
  makeRepository(source);
  // One `cat-file --batch`: "<oid> <type> <size>\n<content>\n" per object.
  const batch = execFileSync('git', ['--git-dir', source, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 1 << 30 });
  objects = [];
  for (let at = 0; at < batch.length; ) {
    const newline = batch.indexOf(10, at);
    const [oid, type, size] = batch.toString('latin1', at, newline).split(' ') as [string, string, string];
    objects.push({ oid, type, bytes: batch.subarray(newline + 1, newline + 1 + Number(size)) });
    at = newline + 1 + Number(size) + 1;
  }
  expect(objects.length).toBe(VERSIONS * 5);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading packed objects through the pack index', () => {
  test('OFS_DELTA chains (git repack --depth=50): every object equals git cat-file, read in any order', async () => {
    const gitdir = repacked('ofs.git', []);
    expect(entryKinds(gitdir).deltas).toBeGreaterThan(VERSIONS);
    await expectAllEqualNative(gitdir);
    // Fresh stores share the process's handles and base cache: any order, repeats included.
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(objects.length - 1), { minLength: 1, maxLength: 40 }), async (order) => {
        await expectAllEqualNative(gitdir, order);
      }),
      { numRuns: 20 },
    );
    const store = new ObjectStore(gitdir);
    expect(await store.has(objects[0]!.oid)).toBe(true);
    expect(await store.has('0'.repeat(40))).toBe(false);
  });

  test('REF_DELTA chains (repack.useDeltaBaseOffset=false) and the 64-bit offset table (index-pack --index-version=2,0)', async () => {
    const refs = repacked('ref.git', [], ['-c', 'repack.useDeltaBaseOffset=false']);
    expect(entryKinds(refs).deltas).toBeGreaterThan(VERSIONS);
    await expectAllEqualNative(refs);

    const large = repacked('large.git', []);
    const pack = packFile(large, '.pack');
    const idx = packFile(large, '.idx');
    const rebuilt = path.join(dir, 'rebuilt.idx');
    git(large, ['index-pack', '--index-version=2,0', '-o', rebuilt, pack]);
    const before = readFileSync(idx);
    const after = readFileSync(rebuilt);
    // Every offset above 0 went to the 8-byte table: the index grew by 8 bytes per object.
    expect(after.length).toBe(before.length + 8 * objects.length);
    replaceFile(idx, after);
    await expectAllEqualNative(large);
  });

  test('packs replaced under the reader (a gc in another process): a removed pack and a new one are found by listing again', async () => {
    const gitdir = repacked('replaced.git', []);
    const store = new ObjectStore(gitdir);
    // The index is parsed and kept; the pack itself is not opened by has().
    expect(await store.has(objects[0]!.oid)).toBe(true);
    const before = packFile(gitdir, '.pack');
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    const added = execFileSync('git', ['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], { input: 'written after the reader listed the packs\n', env, encoding: 'utf8' }).trim();
    git(gitdir, ['repack', '-adfq', '--depth=5', '--keep-unreachable']);
    git(gitdir, ['prune-packed']);
    expect(packFile(gitdir, '.pack')).not.toBe(before);
    expect(git(gitdir, ['count-objects', '-v'])).toMatch(/^count: 0$/m);
    await expectAllEqualNative(gitdir);
    expect((await store.read(added)).content.toString()).toBe('written after the reader listed the packs\n');
  });

  test('a REF_DELTA on a loose base is built; chains that loop, or whose base is nowhere, are CorruptObjectError', async () => {
    const gitdir = path.join(dir, 'crafted.git');
    git(gitdir, ['init', '-q', '--bare']);
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    const loose = execFileSync('git', ['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], { input: 'Q', env, encoding: 'utf8' }).trim();
    const built = createHash('sha1').update('blob 1\0A').digest('hex');
    const [x, y, z, absent] = ['1', '2', '3', '4'].map((digit) => digit.repeat(40)) as [string, string, string, string];
    // x is a delta on y, y a delta on x; z a delta on an object the store does not hold.
    writeCraftedPack(path.join(gitdir, 'objects', 'pack'), [
      { oid: built, base: loose },
      { oid: x, base: y },
      { oid: y, base: x },
      { oid: z, base: absent },
    ]);
    const store = new ObjectStore(gitdir);
    // Native git looks a REF_DELTA base up in the same pack only (a thin pack must be fixed
    // first); this reader also takes one from anywhere in the store, its result checked by its id.
    expect(await store.read(built)).toEqual({ type: 'blob', content: Buffer.from('A') });
    expect(await store.has(x)).toBe(true);
    await expect(store.read(x)).rejects.toThrow(CorruptObjectError);
    await expect(store.read(x)).rejects.toThrow(/circular/);
    await expect(store.read(z)).rejects.toThrow(new RegExp(`object ${z} is damaged \\(the base ${absent} of its delta is missing\\)`));
  });

  test('a large undeltified packed blob is streamed: written, verified and sized without a whole read; damage in it is CorruptObjectError', async () => {
    const gitdir = path.join(dir, 'large-blob.git');
    git(gitdir, ['init', '-q', '--bare']);
    const content = randomBytes(STREAM_THRESHOLD + 4096);
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    const oid = execFileSync('git', ['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], { input: content, env, encoding: 'utf8' }).trim();
    execFileSync('git', ['--git-dir', gitdir, '-c', 'core.bigFileThreshold=1m', 'pack-objects', '-q', path.join(gitdir, 'objects', 'pack', 'pack')], { input: `${oid}\n`, env });
    git(gitdir, ['prune-packed']);
    expect(git(gitdir, ['count-objects', '-v'])).toMatch(/^count: 0$/m);
    const store = new ObjectStore(gitdir);
    expect(store.largeBlobSize(oid)).toBe(content.length);
    expect(await store.verifyBlob(oid)).toBeUndefined(); // streamed, not returned whole
    const out = path.join(dir, 'large-blob.out');
    const writeOut = async (from: ObjectStore) => {
      const handle = await fsp.open(out, 'w');
      try {
        await from.writeBlobTo(oid, handle, 'big.bin');
      } finally {
        await handle.close();
      }
    };
    await writeOut(store);
    expect(readFileSync(out).equals(content)).toBe(true);

    const damaged = path.join(dir, 'large-blob-damaged.git');
    cpSync(gitdir, damaged, { recursive: true });
    const pack = readFileSync(packFile(damaged, '.pack'));
    pack[pack.length - 1000] ^= 0x01;
    replaceFile(packFile(damaged, '.pack'), pack);
    const error = await writeOut(new ObjectStore(damaged)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CorruptObjectError);
    expect((error as Error).message).toContain(`object ${oid} (big.bin) is damaged`);
  });

  test('a damaged or truncated pack is CorruptObjectError naming the object, and nothing else', async () => {
    const gitdir = repacked('damaged.git', []);
    const pack = packFile(gitdir, '.pack');
    const rows = (git(gitdir, ['verify-pack', '-v', packFile(gitdir, '.idx')]).split('\n') as string[]).filter((line) => /^[0-9a-f]{40} /.test(line)).map((line) => line.split(/\s+/));
    // The undeltified blob with the most deltas on it: the middle of its zlib data is flipped.
    const [victim, , , packedSize, offset] = rows.find((row) => row[1] === 'blob' && row.length < 7)!;
    const bytes = readFileSync(pack);
    bytes[Number(offset) + Math.floor(Number(packedSize) / 2)] ^= 0x5a;
    replaceFile(pack, bytes);
    const readAll = async () => {
      const store = new ObjectStore(gitdir);
      const failures: string[] = [];
      for (const { oid, bytes: expected } of objects) {
        try {
          expect((await store.read(oid)).content.equals(expected)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptObjectError);
          expect((err as CorruptObjectError).oid).toBe(oid);
          failures.push(oid);
        }
      }
      return failures;
    };
    expect(await readAll()).toContain(victim);

    // Cut short in the middle of its last entry.
    const truncated = path.join(dir, 'truncated.git');
    cpSync(gitdir, truncated, { recursive: true });
    replaceFile(packFile(truncated, '.pack'), bytes.subarray(0, bytes.length - 40));
    const store = new ObjectStore(truncated);
    let failed = 0;
    for (const { oid } of objects) {
      await store.read(oid).catch((err: unknown) => {
        expect(err).toBeInstanceOf(CorruptObjectError);
        failed++;
      });
    }
    expect(failed).toBeGreaterThan(1);

    // A damaged index: its objects are damaged, a loose object beside it still reads.
    const badIndex = repacked('bad-index.git', []);
    replaceFile(packFile(badIndex, '.idx'), readFileSync(packFile(badIndex, '.idx')).subarray(0, 100));
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    const loose = execFileSync('git', ['--git-dir', badIndex, 'hash-object', '-w', '--stdin'], { input: 'still readable\n', env, encoding: 'utf8' }).trim();
    const beside = new ObjectStore(badIndex);
    expect((await beside.read(loose)).content.toString()).toBe('still readable\n');
    await expect(beside.read(objects[0]!.oid)).rejects.toThrow(CorruptObjectError);
    await expect(beside.read(objects[0]!.oid)).rejects.toThrow(/index .*is damaged/);
  });
});
