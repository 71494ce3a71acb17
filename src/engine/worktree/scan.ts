import { isUtf8 } from 'node:buffer';
import { constants as fsc, lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { DirRules, IGNORE_FILES } from './ignore.js';
import { entryNameProblem, escapedName, notRecorded } from './names.js';
import { dirLayout, statAll } from './statall.js';
import { STAT_CTIME, STAT_FIELDS, STAT_INO, STAT_MODE, STAT_MTIME, STAT_SIZE } from './statcache-layout.js';
import { fileCountOf, parentOf, TYPE_OF_MODE, type CachedDir, type RuleState, type StatCache } from './statcache.js';
import { dirStatOf, fileStatOf, sameDirStat, sameStat, type DirStat, type FileStat } from './stat.js';
import { isWatchCookie } from './watchcookie.js';

export type FileKind = 'file' | 'link';

/**
 * A file the scan found, with its stat as its own fields (not an object of its own: on a
 * 300k-file first snapshot every one of these lives until the end, and a nested stat object
 * cost 136 bytes a file, 40 MB).
 */
export interface ScannedFile extends FileStat {
  /** Posix path relative to the working tree root. */
  path: string;
  kind: FileKind;
  executable: boolean;
}

export interface ScannedDir {
  path: string;
  files: ScannedFile[];
  dirs: ScannedDir[];
  /** Stat taken before its listing was read; undefined when it could not be listed. */
  stat: DirStat | undefined;
  /** Nothing in its listing was skipped: the listing can be trusted while `stat` holds. */
  complete: boolean;
  /** Which of IGNORE_FILES it holds, bit i for IGNORE_FILES[i]. */
  ignoreFiles: number;
  /**
   * Set when the directory and every file directly in it are exactly as this cache entry
   * records; `files` then stays empty (the cached listing holds them).
   */
  unchangedFrom?: CachedDir;
  /** Set when everything at and below it is as the cache has it (taken whole; see `carried`). */
  whole?: true;
}

export interface SkippedPath {
  path: string;
  reason: string;
}

export interface ScanResult {
  root: ScannedDir;
  skipped: SkippedPath[];
  /** Ignore files that were recorded but whose rules could not be read (a symlink, a FIFO, over the size cap): they ignore nothing. */
  unreadIgnoreFiles: SkippedPath[];
  fileCount: number;
  /** The ignore rules the listings were filtered with. */
  rules: RuleState;
  watchToken?: string;
}

export interface ScanOptions {
  /** The cache of the last recording: directories whose stat still matches are not listed again. */
  previous?: StatCache;
  /**
   * A watcher's answer: `token` is kept with the new cache; `paths`, unless 'all', are the only
   * paths that may have changed since `previous` was made (with its token), and everything else
   * is taken from the cache without a system call.
   */
  watch?: { token: string; paths: string[] | 'all' };
  onProgress?: (files: number) => void;
}

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

const NOT_UTF8 = 'its name is not valid UTF-8, which shadowgit cannot record yet; rename it to back it up';
const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = fsc;

/** One name of a directory listing, and whether it is a directory (readdir's Dirent). */
interface Listed {
  name: string;
  isDirectory(): boolean;
}

export function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the scan';
  return (err as Error).message;
}

function scannedFile(relPath: string, stat: FileStat): ScannedFile | undefined {
  const type = stat.mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFLNK) return undefined;
  const kind = type === S_IFREG ? 'file' : 'link';
  return { path: relPath, kind, executable: kind === 'file' && (stat.mode & 0o100) !== 0, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode: stat.mode };
}

const isDirMode = (mode: number) => (mode & S_IFMT) === S_IFDIR;

function ignoreMask(names: ReadonlySet<string>): number {
  let mask = 0;
  IGNORE_FILES.forEach((name, i) => {
    if (names.has(name)) mask |= 1 << i;
  });
  return mask;
}

const namesOfMask = (mask: number) => new Set(IGNORE_FILES.filter((_, i) => mask & (1 << i)));

/** What the cache's listings need from the present: is each cached entry still as recorded. */
interface PresentStats {
  /** The cached listing of `relDir` may be used: the directory has not changed since. */
  listingHolds(relDir: string, cached: CachedDir): boolean;
  /** A cached subdirectory is still a directory. */
  isDirectory(relPath: string): boolean;
  /** Stat now of the `k`th file of a cached listing; undefined when gone or unreadable. */
  file(relDir: string, k: number, relPath: string): FileStat | undefined;
  /** Every file of the cached listing is exactly as the cache recorded it (the common case, so no allocation). */
  filesUnchanged(relDir: string, cached: CachedDir): boolean;
  /** Nothing at or below `relDir` can have changed: the cache's whole subtree is taken as it is. */
  subtreeUnchanged(relDir: string): boolean;
}

/** A cached listing still holds when the directory's stat is as recorded and was not taken in the cache's last tick. */
function listingHoldsWith(cache: StatCache, cached: CachedDir, now: FileStat | undefined): boolean {
  return cached.stat !== undefined && now !== undefined && isDirMode(now.mode) && sameDirStat(cached.stat, now) && !cache.isRacy(now.mtimeMs);
}

/**
 * Every cached directory and file looked at again (lstat, on two threads). Paths are laid out
 * directory by directory: a directory, then its files, so a file's index is its directory's + 1 + k.
 */
function statEverything(worktree: string, cache: StatCache): PresentStats {
  const dirPaths = [...cache.dirs.keys()];
  const dirs = [...cache.dirs.values()];
  // Counts, not paths: with the native helper's results ready, the paths are never made.
  const paths = dirLayout(worktree, dirPaths, dirs.map(fileCountOf), (d) => dirs[d]!.files);
  const dirIndex = new Map<string, number>();
  dirPaths.forEach((dirPath, d) => dirIndex.set(dirPath, paths.dirStart[d]!));
  const results = statAll(paths, cache.takeStatJob(worktree));
  const statAt = (i: number): FileStat | undefined => {
    const at = i * STAT_FIELDS;
    const mode = results[at + STAT_MODE]!;
    if (mode < 0) return undefined;
    return { mtimeMs: results[at + STAT_MTIME]!, ctimeMs: results[at + STAT_CTIME]!, size: results[at + STAT_SIZE]!, ino: results[at + STAT_INO]!, mode };
  };
  const present: PresentStats = {
    listingHolds: (relDir, cached) => listingHoldsWith(cache, cached, statAt(dirIndex.get(relDir)!)),
    isDirectory: (relPath) => isDirMode(statAt(dirIndex.get(relPath)!)?.mode ?? 0),
    file: (relDir, k) => statAt(dirIndex.get(relDir)! + 1 + k),
    filesUnchanged: (relDir, cached) => cache.filesMatch(cached, results, (dirIndex.get(relDir)! + 1) * STAT_FIELDS),
    subtreeUnchanged: (relDir) => unchangedSubtrees.has(relDir),
  };
  // Found in one pass, children before parents (the cache lists parents first): the walk then
  // takes each of these subtrees whole, as with a watcher, and looks only along changed paths.
  const unchangedSubtrees = new Set<string>();
  for (let i = dirPaths.length - 1; i >= 0; i--) {
    const relDir = dirPaths[i]!;
    const cached = cache.dirs.get(relDir)!;
    if (present.listingHolds(relDir, cached) && present.filesUnchanged(relDir, cached) && cached.subdirs.every((sub) => unchangedSubtrees.has(sub))) unchangedSubtrees.add(relDir);
  }
  return present;
}

/**
 * A watcher's list of changed paths: only those, and the listings around them, are looked at.
 * A directory with no changed path below it is taken from the cache whole.
 *
 * Git's racy-entry rule (an entry written in the cache's last tick is looked at again) is
 * needed only for listed paths: the watcher's token is taken before the scan that made the
 * cache, so any write after that scan read a file is an event, and lists it.
 */
function statChanged(worktree: string, cache: StatCache, changed: string[]): PresentStats {
  const changedPaths = new Set(changed);
  const reread = new Set<string>();
  /** Directories at or above a changed path, or above one whose listing is never trusted. */
  const onPath = new Set<string>();
  const markAncestors = (p: string) => {
    for (let dir = p; !onPath.has(dir); dir = parentOf(dir)) {
      onPath.add(dir);
      if (dir === '') break;
    }
  };
  for (const p of changed) {
    if (cache.dirs.has(p)) reread.add(p);
    // The entry may have been created or removed: its nearest recorded ancestor lists it.
    let dir = parentOf(p);
    while (dir !== '' && !cache.dirs.has(dir)) dir = parentOf(dir);
    reread.add(dir);
    markAncestors(p);
  }
  // Listings with something unreadable in them are read again every time.
  for (const [dirPath, dir] of cache.dirs) if (!dir.stat) markAncestors(dirPath);
  const lstatIfChanged = (relPath: string, recorded: () => FileStat | undefined) => (changedPaths.has(relPath) ? lstatNow(path.join(worktree, relPath)) : recorded());
  return {
    // A file's content changing leaves its directory's stat as it was: then the listing holds.
    listingHolds: (relDir, cached) => (reread.has(relDir) ? listingHoldsWith(cache, cached, lstatNow(path.join(worktree, relDir))) : cached.stat !== undefined),
    isDirectory: (relPath) => !changedPaths.has(relPath) || isDirMode(lstatNow(path.join(worktree, relPath))?.mode ?? 0),
    file: (_relDir, _k, relPath) =>
      lstatIfChanged(relPath, () => {
        const entry = cache.files.get(relPath)!;
        return { mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, size: entry.size, ino: entry.ino, mode: TYPE_OF_MODE[entry.mode]! };
      }),
    filesUnchanged: (_relDir, cached) => cached.files.every((file) => !changedPaths.has(file)),
    subtreeUnchanged: (relDir) => !onPath.has(relDir),
  };
}

function lstatNow(absolute: string): FileStat | undefined {
  try {
    const stat = lstatSync(absolute, { throwIfNoEntry: false });
    return stat && fileStatOf(stat);
  } catch {
    return undefined;
  }
}

/**
 * Walks the working tree: ignore rules applied per directory (ignored directories are never
 * entered), every `.git` skipped, symlinks never followed, special files reported as skipped.
 *
 * With the previous cache, a directory whose stat is unchanged is not listed again (adding,
 * removing or renaming an entry changes it): its cached listing is used, and only the stat of
 * each entry is taken, on two threads. With a watcher's list of changed paths even those stats
 * are skipped. A change to any ignore file or to the configured excludes makes the walk a full
 * one, since it changes what a listing keeps.
 *
 * The system calls are synchronous on purpose: profiling showed a promise per `lstat` costing
 * 3–5× the call itself. Only reading ignore files awaits.
 */
export async function scanWorktree(worktree: string, excludes: string[], options: ScanOptions = {}): Promise<ScanResult> {
  const scanner = new Scanner(worktree, excludes, options.watch?.token, options.onProgress);
  const previous = options.previous;
  if (previous && previous.dirs.has('') && scanner.rulesUnchanged(previous)) {
    const changed = options.watch && options.watch.paths !== 'all' && previous.watchToken !== undefined ? options.watch.paths : undefined;
    const present = changed ? statChanged(worktree, previous, changed) : statEverything(worktree, previous);
    try {
      return scanner.result(await scanner.walkCached('', previous, present));
    } catch (err) {
      if (!(err instanceof RulesChanged)) throw err;
      scanner.reset();
    }
  }
  return scanner.result(await scanner.walkFull('', DirRules.root(excludes)));
}

/** A listing read again holds an ignore file the cache did not know of (or lost one). */
class RulesChanged extends Error {}

class Scanner {
  private skipped: SkippedPath[] = [];
  private readonly unreadIgnoreFiles = new Map<string, string>();
  private fileCount = 0;
  private ruleFiles = new Map<string, FileStat>();
  private readonly excludesKey: string;
  /** Rules of cached directories, built only when one of them is listed again. */
  private readonly cachedRules = new Map<string, Promise<DirRules>>();

  constructor(
    private readonly worktree: string,
    private readonly excludes: string[],
    private readonly watchToken: string | undefined,
    private readonly onProgress: ((files: number) => void) | undefined,
  ) {
    this.excludesKey = JSON.stringify(excludes);
  }

  rulesUnchanged(cache: StatCache): boolean {
    if (cache.rules.excludes !== this.excludesKey) return false;
    for (const [rel, stat] of cache.rules.files) {
      const now = lstatNow(path.join(this.worktree, rel));
      if (!now || !sameStat(now, stat) || cache.isRacy(now.mtimeMs)) return false;
    }
    return true;
  }

  reset(): void {
    this.skipped = [];
    this.fileCount = 0;
    this.ruleFiles = new Map();
  }

  result(root: ScannedDir): ScanResult {
    return { root, skipped: this.skipped, unreadIgnoreFiles: [...this.unreadIgnoreFiles].map(([p, reason]) => ({ path: p, reason })), fileCount: this.fileCount, rules: { excludes: this.excludesKey, files: this.ruleFiles }, watchToken: this.watchToken };
  }

  private absolute(relDir: string): string {
    return relDir === '' ? this.worktree : path.join(this.worktree, relDir);
  }

  private counted(node: ScannedDir): ScannedDir {
    this.fileCount += node.files.length;
    this.onProgress?.(this.fileCount);
    return node;
  }

  /** Reads `relDir`'s ignore files into rules below `parentRules`, remembering their stats. */
  private async rulesOf(relDir: string, parentRules: DirRules, names: ReadonlySet<string>, known?: Map<string, FileStat>): Promise<DirRules> {
    for (const name of IGNORE_FILES) {
      if (!names.has(name)) continue;
      const rel = join(relDir, name);
      const stat = known?.get(rel) ?? lstatNow(path.join(this.worktree, rel));
      if (stat) this.ruleFiles.set(rel, stat);
    }
    return parentRules.child(this.worktree, relDir, names, (file, reason) => this.unreadIgnoreFiles.set(file, reason));
  }

  /** Lists `relDir` and walks everything below it. */
  async walkFull(relDir: string, parentRules: DirRules): Promise<ScannedDir> {
    const listing = this.list(relDir);
    if (!listing.entries) return listing.node;
    const names = new Set(listing.entries.map((e) => e.name));
    const rules = await this.rulesOf(relDir, parentRules, names);
    const subdirs = this.readEntries(listing.node, listing.entries, rules);
    for (const sub of subdirs) listing.node.dirs.push(await this.walkFull(sub, rules));
    return this.counted(listing.node);
  }

  /**
   * A directory the cache knows: its cached listing when the directory is unchanged, and every
   * entry of it still exists as what it was; else listed again, new subdirectories walked fully.
   */
  async walkCached(relDir: string, cache: StatCache, present: PresentStats): Promise<ScannedDir> {
    const cached = cache.dirs.get(relDir)!;
    if (present.subtreeUnchanged(relDir)) return this.carried(relDir, cache);
    const node = this.fromCache(relDir, cached, present);
    if (node) {
      this.keepRuleFiles(relDir, cached, cache);
      for (const sub of cached.subdirs) node.dirs.push(await this.walkCached(sub, cache, present));
      return this.counted(node);
    }
    const listing = this.list(relDir);
    if (!listing.entries) return listing.node;
    const names = new Set(listing.entries.map((e) => e.name));
    if (ignoreMask(names) !== cached.ignoreFiles) throw new RulesChanged();
    const rules = await this.cachedRulesOf(relDir, cache);
    const subdirs = this.readEntries(listing.node, listing.entries, rules);
    for (const sub of subdirs) listing.node.dirs.push(cache.dirs.has(sub) ? await this.walkCached(sub, cache, present) : await this.walkFull(sub, rules));
    return this.counted(listing.node);
  }

  /** A cached directory and everything below it, as the cache has them: no system call, no per-file work. */
  private carried(relDir: string, cache: StatCache): ScannedDir {
    const cached = cache.dirs.get(relDir)!;
    this.keepRuleFiles(relDir, cached, cache);
    this.fileCount += fileCountOf(cached);
    return { path: relDir, files: [], dirs: cached.subdirs.map((sub) => this.carried(sub, cache)), stat: cached.stat, complete: true, ignoreFiles: cached.ignoreFiles, unchangedFrom: cached, whole: true };
  }

  /** The ignore files of a directory whose listing is reused: their stats go into the new cache as they were. */
  private keepRuleFiles(relDir: string, cached: CachedDir, cache: StatCache): void {
    if (cached.ignoreFiles === 0) return;
    for (const name of namesOfMask(cached.ignoreFiles)) {
      const rel = join(relDir, name);
      const stat = cache.rules.files.get(rel);
      if (stat) this.ruleFiles.set(rel, stat);
    }
  }

  /**
   * The directory from its cached listing (subdirectories still to walk), or undefined when the
   * listing cannot be trusted: the directory changed, or an entry is gone or changed its type.
   * When every file is as recorded, the node says so instead of listing them.
   */
  private fromCache(relDir: string, cached: CachedDir, present: PresentStats): ScannedDir | undefined {
    if (!present.listingHolds(relDir, cached)) return undefined;
    if (!cached.subdirs.every((sub) => present.isDirectory(sub))) return undefined;
    const node: ScannedDir = { path: relDir, files: [], dirs: [], stat: cached.stat, complete: true, ignoreFiles: cached.ignoreFiles };
    if (present.filesUnchanged(relDir, cached)) {
      node.unchangedFrom = cached;
      this.fileCount += fileCountOf(cached);
      return node;
    }
    for (let k = 0; k < cached.files.length; k++) {
      const stat = present.file(relDir, k, cached.files[k]!);
      const scanned = stat && scannedFile(cached.files[k]!, stat);
      if (!scanned) return undefined;
      node.files.push(scanned);
    }
    return node;
  }

  /** The rules in force in a cached directory (its ancestors' ignore files, unchanged, read now). */
  private cachedRulesOf(relDir: string, cache: StatCache): Promise<DirRules> {
    let rules = this.cachedRules.get(relDir);
    if (!rules) {
      const parent = relDir === '' ? Promise.resolve(DirRules.root(this.excludes)) : this.cachedRulesOf(parentOf(relDir), cache);
      rules = parent.then((p) => this.rulesOf(relDir, p, namesOfMask(cache.dirs.get(relDir)!.ignoreFiles), cache.rules.files));
      this.cachedRules.set(relDir, rules);
    }
    return rules;
  }

  /** The directory's stat (taken first, so a change during the listing shows next time) and listing. */
  private list(relDir: string): { node: ScannedDir; entries?: Listed[] } {
    const absDir = this.absolute(relDir);
    const node: ScannedDir = { path: relDir, files: [], dirs: [], stat: undefined, complete: false, ignoreFiles: 0 };
    try {
      const stat = lstatSync(absDir);
      node.complete = true;
      const entries = this.readListing(absDir, node);
      node.stat = dirStatOf(stat);
      node.ignoreFiles = ignoreMask(new Set(entries.map((e) => e.name)));
      return { node, entries };
    } catch (err) {
      this.skip(node, relDir, reasonOf(err));
      return { node };
    }
  }

  /**
   * Node decodes names as UTF-8, bytes that are not becoming U+FFFD: such a name cannot be
   * opened, and two of them, or one and a real U+FFFD name, would be one tree entry. Only a
   * listing with U+FFFD in it is read again as bytes to tell them apart (rare: the common scan
   * pays nothing); a name that is not UTF-8 is reported, with its bad bytes as \xNN, and left out.
   */
  private readListing(absDir: string, node: ScannedDir): Listed[] {
    const entries = readdirSync(absDir, { withFileTypes: true });
    if (!entries.some((entry) => entry.name.includes('\uFFFD'))) return entries;
    const exact: Listed[] = [];
    for (const entry of readdirSync(absDir, { withFileTypes: true, encoding: 'buffer' })) {
      if (isUtf8(entry.name)) exact.push({ name: entry.name.toString(), isDirectory: () => entry.isDirectory() });
      else this.skip(node, join(node.path, escapedName(entry.name)), NOT_UTF8);
    }
    return exact;
  }

  private skip(node: ScannedDir, relPath: string, reason: string): void {
    this.skipped.push({ path: relPath, reason });
    node.complete = false;
  }

  /**
   * Files of a fresh listing into `node`; returns the subdirectories to enter. A name a checkout
   * would refuse (names.ts) is reported, never recorded; `.git` itself and the watcher's cookie
   * are not the user's files and are passed over in silence.
   */
  private readEntries(node: ScannedDir, entries: Listed[], rules: DirRules): string[] {
    const absDir = this.absolute(node.path);
    const subdirs: string[] = [];
    for (const entry of entries) {
      const name = entry.name;
      if (name === '.git' || (node.path === '' && isWatchCookie(name))) continue;
      const rel = join(node.path, name);
      const isDir = entry.isDirectory();
      if (rules.ignores(rel, isDir)) continue;
      const unrestorable = entryNameProblem(name);
      if (unrestorable) {
        this.skip(node, rel, notRecorded(unrestorable, 'rename it'));
        continue;
      }
      if (isDir) {
        subdirs.push(rel);
        continue;
      }
      let stat: Stats | undefined;
      try {
        stat = lstatSync(`${absDir}/${name}`, { throwIfNoEntry: false });
      } catch (err) {
        this.skip(node, rel, reasonOf(err));
        continue;
      }
      if (!stat) this.skip(node, rel, 'vanished during the scan');
      // Replaced by a directory between readdir and lstat: take it as one.
      else if (stat.isDirectory()) subdirs.push(rel);
      else {
        const file = scannedFile(rel, stat);
        if (file) node.files.push(file);
        else this.skip(node, rel, 'not a regular file, directory or symlink');
      }
    }
    return subdirs;
  }
}
