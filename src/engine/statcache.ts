import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from './fsutil.js';
import { faultPoint } from './faults.js';
import { MODE_EXEC, MODE_FILE, MODE_LINK, type EntryMode } from './gitformat.js';
import { fileStatOf, sameStat, type FileStat } from './scan.js';

/** What the cache remembers of one file: enough of its stat to know it is unchanged. */
export interface CachedFile {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  mode: EntryMode;
  oid: string;
}

/** A recorded directory: its tree id and how many entries that tree has. */
export interface CachedDir {
  tree: string;
  entries: number;
}

/**
 * On-disk format (little endian), chosen because loading and saving it is on every command's
 * path: JSON of 45k entries cost ~80 ms to parse, this ~10 ms.
 *   "SGSC" u32 version | root tree (20 bytes, zeros for none) | u32 files | u32 dirs
 *   files: u16 path length, path (utf8), f64 mtimeMs, f64 ctimeMs, f64 size, f64 ino, u8 mode, oid (20)
 *   dirs:  u16 path length, path (utf8), u32 entries, tree (20)
 *   SHA-1 of everything before it (20): a damaged cache must never yield a wrong id.
 */
const MAGIC = 'SGSC';
const VERSION = 2;
const MODE_CODES: EntryMode[] = [MODE_FILE, MODE_EXEC, MODE_LINK];
const NO_TREE = '0'.repeat(40);

let lastLoaded: { file: string; stat: FileStat; cache: StatCache } | undefined;

/**
 * The stat cache: path → (stat, blob id) of the tree last recorded or restored, plus each
 * directory's tree id, so an unchanged directory is neither re-encoded nor re-hashed. A file
 * modified in the same timestamp tick as the cache was written is "racy" and is hashed again
 * (git's rule), so a same-size rewrite is never missed.
 */
export class StatCache {
  /** Set by the recorder when this cache equals the one loaded: saving it again is skipped. */
  unchangedSinceLoad = false;

  constructor(
    /** Root tree these entries describe. */
    public tree: string | undefined,
    readonly files: Map<string, CachedFile>,
    readonly dirs: Map<string, CachedDir>,
    private readonly writtenAtMs: number,
  ) {}

  static empty(): StatCache {
    return new StatCache(undefined, new Map(), new Map(), 0);
  }

  /** Ids of every tree the cache describes (the root's and each directory's). */
  get trees(): Set<string> {
    return new Set([...this.dirs.values()].map((d) => d.tree));
  }

  static async load(file: string): Promise<StatCache> {
    try {
      const stat = statSync(file);
      // A rollback loads the same cache two or three times; a loaded cache is never modified
      // (recording builds a new one), so the same file, unchanged, gives the same instance.
      if (lastLoaded && lastLoaded.file === file && sameStat(lastLoaded.stat, stat)) return lastLoaded.cache;
      const cache = decode(readFileSync(file), stat.mtimeMs) ?? StatCache.empty();
      lastLoaded = { file, stat: fileStatOf(stat), cache };
      return cache;
    } catch {
      // A missing or damaged cache only costs a full re-hash.
      return StatCache.empty();
    }
  }

  /** The cache entry (blob id and all) when `stat` shows the file untouched since it was hashed. */
  entryIfUnchanged(relPath: string, stat: FileStat, mode: EntryMode): CachedFile | undefined {
    const entry = this.files.get(relPath);
    if (!entry) return undefined;
    if (entry.mtimeMs !== stat.mtimeMs || entry.ctimeMs !== stat.ctimeMs || entry.size !== stat.size || entry.ino !== stat.ino || entry.mode !== mode) return undefined;
    // Racy: modified in the tick the cache was written, so a later same-size write could share this stat.
    if (entry.mtimeMs >= this.writtenAtMs) return undefined;
    return entry;
  }

  async save(file: string): Promise<void> {
    await faultPoint('statcache');
    if (this.unchangedSinceLoad) return;
    // Not fsynced: losing the cache only costs a re-hash.
    await writeFileAtomic(file, encode(this), { durable: false });
  }
}

function encode(cache: StatCache): Buffer {
  const paths = [...cache.files.keys()].map((p) => Buffer.from(p));
  const dirPaths = [...cache.dirs.keys()].map((p) => Buffer.from(p));
  let size = 4 + 4 + 20 + 4 + 4 + 20;
  for (const p of paths) size += 2 + p.length + 32 + 1 + 20;
  for (const p of dirPaths) size += 2 + p.length + 4 + 20;
  const out = Buffer.alloc(size);
  let at = out.write(MAGIC, 0, 'latin1');
  at = out.writeUInt32LE(VERSION, at);
  at += out.write(cache.tree ?? NO_TREE, at, 'hex');
  at = out.writeUInt32LE(paths.length, at);
  at = out.writeUInt32LE(dirPaths.length, at);
  let i = 0;
  for (const entry of cache.files.values()) {
    const p = paths[i++]!;
    at = out.writeUInt16LE(p.length, at);
    at += p.copy(out, at);
    at = out.writeDoubleLE(entry.mtimeMs, at);
    at = out.writeDoubleLE(entry.ctimeMs, at);
    at = out.writeDoubleLE(entry.size, at);
    at = out.writeDoubleLE(entry.ino, at);
    at = out.writeUInt8(MODE_CODES.indexOf(entry.mode), at);
    at += out.write(entry.oid, at, 'hex');
  }
  i = 0;
  for (const dir of cache.dirs.values()) {
    const p = dirPaths[i++]!;
    at = out.writeUInt16LE(p.length, at);
    at += p.copy(out, at);
    at = out.writeUInt32LE(dir.entries, at);
    at += out.write(dir.tree, at, 'hex');
  }
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

function decode(data: Buffer, writtenAtMs: number): StatCache | undefined {
  if (data.length < 56 || data.toString('latin1', 0, 4) !== MAGIC || data.readUInt32LE(4) !== VERSION) return undefined;
  const body = data.subarray(0, data.length - 20);
  if (!createHash('sha1').update(body).digest().equals(data.subarray(data.length - 20))) return undefined;
  const tree = data.toString('hex', 8, 28);
  const fileCount = data.readUInt32LE(28);
  const dirCount = data.readUInt32LE(32);
  let at = 36;
  const files = new Map<string, CachedFile>();
  for (let i = 0; i < fileCount; i++) {
    const length = data.readUInt16LE(at);
    const p = data.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
    const mode = MODE_CODES[data[at + 32]!];
    if (!mode) return undefined;
    files.set(p, { mtimeMs: data.readDoubleLE(at), ctimeMs: data.readDoubleLE(at + 8), size: data.readDoubleLE(at + 16), ino: data.readDoubleLE(at + 24), mode, oid: data.toString('hex', at + 33, at + 53) });
    at += 53;
  }
  const dirs = new Map<string, CachedDir>();
  for (let i = 0; i < dirCount; i++) {
    const length = data.readUInt16LE(at);
    const p = data.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
    dirs.set(p, { entries: data.readUInt32LE(at), tree: data.toString('hex', at + 4, at + 24) });
    at += 24;
  }
  if (at !== body.length) return undefined;
  return new StatCache(tree === NO_TREE ? undefined : tree, files, dirs, writtenAtMs);
}
