import { constants as fsc, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../fsutil.js';
import { faultPoint } from '../faults.js';
import { MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, type EntryMode, type TreeEntry } from '../store/gitformat.js';
import { fileStatOf, sameStat, type DirStat, type FileStat } from './stat.js';
import { statAhead, type StatJob } from './statall.js';
import {
  CACHE_MAGIC,
  CACHE_VERSION,
  CHECKSUM_BYTES,
  DIR_CTIME_AT,
  DIR_ENTRIES_AT,
  DIR_FILES_AT,
  DIR_FLAGS_AT,
  DIR_HAS_STAT,
  DIR_HAS_TREE,
  DIR_IGNORE_FILES_MASK,
  DIR_INO_AT,
  DIR_MTIME_AT,
  DIR_PARENT_AT,
  DIR_RECORD_BYTES,
  DIR_TREE_AT,
  FILE_CTIME_AT,
  FILE_INO_AT,
  FILE_MODE_AT,
  FILE_MTIME_AT,
  FILE_OID_AT,
  FILE_RECORD_BYTES,
  FILE_SIZE_AT,
  HEADER_COUNTS_BYTES,
  HEADER_STRINGS_AT,
  HEADER_TREE_AT,
  HEADER_VERSION_AT,
  MIN_CACHE_BYTES,
  NO_PARENT,
  OID_BYTES,
  RULE_RECORD_BYTES,
  STAT_CTIME,
  STAT_FIELDS,
  STAT_INO,
  STAT_MODE,
  STAT_MTIME,
  STAT_SIZE,
  STR_LENGTH_BYTES,
} from './statcache-layout.js';

// Numbers are read and written through DataView: its accessors are engine built-ins, several
// times faster than Buffer's readDoubleLE & co. in code that runs once per process (not yet
// optimised), which is how a CLI command runs these loops.
const viewOf = (bytes: Buffer) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const u16 = (bytes: Buffer, at: number) => bytes[at]! | (bytes[at + 1]! << 8);

/** The stat mode bits an entry mode stands for: file type, and the owner's exec bit for files. */
export const TYPE_OF_MODE: Partial<Record<EntryMode, number>> = { [MODE_FILE]: fsc.S_IFREG, [MODE_EXEC]: fsc.S_IFREG | 0o100, [MODE_LINK]: fsc.S_IFLNK };
/** Those bits of a stat's mode (a negative one, for a path that is gone, has none of them). */
const modeBits = (mode: number) => (mode < 0 ? -1 : (mode & fsc.S_IFMT) === fsc.S_IFREG ? mode & (fsc.S_IFMT | 0o100) : mode & fsc.S_IFMT);

/** A file's stat, as statAll gives it at `stats[at]`, is the recorded one, of the same kind, and was not taken in the racy tick. */
function statMatches(stats: Float64Array, at: number, mtimeMs: number, ctimeMs: number, size: number, ino: number, typeBits: number, racyFromMs: number): boolean {
  return stats[at + STAT_MTIME] === mtimeMs && stats[at + STAT_CTIME] === ctimeMs && stats[at + STAT_SIZE] === size && stats[at + STAT_INO] === ino && modeBits(stats[at + STAT_MODE]!) === typeBits && mtimeMs < racyFromMs;
}

/** What the cache remembers of one file: enough of its stat to know it is unchanged. */
export interface CachedFile {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  mode: EntryMode;
  oid: string;
}

/**
 * A file entry read from the cache file. Its id stays in the file's bytes until asked for: most
 * entries of a large cache are only compared by stat, and 45k hex strings cost more to create
 * (and collect) than the rest of the entry.
 */
class DecodedFile implements CachedFile {
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly size: number;
  readonly ino: number;

  constructor(
    private readonly data: Buffer,
    view: DataView,
    private readonly at: number,
    readonly mode: EntryMode,
  ) {
    this.mtimeMs = view.getFloat64(at + FILE_MTIME_AT, true);
    this.ctimeMs = view.getFloat64(at + FILE_CTIME_AT, true);
    this.size = view.getFloat64(at + FILE_SIZE_AT, true);
    this.ino = view.getFloat64(at + FILE_INO_AT, true);
  }

  get oid(): string {
    return this.data.toString('hex', this.at + FILE_OID_AT, this.at + FILE_OID_AT + OID_BYTES);
  }
}

/** A directory the scan entered. */
export interface CachedDir {
  /** Its tree id; undefined when it recorded nothing (`entries` 0) or the id was not written. */
  tree: string | undefined;
  /** Entries of that tree. */
  entries: number;
  /**
   * Stat taken just before its listing was read. While the directory's stat still equals it,
   * `files` and `subdirs` are its listing (after ignore rules) and it need not be read again.
   * Undefined when something in it was not recorded (unreadable, skipped): it is always re-read.
   */
  stat: DirStat | undefined;
  /** Which of IGNORE_FILES it holds, bit i for IGNORE_FILES[i]. */
  ignoreFiles: number;
  /** Paths of the files recorded directly inside it. */
  files: string[];
  /** Their cache entries. */
  fileSet: DirFiles;
  /** Paths of the subdirectories entered. */
  subdirs: string[];
}

/**
 * A directory decoded from a cache file, which knows where its record is there. A cache's
 * directories are never modified (a changed one is a new object, spread or written out, and
 * private fields are not copied), so while this object is in a cache and its parent is at the
 * index the record names, saving copies the record instead of encoding it. (Private fields, not
 * a WeakMap keyed by the object: 6,000 ephemeron entries cost ~4 ms a load.)
 */
class DecodedDir implements CachedDir {
  fileSet = DirFiles.EMPTY;
  subdirs: string[] = [];
  #files: string[] | undefined;
  /** Its files' paths in the cache file's path table, [from, to) of `table`, NUL between them. */
  #table = '';
  #from = 0;
  #to = 0;
  #fileCount = 0;
  readonly #data: Buffer;
  readonly #start: number;
  readonly #end: number;
  readonly #parent: number;

  constructor(
    public stat: DirStat | undefined,
    public entries: number,
    public tree: string | undefined,
    public ignoreFiles: number,
    data: Buffer,
    start: number,
    end: number,
    parent: number,
  ) {
    this.#data = data;
    this.#start = start;
    this.#end = end;
    this.#parent = parent;
  }

  /**
   * The paths of its files, split out of the path table when first asked for: a scan that
   * finds the directory unchanged never asks, and 300k paths cost more to make and collect
   * than the rest of the cache (status on the 300k-file tree).
   */
  get files(): string[] {
    return (this.#files ??= this.#fileCount === 0 ? [] : this.#table.slice(this.#from, this.#to).split('\0'));
  }

  /** Where its `count` files' paths are in the path table `table` (see `files`). */
  listFiles(table: string, from: number, to: number, count: number): void {
    this.#table = table;
    this.#from = from;
    this.#to = to;
    this.#fileCount = count;
  }

  /** How many files it records, without making their paths. */
  static fileCount(dir: CachedDir): number {
    return dir instanceof DecodedDir ? dir.#fileCount : dir.files.length;
  }

  /** Its record, when `dir` is a decoded directory whose parent is still at index `parent`. */
  static recordOf(dir: CachedDir, parent: number): { data: Buffer; start: number; end: number } | undefined {
    return dir instanceof DecodedDir && dir.#parent === parent ? { data: dir.#data, start: dir.#start, end: dir.#end } : undefined;
  }
}

/** Where a cache file's path table is, and the files each of its directories lists (in the file's order). */
const pathTables = new WeakMap<Buffer, { start: number; end: number; dirs: readonly CachedDir[] }>();

/** How many files `dir` records (for a directory read from a cache file, without making their paths). */
export const fileCountOf = (dir: CachedDir): number => DecodedDir.fileCount(dir);

/**
 * The cache entries of one directory's files, in listing order. Immutable once made, so a
 * directory carried into the next cache shares them. Read from a cache file, the entries stay
 * in the file's bytes until one is asked for: a scan that finds the directory unchanged
 * compares stats straight from the bytes, and most directories are never decoded at all.
 */
export class DirFiles {
  private map: Map<string, CachedFile> | undefined;
  /** Shared with the directory's `files`; neither is modified once the two are paired. */
  private pathList: readonly string[] | undefined;
  static readonly EMPTY = DirFiles.of([], new Map());

  private constructor(
    paths: readonly string[] | undefined,
    map: Map<string, CachedFile> | undefined,
    /** The paths, when not given: asked for only when an entry is (see DecodedDir.files). */
    private readonly pathsOf?: () => readonly string[],
    /** How many there are, when not given. */
    private readonly count = 0,
    /** The cache file the entries are in (one record per path from `start` on), if they are. */
    private readonly data?: Buffer,
    private readonly view?: DataView,
    private readonly start = 0,
  ) {
    this.pathList = paths;
    this.map = map;
  }

  /** `paths` in listing order, each with its entry in `map`. */
  static of(paths: readonly string[], map: Map<string, CachedFile>): DirFiles {
    return new DirFiles(paths, map);
  }

  /** The records of `count` paths (given by `paths` when asked) in a cache file (`view` over the same bytes), one per path from `start` on (see docs/statcache.md). */
  static decoded(paths: () => readonly string[], count: number, data: Buffer, view: DataView, start: number): DirFiles {
    return new DirFiles(undefined, undefined, paths, count, data, view, start);
  }

  private get paths(): readonly string[] {
    return (this.pathList ??= this.pathsOf!());
  }

  /** Hands the span of the entries' records to `copy` when they are a cache file's bytes; false when they must be encoded. */
  copyRecords(copy: (data: Buffer, start: number, end: number) => void): boolean {
    if (!this.data) return false;
    copy(this.data, this.start, this.start + this.size * FILE_RECORD_BYTES);
    return true;
  }

  get size(): number {
    return this.pathList ? this.pathList.length : this.count;
  }

  get(path: string): CachedFile | undefined {
    return this.entries().get(path);
  }

  /** Path → entry, in listing order. */
  entries(): ReadonlyMap<string, CachedFile> {
    if (!this.map) {
      const map = new Map<string, CachedFile>();
      const data = this.data!;
      let at = this.start;
      for (const p of this.paths) {
        map.set(p, new DecodedFile(data, this.view!, at, MODE_CODES[data[at + FILE_MODE_AT]!]!));
        at += FILE_RECORD_BYTES;
      }
      this.map = map;
    }
    return this.map;
  }

  /**
   * True when `stats` (STAT_FIELDS numbers per file from index `at`, in listing order, as
   * statAll gives them) shows every file exactly as recorded: same stat, kind and exec bit, and
   * not modified at or after `racyFromMs`. Decoded records are compared straight from the
   * file's bytes in one loop: this runs for every file of the tree on every full scan.
   */
  matchesStats(stats: Float64Array, at: number, racyFromMs: number): boolean {
    if (this.map || !this.data) {
      const map = this.entries();
      for (const p of this.paths) {
        const entry = map.get(p)!;
        if (!statMatches(stats, at, entry.mtimeMs, entry.ctimeMs, entry.size, entry.ino, TYPE_OF_MODE[entry.mode]!, racyFromMs)) return false;
        at += STAT_FIELDS;
      }
      return true;
    }
    const data = this.data;
    const view = this.view!;
    for (let r = this.start, end = this.start + this.size * FILE_RECORD_BYTES; r < end; r += FILE_RECORD_BYTES, at += STAT_FIELDS) {
      if (!statMatches(stats, at, view.getFloat64(r + FILE_MTIME_AT, true), view.getFloat64(r + FILE_CTIME_AT, true), view.getFloat64(r + FILE_SIZE_AT, true), view.getFloat64(r + FILE_INO_AT, true), TYPE_OF_CODE[data[r + FILE_MODE_AT]!]!, racyFromMs)) return false;
    }
    return true;
  }
}

/** Every file of a cache, path → entry, looked up through its directory (a file's directory is the one listing it). */
export class FileTable implements ReadonlyMap<string, CachedFile> {
  private count: number | undefined;

  constructor(private readonly dirs: ReadonlyMap<string, CachedDir>) {}

  get size(): number {
    if (this.count === undefined) {
      let n = 0;
      for (const dir of this.dirs.values()) n += dir.fileSet.size;
      this.count = n;
    }
    return this.count;
  }

  get(path: string): CachedFile | undefined {
    return this.dirs.get(parentOf(path))?.fileSet.get(path);
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  *entries(): MapIterator<[string, CachedFile]> {
    for (const dir of this.dirs.values()) yield* dir.fileSet.entries();
  }

  *keys(): MapIterator<string> {
    for (const [p] of this.entries()) yield p;
  }

  *values(): MapIterator<CachedFile> {
    for (const [, entry] of this.entries()) yield entry;
  }

  [Symbol.iterator](): MapIterator<[string, CachedFile]> {
    return this.entries();
  }

  forEach(callback: (value: CachedFile, key: string, map: ReadonlyMap<string, CachedFile>) => void): void {
    for (const [p, entry] of this.entries()) callback(entry, p, this);
  }
}

/** What makes a cached listing valid besides the directory's stat: the rules that filtered it. */
export interface RuleState {
  /** Default and configured excludes, as one string. */
  excludes: string;
  /** Every ignore file that was read, with its stat. */
  files: Map<string, FileStat>;
}

// On-disk format: binary, because loading and saving it is on every command's path (JSON of 45k
// entries cost ~80 ms to parse, this ~10 ms). docs/statcache.md describes it; statcache-layout.ts
// declares its offsets.
const MODE_CODES: EntryMode[] = [MODE_FILE, MODE_EXEC, MODE_LINK];
const TYPE_OF_CODE = MODE_CODES.map((mode) => TYPE_OF_MODE[mode]!);
const NO_TREE = '0'.repeat(40);

let lastKnown: { file: string; stat: FileStat; cache: StatCache } | undefined;

/** The directory a path is in ('' for the root). */
export const parentOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/')));

/**
 * The stat cache (git's index and untracked cache in one): path → (stat, blob id) of the tree
 * last recorded or restored, each entered directory's stat, listing and tree id, and the ignore
 * files that shaped those listings. An unchanged file is not read, an unchanged directory is
 * neither listed nor re-encoded. An entry modified in the same timestamp tick as the cache was
 * written is "racy" and is looked at again (git's rule), so a same-size rewrite is never missed.
 */
export class StatCache {
  /** Set by the recorder when this cache equals the one loaded: saving it again is skipped. */
  unchangedSinceLoad = false;
  /** lstat of this cache's entries, started while it was decoded (taken once). */
  private statJob: { job: StatJob; worktree: string } | undefined;
  /** Every file's entry, by path. */
  readonly files: FileTable;

  constructor(
    /** Root tree these entries describe. */
    public tree: string | undefined,
    readonly dirs: Map<string, CachedDir>,
    readonly rules: RuleState,
    /** The watcher's token from before the scan that made this cache (see worktree/watchclient.ts). */
    public watchToken: string | undefined,
    private writtenAtMs: number,
  ) {
    this.files = new FileTable(dirs);
  }

  static empty(): StatCache {
    return new StatCache(undefined, new Map(), { excludes: '', files: new Map() }, undefined, 0);
  }

  /** Ids of every tree the cache names. */
  get trees(): Set<string> {
    const trees = new Set<string>();
    for (const dir of this.dirs.values()) if (dir.tree) trees.add(dir.tree);
    return trees;
  }

  /**
   * `statAheadIn`: a scan of this working tree that looks at every entry follows, so the lstat
   * of the entries starts in a helper thread while the cache is decoded (see statEverything).
   */
  static async load(file: string, options: { statAheadIn?: string } = {}): Promise<StatCache> {
    try {
      const stat = statSync(file);
      // A rollback loads the same cache two or three times, a resident watcher once per
      // snapshot; a cache is never modified once loaded or saved (recording builds a new one),
      // so the same file, unchanged, gives the same instance.
      if (lastKnown && lastKnown.file === file && sameStat(lastKnown.stat, stat)) return lastKnown.cache;
      const bytes = readFileSync(file);
      if (!intact(bytes)) return StatCache.empty();
      const ahead = options.statAheadIn ? statAhead(bytes, options.statAheadIn) : undefined;
      const cache = decode(bytes, stat.mtimeMs) ?? StatCache.empty();
      cache.statJob = ahead && { job: ahead, worktree: options.statAheadIn! };
      lastKnown = { file, stat: fileStatOf(stat), cache };
      return cache;
    } catch {
      // A missing or damaged cache only costs a full re-hash.
      return StatCache.empty();
    }
  }

  /** The lstat work started for `worktree` while this cache was loaded, if any (once). */
  takeStatJob(worktree: string): StatJob | undefined {
    const started = this.statJob;
    this.statJob = undefined;
    return started?.worktree === worktree ? started.job : undefined;
  }

  /** Every file of `dir` is as `stats` (from index `at`) shows it, and none is racy: see DirFiles.matchesStats. */
  filesMatch(dir: CachedDir, stats: Float64Array, at: number): boolean {
    return dir.fileSet.matchesStats(stats, at, this.writtenAtMs);
  }

  /**
   * The entries of the tree `tree` at `dirPath`, when this cache records that directory with
   * that id (a directory's tree id is only ever set from the entries it lists): the tree need
   * not be read from the repository. Undefined when the cache cannot say.
   */
  treeEntries(dirPath: string, tree: string): TreeEntry[] | undefined {
    const dir = this.dirs.get(dirPath);
    if (dir?.tree !== tree) return undefined;
    const nameAt = dirPath === '' ? 0 : dirPath.length + 1;
    const entries: TreeEntry[] = [];
    for (const [p, entry] of dir.fileSet.entries()) entries.push({ name: p.slice(nameAt), mode: entry.mode, oid: entry.oid });
    for (const sub of dir.subdirs) {
      const subdir = this.dirs.get(sub);
      if (subdir?.tree) entries.push({ name: sub.slice(nameAt), mode: MODE_TREE, oid: subdir.tree });
      // A subdirectory that records nothing is not in the tree; one whose id is unknown leaves the tree to be read.
      else if (subdir?.entries !== 0) return undefined;
    }
    return entries.length === dir.entries ? entries : undefined;
  }

  /** Modified in the tick the cache was written: a later change could leave the same stat. */
  isRacy(mtimeMs: number): boolean {
    return mtimeMs >= this.writtenAtMs;
  }

  /** The cache entry (blob id and all) when `stat` shows the file untouched since it was hashed. */
  entryIfUnchanged(relPath: string, stat: FileStat, mode: EntryMode): CachedFile | undefined {
    const entry = this.files.get(relPath);
    if (!entry) return undefined;
    if (entry.mtimeMs !== stat.mtimeMs || entry.ctimeMs !== stat.ctimeMs || entry.size !== stat.size || entry.ino !== stat.ino || entry.mode !== mode) return undefined;
    if (this.isRacy(entry.mtimeMs)) return undefined;
    return entry;
  }

  /**
   * This cache after a checkout wrote `written` (path → its entry now) and removed `removed`:
   * every directory above a changed path loses its stat and tree id, so the next scan lists and
   * encodes it again; files written into directories the cache does not know are left to it too.
   * `tree` is the root tree the working tree now has, when the checkout covered all of it.
   */
  afterCheckout(written: Map<string, CachedFile>, removed: string[], tree: string | undefined): StatCache {
    const dirs = new Map(this.dirs);
    const gone = new Set(removed);
    const touched = new Set<string>();
    const touch = (relPath: string) => {
      for (let dir = parentOf(relPath); !touched.has(dir); dir = parentOf(dir)) {
        touched.add(dir);
        const before = dirs.get(dir);
        if (before) dirs.set(dir, { ...before, stat: undefined, tree: undefined, files: before.files.filter((f) => !gone.has(f)) });
        if (dir === '') break;
      }
    };
    /** The entries of directories that lost or gained files, copied on first change. */
    const changedSets = new Map<string, Map<string, CachedFile>>();
    const entriesOf = (dirPath: string) => {
      let entries = changedSets.get(dirPath);
      if (!entries) changedSets.set(dirPath, (entries = new Map(dirs.get(dirPath)!.fileSet.entries())));
      return entries;
    };
    for (const p of removed) {
      touch(p);
      if (dirs.has(parentOf(p))) entriesOf(parentOf(p)).delete(p);
    }
    let complete = true;
    for (const [p, entry] of written) {
      touch(p);
      const dir = dirs.get(parentOf(p));
      if (!dir) {
        complete = false;
        continue;
      }
      const entries = entriesOf(parentOf(p));
      if (!entries.has(p)) dir.files.push(p);
      entries.set(p, entry);
    }
    for (const [dirPath, entries] of changedSets) {
      const dir = dirs.get(dirPath)!;
      dir.fileSet = DirFiles.of(dir.files, entries);
    }
    // The files then describe `tree` only if every written one is among them.
    return new StatCache(complete ? tree : undefined, dirs, this.rules, this.watchToken, 0);
  }

  async save(file: string): Promise<void> {
    await faultPoint('statcache');
    if (this.unchangedSinceLoad) return;
    // Not fsynced: losing the cache only costs a re-hash.
    await writeFileAtomic(file, encode(this), { durable: false });
    // What loading the file back would give, without decoding it: a resident process (the
    // watcher taking snapshots) then starts each snapshot from memory. The file's own mtime
    // is the racy-entry boundary, as for a decoded cache.
    const stat = statSync(file);
    this.writtenAtMs = stat.mtimeMs;
    lastKnown = { file, stat: fileStatOf(stat), cache: this };
  }
}

/** Directories in an order where each parent comes before its children (the root first), with the index of each one's parent. */
function parentsFirst(dirs: Map<string, CachedDir>): { order: string[]; parents: number[] } {
  const order: string[] = [];
  const parents: number[] = [];
  const visit = (p: string, parent: number) => {
    const dir = dirs.get(p);
    if (!dir) return;
    const index = order.length;
    order.push(p);
    parents.push(parent);
    for (const sub of dir.subdirs) visit(sub, index);
  };
  visit('', NO_PARENT);
  return { order, parents };
}

function encode(cache: StatCache): Buffer {
  const { order: dirOrder, parents } = parentsFirst(cache.dirs);
  const token = cache.watchToken ?? '';
  const strSize = (text: string) => STR_LENGTH_BYTES + Buffer.byteLength(text);
  // A directory decoded from a file whose parent is still at the same index has the same
  // record: it is copied (after a one-file change, all but the few along its path).
  const reused = dirOrder.map((p, i) => DecodedDir.recordOf(cache.dirs.get(p)!, parents[i]!));
  // Unless files came or went, the path table is the one of the file the directories came from.
  const sameTable = unchangedPathTable(cache, dirOrder, reused.find(Boolean)?.data);
  // Joined per directory (a third faster than one 45k-element array) and written one after
  // the other: joined whole too, the table (15 MB on 300k files) was in memory twice more.
  const dirTables = sameTable ? [] : dirOrder.flatMap((p) => (cache.dirs.get(p)!.files.length > 0 ? [cache.dirs.get(p)!.files.join('\0')] : []));
  const pathTableBytes = sameTable ? sameTable.end - sameTable.start : dirTables.reduce((sum, table) => sum + Buffer.byteLength(table), Math.max(0, dirTables.length - 1));
  let size = HEADER_STRINGS_AT + strSize(cache.rules.excludes) + strSize(token) + HEADER_COUNTS_BYTES + 4 + pathTableBytes + CHECKSUM_BYTES;
  let fileCount = 0;
  dirOrder.forEach((p, i) => {
    const at = reused[i];
    size += at ? at.end - at.start : strSize(p) + DIR_RECORD_BYTES;
    fileCount += fileCountOf(cache.dirs.get(p)!);
  });
  size += fileCount * FILE_RECORD_BYTES;
  for (const p of cache.rules.files.keys()) size += strSize(p) + RULE_RECORD_BYTES;

  // Not zero-filled (4–5 MB on every changed snapshot): every byte is written below, which the
  // length check before the checksum proves.
  const out = Buffer.allocUnsafe(size);
  const view = viewOf(out);
  let at = out.write(CACHE_MAGIC, 0, 'latin1');
  // Written in place (no Buffer per path): saving 45k entries is on every changed snapshot's path.
  const str = (text: string) => {
    const length = out.write(text, at + STR_LENGTH_BYTES);
    view.setUint16(at, length, true);
    at += STR_LENGTH_BYTES + length;
  };
  const double = (value: number) => {
    view.setFloat64(at, value, true);
    at += 8;
  };
  const u32 = (value: number) => {
    view.setUint32(at, value, true);
    at += 4;
  };
  // Spans copied from a cache file follow each other there as here: each run is one copy.
  let run: { data: Buffer; start: number; end: number } | undefined;
  const flush = () => {
    if (run) at += run.data.copy(out, at, run.start, run.end);
    run = undefined;
  };
  const copy = (data: Buffer, start: number, end: number) => {
    if (run && run.data === data && run.end === start) run.end = end;
    else {
      flush();
      run = { data, start, end };
    }
  };
  u32(CACHE_VERSION);
  at += out.write(cache.tree ?? NO_TREE, at, 'hex');
  str(cache.rules.excludes);
  str(token);
  u32(dirOrder.length);
  u32(fileCount);
  u32(cache.rules.files.size);
  dirOrder.forEach((p, i) => {
    const from = reused[i];
    if (from) return copy(from.data, from.start, from.end);
    flush();
    const dir = cache.dirs.get(p)!;
    str(p);
    u32(parents[i]!);
    out[at++] = dir.ignoreFiles | (dir.stat ? DIR_HAS_STAT : 0) | (dir.tree ? DIR_HAS_TREE : 0);
    double(dir.stat?.mtimeMs ?? 0);
    double(dir.stat?.ctimeMs ?? 0);
    double(dir.stat?.ino ?? 0);
    u32(dir.entries);
    at += out.write(dir.tree ?? NO_TREE, at, 'hex');
    u32(dir.files.length);
  });
  flush();
  u32(pathTableBytes);
  if (sameTable) at += sameTable.data.copy(out, at, sameTable.start, sameTable.end);
  else {
    dirTables.forEach((table, i) => {
      if (i > 0) out[at++] = 0;
      at += out.write(table, at);
    });
  }
  for (const p of dirOrder) {
    const dir = cache.dirs.get(p)!;
    if (dir.fileSet.copyRecords(copy)) continue;
    flush();
    for (const f of dir.files) {
      const entry = dir.fileSet.get(f)!;
      double(entry.mtimeMs);
      double(entry.ctimeMs);
      double(entry.size);
      double(entry.ino);
      out[at++] = MODE_CODES.indexOf(entry.mode);
      at += out.write(entry.oid, at, 'hex');
    }
  }
  flush();
  for (const [p, stat] of cache.rules.files) {
    str(p);
    double(stat.mtimeMs);
    double(stat.ctimeMs);
    double(stat.size);
    double(stat.ino);
  }
  if (at !== size - CHECKSUM_BYTES) throw new Error(`stat cache encoding is ${size - CHECKSUM_BYTES - at} bytes off`);
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

/**
 * The path table of `source`, a cache file some of the directories were decoded from, when it
 * lists exactly their files in `dirOrder`: the table is then copied, not joined and encoded
 * again (45k paths). Equal lists at every index make equal tables, whatever the directories.
 */
function unchangedPathTable(cache: StatCache, dirOrder: string[], source: Buffer | undefined): { data: Buffer; start: number; end: number } | undefined {
  const table = source && pathTables.get(source);
  if (!table || table.dirs.length !== dirOrder.length) return undefined;
  for (let i = 0; i < dirOrder.length; i++) {
    const dir = cache.dirs.get(dirOrder[i]!)!;
    // The same directory read from that file lists the same files (a decoded one is never
    // modified): its paths need not be made to tell.
    if (dir === table.dirs[i]) continue;
    const now = dir.files;
    const before = table.dirs[i]!.files;
    if (now !== before && (now.length !== before.length || now.some((p, k) => p !== before[k]))) return undefined;
  }
  return { data: source, start: table.start, end: table.end };
}

/** This format and version, and the checksum holds: only then is any of it read. */
function intact(data: Buffer): boolean {
  if (data.length < MIN_CACHE_BYTES || data.toString('latin1', 0, HEADER_VERSION_AT) !== CACHE_MAGIC || data.readUInt32LE(HEADER_VERSION_AT) !== CACHE_VERSION) return false;
  return createHash('sha1').update(data.subarray(0, data.length - CHECKSUM_BYTES)).digest().equals(data.subarray(data.length - CHECKSUM_BYTES));
}

/** Reads an intact cache file (see intact); undefined when its records do not add up. */
function decode(data: Buffer, writtenAtMs: number): StatCache | undefined {
  const body = data.subarray(0, data.length - CHECKSUM_BYTES);
  const view = viewOf(data);
  let at = HEADER_TREE_AT;
  const str = () => {
    const length = u16(data, at);
    const s = data.toString('utf8', at + STR_LENGTH_BYTES, at + STR_LENGTH_BYTES + length);
    at += STR_LENGTH_BYTES + length;
    return s;
  };
  const tree = data.toString('hex', at, (at += OID_BYTES));
  const excludes = str();
  const token = str();
  const dirCount = view.getUint32(at, true);
  const fileCount = view.getUint32(at + 4, true);
  const ruleCount = view.getUint32(at + 8, true);
  at += HEADER_COUNTS_BYTES;

  const dirs = new Map<string, CachedDir>();
  const dirOrder: Array<{ dir: DecodedDir; fileCount: number }> = [];
  for (let i = 0; i < dirCount; i++) {
    const start = at;
    const p = str();
    const parent = view.getUint32(at + DIR_PARENT_AT, true);
    const flags = data[at + DIR_FLAGS_AT]!;
    const dir = new DecodedDir(
      flags & DIR_HAS_STAT ? { mtimeMs: view.getFloat64(at + DIR_MTIME_AT, true), ctimeMs: view.getFloat64(at + DIR_CTIME_AT, true), ino: view.getFloat64(at + DIR_INO_AT, true) } : undefined,
      view.getUint32(at + DIR_ENTRIES_AT, true),
      flags & DIR_HAS_TREE ? data.toString('hex', at + DIR_TREE_AT, at + DIR_TREE_AT + OID_BYTES) : undefined,
      flags & DIR_IGNORE_FILES_MASK,
      data,
      start,
      at + DIR_RECORD_BYTES,
      parent,
    );
    if (parent !== NO_PARENT) {
      if (parent >= i) return undefined;
      dirOrder[parent]!.dir.subdirs.push(p);
    }
    dirOrder.push({ dir, fileCount: view.getUint32(at + DIR_FILES_AT, true) });
    dirs.set(p, dir);
    at += DIR_RECORD_BYTES;
  }
  // Paths are read now (the scan walks them); entries only when a directory is looked into.
  const tableBytes = view.getUint32(at, true);
  at += 4;
  if (at + tableBytes + fileCount * FILE_RECORD_BYTES > body.length) return undefined;
  const tableStart = at;
  // One string; each directory's paths are split out of it only when asked for (DecodedDir.files).
  const table = fileCount === 0 ? '' : data.toString('utf8', at, (at += tableBytes));
  /** Where the next path starts in `table`; past its end once every path is read. */
  let next = 0;
  for (const { dir, fileCount: count } of dirOrder) {
    if (count === 0) continue;
    const from = next;
    for (let k = 0; k < count; k++) {
      if (next > table.length) return undefined;
      const nul = table.indexOf('\0', next);
      next = (nul === -1 ? table.length : nul) + 1;
    }
    dir.listFiles(table, from, next - 1, count);
    const start = at;
    for (let i = 0; i < count; i++, at += FILE_RECORD_BYTES) if (!MODE_CODES[data[at + FILE_MODE_AT]!]) return undefined;
    dir.fileSet = DirFiles.decoded(() => dir.files, count, data, view, start);
  }
  if (fileCount > 0 && next !== table.length + 1) return undefined;
  pathTables.set(data, { start: tableStart, end: tableStart + tableBytes, dirs: dirOrder.map(({ dir }) => dir) });
  const ruleFiles = new Map<string, FileStat>();
  for (let i = 0; i < ruleCount; i++) {
    const p = str();
    ruleFiles.set(p, { mtimeMs: view.getFloat64(at + FILE_MTIME_AT, true), ctimeMs: view.getFloat64(at + FILE_CTIME_AT, true), size: view.getFloat64(at + FILE_SIZE_AT, true), ino: view.getFloat64(at + FILE_INO_AT, true), mode: 0 });
    at += RULE_RECORD_BYTES;
  }
  if (at !== body.length) return undefined;
  return new StatCache(tree === NO_TREE ? undefined : tree, dirs, { excludes, files: ruleFiles }, token || undefined, writtenAtMs);
}
