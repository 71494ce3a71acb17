import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { DirRules } from './ignore.js';

export type FileKind = 'file' | 'link';

/** The part of a file's stat the stat cache compares: small, so 100k of them stay cheap. */
export interface FileStat {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  mode: number;
}

export interface ScannedFile {
  /** Posix path relative to the working tree root. */
  path: string;
  kind: FileKind;
  executable: boolean;
  stat: FileStat;
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

const NOT_UTF8 = 'its name is not valid UTF-8, which shadowgit cannot record yet; rename it to back it up';

export function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the scan';
  return (err as Error).message;
}

/** Two stats of one file agree: nothing was written to it (or it replaced) in between. */
export const sameStat = (a: FileStat, b: FileStat) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

export function fileStatOf(stat: FileStat): FileStat {
  return { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode: stat.mode };
}

/**
 * Walks the working tree: ignore rules applied per directory (ignored directories are never
 * entered), every `.git` skipped, symlinks never followed, special files reported as skipped.
 *
 * The directory and stat calls are synchronous on purpose: profiling showed a promise per
 * `lstat` costing 3–5× the system call itself, and a warm walk is CPU-bound in JavaScript, not
 * waiting on the disk. Only reading ignore files awaits.
 */
export async function scanWorktree(worktree: string, excludes: string[], onProgress?: (files: number) => void): Promise<ScanResult> {
  const skipped: SkippedPath[] = [];
  let fileCount = 0;

  const walk = async (relDir: string, parentRules: DirRules): Promise<ScannedDir> => {
    const node: ScannedDir = { path: relDir, files: [], dirs: [] };
    const absDir = relDir === '' ? worktree : path.join(worktree, relDir);
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      skipped.push({ path: relDir, reason: relDir.includes('\uFFFD') ? NOT_UTF8 : reasonOf(err) });
      return node;
    }
    const rules = await parentRules.child(worktree, relDir, new Set(entries.map((e) => e.name)));
    const subdirs: string[] = [];
    for (const entry of entries) {
      const name = entry.name;
      if (name === '.git') continue;
      const rel = join(relDir, name);
      if (entry.isDirectory()) {
        if (!rules.ignores(rel, true)) subdirs.push(rel);
        continue;
      }
      if (rules.ignores(rel, false)) continue;
      let stat;
      try {
        stat = lstatSync(`${absDir}/${name}`, { throwIfNoEntry: false });
      } catch (err) {
        skipped.push({ path: rel, reason: reasonOf(err) });
        continue;
      }
      // Node reads names as UTF-8: a name that is not comes back with U+FFFD and cannot be opened.
      if (!stat) skipped.push({ path: rel, reason: name.includes('\uFFFD') ? NOT_UTF8 : 'vanished during the scan' });
      // Replaced by a directory between readdir and lstat: take it as one.
      else if (stat.isDirectory()) subdirs.push(rel);
      else if (stat.isSymbolicLink()) node.files.push({ path: rel, kind: 'link', executable: false, stat: fileStatOf(stat) });
      else if (stat.isFile()) node.files.push({ path: rel, kind: 'file', executable: (stat.mode & 0o100) !== 0, stat: fileStatOf(stat) });
      else skipped.push({ path: rel, reason: 'not a regular file, directory or symlink' });
    }
    fileCount += node.files.length;
    onProgress?.(fileCount);
    for (const sub of subdirs) node.dirs.push(await walk(sub, rules));
    return node;
  };

  const root = await walk('', DirRules.root(excludes));
  return { root, skipped, fileCount };
}
