import { closeSync, existsSync, constants as fsc, fstatSync, lstatSync, promises as fsp, openSync, readlinkSync, readSync } from 'node:fs';
import path from 'node:path';
import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { forEachLimit } from '../fsutil.js';
import { encodeTree, MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, type EntryMode, type FlatEntry, type FlatTree, type TreeEntry } from '../store/gitformat.js';
import { notRecorded, symlinkTargetProblem } from '../worktree/names.js';
import { hashObject, looseObjectPath, ObjectStore, STREAM_THRESHOLD, streamBlob, type ObjectType } from '../store/objects.js';
import { stateDirOf } from '../store/paths.js';
import { reasonOf, type FileKind, type ScanResult, type ScannedDir, type ScannedFile, type SkippedPath } from '../worktree/scan.js';
import { fileStatOf, sameStat, type FileStat } from '../worktree/stat.js';
import { DirFiles, parentOf, StatCache, type CachedDir, type CachedFile } from '../worktree/statcache.js';
import { faultPoint } from '../faults.js';
import { DAMAGED_OBJECTS_DIR } from '../store/statefiles.js';

export interface RecordedTree {
  tree: string;
  files: FlatTree;
  /** The scan the tree was recorded from (its directory structure). */
  root: ScannedDir;
  /** Tree id of every directory that records something. */
  dirTrees: DirTrees;
  skipped: SkippedPath[];
  /** Ignore files whose rules were not read (see ScanResult): the snapshot warns about each. */
  unreadIgnoreFiles: SkippedPath[];
  /** The stat cache this recording makes (see StatCache). */
  cache: StatCache;
  /** The one it started from: it knows the trees of the last recording (see StatCache.treeEntries). */
  previous: StatCache;
  /** Ids of damaged objects found in the repository and written again from the working tree. */
  repaired: string[];
}

/**
 * The store a recording without a stat cache writes through (the first snapshot, a lost cache,
 * or a snapshot after damage was found). Such a recording hashes every file anyway, so it also
 * proves each object it would skip as already present: one that does not read back intact is
 * moved to DAMAGED_OBJECTS_DIR and written again from the working tree. The snapshot recorded
 * then names no damaged object, and any older snapshot sharing the object is healed with it.
 */
class VerifyingStore extends ObjectStore {
  private readonly checked = new Set<string>();
  readonly repaired: string[] = [];

  constructor(private readonly store: ObjectStore) {
    super(store.gitdir);
  }

  override async write(type: ObjectType, content: Uint8Array, oid = hashObject(type, content)): Promise<string> {
    if (existsSync(looseObjectPath(this.gitdir, oid))) await this.setAsideIfDamaged(oid, type);
    return this.store.write(type, content, oid);
  }

  override async adoptTemp(tmp: string, oid: string): Promise<void> {
    if (existsSync(looseObjectPath(this.gitdir, oid))) await this.setAsideIfDamaged(oid, 'blob');
    return this.store.adoptTemp(tmp, oid);
  }

  /**
   * Moves a damaged loose copy of `oid` aside (a write then makes it anew); true when it was
   * damaged. A missing object counts as damaged too, with nothing to move.
   */
  async setAsideIfDamaged(oid: string, type: ObjectType): Promise<boolean> {
    if (this.checked.has(oid)) return false;
    this.checked.add(oid);
    try {
      if (type === 'blob') await this.store.verifyBlob(oid);
      else await this.store.readTyped(oid, type);
      return false;
    } catch (err) {
      if (!(err instanceof CorruptObjectError)) throw err;
    }
    const loose = looseObjectPath(this.gitdir, oid);
    if (existsSync(loose)) {
      const keep = path.join(stateDirOf(this.gitdir), DAMAGED_OBJECTS_DIR);
      await fsp.mkdir(keep, { recursive: true });
      await fsp.rename(loose, path.join(keep, `${oid}.${Date.now()}`));
    }
    this.repaired.push(oid);
    return true;
  }
}

/**
 * Proves that the blobs `state` records for `paths` read back intact, and writes a damaged or
 * missing one again from the working tree: a checkout is about to delete or overwrite these
 * files, and a snapshot that took them from the stat cache trusted the repository to hold them.
 * A file that no longer hashes to its recorded id (it changed since) is refused: the only copy of
 * what was recorded is damaged.
 */
export async function proveRecorded(worktree: string, store: ObjectStore, state: RecordedTree, paths: string[]): Promise<void> {
  const verifying = new VerifyingStore(store);
  await forEachLimit(paths, HASH_CONCURRENCY, async (rel) => {
    const entry = state.files.get(rel);
    if (!entry || !(await verifying.setAsideIfDamaged(entry.oid, 'blob'))) return;
    const full = path.join(worktree, rel);
    let rehashed: string | undefined;
    try {
      rehashed = (await hashPath(full, entry.mode === MODE_LINK ? 'link' : 'file', fileStatOf(lstatSync(full)), verifying)).oid;
    } catch {
      // Gone or unreadable since the scan: it changed, as below.
    }
    if (rehashed !== entry.oid) {
      throw new ShadowGitError(`${rel} changed while it was being backed up, and the repository's copy of what was recorded (${entry.oid}) is damaged; nothing was changed — run the command again.`, 'ECHANGED');
    }
  });
}

/** Directory path → tree id. */
export type DirTrees = Pick<ReadonlyMap<string, string>, 'get' | 'has'>;

/** The tree ids a cache records, read from it when asked (not copied into a map of 6,000). */
class CachedTrees implements DirTrees {
  constructor(private readonly dirs: ReadonlyMap<string, CachedDir>) {}

  get(dirPath: string): string | undefined {
    return this.dirs.get(dirPath)?.tree;
  }

  has(dirPath: string): boolean {
    return this.get(dirPath) !== undefined;
  }
}

export function modeOf(file: Pick<ScannedFile, 'kind' | 'executable'>): EntryMode {
  if (file.kind === 'link') return MODE_LINK;
  return file.executable ? MODE_EXEC : MODE_FILE;
}

/** A stat no scan ever matches: the file is hashed again next time. */
const NEVER_MATCHES: FileStat = { mtimeMs: -1, ctimeMs: -1, size: -1, ino: -1, mode: 0 };

/** Files read and hashed at once: enough to keep deflate busy on the thread pool, bounded in memory. */
const HASH_CONCURRENCY = 8;

/**
 * Reads a file's content consistently: fstat before and after the read (one descriptor, never
 * following a symlink) must agree, else the file changed while read and is read again. After
 * three tries the last read is recorded with a stat that never matches, so the next snapshot
 * looks at the file again instead of trusting a stat that does not describe the content.
 * Synchronous: for small files the system calls are cheaper than a promise each.
 */
function readStable(file: string): { content: Buffer; stat: FileStat } {
  for (let attempt = 1; ; attempt++) {
    const fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    try {
      const before = fstatSync(fd);
      if (!before.isFile()) throw Object.assign(new Error('not a regular file any more'), { code: 'ECHANGED' });
      const content = Buffer.allocUnsafe(before.size);
      let read = 0;
      while (read < content.length) {
        const n = readSync(fd, content, read, content.length - read, read);
        if (n === 0) break;
        read += n;
      }
      const after = fstatSync(fd);
      const consistent = sameStat(before, after) && read === after.size;
      if (consistent) return { content, stat: fileStatOf(after) };
      if (attempt >= 3) return { content: content.subarray(0, read), stat: NEVER_MATCHES };
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Hashes one file or symlink as git records it (and writes the blob when `store` is given).
 * `stat` is the one the content was read under: a stat that never matches when the file kept
 * changing while read, so the next scan looks at it again.
 */
export async function hashPath(full: string, kind: FileKind, scanned: FileStat, store?: ObjectStore): Promise<{ oid: string; stat: FileStat }> {
  if (kind === 'link') {
    const target = readlinkSync(full, { encoding: 'buffer' });
    const unrestorable = symlinkTargetProblem(target);
    if (unrestorable) throw new Error(notRecorded(unrestorable, 'point the link elsewhere'));
    const oid = hashObject('blob', target);
    if (store) await store.write('blob', target, oid);
    return { oid, stat: scanned };
  }
  if (scanned.size > STREAM_THRESHOLD) {
    const blob = await streamBlob(full, store);
    return { oid: blob.oid, stat: blob.consistent ? fileStatOf(blob.stat) : NEVER_MATCHES };
  }
  const read = readStable(full);
  const oid = hashObject('blob', read.content);
  if (store) await store.write('blob', read.content, oid);
  return { oid, stat: read.stat };
}

/**
 * Turns a scan into git objects: unchanged files (stat cache hit) reuse their blob id, changed
 * ones are hashed (and, when `store` is given, written); trees are built bottom-up, a directory
 * whose entries all match the cache keeps its cached tree id without being encoded again, and
 * only new trees are written. Without a store nothing is written: that is how `status` and
 * `diff` learn the working tree's ids.
 *
 * The cache lets later snapshots skip writing, so it only ever names objects the repository
 * holds: written now, or carried over from the previous cache.
 *
 * The new cache is built directory by directory: a directory the scan found unchanged is
 * carried over with its files' entries shared (never copied, never decoded); only directories
 * listed again get their entries file by file. A no-change snapshot of 45k files thus does no
 * work per file here, and a one-file change copies one directory's entries.
 */
export async function recordTree(worktree: string, scan: ScanResult, previous: StatCache, storeGiven: ObjectStore | undefined): Promise<RecordedTree> {
  if (scan.root.whole && everyTreeKnown(previous)) return unchangedTree(scan, previous);
  const store = storeGiven && previous.dirs.size === 0 ? new VerifyingStore(storeGiven) : storeGiven;
  const relisted: ScannedDir[] = [];
  const survey = (dir: ScannedDir) => {
    if (dir.whole) return;
    if (!dir.unchangedFrom) relisted.push(dir);
    dir.dirs.forEach(survey);
  };
  survey(scan.root);
  // A directory can only have gone from a listing that was read again: look there, not at all 6,000.
  const gone: string[] = [];
  const goneWithAllBelow = (p: string) => {
    gone.push(p);
    for (const sub of previous.dirs.get(p)?.subdirs ?? []) goneWithAllBelow(sub);
  };
  for (const dir of relisted) {
    const before = previous.dirs.get(dir.path);
    if (!before || before.subdirs.length === 0) continue;
    const now = new Set(dir.dirs.map((d) => d.path));
    for (const sub of before.subdirs) if (!now.has(sub)) goneWithAllBelow(sub);
  }
  const dirs = new Map<string, CachedDir>();
  const skipped = [...scan.skipped];
  const toHash: ScannedFile[] = [];
  /** Entries of the files of each directory listed again, being collected. */
  const relistedEntries = new Map<string, Map<string, CachedFile>>();
  /** Files hashed but not cached (their blob is not in the repository): part of the result only. */
  const uncached: Array<[string, FlatEntry]> = [];

  const dirTrees = new Map<string, string>();
  /**
   * Subtrees the scan took whole whose every directory has its tree id (or records nothing)
   * need no tree built: their directories go into the new cache as the same objects (never
   * modified; buildTree skips them) and their ids are the cached ones.
   */
  const shared = new Set<string>();
  const treesKnown = (p: string): boolean => {
    const cached = previous.dirs.get(p)!;
    return (cached.tree !== undefined || (cached.entries === 0 && p !== '')) && cached.subdirs.every(treesKnown);
  };
  const share = (p: string) => {
    const cached = previous.dirs.get(p)!;
    dirs.set(p, cached);
    if (cached.tree !== undefined) dirTrees.set(p, cached.tree);
    cached.subdirs.forEach(share);
  };

  // Directories parents first (the order the cache is written in). A directory carried over
  // keeps its files' entries as they are (shared); one listed again gets them file by file.
  const listDirs = (dir: ScannedDir) => {
    if (dir.whole && treesKnown(dir.path)) {
      shared.add(dir.path);
      return share(dir.path);
    }
    const carried = dir.unchangedFrom;
    if (carried) {
      // Written out, not spread: this runs for every directory of the tree, and a literal of
      // one shape is several times faster to build.
      dirs.set(dir.path, { tree: undefined, entries: 0, stat: carried.stat, ignoreFiles: carried.ignoreFiles, files: carried.files, fileSet: carried.fileSet, subdirs: carried.subdirs });
    } else {
      const entries = new Map<string, CachedFile>();
      relistedEntries.set(dir.path, entries);
      dirs.set(dir.path, { tree: undefined, entries: 0, stat: dir.complete ? dir.stat : undefined, ignoreFiles: dir.ignoreFiles, files: [], fileSet: DirFiles.EMPTY, subdirs: dir.dirs.map((d) => d.path) });
      for (const file of dir.files) {
        // A hit's cache entry is still true: it serves as the new cache entry and as the file's
        // entry (it has the oid and mode), with nothing allocated per unchanged file.
        const hit = previous.entryIfUnchanged(file.path, file, modeOf(file));
        if (hit) entries.set(file.path, hit);
        else toHash.push(file);
      }
    }
    for (const sub of dir.dirs) listDirs(sub);
  };
  listDirs(scan.root);

  await forEachLimit(toHash, HASH_CONCURRENCY, async (file) => {
    const mode = modeOf(file);
    try {
      const { oid, stat } = await hashPath(path.join(worktree, file.path), file.kind, file, store);
      if (store) relistedEntries.get(parentOf(file.path))!.set(file.path, { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode, oid });
      else uncached.push([file.path, { oid, mode }]);
    } catch (err) {
      skipped.push({ path: file.path, reason: (err as NodeJS.ErrnoException).code === 'ECHANGED' ? 'changed into something else during the scan' : reasonOf(err) });
    }
  });

  // A file left out of the cache (unreadable, or not known to the repository) leaves its
  // directory's listing incomplete: that directory is listed again next time.
  for (const dir of relisted) {
    const listed = dirs.get(dir.path)!;
    const entries = relistedEntries.get(dir.path)!;
    for (const file of dir.files) {
      if (entries.has(file.path)) listed.files.push(file.path);
      else listed.stat = undefined;
    }
    listed.fileSet = DirFiles.of(listed.files, entries);
  }
  const cache = new StatCache(undefined, dirs, scan.rules, scan.watchToken, 0);
  const files: FlatTree = uncached.length === 0 ? cache.files : new Map([...cache.files, ...uncached]);

  const treeWrites: Array<{ oid: string; content: Buffer }> = [];
  /** Returns the directory's tree id (undefined when empty) and whether it equals the cached one. */
  const buildTree = (dir: ScannedDir): { oid: string | undefined; same: boolean } => {
    if (shared.has(dir.path)) return { oid: dirTrees.get(dir.path), same: true };
    const cached = previous.dirs.get(dir.path);
    const listed = dirs.get(dir.path)!;
    const filePaths = dir.unchangedFrom ? dir.unchangedFrom.files : dir.files.map((f) => f.path);
    let same = cached?.tree !== undefined;
    // An unchanged directory's files are all cached, as they were.
    let count = dir.unchangedFrom ? filePaths.length : 0;
    if (!dir.unchangedFrom) {
      for (const p of filePaths) {
        const entry = files.get(p);
        if (!entry) continue;
        count++;
        if (!same) continue;
        const before = previous.files.get(p);
        if (!before || before.oid !== entry.oid || before.mode !== entry.mode) same = false;
      }
    }
    const subtrees = dir.dirs.map(buildTree);
    for (const sub of subtrees) {
      if (!sub.same) same = false;
      if (sub.oid) count++;
    }
    // Git has no empty trees below the root: an empty directory is not recorded.
    if (count === 0 && dir.path !== '') return { oid: undefined, same: (cached?.entries ?? 0) === 0 };
    listed.entries = count;
    // Every entry now was an entry before, with the same id, and there are as many: same tree.
    if (same && cached!.entries === count) {
      listed.tree = cached!.tree;
      dirTrees.set(dir.path, cached!.tree!);
      return { oid: cached!.tree, same: true };
    }
    const nameAt = dir.path === '' ? 0 : dir.path.length + 1;
    const entries: TreeEntry[] = [];
    for (const p of filePaths) {
      const entry = files.get(p);
      if (entry) entries.push({ name: p.slice(nameAt), mode: entry.mode, oid: entry.oid });
    }
    dir.dirs.forEach((sub, i) => {
      const oid = subtrees[i]!.oid;
      if (oid) entries.push({ name: sub.path.slice(nameAt), mode: MODE_TREE, oid });
    });
    const content = encodeTree(entries);
    const oid = hashObject('tree', content);
    treeWrites.push({ oid, content });
    dirTrees.set(dir.path, oid);
    if (store) listed.tree = oid;
    return { oid, same: false };
  };
  const root = buildTree(scan.root);
  const tree = root.oid!;
  if (store) {
    await forEachLimit(treeWrites, HASH_CONCURRENCY, async ({ oid, content }) => {
      await faultPoint('tree');
      await store.write('tree', content, oid);
    });
  }
  cache.tree = tree;
  cache.unchangedSinceLoad = relisted.length === 0 && gone.length === 0 && toHash.length === 0 && root.same && previous.tree === tree && previous.watchToken === cache.watchToken && sameRules(previous, cache);
  skipped.sort(byPath);
  return { tree, files, root: scan.root, dirTrees, skipped, unreadIgnoreFiles: scan.unreadIgnoreFiles, cache, previous, repaired: store instanceof VerifyingStore ? store.repaired : [] };
}

const byPath = (a: SkippedPath, b: SkippedPath) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Every directory of the cache has its tree id, or records nothing (an empty directory below
 * the root): a scan that found the whole tree as the cache has it needs no tree built.
 */
function everyTreeKnown(cache: StatCache): boolean {
  for (const [dirPath, dir] of cache.dirs) if (dir.tree === undefined && (dir.entries !== 0 || dirPath === '')) return false;
  return cache.dirs.size > 0;
}

/**
 * The recording of a tree the scan found exactly as the cache has it (the usual no-change
 * snapshot and status): the cache's own directories, files and tree ids, shared as they are
 * (a cache is never modified), with the scan's rules and token.
 */
function unchangedTree(scan: ScanResult, previous: StatCache): RecordedTree {
  const tree = previous.dirs.get('')!.tree!;
  const cache = new StatCache(tree, previous.dirs, scan.rules, scan.watchToken, 0);
  cache.unchangedSinceLoad = previous.tree === tree && previous.watchToken === cache.watchToken && sameRules(previous, cache);
  const skipped = [...scan.skipped].sort(byPath);
  return { tree, files: cache.files, root: scan.root, dirTrees: new CachedTrees(previous.dirs), skipped, unreadIgnoreFiles: scan.unreadIgnoreFiles, cache, previous, repaired: [] };
}

function sameRules(a: StatCache, b: StatCache): boolean {
  if (a.rules.excludes !== b.rules.excludes || a.rules.files.size !== b.rules.files.size) return false;
  for (const [p, stat] of a.rules.files) {
    const other = b.rules.files.get(p);
    if (!other || !sameStat(stat, other)) return false;
  }
  return true;
}
