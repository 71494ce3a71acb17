import { promises as fsp, constants as fsc, closeSync, createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { directorySize, writeFileAtomic } from '../fsutil.js';
import { faultPoint } from '../faults.js';
import { sameStat } from '../worktree/stat.js';
import type { ObjectType } from './gitformat.js';
import { inflatedChunks, PackDamage, PackSet, type PackedEntry } from './packread.js';
import { OBJECT_SIZES, STATE_DIR } from './statefiles.js';

export type { ObjectType };

/** Speed over a few percent of size: loose objects are repacked by `gc` anyway (git's default too). */
const DEFLATE_OPTIONS = { level: zlib.constants.Z_BEST_SPEED };
/** Files above this are hashed and deflated as a stream, never whole in memory. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;
/**
 * Chunk size of the streams a large blob goes through (file reads, inflate output, writes): zlib's
 * 16 KiB default made a 2 GiB rollback 131k thread-pool round trips per pass.
 */
const STREAM_CHUNK = 1 << 20;
/** Loose objects whose compressed form is above this are inflated as a stream when written out. */
const STREAM_READ_THRESHOLD = 1024 * 1024;
/** Per fan-out directory byte totals, in the repository's engine state directory. */

export function objectHeader(type: ObjectType, size: number): Buffer {
  return Buffer.from(`${type} ${size}\0`);
}

export function hashObject(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(objectHeader(type, content.length)).update(content).digest('hex');
}

export function looseObjectPath(gitdir: string, oid: string): string {
  return path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/**
 * Deflate expands at most ~1032:1, so a loose object this small on disk cannot hold more than
 * STREAM_THRESHOLD bytes.
 */
const SURELY_SMALL_LOOSE = STREAM_THRESHOLD / 2048;

/**
 * Whether a loose object is inflated as a stream rather than whole: it is large on disk, or its
 * header declares more than STREAM_THRESHOLD bytes (200 MiB of zeros deflates to under 1 MiB).
 * One it cannot look at is read whole, and reading it says what is wrong. Undefined when there
 * is no such loose object (it may be packed).
 */
function streamsWhenRead(file: string): boolean | undefined {
  let size: number | undefined;
  try {
    size = lstatSync(file, { throwIfNoEntry: false })?.size;
  } catch {
    return false;
  }
  if (size === undefined) return undefined;
  if (size <= SURELY_SMALL_LOOSE) return false;
  return size > STREAM_READ_THRESHOLD || (declaredSize(file) ?? 0) > STREAM_THRESHOLD;
}

/**
 * The content size a loose object's header declares, from inflating only its first bytes: a
 * kilobyte, because a dynamic Huffman block spends up to ~300 bytes on its code tables before
 * the first byte of output (64 bytes, as before, missed the header of such objects and a 200 MiB
 * blob was inflated whole).
 */
function declaredSize(file: string): number | undefined {
  try {
    const fd = openSync(file, 'r');
    const head = Buffer.alloc(1024);
    let read: number;
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const start = zlib.inflateSync(head.subarray(0, read), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const nul = start.indexOf(0);
    return nul < 0 ? undefined : parseHeader(start.subarray(0, nul))?.size;
  } catch {
    return undefined;
  }
}

/** A loose object's `<type> <size>` header (the bytes before its first NUL); undefined when malformed. */
function parseHeader(header: Buffer): { type: string; size: number } | undefined {
  const match = /^([a-z]+) (\d+)$/.exec(header.toString('latin1'));
  return match ? { type: match[1]!, size: Number(match[2]) } : undefined;
}

/** Git's own temp-object prefix: a crash leftover is one `git fsck` ignores (and `git prune` removes). */
function tempObjectPath(dir: string): string {
  return path.join(dir, `tmp_obj_${TEMP_PREFIX}_${tempCounter++}`);
}
/** Random once per process, then a counter: random bytes per object showed up in profiles. */
const TEMP_PREFIX = `${process.pid}_${randomBytes(4).toString('hex')}`;
let tempCounter = 0;

/** A blob read from a file as a stream, with the file's stat that matches what was read. */
export interface StreamedBlob {
  oid: string;
  stat: Stats;
  /** False when the file kept changing while read: the content is one read, not one moment. */
  consistent: boolean;
}

/**
 * Object store of one shadow repository. Writes are loose objects made atomic by temp file +
 * rename (a crash leaves a stray temp file, never a truncated object under the real name).
 */
export class ObjectStore {
  private readonly knownDirs = new Set<string>();
  /** Writes in flight, so two identical files hashed at once are deflated once. */
  private readonly pending = new Map<string, Promise<void>>();
  /**
   * Bytes this process added to each fan-out directory since the last recordWrites, with the
   * directory's mtime before the first of them (undefined: it did not exist).
   */
  private readonly added = new Map<string, { mtimeBefore: number | undefined; bytes: number }>();
  /** The repository's packs (shared by every store of the repository in this process). */
  private readonly packs: PackSet;

  constructor(readonly gitdir: string) {
    this.packs = PackSet.of(path.join(gitdir, 'objects', 'pack'));
  }

  /** Whether the object exists, from the loose file or a pack's index: nothing of it is read. */
  async has(oid: string): Promise<boolean> {
    if (existsSync(looseObjectPath(this.gitdir, oid))) return true;
    return this.fromPacks(oid, undefined, () => this.packs.has(oid));
  }

  /**
   * Drops what this store remembers about the repository's directories: another process (or
   * gc in this one) may have removed an empty fan-out directory since. Called whenever the
   * repository lock is taken, the only time objects are written.
   */
  forgetDirectories(): void {
    this.knownDirs.clear();
    this.added.clear();
  }

  private ensureDir(oid: string): string {
    const dir = path.join(this.gitdir, 'objects', oid.slice(0, 2));
    if (!this.knownDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.knownDirs.add(dir);
    }
    return dir;
  }

  /**
   * Writes `content` as an object unless it exists; returns its id. `oid`, when the caller has
   * already hashed the content, saves hashing it twice.
   */
  async write(type: ObjectType, content: Uint8Array, oid = hashObject(type, content)): Promise<string> {
    const inFlight = this.pending.get(oid);
    if (inFlight) {
      await inFlight;
      return oid;
    }
    const target = looseObjectPath(this.gitdir, oid);
    if (existsSync(target)) return oid;
    const writing = (async () => {
      const added = this.adding(oid);
      // Synchronous: an async zlib call costs a stream and a thread-pool round trip, measured
      // at 5-10x the compression itself for the typical few-KB object.
      const deflated = zlib.deflateSync(Buffer.concat([objectHeader(type, content.length), content]), DEFLATE_OPTIONS);
      await writeNewFile(target, deflated);
      added.bytes += deflated.length;
    })();
    this.pending.set(oid, writing);
    try {
      await writing;
    } finally {
      this.pending.delete(oid);
    }
    return oid;
  }

  /** Moves a finished temp object into place under its id (or drops it when the object exists). */
  async adoptTemp(tmp: string, oid: string): Promise<void> {
    const added = this.adding(oid);
    const target = looseObjectPath(this.gitdir, oid);
    if (existsSync(target)) await fsp.rm(tmp, { force: true });
    else {
      const bytes = lstatSync(tmp).size;
      await fsp.rename(tmp, target);
      added.bytes += bytes;
    }
  }

  /** The fan-out directory of `oid`, created if needed, with its tally of bytes added. */
  private adding(oid: string): { mtimeBefore: number | undefined; bytes: number } {
    const dir = oid.slice(0, 2);
    let added = this.added.get(dir);
    if (!added) {
      added = { mtimeBefore: lstatSync(path.join(this.gitdir, 'objects', dir), { throwIfNoEntry: false })?.mtimeMs, bytes: 0 };
      this.added.set(dir, added);
    }
    this.ensureDir(oid);
    return added;
  }

  /**
   * Folds the bytes this process wrote into the size cache, so `status` right after a snapshot
   * need not recount (lstat) every object of the directories it touched. Only a total that was
   * exact before the first write is carried forward. The caller holds the repository lock:
   * objects are only added under it.
   */
  async recordWrites(): Promise<void> {
    if (this.added.size === 0) return;
    const cached = this.readSizeCache();
    for (const [dir, { mtimeBefore, bytes }] of this.added) {
      const now = lstatSync(path.join(this.gitdir, 'objects', dir), { throwIfNoEntry: false })?.mtimeMs;
      const known = cached[dir];
      if (now === undefined) continue;
      if (mtimeBefore === undefined) cached[dir] = [now, bytes];
      else if (known && known[0] === mtimeBefore) cached[dir] = [now, known[1] + bytes];
    }
    this.added.clear();
    await writeFileAtomic(path.join(this.gitdir, STATE_DIR, OBJECT_SIZES), JSON.stringify(cached), { durable: false }).catch(() => undefined);
  }

  private readSizeCache(): Record<string, [number, number]> {
    try {
      return JSON.parse(readFileSync(path.join(this.gitdir, STATE_DIR, OBJECT_SIZES), 'utf8')) as Record<string, [number, number]>;
    } catch {
      // No or damaged cache: count everything.
      return {};
    }
  }

  /**
   * Bytes of every file in the repository, as `directorySize` counts them, without an lstat per
   * loose object each time: a fan-out directory (objects/xx) only gains or loses whole immutable
   * files, each of which changes its mtime, so its total is remembered per mtime. A directory
   * modified in the last two seconds is counted afresh (an entry added in the same tick as the
   * count must not be missed).
   */
  async repositoryBytes(): Promise<number> {
    const cacheFile = path.join(this.gitdir, STATE_DIR, OBJECT_SIZES);
    const cached = this.readSizeCache();
    const objectsDir = path.join(this.gitdir, 'objects');
    const fresh: Record<string, [number, number]> = {};
    let total = 0;
    for (const entry of readdirSync(this.gitdir, { withFileTypes: true })) {
      if (entry.name === 'objects') continue;
      const full = path.join(this.gitdir, entry.name);
      total += entry.isDirectory() ? await directorySize(full) : lstatSync(full, { throwIfNoEntry: false })?.size ?? 0;
    }
    for (const entry of readdirSync(objectsDir, { withFileTypes: true })) {
      const full = path.join(objectsDir, entry.name);
      if (!entry.isDirectory() || !/^[0-9a-f]{2}$/.test(entry.name)) {
        total += entry.isDirectory() ? await directorySize(full) : lstatSync(full, { throwIfNoEntry: false })?.size ?? 0;
        continue;
      }
      const mtimeMs = lstatSync(full).mtimeMs;
      const known = cached[entry.name];
      if (known && known[0] === mtimeMs) {
        // Counted before, or carried forward by the writer (recordWrites): still exact.
        fresh[entry.name] = known;
        total += known[1];
        continue;
      }
      let bytes = 0;
      for (const name of readdirSync(full)) bytes += lstatSync(path.join(full, name), { throwIfNoEntry: false })?.size ?? 0;
      if (mtimeMs < Date.now() - 2000) fresh[entry.name] = [mtimeMs, bytes];
      total += bytes;
    }
    if (JSON.stringify(fresh) !== JSON.stringify(cached)) {
      // Not durable and not locked: a lost or raced write only costs a recount.
      await writeFileAtomic(cacheFile, JSON.stringify(fresh), { durable: false }).catch(() => undefined);
    }
    return total;
  }

  /** Reads and verifies an object; a missing or damaged one throws CorruptObjectError. */
  async read(oid: string, where?: string): Promise<{ type: ObjectType; content: Buffer }> {
    // Packed objects are looked up first (in memory): a failed open of the loose path per
    // packed object showed in the profile of a packed repository.
    const loose = this.packs.listedHas(oid) ? undefined : this.readLoose(oid, where);
    if (loose) return loose;
    const packed = await this.fromPacks(oid, where, () => this.packs.read(oid, (base) => this.deltaBase(base)));
    if (!packed) throw new CorruptObjectError(oid, where, 'missing');
    if (hashObject(packed.type, packed.content) !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
    return packed;
  }

  /** A loose object, read and verified; undefined when there is none. */
  private readLoose(oid: string, where?: string): { type: ObjectType; content: Buffer } | undefined {
    let raw: Buffer | undefined;
    try {
      // Synchronous: a rollback reads every tree of its target (6,000 on a large tree), and
      // fs.promises.readFile's open/fstat/read/close round trips dominated its profile.
      raw = readFileSync(looseObjectPath(this.gitdir, oid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (raw) {
      let inflated: Buffer;
      try {
        inflated = zlib.inflateSync(raw);
      } catch {
        throw new CorruptObjectError(oid, where, 'damaged (it does not inflate)');
      }
      const nul = inflated.indexOf(0);
      const header = nul < 0 ? undefined : parseHeader(inflated.subarray(0, nul));
      const content = inflated.subarray(nul + 1);
      const type = header?.type;
      if (!header || header.size !== content.length || !isObjectType(type)) throw new CorruptObjectError(oid, where, 'damaged (bad header)');
      if (hashObject(type, content) !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
      return { type, content };
    }
    return undefined;
  }

  /** A REF_DELTA base outside every pack: a loose object (never itself a delta). */
  private deltaBase(oid: string): { type: ObjectType; content: Buffer } | undefined {
    try {
      return this.readLoose(oid);
    } catch (err) {
      if (err instanceof CorruptObjectError) throw new PackDamage(`the base ${oid} of its delta is ${err.detail}`);
      throw err;
    }
  }

  /** Runs a read of the packs (synchronous or not), naming `oid` in the error when they are damaged. */
  private fromPacks<T>(oid: string, where: string | undefined, read: () => T): T {
    const named = (err: unknown) => (err instanceof PackDamage ? new CorruptObjectError(oid, where, `damaged (${err.message})`) : err);
    try {
      const result = read();
      // A thenable, not `instanceof Promise`: stream/promises may hand back another realm's Promise.
      const pending = result as { catch?: unknown } | undefined;
      if (typeof pending?.catch !== 'function') return result;
      return (result as Promise<unknown>).catch((err: unknown) => {
        throw named(err);
      }) as T;
    } catch (err) {
      throw named(err);
    }
  }

  async readTyped(oid: string, type: ObjectType, where?: string): Promise<Buffer> {
    const object = await this.read(oid, where);
    if (object.type !== type) throw new CorruptObjectError(oid, where, `a ${object.type}, not a ${type}`);
    return object.content;
  }

  /**
   * Writes blob `oid`'s content to `handle`, verifying type and id. A large blob (loose, or
   * packed undeltified) is inflated as a stream (a 2 GB file never sits in memory); damage is
   * reported after some bytes may have been written, so callers write to a temp file and rename
   * only on success.
   */
  async writeBlobTo(oid: string, handle: fsp.FileHandle, where?: string): Promise<void> {
    if (!(await this.streamLargeBlob(oid, where, () => handleSink(handle)))) await handle.writeFile(await this.readTyped(oid, 'blob', where));
  }

  /**
   * Proves blob `oid` is intact without holding it in memory when it is large. Returns the
   * content when it was read whole, undefined when it was streamed.
   */
  async verifyBlob(oid: string, where?: string): Promise<Buffer | undefined> {
    if (await this.streamLargeBlob(oid, where, discard)) return undefined;
    return this.readTyped(oid, 'blob', where);
  }

  /**
   * Where large blob `oid` streams from: its loose file, or its undeltified pack entry (a
   * delta is built whole, and git deltifies nothing over core.bigFileThreshold). Undefined when
   * it is read whole.
   */
  private largeBlobSource(oid: string, where: string | undefined): { loose: string } | { entry: PackedEntry } | undefined {
    const loose = looseObjectPath(this.gitdir, oid);
    const streams = streamsWhenRead(loose);
    if (streams) return { loose };
    if (streams === false) return undefined;
    const entry = this.fromPacks(oid, where, () => this.packs.locate(oid));
    return entry?.kind === 'blob' && entry.size > STREAM_THRESHOLD ? { entry } : undefined;
  }

  /** Streams large blob `oid` into `sink()`, verified; false (nothing done) when it is read whole. */
  private async streamLargeBlob(oid: string, where: string | undefined, sink: () => Writable): Promise<boolean> {
    const source = this.largeBlobSource(oid, where);
    if (!source) return false;
    if ('loose' in source) await this.streamLooseBlob(oid, source.loose, where, sink());
    else await this.streamPackedBlob(oid, source.entry, where, sink());
    return true;
  }

  private async streamPackedBlob(oid: string, entry: PackedEntry, where: string | undefined, sink: Writable): Promise<void> {
    const hash = createHash('sha1').update(objectHeader('blob', entry.size));
    await this.fromPacks(oid, where, () =>
      pipeline(async function* () {
        for await (const chunk of inflatedChunks(entry)) {
          hash.update(chunk);
          yield chunk;
        }
      }, sink),
    );
    if (hash.digest('hex') !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
  }

  private async streamLooseBlob(oid: string, loose: string, where: string | undefined, sink: Writable): Promise<void> {
    const hash = createHash('sha1');
    let header: Buffer | undefined = Buffer.alloc(0);
    let declared = 0;
    let seen = 0;
    const parse = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        if (header) {
          header = Buffer.concat([header, chunk]);
          const nul = header.indexOf(0);
          if (nul < 0) return header.length > 64 ? done(new CorruptObjectError(oid, where, 'damaged (bad header)')) : done();
          const parsed = parseHeader(header.subarray(0, nul));
          if (parsed?.type !== 'blob') return done(new CorruptObjectError(oid, where, 'damaged (bad header, or not a blob)'));
          declared = parsed.size;
          chunk = header.subarray(nul + 1);
          header = undefined;
        }
        seen += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(loose, { highWaterMark: STREAM_CHUNK }), zlib.createInflate({ chunkSize: STREAM_CHUNK }), parse, sink);
    } catch (err) {
      if (err instanceof CorruptObjectError) throw err;
      throw new CorruptObjectError(oid, where, 'damaged (it does not inflate)');
    }
    if (header || seen !== declared) throw new CorruptObjectError(oid, where, 'damaged (bad header)');
    if (hash.digest('hex') !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
  }

  /**
   * The size of blob `oid` when it is a large blob that `streamBlobTo` streams (loose, or packed
   * undeltified), else undefined (read it whole). Lets a pack writer put the size in an entry's
   * header before the content.
   */
  largeBlobSize(oid: string): number | undefined {
    const source = this.largeBlobSource(oid, undefined);
    if (!source) return undefined;
    return 'loose' in source ? declaredSize(source.loose) : source.entry.size;
  }

  /** Streams blob `oid`'s content into `sink` (ending it), verified against its id at the end. */
  async streamBlobTo(oid: string, sink: Writable, where?: string): Promise<void> {
    if (!(await this.streamLargeBlob(oid, where, () => sink))) await pipeline(Readable.from([await this.readTyped(oid, 'blob', where)]), sink);
  }

  /**
   * Writes an object of `size` bytes arriving as a stream (a fetched pack's large blob): hashed
   * and deflated as it comes, never whole in memory. Returns its id; throws when the stream
   * does not hold exactly `size` bytes.
   */
  async writeStream(type: ObjectType, size: number, source: AsyncIterable<Buffer>): Promise<string> {
    const tmp = tempObjectPath(path.join(this.gitdir, 'objects'));
    try {
      const hash = createHash('sha1').update(objectHeader(type, size));
      let seen = 0;
      const counted = async function* () {
        for await (const chunk of source) {
          seen += chunk.length;
          hash.update(chunk);
          yield chunk;
        }
      };
      const deflate = zlib.createDeflate({ ...DEFLATE_OPTIONS, chunkSize: STREAM_CHUNK });
      deflate.write(objectHeader(type, size));
      await pipeline(counted, deflate, createWriteStream(tmp, { flags: 'wx', mode: 0o444 }));
      if (seen !== size) throw new ShadowGitError(`an incoming object held ${seen} bytes where ${size} were announced; nothing was stored for it.`, 'ECORRUPT');
      const oid = hash.digest('hex');
      await this.adoptTemp(tmp, oid);
      return oid;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }
}

/**
 * Streams a large file into a blob of `store` (or only hashes it, without a store): hash and
 * deflate while reading, so memory stays flat. The file is read through one descriptor whose
 * stat before and after must agree; a file that keeps changing is read up to three times and
 * then recorded as read, marked inconsistent so that nothing trusts its stat later.
 */
export async function streamBlob(file: string, store?: ObjectStore): Promise<StreamedBlob> {
  for (let attempt = 1; ; attempt++) {
    const handle = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    const tmp = store ? tempObjectPath(path.join(store.gitdir, 'objects')) : undefined;
    try {
      const before = await handle.stat();
      const hash = createHash('sha1').update(objectHeader('blob', before.size));
      let seen = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      const source = handle.createReadStream({ start: 0, end: Math.max(0, before.size - 1), autoClose: false, highWaterMark: STREAM_CHUNK });
      if (tmp) {
        const gzip = zlib.createDeflate({ ...DEFLATE_OPTIONS, chunkSize: STREAM_CHUNK });
        gzip.write(objectHeader('blob', before.size));
        // A path-based stream closes itself; a FileHandle's stream without autoClose keeps the
        // handle referenced and its close() never settles.
        await pipeline(source, tap, gzip, createWriteStream(tmp, { flags: 'wx', mode: 0o444 }));
      } else {
        await pipeline(source, tap, discard());
      }
      const after = await handle.stat();
      const consistent = sameStat(before, after) && seen === before.size;
      if (!consistent && attempt < 3) continue;
      // A file that shrank while read would give a blob whose header lies: never store that.
      if (seen !== before.size) throw new Error(`${file} kept changing size while it was read`);
      const oid = hash.digest('hex');
      if (tmp) await store!.adoptTemp(tmp, oid);
      return { oid, stat: after, consistent };
    } finally {
      await handle.close();
      if (tmp) await fsp.rm(tmp, { force: true });
    }
  }
}

function isObjectType(type: string | undefined): type is ObjectType {
  return type === 'blob' || type === 'tree' || type === 'commit' || type === 'tag';
}

/** Writes to a caller's open handle (a FileHandle's own stream would keep it from closing). */
function handleSink(handle: fsp.FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      (async () => {
        for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at, chunk.length - at)).bytesWritten;
      })().then(() => done(), done);
    },
  });
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}

/**
 * Temp file + rename: the object's real name only ever holds a whole object. Synchronous: a
 * first snapshot writes one object per file, and the promise machinery of four async calls
 * cost the main thread several times the system calls themselves.
 */
async function writeNewFile(target: string, data: Uint8Array): Promise<void> {
  const tmp = tempObjectPath(path.dirname(target));
  writeFileSync(tmp, data, { mode: 0o444, flag: 'wx' });
  await faultPoint('object');
  renameSync(tmp, target);
}
