import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { ShadowGitError } from '../errors.js';
import { syncDirectory, tempPathFor } from '../fsutil.js';
import { faultPoint } from '../faults.js';
import type { ObjectStore, ObjectType } from './objects.js';

/**
 * Writer and index reader for git packfiles (version 2) with `.idx` version 2, the format native
 * git and isomorphic-git read. Objects are stored whole (no deltas): simple, and each is
 * re-verified against its id as it is read for packing.
 */

const deflate = promisify(zlib.deflate);
const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const IDX_MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63]);

/** Pack entry header: type and size as git's little-endian base-128 varint. */
export function entryHeader(type: ObjectType, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (TYPE_CODES[type] << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** A version 2 pack's header: signature, version, object count. */
export function packHeader(count: number): Buffer {
  return Buffer.concat([Buffer.from('PACK'), u32(2), u32(count)]);
}

interface IndexEntry {
  oid: string;
  offset: number;
  crc: number;
}

function encodeIndex(entries: IndexEntry[], packChecksum: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const fanout = Buffer.alloc(256 * 4);
  for (let byte = 0, i = 0; byte < 256; byte++) {
    while (i < sorted.length && parseInt(sorted[i]!.oid.slice(0, 2), 16) <= byte) i++;
    fanout.writeUInt32BE(i, byte * 4);
  }
  const body = Buffer.concat([
    IDX_MAGIC,
    u32(2),
    fanout,
    ...sorted.map((e) => Buffer.from(e.oid, 'hex')),
    ...sorted.map((e) => u32(e.crc)),
    ...sorted.map((e) => u32(e.offset)),
    packChecksum,
  ]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

export interface WrittenPack {
  name: string;
  /** How many of the given ids went in: the first `objects` of them. */
  objects: number;
  bytes: number;
}

/**
 * Writes `oids` (read and verified through `store`) into `packDir/pack-<checksum>.{pack,idx}`,
 * stopping after the object that takes the pack past `maxBytes` (isomorphic-git reads whole
 * packs into memory). Both files are written under temp names, synced, then renamed — the pack
 * first, so the index that makes git use it only ever appears beside a whole pack.
 */
export async function writePack(store: ObjectStore, packDir: string, oids: string[], maxBytes = Infinity, onObject: () => void = () => undefined): Promise<WrittenPack> {
  const tmpPack = tempPathFor(path.join(packDir, 'incoming.pack'));
  const tmpIdx = tempPathFor(path.join(packDir, 'incoming.idx'));
  const handle = await fsp.open(tmpPack, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o444);
  const entries: IndexEntry[] = [];
  let offset = 12;
  try {
    // The object count is patched in once known; the checksum is computed from the file after.
    await handle.write(packHeader(0));
    for (const oid of oids) {
      if (offset > maxBytes) break;
      const object = await store.read(oid);
      const entry = Buffer.concat([entryHeader(object.type, object.content.length), await deflate(object.content)]);
      entries.push({ oid, offset, crc: zlib.crc32(entry) });
      await handle.write(entry, 0, entry.length, offset);
      offset += entry.length;
      onObject();
    }
    await handle.write(u32(entries.length), 0, 4, 8);
    const hash = createHash('sha1');
    for await (const chunk of handle.createReadStream({ start: 0, end: offset - 1, autoClose: false })) hash.update(chunk as Buffer);
    const checksum = hash.digest();
    await handle.write(checksum, 0, 20, offset);
    await handle.sync();
    await handle.close();
    await fsp.writeFile(tmpIdx, encodeIndex(entries, checksum), { mode: 0o444, flag: 'wx' });
    const idxHandle = await fsp.open(tmpIdx, 'r');
    await idxHandle.sync();
    await idxHandle.close();
    const name = `pack-${checksum.toString('hex')}`;
    await fsp.rename(tmpPack, path.join(packDir, `${name}.pack`));
    await faultPoint('pack');
    await fsp.rename(tmpIdx, path.join(packDir, `${name}.idx`));
    await syncDirectory(packDir);
    return { name, objects: entries.length, bytes: offset + checksum.length };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(tmpPack, { force: true });
    await fsp.rm(tmpIdx, { force: true });
    throw err;
  }
}

/** The object ids a `.idx` (version 2) lists. */
export async function readPackIndexIds(idxFile: string): Promise<string[]> {
  const idx = await fsp.readFile(idxFile);
  if (idx.length < 8 + 1024 + 40 || !idx.subarray(0, 4).equals(IDX_MAGIC) || idx.readUInt32BE(4) !== 2) {
    throw new ShadowGitError(`pack index ${idxFile} is damaged or not a version 2 index; run \`shadowgit verify\`.`, 'ECORRUPT');
  }
  const count = idx.readUInt32BE(8 + 255 * 4);
  const start = 8 + 1024;
  if (idx.length < start + count * 28 + 40) throw new ShadowGitError(`pack index ${idxFile} is truncated; run \`shadowgit verify\`.`, 'ECORRUPT');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(idx.subarray(start + i * 20, start + i * 20 + 20).toString('hex'));
  return ids;
}

/** Pack names (without extension) in `packDir` that have an index. */
export async function listPacks(packDir: string): Promise<string[]> {
  const names = await fsp.readdir(packDir).catch(() => [] as string[]);
  return names.filter((n) => /^pack-[0-9a-f]{40}\.idx$/.test(n)).map((n) => n.slice(0, -4)).sort();
}

/**
 * Checks a pack against its index: the trailer checksum must hash the whole pack, and every
 * offset the index lists must lie inside it. Returns a problem description, or undefined.
 */
export async function checkPack(packDir: string, name: string): Promise<string | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path.join(packDir, `${name}.pack`), 'r');
  } catch {
    return 'the .pack file is missing';
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(4);
    const trailer = Buffer.alloc(20);
    await handle.read(head, 0, 4, 0);
    if (size < 32 || head.toString('latin1') !== 'PACK') return 'not a pack (bad header)';
    await handle.read(trailer, 0, 20, size - 20);
    // Streamed: a blob pack can be hundreds of megabytes.
    const hash = createHash('sha1');
    for await (const chunk of handle.createReadStream({ start: 0, end: size - 21, autoClose: false })) hash.update(chunk as Buffer);
    if (!hash.digest().equals(trailer)) return 'its checksum does not match its content (truncated or damaged)';
    const idx = await fsp.readFile(path.join(packDir, `${name}.idx`));
    if (idx.length < 40 || !idx.subarray(idx.length - 40, idx.length - 20).equals(trailer)) return 'its index belongs to another pack';
    return undefined;
  } finally {
    await handle.close();
  }
}
