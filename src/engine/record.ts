import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { forEachLimit } from './fsutil.js';
import { encodeTree, MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, type EntryMode, type TreeEntry } from './gitformat.js';
import { hashObject, STREAM_THRESHOLD, type ObjectStore } from './objects.js';
import type { ScanResult, ScannedDir, ScannedFile, SkippedPath } from './scan.js';
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

const sameStat = (a: Stats, b: Stats) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/**
 * Reads a file's content consistently: fstat before and after the read must agree, else the
 * file changed while read and is read again. Returns the stat that matches the content.
 */
async function readStable(file: string): Promise<{ content: Buffer; stat: Stats }> {
  for (let attempt = 0; ; attempt++) {
    const handle = await fsp.open(file, 'r');
    try {
      const before = await handle.stat();
      const content = await handle.readFile();
      const after = await handle.stat();
      if ((sameStat(before, after) && content.length === after.size) || attempt >= 3) return { content, stat: after };
    } finally {
      await handle.close();
    }
  }
}

/**
 * Turns a scan into git objects: unchanged files (stat cache hit) reuse their blob id, changed
 * ones are hashed (and, when `store` is given, written); trees are built bottom-up and only
 * those not already in the repository are written. Without a store nothing is written: that is
 * how `status` and `diff` learn the working tree's ids; `known` lists files whose blobs the
 * repository holds (a checkout's target), which the new cache may then remember.
 */
export async function recordTree(worktree: string, scan: ScanResult, previous: StatCache, store: ObjectStore | undefined, known?: FlatTree): Promise<RecordedTree> {
  const files: FlatTree = new Map();
  const cache = new StatCache(undefined, new Map(), new Set(), 0);
  const skipped = [...scan.skipped];
  const toHash: ScannedFile[] = [];

  const collect = (dir: ScannedDir) => {
    for (const file of dir.files) {
      const mode = modeOf(file);
      const oid = previous.lookup(file.path, file.stat, mode);
      if (oid) {
        files.set(file.path, { oid, mode });
        cache.files.set(file.path, { mtimeMs: file.stat.mtimeMs, ctimeMs: file.stat.ctimeMs, size: file.stat.size, ino: file.stat.ino, mode, oid });
      } else toHash.push(file);
    }
    dir.dirs.forEach(collect);
  };
  collect(scan.root);

  await forEachLimit(toHash, 16, async (file) => {
    const full = path.join(worktree, file.path);
    const mode = modeOf(file);
    try {
      let oid: string;
      let stat = file.stat;
      if (file.kind === 'link') {
        const target = await fsp.readlink(full, { encoding: 'buffer' });
        oid = store ? await store.write('blob', target) : hashObject('blob', target);
      } else if (file.stat.size > STREAM_THRESHOLD) {
        oid = store ? await store.writeBlobFromFile(full, file.stat.size) : await hashFileStreaming(full, file.stat.size);
      } else {
        const read = await readStable(full);
        stat = read.stat;
        oid = store ? await store.write('blob', read.content) : hashObject('blob', read.content);
      }
      files.set(file.path, { oid, mode });
      // The cache lets later snapshots skip writing a blob, so it only names blobs the
      // repository is known to hold: written now, or already part of `known`.
      if (store || known?.get(file.path)?.oid === oid) cache.files.set(file.path, { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode, oid });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'vanished during the scan' : (err as Error).message;
      skipped.push({ path: file.path, reason });
    }
  });

  const buildTree = async (dir: ScannedDir): Promise<string | undefined> => {
    const entries: TreeEntry[] = [];
    for (const file of dir.files) {
      const entry = files.get(file.path);
      if (entry) entries.push({ name: path.posix.basename(file.path), mode: entry.mode, oid: entry.oid });
    }
    for (const sub of dir.dirs) {
      const oid = await buildTree(sub);
      if (oid) entries.push({ name: path.posix.basename(sub.path), mode: MODE_TREE, oid });
    }
    // Git has no empty trees below the root: an empty directory is not recorded.
    if (entries.length === 0 && dir.path !== '') return undefined;
    const content = encodeTree(entries);
    const oid = hashObject('tree', content);
    if (store && !previous.trees.has(oid)) {
      await faultPoint('tree');
      await store.write('tree', content);
    }
    if (store || previous.trees.has(oid)) cache.trees.add(oid);
    return oid;
  };
  const tree = (await buildTree(scan.root))!;
  cache.tree = tree;
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { tree, files, skipped, cache };
}

async function hashFileStreaming(file: string, size: number): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
