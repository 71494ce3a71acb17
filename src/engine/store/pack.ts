import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import type { Writable } from 'node:stream';
import { ShadowGitError } from '../errors.js';
import { syncDirectory, tempPathFor } from '../fsutil.js';
import { faultPoint } from '../faults.js';
import type { ObjectStore, ObjectType } from './objects.js';

/**
 * Writer and index reader for git packfiles (version 2) with `.idx` version 2, the format native
 * git reads. An entry is an object whole, a large loose blob streamed (never whole in memory),
 * or an OFS_DELTA against an object earlier in the same pack; each object is read and verified
 * against its id as it is packed.
 */

const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const OFS_DELTA = 6;
const IDX_MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63]);
/** A streamed blob is deflated in chunks of this size. */
const STREAM_CHUNK = 1 << 20;

/** Pack entry header: type code and size as git's little-endian base-128 varint. */
function typedHeader(code: number, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (code << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

function entryHeader(type: ObjectType, size: number): Buffer {
  return typedHeader(TYPE_CODES[type], size);
}

/** An OFS_DELTA's distance back to its base: big-endian base-128 where each continuation adds one. */
function baseDistance(distance: number): Buffer {
  const bytes = [distance & 0x7f];
  for (distance = Math.floor(distance / 128); distance > 0; distance = Math.floor(distance / 128)) {
    distance--;
    bytes.unshift(0x80 | (distance & 0x7f));
  }
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

/** One object as a pack entry. */
export type PackItem =
  | { oid: string; type: ObjectType; content: Buffer }
  /** A large loose blob, streamed into `sink` and verified by the store as it goes. */
  | { oid: string; type: 'blob'; size: number; stream: (sink: Writable) => Promise<void> }
  /** A delta (git's format) that builds the object from `base`, an object earlier in the same pack. */
  | { oid: string; base: string; delta: Buffer };

/** `oid` from `store` as a pack entry whole: streamed when the store keeps it as a large loose blob. */
export async function wholeItem(store: ObjectStore, oid: string): Promise<PackItem> {
  const size = store.largeBlobSize(oid);
  if (size !== undefined) return { oid, type: 'blob', size, stream: (sink) => store.streamBlobTo(oid, sink) };
  const object = await store.read(oid);
  return { oid, type: object.type, content: object.content };
}

interface IndexEntry {
  offset: number;
  crc: number;
}

/**
 * Turns items into pack entry bytes, in order, remembering where each entry began (an
 * OFS_DELTA names its base by distance) and its CRC-32 (the index lists it). The pack header
 * and trailer are the caller's: a file and a request body finish a pack differently.
 */
export class PackEncoder {
  /** Where the next entry begins: just past the 12-byte pack header. */
  offset = 12;
  readonly entries = new Map<string, IndexEntry>();

  constructor(private readonly level: number) {}

  async *encode(item: PackItem): AsyncGenerator<Buffer> {
    const start = this.offset;
    let crc = 0;
    const emit = (bytes: Buffer) => {
      crc = zlib.crc32(bytes, crc);
      this.offset += bytes.length;
      return bytes;
    };
    if ('delta' in item) {
      const base = this.entries.get(item.base);
      if (!base) throw new Error(`delta base ${item.base} is not earlier in the pack`);
      yield emit(Buffer.concat([typedHeader(OFS_DELTA, item.delta.length), baseDistance(start - base.offset), zlib.deflateSync(item.delta, { level: this.level })]));
    } else if ('stream' in item) {
      yield emit(entryHeader('blob', item.size));
      const deflate = zlib.createDeflate({ level: this.level, chunkSize: STREAM_CHUNK });
      const streaming = item.stream(deflate);
      // An error on either side ends both: the pipeline destroys the deflate stream it feeds.
      streaming.catch(() => undefined);
      for await (const chunk of deflate) yield emit(chunk as Buffer);
      await streaming;
    } else {
      yield emit(Buffer.concat([entryHeader(item.type, item.content.length), zlib.deflateSync(item.content, { level: this.level })]));
    }
    this.entries.set(item.oid, { offset: start, crc });
  }
}

/** The `.idx` (version 2) of a pack whose offsets are all below 2 GiB (gc splits packs well before). */
function encodeIndex(entries: ReadonlyMap<string, IndexEntry>, packChecksum: Buffer): Buffer {
  const sorted = [...entries.keys()].sort();
  const fanout = Buffer.alloc(256 * 4);
  for (let byte = 0, i = 0; byte < 256; byte++) {
    while (i < sorted.length && parseInt(sorted[i]!.slice(0, 2), 16) <= byte) i++;
    fanout.writeUInt32BE(i, byte * 4);
  }
  const body = Buffer.concat([
    IDX_MAGIC,
    u32(2),
    fanout,
    ...sorted.map((oid) => Buffer.from(oid, 'hex')),
    ...sorted.map((oid) => u32(entries.get(oid)!.crc)),
    ...sorted.map((oid) => u32(entries.get(oid)!.offset)),
    packChecksum,
  ]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

export interface WrittenPack {
  name: string;
  objects: number;
  bytes: number;
}

/**
 * A pack being written into `packDir`: entries appended to a temp file as they are added; on
 * `finish` the object count is patched in, the checksum computed from the file, and the pack and
 * then its index renamed into place — the index that makes git use a pack only ever appears
 * beside a whole pack. Until then nothing a reader sees has changed.
 */
export class PackFileWriter {
  private readonly encoder: PackEncoder;

  private constructor(
    private readonly packDir: string,
    private readonly tmpPack: string,
    private readonly handle: fsp.FileHandle,
  ) {
    this.encoder = new PackEncoder(zlib.constants.Z_DEFAULT_COMPRESSION);
  }

  static async open(packDir: string): Promise<PackFileWriter> {
    const tmpPack = tempPathFor(path.join(packDir, 'incoming.pack'));
    const handle = await fsp.open(tmpPack, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o444);
    try {
      // The object count is patched in once known; the checksum is computed from the file after.
      await handle.write(packHeader(0), 0, 12, 0);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fsp.rm(tmpPack, { force: true });
      throw err;
    }
    return new PackFileWriter(packDir, tmpPack, handle);
  }

  get bytes(): number {
    return this.encoder.offset;
  }

  get objects(): number {
    return this.encoder.entries.size;
  }

  has(oid: string): boolean {
    return this.encoder.entries.has(oid);
  }

  async add(item: PackItem): Promise<void> {
    for await (const chunk of this.encoder.encode(item)) await this.handle.write(chunk, 0, chunk.length, this.encoder.offset - chunk.length);
  }

  async finish(): Promise<WrittenPack> {
    const tmpIdx = tempPathFor(path.join(this.packDir, 'incoming.idx'));
    try {
      const end = this.encoder.offset;
      await this.handle.write(u32(this.encoder.entries.size), 0, 4, 8);
      const hash = createHash('sha1');
      for await (const chunk of this.handle.createReadStream({ start: 0, end: end - 1, autoClose: false })) hash.update(chunk as Buffer);
      const checksum = hash.digest();
      await this.handle.write(checksum, 0, 20, end);
      await this.handle.sync();
      await this.handle.close();
      await fsp.writeFile(tmpIdx, encodeIndex(this.encoder.entries, checksum), { mode: 0o444, flag: 'wx' });
      const idxHandle = await fsp.open(tmpIdx, 'r');
      await idxHandle.sync();
      await idxHandle.close();
      const name = `pack-${checksum.toString('hex')}`;
      await fsp.rename(this.tmpPack, path.join(this.packDir, `${name}.pack`));
      await faultPoint('pack');
      await fsp.rename(tmpIdx, path.join(this.packDir, `${name}.idx`));
      await syncDirectory(this.packDir);
      return { name, objects: this.encoder.entries.size, bytes: end + checksum.length };
    } catch (err) {
      await this.abort();
      await fsp.rm(tmpIdx, { force: true });
      throw err;
    }
  }

  /** Drops the temp file (after a failure while adding). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.tmpPack, { force: true });
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
