import { promises as fsp, type Stats } from 'node:fs';
import { writeFileAtomic } from './fsutil.js';
import { faultPoint } from './faults.js';
import type { EntryMode } from './gitformat.js';

/** What the cache remembers of one file: enough of its stat to know it is unchanged. */
export interface CachedFile {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  mode: EntryMode;
  oid: string;
}

interface CacheFileFormat {
  version: 1;
  tree: string | undefined;
  files: Record<string, [number, number, number, number, EntryMode, string]>;
  trees: string[];
}

/**
 * The stat cache: path → (stat, blob id) of the tree last recorded or restored, plus the ids of
 * that tree's subtrees. A file modified in the same timestamp tick as the cache was written is
 * "racy" and is hashed again (git's rule), so a same-size rewrite is never missed.
 */
export class StatCache {
  constructor(
    /** Root tree these entries describe. */
    public tree: string | undefined,
    readonly files: Map<string, CachedFile>,
    readonly trees: Set<string>,
    private readonly writtenAtMs: number,
  ) {}

  static empty(): StatCache {
    return new StatCache(undefined, new Map(), new Set(), 0);
  }

  static async load(file: string): Promise<StatCache> {
    try {
      const [text, stat] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
      const data = JSON.parse(text) as CacheFileFormat;
      if (data.version !== 1) return StatCache.empty();
      const files = new Map<string, CachedFile>();
      for (const [p, [mtimeMs, ctimeMs, size, ino, mode, oid]] of Object.entries(data.files)) files.set(p, { mtimeMs, ctimeMs, size, ino, mode, oid });
      return new StatCache(data.tree, files, new Set(data.trees), stat.mtimeMs);
    } catch {
      // A missing or damaged cache only costs a full re-hash.
      return StatCache.empty();
    }
  }

  /** The cached blob id when `stat` shows the file untouched since it was hashed. */
  lookup(relPath: string, stat: Stats, mode: EntryMode): string | undefined {
    const entry = this.files.get(relPath);
    if (!entry) return undefined;
    if (entry.mtimeMs !== stat.mtimeMs || entry.ctimeMs !== stat.ctimeMs || entry.size !== stat.size || entry.ino !== stat.ino || entry.mode !== mode) return undefined;
    if (entry.mtimeMs >= this.writtenAtMs) return undefined;
    return entry.oid;
  }

  async save(file: string): Promise<void> {
    const files: CacheFileFormat['files'] = {};
    for (const [p, e] of this.files) files[p] = [e.mtimeMs, e.ctimeMs, e.size, e.ino, e.mode, e.oid];
    const data: CacheFileFormat = { version: 1, tree: this.tree, files, trees: [...this.trees] };
    await faultPoint('statcache');
    // Not fsynced: losing the cache only costs a re-hash.
    await writeFileAtomic(file, JSON.stringify(data), { durable: false });
  }
}
