import { createWriteStream, promises as fsp, constants as fsc, type Dirent, type Stats } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { explainFilesystemError, ShadowGitError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { forEachLimit, NotRegularFileError, readRegularFile, TEMP_NAME, tempPathFor } from '../fsutil.js';
import { MODE_EXEC, MODE_LINK, type FlatTree } from '../store/gitformat.js';
import type { SnapshotInfo } from '../snapshot/history.js';
import { processAlive } from '../store/lock.js';
import { shadowHome } from '../store/paths.js';
import type { Repository } from '../store/repo.js';
import { readFlatTree } from '../snapshot/treeread.js';
import type { HeaderData } from 'tar';

/**
 * The file a directory export carries at its top, so that a later `--force` can tell a copy it
 * may replace from a directory that only happens to be there.
 */
export const EXPORT_MARKER = '.shadowgit-export';
/** How the marker file, and the comment in an archive's pax global header, begin. */
const EXPORT_STAMP = 'shadowgit export of snapshot ';
/** Bytes read from the start of an existing archive to find its global header (gzip inflates as a stream). */
const ARCHIVE_HEAD_BYTES = 4096;

export type ExportFormat = 'directory' | 'tar' | 'tar.gz';

export interface ExportResult {
  out: string;
  format: ExportFormat;
  files: number;
  symlinks: number;
  bytes: number;
}

interface Counts {
  files: number;
  symlinks: number;
  bytes: number;
}

/** Where the export lands, resolved, and what it replaces (only a previous export, only with --force). */
interface Target {
  /** OUT with every existing parent directory resolved: the name the final rename gives. */
  place: string;
  replaces?: Stats;
}

/**
 * Names of archive formats export does not write: such a name must not quietly become a
 * directory called x.zip. (A zip writer would be one more dependency for what `zip -r` does
 * with a directory export.)
 */
const UNSUPPORTED_ARCHIVE = /\.(zip|7z|rar|jar|war|tar\.(xz|bz2|zst|lz|lz4|lzma|z)|txz|tbz2?|tzst|tlz|gz|bz2|xz|zst|lz4|lzma|cpio|iso|dmg|cab)$/i;

export function exportFormatOf(out: string): ExportFormat {
  if (/\.(tar\.gz|tgz)$/i.test(out)) return 'tar.gz';
  if (/\.tar$/i.test(out)) return 'tar';
  const unsupported = UNSUPPORTED_ARCHIVE.exec(out);
  if (unsupported) {
    throw new ShadowGitError(`cannot export to ${out}: export writes a directory, a .tar or a .tar.gz (.tgz) archive, not ${unsupported[0]}; name the output ….tar.gz, or export to a directory and pack that yourself.`, 'EUSAGE');
  }
  return 'directory';
}

/**
 * Writes the tree of `snapshot` as a clean copy: a directory, or a .tar/.tar.gz archive (by the
 * name of `out`), with modes and symlinks as recorded. `out` is checked whole before anything is
 * written: never the working tree, a git directory, the shadow repository or SHADOWGIT_HOME, and
 * with --force it replaces only a previous export. Everything is built in a private (0700) temp
 * directory beside `out` and renamed into place at the end, so a failure or a kill leaves `out`
 * as it was; the temp of a killed export is removed by the next export to the same place.
 */
export async function exportSnapshot(repo: Repository, snapshot: SnapshotInfo, out: string, options: { force?: boolean } = {}): Promise<ExportResult> {
  const format = exportFormatOf(out);
  try {
    const target = await checkTarget(repo, out, format, Boolean(options.force));
    const files = await readFlatTree(repo.objects, snapshot.tree);
    await fsp.mkdir(path.dirname(target.place), { recursive: true });
    await removeAbandonedTemps(target.place);
    const temp = tempPathFor(target.place);
    await fsp.mkdir(temp, { mode: 0o700 });
    try {
      const dirs = ancestorDirectories([...files.keys()]);
      if (format === 'directory') {
        const counts = await writeDirectory(repo, snapshot, files, dirs, temp);
        await moveIntoPlace(temp, target, out);
        return { out, format, ...counts };
      }
      const archive = path.join(temp, 'archive');
      const counts = await writeArchive(repo, snapshot, files, dirs, temp, archive, format);
      await moveIntoPlace(archive, target, out);
      return { out, format, ...counts };
    } finally {
      await fsp.rm(temp, { recursive: true, force: true });
    }
  } catch (err) {
    throw explainExportError(err, out);
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

const fileMode = (mode: string) => (mode === MODE_EXEC ? 0o755 : 0o644);

// ---------------------------------------------------------------------------------------------
// Where the export may go

/** Refuses every `out` that is not safe to write (see exportSnapshot); returns where to write. */
async function checkTarget(repo: Repository, out: string, format: ExportFormat, force: boolean): Promise<Target> {
  const place = await resolveParents(out);
  const areas = await protectedAreas(repo);
  await refuseProtected(out, place, areas);
  const stat = await fsp.lstat(place).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!stat) return { place };
  if (stat.isSymbolicLink()) {
    const linked = await fsp.realpath(place).catch(() => undefined);
    if (linked) await refuseProtected(out, linked, areas);
    throw new ShadowGitError(`${out} is a symbolic link, and export never writes through one; name the place itself${linked ? ` (${linked})` : ''}, or remove the link.`, 'EEXISTS');
  }
  const other = `${out} already exists and was not written by \`shadowgit export\`; choose another place, or remove it yourself if you mean to replace it.`;
  if (format === 'directory') {
    if (stat.isFile()) throw new ShadowGitError(`${out} is a file, and a directory export needs a directory there; choose another place (a name ending in .tar, .tar.gz or .tgz writes an archive).`, 'EEXISTS');
    if (!stat.isDirectory()) throw new ShadowGitError(other, 'EEXISTS');
    // An empty directory is taken as it is: the final rename replaces it, and fails if it filled up meanwhile.
    if ((await fsp.readdir(place)).length === 0) return { place };
    if (!(await isDirectoryExport(place))) throw new ShadowGitError(`${out} already exists, is not empty and is not a previous export (it has no ${EXPORT_MARKER}); choose another place, or empty it yourself if you mean to replace it.`, 'EEXISTS');
    if (!force) throw new ShadowGitError(`${out} already exists and is not empty; choose another place, or pass --force to replace it.`, 'EEXISTS');
    const repository = await findGitDirectory(place);
    if (repository !== undefined) throw new ShadowGitError(`${out} is a previous export, but it now holds a git repository (${path.join(out, repository)}); move that out of it, or choose another place.`, 'EEXISTS');
    return { place, replaces: stat };
  }
  if (stat.isDirectory()) throw new ShadowGitError(`${out} is a directory, but a name ending in .tar, .tar.gz or .tgz is written as an archive file; choose another name, or remove the directory yourself.`, 'EEXISTS');
  if (!stat.isFile() || !(await isArchiveExport(place))) throw new ShadowGitError(other, 'EEXISTS');
  if (!force) throw new ShadowGitError(`${out} already exists; choose another place, or pass --force to replace it.`, 'EEXISTS');
  return { place, replaces: stat };
}

/**
 * `file` with every existing parent directory resolved through its symlinks (realpath of the
 * deepest existing one, plus the rest), the last name as given: the place a write would land.
 */
async function resolveParents(file: string): Promise<string> {
  const parent = path.dirname(file);
  if (parent === file) return file;
  const missing: string[] = [];
  let dir = parent;
  for (;;) {
    const real = await fsp.realpath(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
      throw err;
    });
    if (real !== undefined) {
      if (!(await fsp.stat(real)).isDirectory()) throw new ShadowGitError(`cannot export to ${file}: ${dir} is a file, not a directory; choose another place.`, 'ENOTDIR');
      const next = missing.at(-1);
      // realpath said the next name does not exist, yet something is there: a dangling or looping link.
      if (next !== undefined && (await fsp.lstat(path.join(real, next)).catch(() => undefined))) {
        throw new ShadowGitError(`cannot export to ${file}: ${path.join(dir, next)} is a symbolic link that leads nowhere; fix or remove the link, or choose another place.`, 'ENOTDIR');
      }
      return path.join(real, ...missing.reverse(), path.basename(file));
    }
    if (path.dirname(dir) === dir) return file;
    missing.push(path.basename(dir));
    dir = path.dirname(dir);
  }
}

interface ProtectedArea {
  what: string;
  path: string;
}

async function protectedAreas(repo: Repository): Promise<ProtectedArea[]> {
  const real = (p: string) => fsp.realpath(p).catch(() => resolveParents(p));
  return [
    { what: 'the working tree', path: repo.worktree },
    { what: 'the shadow repository', path: await real(repo.gitdir) },
    { what: "shadowgit's home (SHADOWGIT_HOME)", path: await real(shadowHome()) },
  ];
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Refuses a real path that is, holds or lies inside a protected area, or lies in a git
 * directory: a `.git` at any depth, or any directory laid out as one (a bare repository).
 */
async function refuseProtected(out: string, real: string, areas: ProtectedArea[]): Promise<void> {
  // The closest relation names the area best: inside the shadow repository rather than inside
  // the home that holds it; holding the working tree before holding the shadow repository.
  const deepestFirst = [...areas].sort((a, b) => b.path.length - a.path.length);
  const found: Array<[string, ProtectedArea | undefined]> = [
    ['is', areas.find((area) => real === area.path)],
    ['is inside', deepestFirst.find((area) => isInside(real, area.path))],
    ['holds', areas.find((area) => isInside(area.path, real))],
  ];
  for (const [relation, area] of found) {
    if (area) throw new ShadowGitError(`cannot export to ${out}: it ${relation} ${area.what} (${area.path}), which an export must never overwrite; choose a place ${relation === 'holds' ? 'that does not hold it' : 'outside it'}.`, 'EPROTECTED');
  }
  for (let dir = real; ; dir = path.dirname(dir)) {
    if (path.basename(dir).toLowerCase() === '.git' || looksLikeGitDirectory(await fsp.readdir(dir, { withFileTypes: true }).catch(() => []))) {
      throw new ShadowGitError(`cannot export to ${out}: ${dir === real ? 'it is' : 'it is inside'} the git directory ${dir}; choose a place outside any git repository's .git.`, 'EPROTECTED');
    }
    if (path.dirname(dir) === dir) return;
  }
}

/** A bare repository's layout: HEAD, objects/ and refs/ side by side. */
function looksLikeGitDirectory(entries: Dirent[]): boolean {
  const kind = new Map(entries.map((e) => [e.name, e]));
  return Boolean(kind.get('HEAD')?.isFile() && kind.get('objects')?.isDirectory() && kind.get('refs')?.isDirectory());
}

/** The first `.git` (file or directory) or bare repository under `dir`, relative to it; links are not followed. */
async function findGitDirectory(dir: string, rel = ''): Promise<string | undefined> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  if (looksLikeGitDirectory(entries)) return rel || '.';
  for (const entry of entries) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.name.toLowerCase() === '.git') return child;
    if (entry.isDirectory()) {
      const found = await findGitDirectory(path.join(dir, entry.name), child);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

async function isDirectoryExport(dir: string): Promise<boolean> {
  try {
    const marker = await readRegularFile(path.join(dir, EXPORT_MARKER), { maxBytes: 4096 });
    return marker?.toString('utf8').startsWith(EXPORT_STAMP) ?? false;
  } catch (err) {
    if (err instanceof NotRegularFileError) return false;
    throw err;
  }
}

/** A regular file whose first tar header is the pax global header an archive export writes. */
async function isArchiveExport(file: string): Promise<boolean> {
  const { Header, Pax } = await import('tar');
  const handle = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) return false;
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(ARCHIVE_HEAD_BYTES), 0, ARCHIVE_HEAD_BYTES, 0);
    let head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) head = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (head.length < 512) return false;
    const header = new Header(head.subarray(0, 512));
    if (!header.cksumValid || header.type !== 'GlobalExtendedHeader' || !header.size || 512 + header.size > head.length) return false;
    const comment = Pax.parse(head.subarray(512, 512 + header.size).toString('utf8'), undefined, true).comment;
    return comment?.startsWith(EXPORT_STAMP) ?? false;
  } catch {
    // Not gzip after all, or not a tar: not an export.
    return false;
  } finally {
    await handle.close();
  }
}

/** Temps beside `place` left by an export (or replacement) whose process is gone. */
async function removeAbandonedTemps(place: string): Promise<void> {
  const dir = path.dirname(place);
  // What tempPathFor puts before the pid: the same name cut to the same length.
  const prefix = path.basename(tempPathFor(place)).replace(/\d+\.[0-9a-f]{8}\.tmp$/, '');
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const writer = name.startsWith(prefix) ? TEMP_NAME.exec(name)?.[1] : undefined;
    if (writer && !processAlive(Number(writer))) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Renames the finished export to its place. A previous export is first moved aside and checked
 * to be the one that was inspected (not something swapped in since), and removed only after the
 * new one is in place; a new archive is hard-linked so an archive that appeared meanwhile stays.
 */
async function moveIntoPlace(built: string, target: Target, out: string): Promise<void> {
  const { place, replaces } = target;
  if (!replaces) {
    if ((await fsp.lstat(built)).isDirectory()) return fsp.rename(built, place);
    try {
      return await fsp.link(built, place);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
      // A file system without hard links: the plain rename, which would replace a newcomer.
      return fsp.rename(built, place);
    }
  }
  const aside = tempPathFor(place);
  await fsp.rename(place, aside);
  const moved = await fsp.lstat(aside);
  if (moved.dev !== replaces.dev || moved.ino !== replaces.ino) {
    await fsp.rename(aside, place);
    throw new ShadowGitError(`${out} was replaced by something else while the export was written; nothing was changed — look at it, then run the export again.`, 'ECHANGED');
  }
  await fsp.rename(built, place);
  await fsp.rm(aside, { recursive: true, force: true });
}

/** Errors of the file system become one sentence; errors already meant for the user pass through. */
function explainExportError(err: unknown, out: string): unknown {
  if (err instanceof ShadowGitError) return err;
  const explained = explainFilesystemError(err);
  if (explained !== err) return explained;
  const { code, path: where } = (err ?? {}) as NodeJS.ErrnoException;
  const at = where && where !== out ? ` (at ${where})` : '';
  if (code === 'EACCES' || code === 'EPERM') return new ShadowGitError(`cannot export to ${out}: permission denied${at}; choose a place you can write to.`, code);
  if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR' || code === 'EISDIR') {
    return new ShadowGitError(`${out} changed while the export was written${at}; nothing was replaced — look at it, then run the export again.`, code);
  }
  if (code === 'ENAMETOOLONG') return new ShadowGitError(`cannot export to ${out}: the path is too long; choose a shorter one.`, code);
  return err;
}

// ---------------------------------------------------------------------------------------------
// Directory export

async function writeDirectory(repo: Repository, snapshot: SnapshotInfo, files: FlatTree, dirs: string[], root: string): Promise<Counts> {
  const counts = await writeFiles(repo, files, dirs, root);
  // The snapshot's own file of that name, if it has one, wins: the copy stays clean.
  if (!files.has(EXPORT_MARKER) && !dirs.includes(EXPORT_MARKER)) {
    const note = `${EXPORT_STAMP}${snapshot.id} (commit ${snapshot.commit}); \`shadowgit export --force\` may replace this directory whole.\n`;
    await fsp.writeFile(path.join(root, EXPORT_MARKER), note, { flag: 'wx', mode: 0o644 });
  }
  await stampDates(root, files, dirs, snapshot.date);
  // Private while being written; the finished copy carries the usual 755.
  await fsp.chmod(root, 0o755);
  return counts;
}

/** Regular files first, symlinks last, so no write can follow a link this export made. */
async function writeFiles(repo: Repository, files: FlatTree, dirs: string[], root: string): Promise<Counts> {
  const paths = [...files.keys()].sort();
  for (const dir of dirs) await fsp.mkdir(path.join(root, dir), { mode: 0o755 });
  let bytes = 0;
  const links = paths.filter((p) => files.get(p)!.mode === MODE_LINK);
  await forEachLimit(
    paths.filter((p) => files.get(p)!.mode !== MODE_LINK),
    16,
    async (rel) => {
      const entry = files.get(rel)!;
      const mode = fileMode(entry.mode);
      const handle = await fsp.open(path.join(root, rel), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
      try {
        await repo.objects.writeBlobTo(entry.oid, handle, rel);
        await handle.chmod(mode);
        bytes += (await handle.stat()).size;
      } finally {
        await handle.close();
      }
      await faultPoint('export');
    },
  );
  for (const rel of links) await fsp.symlink(await linkTarget(repo, files, rel), path.join(root, rel));
  // mkdir honours the umask; an export should carry the usual 755 whatever it is.
  for (const dir of dirs) await fsp.chmod(path.join(root, dir), 0o755);
  return { files: paths.length - links.length, symlinks: links.length, bytes };
}

async function linkTarget(repo: Repository, files: FlatTree, rel: string): Promise<string> {
  return (await repo.objects.readTyped(files.get(rel)!.oid, 'blob', rel)).toString('utf8');
}

/** Every file, link and directory gets the snapshot's date: the copy says when its content is from. */
async function stampDates(root: string, files: FlatTree, dirs: string[], date: Date): Promise<void> {
  await forEachLimit([...files], 16, async ([rel, entry]) => {
    const full = path.join(root, rel);
    await (entry.mode === MODE_LINK ? fsp.lutimes(full, date, date) : fsp.utimes(full, date, date));
  });
  for (const dir of [...dirs, '']) await fsp.utimes(path.join(root, dir), date, date);
}

// ---------------------------------------------------------------------------------------------
// Archive export

/**
 * Streams the archive from the object store: nothing of the snapshot is written to disk but the
 * archive itself, in the private temp directory. Small blobs go in from memory; a large one is
 * spooled through a private file there (a tar header needs the size before the content), so
 * memory stays flat. The first entry is a pax global header whose comment names the snapshot,
 * as `git archive` names its commit: how a later --force recognises the archive as an export.
 */
async function writeArchive(repo: Repository, snapshot: SnapshotInfo, files: FlatTree, dirs: string[], temp: string, archive: string, format: ExportFormat): Promise<Counts> {
  const { Header, Pack, Pax, ReadEntry } = await import('tar');
  // portable: no uid, gid, user names or atimes in the archive.
  const pack = new Pack({ portable: true, gzip: format === 'tar.gz' });
  const sink = createWriteStream(archive, { flags: 'wx' });
  const failed = new Promise<never>((_resolve, reject) => {
    pack.on('error', reject);
    sink.on('error', reject);
  });
  failed.catch(() => undefined);
  const written = finished(sink);
  written.catch(() => undefined);
  pack.pipe(sink);

  const add = async (header: HeaderData, content?: Buffer | Readable) => {
    const entry = new ReadEntry(new Header(header));
    pack.add(entry);
    const write = async (chunk: Buffer) => {
      if (!entry.write(chunk)) await Promise.race([once(entry, 'drain'), failed]);
    };
    if (Buffer.isBuffer(content)) await write(content);
    else if (content) for await (const chunk of content) await write(chunk as Buffer);
    entry.end();
  };

  try {
    const comment = Buffer.from(new Pax({ comment: `${EXPORT_STAMP}${snapshot.id} (commit ${snapshot.commit})` }, true).encodeBody());
    await add({ path: 'pax_global_header', type: 'GlobalExtendedHeader', size: comment.length, mode: 0o644, mtime: snapshot.date }, comment);
    const counts: Counts = { files: 0, symlinks: 0, bytes: 0 };
    const entries = [...dirs.map((dir) => [dir, undefined] as const), ...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [rel, entry] of entries) {
      if (!entry) await add({ path: `${rel}/`, type: 'Directory', mode: 0o755, mtime: snapshot.date });
      else if (entry.mode === MODE_LINK) {
        await add({ path: rel, type: 'SymbolicLink', linkpath: await linkTarget(repo, files, rel), mode: 0o777, mtime: snapshot.date });
        counts.symlinks += 1;
      } else {
        counts.bytes += await addBlob(repo, rel, entry.oid, path.join(temp, 'blob'), (size, content) => add({ path: rel, type: 'File', size, mode: fileMode(entry.mode), mtime: snapshot.date }, content));
        counts.files += 1;
      }
      await faultPoint('export');
    }
    pack.end();
    await Promise.race([written, failed]);
    return counts;
  } catch (err) {
    sink.destroy();
    throw err;
  }
}

/** Hands blob `oid` to `add` with its size: from memory when small, else through a private spool file. */
async function addBlob(repo: Repository, rel: string, oid: string, spool: string, add: (size: number, content: Buffer | Readable) => Promise<void>): Promise<number> {
  const whole = await repo.objects.verifyBlob(oid, rel);
  if (whole) {
    await add(whole.length, whole);
    return whole.length;
  }
  const handle = await fsp.open(spool, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  try {
    await repo.objects.writeBlobTo(oid, handle, rel);
    const { size } = await handle.stat();
    await add(size, handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 }));
    return size;
  } finally {
    await handle.close();
    await fsp.rm(spool, { force: true });
  }
}
