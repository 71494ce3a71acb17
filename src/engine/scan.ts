import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { DirRules } from './ignore.js';

export type FileKind = 'file' | 'link';

export interface ScannedFile {
  /** Posix path relative to the working tree root. */
  path: string;
  kind: FileKind;
  executable: boolean;
  stat: Stats;
}

export interface ScannedDir {
  path: string;
  files: ScannedFile[];
  dirs: ScannedDir[];
}

export interface SkippedPath {
  path: string;
  reason: string;
}

export interface ScanResult {
  root: ScannedDir;
  skipped: SkippedPath[];
  fileCount: number;
}

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/** A small counting semaphore: keeps enough filesystem calls in flight to use the thread pool. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the scan';
  return (err as Error).message;
}

/**
 * Walks the working tree: ignore rules applied per directory (ignored directories are never
 * entered), every `.git` skipped, symlinks never followed, special files reported as skipped.
 */
export async function scanWorktree(worktree: string, excludes: string[], onProgress?: (files: number) => void): Promise<ScanResult> {
  const skipped: SkippedPath[] = [];
  const limiter = new Limiter(64);
  let fileCount = 0;

  const walk = async (relDir: string, parentRules: DirRules): Promise<ScannedDir> => {
    const node: ScannedDir = { path: relDir, files: [], dirs: [] };
    let entries;
    try {
      entries = await limiter.run(() => fsp.readdir(path.join(worktree, relDir), { withFileTypes: true }));
    } catch (err) {
      skipped.push({ path: relDir, reason: reasonOf(err) });
      return node;
    }
    const names = new Set(entries.map((e) => e.name));
    const rules = await parentRules.child(worktree, relDir, names);
    const subdirs: Array<Promise<ScannedDir>> = [];
    const files: Array<Promise<ScannedFile | undefined>> = [];
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const rel = join(relDir, entry.name);
      if (entry.isDirectory()) {
        if (!rules.ignores(rel, true)) subdirs.push(walk(rel, rules));
        continue;
      }
      if (rules.ignores(rel, false)) continue;
      files.push(
        limiter.run(async () => {
          let stat: Stats;
          try {
            stat = await fsp.lstat(path.join(worktree, rel));
          } catch (err) {
            skipped.push({ path: rel, reason: reasonOf(err) });
            return undefined;
          }
          if (stat.isDirectory()) {
            // Replaced by a directory between readdir and lstat: take it as one.
            subdirs.push(walk(rel, rules));
            return undefined;
          }
          if (stat.isSymbolicLink()) return { path: rel, kind: 'link', executable: false, stat };
          if (stat.isFile()) return { path: rel, kind: 'file', executable: (stat.mode & 0o100) !== 0, stat };
          skipped.push({ path: rel, reason: 'not a regular file, directory or symlink' });
          return undefined;
        }),
      );
    }
    for (const file of await Promise.all(files)) if (file) node.files.push(file);
    fileCount += node.files.length;
    onProgress?.(fileCount);
    node.dirs = await Promise.all(subdirs);
    return node;
  };

  const root = await walk('', DirRules.root(excludes));
  return { root, skipped, fileCount };
}
