// The stat of a worktree entry as the scanner, the stat cache, the object store and the
// checkout compare it: one type and one comparison, so "unchanged" means the same everywhere.

/** The part of a file's stat the stat cache compares: small, so 100k of them stay cheap. */
export interface FileStat {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  mode: number;
}

/** The part of a directory's stat that changes whenever an entry is added, removed or renamed. */
export interface DirStat {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** Two stats of one file agree: nothing was written to it (or it replaced) in between. */
export const sameStat = (a: FileStat, b: FileStat) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

export const sameDirStat = (a: DirStat, b: DirStat) => a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

export function fileStatOf(stat: FileStat): FileStat {
  return { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, ino: stat.ino, mode: stat.mode };
}

export function dirStatOf(stat: FileStat): DirStat {
  return { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
}
