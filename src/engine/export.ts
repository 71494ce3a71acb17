import { promises as fsp, constants as fsc } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ShadowGitError } from './errors.js';
import { forEachLimit, tempPathFor } from './fsutil.js';
import { MODE_EXEC, MODE_LINK } from './gitformat.js';
import type { SnapshotInfo } from './history.js';
import type { Repository } from './repo.js';
import { readFlatTree } from './treeread.js';

/** An archive with no entries: just the two zero blocks that end every tar. */
const EMPTY_TAR = Buffer.alloc(1024);

export type ExportFormat = 'directory' | 'tar' | 'tar.gz';

export interface ExportResult {
  out: string;
  format: ExportFormat;
  files: number;
  symlinks: number;
  bytes: number;
}

export function exportFormatOf(out: string): ExportFormat {
  if (/\.(tar\.gz|tgz)$/i.test(out)) return 'tar.gz';
  if (/\.tar$/i.test(out)) return 'tar';
  return 'directory';
}

async function isOccupied(target: string): Promise<boolean> {
  const stat = await fsp.lstat(target).catch(() => undefined);
  if (!stat) return false;
  if (!stat.isDirectory()) return true;
  return (await fsp.readdir(target)).length > 0;
}

/**
 * Writes the tree of `snapshot` as a clean copy: a directory, or a .tar/.tar.gz archive (by the
 * name of `out`), with modes and symlinks as recorded. Everything is built under a temp name and
 * renamed into place at the end, so a failure (e.g. a damaged object) leaves `out` as it was.
 */
export async function exportSnapshot(repo: Repository, snapshot: SnapshotInfo, out: string, options: { force?: boolean } = {}): Promise<ExportResult> {
  const format = exportFormatOf(out);
  if (!options.force && (await isOccupied(out))) {
    throw new ShadowGitError(`${out} already exists${format === 'directory' ? ' and is not empty' : ''}; choose another place, or pass --force to replace it.`, 'EEXISTS');
  }
  await fsp.mkdir(path.dirname(out), { recursive: true });
  const files = await readFlatTree(repo.objects, snapshot.tree);
  const staging = format === 'directory' ? tempPathFor(out) : await fsp.mkdtemp(path.join(os.tmpdir(), 'shadowgit-export-'));
  try {
    await fsp.mkdir(staging, { recursive: true, mode: 0o755 });
    const dirs = ancestorDirectories([...files.keys()]);
    const result = await writeFiles(repo, files, dirs, staging);
    await stampDates(staging, files, dirs, snapshot.date);
    if (format === 'directory') await replaceWith(staging, out);
    else await writeArchive(staging, out, format);
    return { out, format, ...result };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** Every directory that holds a path, parents before children ("a", "a/b", …). */
function ancestorDirectories(paths: string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort();
}

/** Regular files first, symlinks last, so no write can follow a link this export made. */
async function writeFiles(repo: Repository, files: ReadonlyMap<string, { oid: string; mode: string }>, dirs: string[], root: string): Promise<{ files: number; symlinks: number; bytes: number }> {
  const paths = [...files.keys()].sort();
  for (const dir of dirs) await fsp.mkdir(path.join(root, dir), { mode: 0o755 });
  let bytes = 0;
  const links = paths.filter((p) => files.get(p)!.mode === MODE_LINK);
  await forEachLimit(
    paths.filter((p) => files.get(p)!.mode !== MODE_LINK),
    16,
    async (rel) => {
      const entry = files.get(rel)!;
      const content = await repo.objects.readTyped(entry.oid, 'blob', rel);
      const mode = entry.mode === MODE_EXEC ? 0o755 : 0o644;
      const handle = await fsp.open(path.join(root, rel), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
      try {
        await handle.writeFile(content);
        await handle.chmod(mode);
      } finally {
        await handle.close();
      }
      bytes += content.length;
    },
  );
  for (const rel of links) await fsp.symlink((await repo.objects.readTyped(files.get(rel)!.oid, 'blob', rel)).toString('utf8'), path.join(root, rel));
  // mkdir honours the umask; an export should carry the usual 755 whatever it is.
  for (const dir of dirs) await fsp.chmod(path.join(root, dir), 0o755);
  await fsp.chmod(root, 0o755);
  return { files: paths.length - links.length, symlinks: links.length, bytes };
}

/** Every file, link and directory gets the snapshot's date: the copy says when its content is from. */
async function stampDates(root: string, files: ReadonlyMap<string, { mode: string }>, dirs: string[], date: Date): Promise<void> {
  await forEachLimit([...files], 16, async ([rel, entry]) => {
    const full = path.join(root, rel);
    await (entry.mode === MODE_LINK ? fsp.lutimes(full, date, date) : fsp.utimes(full, date, date));
  });
  for (const dir of [...dirs, '']) await fsp.utimes(path.join(root, dir), date, date);
}

/** Swaps `staging` in for `out`; a previous `out` (only with --force) is moved aside first and removed last. */
async function replaceWith(staging: string, out: string): Promise<void> {
  const previous = (await fsp.lstat(out).catch(() => undefined)) ? tempPathFor(`${out}.old`) : undefined;
  if (previous) await fsp.rename(out, previous);
  await fsp.rename(staging, out);
  if (previous) await fsp.rm(previous, { recursive: true, force: true });
}

async function writeArchive(staging: string, out: string, format: ExportFormat): Promise<void> {
  const tar = await import('tar');
  const tmp = tempPathFor(out);
  try {
    const entries = (await fsp.readdir(staging)).sort();
    // portable: no uid, gid, user names or atimes in the archive.
    if (entries.length > 0) await tar.create({ file: tmp, cwd: staging, gzip: format === 'tar.gz', portable: true }, entries);
    else await fsp.writeFile(tmp, format === 'tar.gz' ? gzipSync(EMPTY_TAR) : EMPTY_TAR);
    await fsp.rename(tmp, out);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
