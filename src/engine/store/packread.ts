import { closeSync, fstatSync, openSync, read, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { applyDelta } from './delta.js';
import type { ObjectType } from './gitformat.js';

/**
 * Reader of the repository's packs (Documentation/gitformat-pack.txt: packs version 2 and 3, `.idx`
 * version 2 with its 64-bit offset table), whoever wrote them: gc, or native git. An object is
 * found through its pack's index (fan-out, then a binary search of the sorted ids) and read with
 * positioned reads of its own entry: a pack is never loaded whole, and offsets past 4 GiB are
 * addressed. Deltas (OFS_DELTA within the pack, REF_DELTA to an object anywhere in the store) are
 * resolved down their chain, with recently built bases kept in a cache bounded in bytes.
 *
 * Handles and parsed indexes live per process and per pack directory, so every ObjectStore of a
 * repository shares them; the directory is listed again when an id is not found (gc, here or
 * in another process, may have written or removed packs since).
 */

const CODE_TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
const IDX_MAGIC = 0xff744f63;
const FANOUT_START = 8;
const IDS_START = FANOUT_START + 256 * 4;
/** A chain longer than this is damage (git's own limit is --depth, 50 by default, 4095 at most). */
const MAX_CHAIN = 10_000;
/** Built delta bases kept for the next delta of the same chain. */
const BASE_CACHE_BYTES = 48 * 1024 * 1024;
/** Entries inflating to at most this are read with one positioned read and inflated at once. */
const WHOLE_READ_LIMIT = 8 * 1024 * 1024;
/** Chunk of the positioned reads of a streamed entry. */
const READ_CHUNK = 1 << 20;
/**
 * Bytes read at an entry's offset: its header (at most 10 bytes of type and size plus a 20-byte
 * base id) and, for most deltas, all their zlib data, saving a second read. Under 4 KiB, so
 * the buffer comes from Node's pool.
 */
const ENTRY_PREFETCH = 4000;

/** Damage found in a pack, described for the object being read (the caller names it). */
export class PackDamage extends Error {}

/** A packed object's entry: where its data starts, what it is, and for a delta, its base. */
export interface PackedEntry {
  pack: PackFile;
  offset: number;
  /** The object's type, or for a delta its kind. */
  kind: ObjectType | 'ofs-delta' | 'ref-delta';
  /** Inflated size of the entry's data: the object, or the delta. */
  size: number;
  dataStart: number;
  baseOffset?: number;
  baseOid?: string;
  /** The bytes read after the header along with it: the start of the zlib data. */
  prefetched: Buffer;
}

/** One pack: its parsed index (held whole: 28 bytes per object), its data file opened on first use. */
class PackFile {
  private fd: number | undefined;
  private bytes = 0;
  private readonly count: number;
  /** Reads in progress that may await between two reads of this pack. */
  private users = 0;
  /** Gone from the directory: closed once its last user is done, never opened again. */
  private retired = false;

  constructor(
    readonly name: string,
    private readonly packPath: string,
    private readonly idx: Buffer,
  ) {
    if (idx.length < IDS_START + 40 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) throw new PackDamage(`pack index ${name}.idx is damaged or not a version 2 index`);
    this.count = idx.readUInt32BE(FANOUT_START + 255 * 4);
    if (idx.length < IDS_START + this.count * 28 + 40) throw new PackDamage(`pack index ${name}.idx is truncated`);
  }

  /** The offset of `id` (20 bytes) in the pack, or undefined when this pack does not hold it. */
  find(id: Buffer): number | undefined {
    const first = id[0]!;
    let low = first === 0 ? 0 : this.idx.readUInt32BE(FANOUT_START + (first - 1) * 4);
    let high = Math.min(this.idx.readUInt32BE(FANOUT_START + first * 4), this.count);
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = IDS_START + middle * 20;
      const order = id.compare(this.idx, at, at + 20);
      if (order === 0) return this.offsetOf(middle);
      if (order < 0) high = middle;
      else low = middle + 1;
    }
    return undefined;
  }

  private offsetOf(index: number): number {
    const offsetsStart = IDS_START + this.count * 24;
    const small = this.idx.readUInt32BE(offsetsStart + index * 4);
    if (!(small & 0x80000000)) return small;
    const at = offsetsStart + this.count * 4 + (small & 0x7fffffff) * 8;
    if (at + 8 > this.idx.length - 40) throw new PackDamage(`pack index ${this.name}.idx is truncated`);
    const large = this.idx.readBigUInt64BE(at);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new PackDamage(`pack index ${this.name}.idx names an impossible offset`);
    return Number(large);
  }

  /** Opens the data file (ENOENT when gc removed it since the listing: the caller lists again). */
  private open(): number {
    if (this.fd === undefined) {
      if (this.retired) throw Object.assign(new Error(`${this.packPath} was removed`), { code: 'ENOENT' });
      const fd = openSync(this.packPath, 'r');
      const head = Buffer.alloc(12);
      const bytes = fstatSync(fd).size;
      const trailer = Buffer.alloc(20);
      let problem: string | undefined;
      if (readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 4) !== 'PACK' || ![2, 3].includes(head.readUInt32BE(4))) problem = 'is not a version 2 pack';
      // As native git does: a pack whose trailer is not the checksum its index names was cut
      // short or replaced, and none of its offsets can be trusted.
      else if (bytes < 32 || readSync(fd, trailer, 0, 20, bytes - 20) !== 20 || !trailer.equals(this.idx.subarray(this.idx.length - 40, this.idx.length - 20))) problem = 'does not match its index (truncated or damaged)';
      if (problem) {
        closeSync(fd);
        throw new PackDamage(`pack ${this.name}.pack ${problem}`);
      }
      this.fd = fd;
      this.bytes = bytes;
    }
    return this.fd;
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file). */
  read(position: number, length: number): Buffer {
    const fd = this.open();
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.bytes - position)));
    for (let at = 0; at < buffer.length; ) {
      const got = readSync(fd, buffer, at, buffer.length - at, position + at);
      if (got === 0) return buffer.subarray(0, at);
      at += got;
    }
    return buffer;
  }

  async readAsync(position: number, length: number): Promise<Buffer> {
    const fd = this.open();
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.bytes - position)));
    for (let at = 0; at < buffer.length; ) {
      const bytesRead = await new Promise<number>((resolve, reject) => read(fd, buffer, at, buffer.length - at, position + at, (err, got) => (err ? reject(err) : resolve(got))));
      if (bytesRead === 0) return buffer.subarray(0, at);
      at += bytesRead;
    }
    return buffer;
  }

  get size(): number {
    this.open();
    return this.bytes;
  }

  /** The entry at `offset`: its header parsed, its data not read. */
  entry(offset: number): PackedEntry {
    if (offset < 12 || offset >= this.size - 20) throw new PackDamage(`an entry offset lies outside pack ${this.name}.pack`);
    const head = this.read(offset, ENTRY_PREFETCH);
    let at = 0;
    const next = () => {
      if (at >= head.length) throw new PackDamage(`pack ${this.name}.pack is cut short in an entry header`);
      return head[at++]!;
    };
    let c = next();
    const code = (c >> 4) & 7;
    let size = c & 0x0f;
    for (let shift = 4; c & 0x80; shift += 7) {
      if (shift > 60) throw new PackDamage(`an entry header of pack ${this.name}.pack is malformed`);
      c = next();
      size += (c & 0x7f) * 2 ** shift;
    }
    if (code === OFS_DELTA) {
      c = next();
      let distance = c & 0x7f;
      while (c & 0x80) {
        c = next();
        distance = (distance + 1) * 128 + (c & 0x7f);
      }
      if (distance <= 0 || distance > offset - 12) throw new PackDamage(`a delta of pack ${this.name}.pack names a base outside it`);
      return { pack: this, offset, kind: 'ofs-delta', size, dataStart: offset + at, baseOffset: offset - distance, prefetched: head.subarray(at) };
    }
    if (code === REF_DELTA) {
      if (head.length < at + 20) throw new PackDamage(`pack ${this.name}.pack is cut short in an entry header`);
      return { pack: this, offset, kind: 'ref-delta', size, dataStart: offset + at + 20, baseOid: head.toString('hex', at, at + 20), prefetched: head.subarray(at + 20) };
    }
    const type = CODE_TYPES[code];
    if (!type) throw new PackDamage(`an entry of pack ${this.name}.pack has unknown type ${code}`);
    return { pack: this, offset, kind: type, size, dataStart: offset + at, prefetched: head.subarray(at) };
  }

  /** Keeps the descriptor open until `release` (a retired pack's would otherwise be closed, and its number reused, mid-read). */
  hold(): void {
    this.users++;
  }

  release(): void {
    this.users--;
    if (this.retired && this.users === 0) this.close();
  }

  retire(): void {
    this.retired = true;
    if (this.users === 0) this.close();
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** zlib's worst case for deflating `size` bytes (deflateBound), plus its header and trailer. */
function deflateBound(size: number): number {
  return size + (size >> 12) + (size >> 14) + (size >> 25) + 64;
}

/**
 * The inflated data of `entry`, as chunks of at most a MiB read and inflated as they are consumed:
 * memory stays flat whatever the entry's size. The zlib stream's end is found by zlib itself
 * (it stops taking input there), so no entry's length needs to be known.
 */
export async function* inflatedChunks(entry: PackedEntry): AsyncGenerator<Buffer> {
  entry.pack.hold();
  const output = zlib.createInflate({ chunkSize: READ_CHUNK });
  const end = entry.pack.size;
  const fed = (async () => {
    for (let position = entry.dataStart; ; ) {
      // The trailer follows the last entry: reading into it is how that entry's end is found.
      if (position >= end) throw new PackDamage(`pack ${entry.pack.name}.pack is cut short`);
      const chunk = await entry.pack.readAsync(position, READ_CHUNK);
      const before = output.bytesWritten;
      await new Promise<void>((resolve, reject) => output.write(chunk, (err) => (err ? reject(err) : resolve())));
      const used = output.bytesWritten - before;
      position += used;
      if (used < chunk.length) break;
    }
    output.end();
  })();
  fed.catch((err: unknown) => output.destroy(err as Error));
  let seen = 0;
  try {
    for await (const chunk of output) {
      seen += (chunk as Buffer).length;
      if (seen > entry.size) throw new PackDamage('an entry inflates to more than its header says');
      yield chunk as Buffer;
    }
    await fed;
  } catch (err) {
    if (err instanceof PackDamage) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new PackDamage('an entry does not inflate');
  } finally {
    output.destroy();
    entry.pack.release();
  }
  if (seen !== entry.size) throw new PackDamage('an entry inflates to another size than its header says');
}

/** The inflated data of `entry`, whole. */
async function inflateEntry(entry: PackedEntry): Promise<Buffer> {
  if (entry.size <= WHOLE_READ_LIMIT) {
    const bound = deflateBound(entry.size);
    const deflated = entry.prefetched.length >= bound ? entry.prefetched : entry.pack.read(entry.dataStart, bound);
    try {
      // One output chunk of the announced size: zlib's 16 KiB default made every larger
      // object a list of chunks concatenated at the end.
      const data = zlib.inflateSync(deflated, { maxOutputLength: Math.max(1, entry.size), chunkSize: Math.max(64, entry.size + 1) });
      if (data.length === entry.size) return data;
    } catch {
      // Damaged, or a zlib stream longer than zlib's own bound (another deflater's): the
      // chunked path below tells which.
    }
  }
  const data = Buffer.allocUnsafe(entry.size);
  let at = 0;
  for await (const chunk of inflatedChunks(entry)) at += chunk.copy(data, at);
  return data;
}

const damage = (problem: string) => new PackDamage(problem);

/** Least recently used delta bases, bounded by their total bytes. */
class BaseCache {
  private readonly entries = new Map<string, { type: ObjectType; content: Buffer }>();
  private bytes = 0;

  get(key: string): { type: ObjectType; content: Buffer } | undefined {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(key: string, value: { type: ObjectType; content: Buffer }): void {
    if (value.content.length > BASE_CACHE_BYTES / 4 || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.content.length;
    for (const [oldest, { content }] of this.entries) {
      if (this.bytes <= BASE_CACHE_BYTES) break;
      this.entries.delete(oldest);
      this.bytes -= content.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** A REF_DELTA base that is not in any pack: the store's loose object, verified, or undefined. */
export type LooseReader = (oid: string) => { type: ObjectType; content: Buffer } | undefined;

/** The packs of one `objects/pack` directory, as this process last listed them. */
export class PackSet {
  private packs: PackFile[] = [];
  /** Indexes that could not be parsed at the last listing: an object found nowhere else is damaged. */
  private broken: string[] = [];
  private listed = false;
  private readonly cache = new BaseCache();

  private constructor(private readonly packDir: string) {}

  private static readonly sets = new Map<string, PackSet>();

  /** The process's PackSet of `packDir`. */
  static of(packDir: string): PackSet {
    let set = PackSet.sets.get(packDir);
    if (!set) {
      set = new PackSet(packDir);
      PackSet.sets.set(packDir, set);
    }
    return set;
  }

  /**
   * Lists the directory again: new indexes are parsed, packs gone are closed. Packs keep their
   * order (the most recently listed first, as gc's newest pack holds the most recent objects).
   */
  private relist(): void {
    let names: string[];
    try {
      names = readdirSync(this.packDir).filter((name) => /^pack-[0-9a-f]{40}\.idx$/.test(name)).map((name) => name.slice(0, -4));
    } catch {
      names = [];
    }
    const known = new Map(this.packs.map((pack) => [pack.name, pack]));
    const next: PackFile[] = [];
    const broken: string[] = [];
    for (const name of names) {
      const existing = known.get(name);
      if (existing) {
        next.push(existing);
        known.delete(name);
        continue;
      }
      let idx: Buffer;
      try {
        idx = readFileSync(path.join(this.packDir, `${name}.idx`));
      } catch {
        continue; // removed since the listing
      }
      try {
        next.unshift(new PackFile(name, path.join(this.packDir, `${name}.pack`), idx));
      } catch (err) {
        if (!(err instanceof PackDamage)) throw err;
        broken.push(err.message);
      }
    }
    for (const gone of known.values()) gone.retire();
    if (known.size > 0) this.cache.clear();
    this.packs = next;
    this.broken = broken;
    this.listed = true;
  }

  /** The entry of `id` in the first listed pack that holds it and still exists. */
  private findIn(id: Buffer): PackedEntry | undefined {
    for (const pack of this.packs) {
      const offset = pack.find(id);
      if (offset === undefined) continue;
      try {
        return pack.entry(offset);
      } catch (err) {
        // Removed since the listing (its index may outlive it for a moment): another pack,
        // or the next listing, has the object.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return undefined;
  }

  /**
   * `find` with the current listing, then once more after listing again when it found nothing
   * (a pack removed under it is skipped by findIn, so it too ends here).
   */
  private withListing<T>(find: () => T | undefined): T | undefined {
    if (!this.listed) this.relist();
    const found = find();
    if (found !== undefined) return found;
    this.relist();
    return find();
  }

  /**
   * Whether a pack of the current listing holds `oid` (listed once if never): cheap, no system
   * call, so a reader can skip looking for a loose copy. False may be stale; ask `has` to be sure.
   */
  listedHas(oid: string): boolean {
    if (!this.listed) this.relist();
    const id = Buffer.from(oid, 'hex');
    return this.packs.some((pack) => pack.find(id) !== undefined);
  }

  /** The entry of `oid`, its header read; undefined when no pack holds it. */
  locate(oid: string): PackedEntry | undefined {
    const id = Buffer.from(oid, 'hex');
    return this.withListing(() => this.findIn(id));
  }

  /** Whether a pack's index lists `oid` (nothing of the pack is read). */
  has(oid: string): boolean {
    const id = Buffer.from(oid, 'hex');
    return this.withListing(() => this.packs.some((pack) => pack.find(id) !== undefined) || undefined) === true;
  }

  /**
   * The object `oid`, resolved through its delta chain; undefined when no pack holds it. Damage
   * (a malformed entry, a bad inflate, a missing or circular base) throws PackDamage; the
   * content is not verified against the id here (the caller hashes it).
   */
  async read(oid: string, readLoose: LooseReader): Promise<{ type: ObjectType; content: Buffer } | undefined> {
    const entry = this.locate(oid);
    if (entry) return this.resolve(entry, readLoose);
    if (this.broken.length > 0) throw new PackDamage(`it may be in a pack whose index is damaged (${this.broken.join('; ')})`);
    return undefined;
  }

  /**
   * Walks from `entry` down its chain to an undeltified object (or a cached base, or a loose
   * REF_DELTA base), then applies the deltas back up. Iterative: a chain may be thousands long.
   */
  private async resolve(entry: PackedEntry, readLoose: LooseReader): Promise<{ type: ObjectType; content: Buffer }> {
    const held = new Set<PackFile>();
    try {
      return await this.resolveHeld(entry, readLoose, held);
    } finally {
      for (const pack of held) pack.release();
    }
  }

  private async resolveHeld(entry: PackedEntry, readLoose: LooseReader, held: Set<PackFile>): Promise<{ type: ObjectType; content: Buffer }> {
    const chain: PackedEntry[] = [];
    const seen = new Set<string>();
    let current = entry;
    let base: { type: ObjectType; content: Buffer } | undefined;
    for (;;) {
      if (!held.has(current.pack)) {
        current.pack.hold();
        held.add(current.pack);
      }
      const key = `${current.pack.name}:${current.offset}`;
      base = chain.length > 0 ? this.cache.get(key) : undefined;
      if (base) break;
      if (current.kind !== 'ofs-delta' && current.kind !== 'ref-delta') {
        base = { type: current.kind, content: await inflateEntry(current) };
        if (chain.length > 0) this.cache.set(key, base);
        break;
      }
      if (seen.has(key)) throw damage('its delta chain is circular');
      if (chain.length >= MAX_CHAIN) throw damage(`its delta chain is longer than ${MAX_CHAIN}`);
      seen.add(key);
      chain.push(current);
      if (current.kind === 'ofs-delta') {
        current = current.pack.entry(current.baseOffset!);
        continue;
      }
      const next = this.findIn(Buffer.from(current.baseOid!, 'hex'));
      if (next) {
        current = next;
        continue;
      }
      base = readLoose(current.baseOid!);
      if (!base) throw damage(`the base ${current.baseOid} of its delta is missing`);
      break;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const delta = await inflateEntry(chain[i]!);
      let content: Buffer;
      try {
        content = applyDelta(base.content, delta, damage);
      } catch (err) {
        throw err instanceof PackDamage ? err : damage('a delta does not apply');
      }
      base = { type: base.type, content };
      // The object asked for too: in a chain it is most likely the base of the next version.
      this.cache.set(`${chain[i]!.pack.name}:${chain[i]!.offset}`, base);
    }
    return base;
  }
}
