import { closeSync, constants as fsc, fstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import path from 'node:path';
import { forEachLimit } from './fsutil.js';
import { encodeTree, MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, type EntryMode, type TreeEntry } from './gitformat.js';
import { hashObject, STREAM_THRESHOLD, streamBlob, type ObjectStore } from './objects.js';
import { fileStatOf, reasonOf, sameStat, type FileStat, type ScanResult, type ScannedDir, type ScannedFile, type SkippedPath } from './scan.js';
import { StatCache } from './statcache.js';
import { faultPoint } from './faults.js';

/** A path's content as git records it: blob id and mode. */
export interface FlatEntry {
  oid: string;
  mode: EntryMode;
}

/** Path → entry for every file (blob or symlink) of a tree. */
export type FlatTree = Map<string, FlatEntry>;

export interface RecordedTree {
  tree: string;
  files: FlatTree;
  skipped: SkippedPath[];
  cache: StatCache;
}

function modeOf(file: ScannedFile): EntryMode {
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
 * Turns a scan into git objects: unchanged files (stat cache hit) reuse their blob id, changed
 * ones are hashed (and, when `store` is given, written); trees are built bottom-up, a directory
 * whose entries all match the cache keeps its cached tree id without being encoded again, and
 * only new trees are written. Without a store nothing is written: that is how `status` and
 * `diff` learn the working tree's ids; `known` lists files whose blobs the repository holds (a
 * checkout's target), which the new cache may then remember.
 *
 * The cache lets later snapshots skip writing, so it only ever names objects the repository
 * holds: written now, carried over from the previous cache, or part of `known`.
 */
export async function recordTree(worktree: string, scan: ScanResult, previous: StatCache, store: ObjectStore | undefined, known?: FlatTree): Promise<RecordedTree> {
  const files: FlatTree = new Map();
  const cache = StatCache.empty();
  const skipped = [...scan.skipped];
  const toHash: ScannedFile[] = [];

  const collect = (dir: ScannedDir) => {
    for (const file of dir.files) {
      // A hit's cache entry is still true: it serves as the new cache entry and as the file's
      // entry (it has the oid and mode), with nothing allocated per unchanged file.
      const hit = previous.entryIfUnchanged(file.path, file.stat, modeOf(file));
      if (hit) {
        files.set(file.path, hit);
        cache.files.set(file.path, hit);
      } else toHash.push(file);
    }
    for (const sub of dir.dirs) collect(sub);
  };
  collect(scan.root);

  await forEachLimit(toHash, HASH_CONCURRENCY, async (file) => {
    const full = path.join(worktree, file.path);
    const mode = modeOf(file);
    try {
      let oid: string;
      let stat = file.stat;
      if (file.kind === 'link') {
        const target = readlinkSync(full, { encoding: 'buffer' });
        oid = hashObject('blob', target);
        if (store) await store.write('blob', target, oid);
      } else if (file.stat.size > STREAM_THRESHOLD) {
        const blob = await streamBlob(full, store);
        oid = blob.oid;
        stat = blob.consistent ? fileStatOf(blob.stat) : NEVER_MATCHES;
      } else {
        const read = readStable(full);
        stat = read.stat;
        oid = hashObject('blob', read.content);
        if (store) await store.write('blob', read.content, oid);
      }
      files.set(file.path, { oid, mode });
      if (store || known?.get(file.path)?.oid === oid) cache.files.set(file.path, { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode, oid });
    } catch (err) {
      skipped.push({ path: file.path, reason: (err as NodeJS.ErrnoException).code === 'ECHANGED' ? 'changed into something else during the scan' : reasonOf(err) });
    }
  });

  const treeWrites: Array<{ oid: string; content: Buffer }> = [];
  /** Returns the directory's tree id (undefined when empty) and whether it equals the cached one. */
  const buildTree = (dir: ScannedDir): { oid: string | undefined; same: boolean } => {
    const cached = previous.dirs.get(dir.path);
    let same = cached !== undefined;
    let count = 0;
    for (const file of dir.files) {
      const entry = files.get(file.path);
      if (!entry) continue;
      count++;
      if (!same) continue;
      const before = previous.files.get(file.path);
      if (!before || before.oid !== entry.oid || before.mode !== entry.mode) same = false;
    }
    const subtrees = dir.dirs.map(buildTree);
    for (const sub of subtrees) {
      if (!sub.same) same = false;
      if (sub.oid) count++;
    }
    // Git has no empty trees below the root: an empty directory is not recorded.
    if (count === 0 && dir.path !== '') return { oid: undefined, same: cached === undefined };
    // Every entry now was an entry before, with the same id, and there are as many: same tree.
    if (same && cached!.entries === count) {
      cache.dirs.set(dir.path, cached!);
      return { oid: cached!.tree, same: true };
    }
    const nameAt = dir.path === '' ? 0 : dir.path.length + 1;
    const entries: TreeEntry[] = [];
    for (const file of dir.files) {
      const entry = files.get(file.path);
      if (entry) entries.push({ name: file.path.slice(nameAt), mode: entry.mode, oid: entry.oid });
    }
    dir.dirs.forEach((sub, i) => {
      const oid = subtrees[i]!.oid;
      if (oid) entries.push({ name: sub.path.slice(nameAt), mode: MODE_TREE, oid });
    });
    const content = encodeTree(entries);
    const oid = hashObject('tree', content);
    treeWrites.push({ oid, content });
    if (store) cache.dirs.set(dir.path, { tree: oid, entries: count });
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
  cache.unchangedSinceLoad = toHash.length === 0 && root.same && previous.files.size === cache.files.size && previous.dirs.size === cache.dirs.size && previous.tree === tree;
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { tree, files, skipped, cache };
}
