import { closeSync, fstatSync, openSync, promises as fsp, readFileSync, constants as fsc, type Stats } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { faultPoint } from './faults.js';

/** Matches a name tempPathFor() made; group 1 is the pid of the process that made it. */
export const TEMP_NAME = /^\.[^/]+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** A temp name beside `target`, so the final rename never crosses a filesystem. */
export function tempPathFor(target: string): string {
  // Only the start of the name: a 255-byte name plus the suffix would exceed NAME_MAX.
  return path.join(path.dirname(target), `.${path.basename(target).slice(0, 40)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Replaces `target` with `data` so that a reader (or a crash) sees the old file or the new one,
 * never a mix: temp file in the same directory, fsync, rename, fsync of the directory.
 * `keepMode` gives the new file the permission bits of the one it replaces; `faultStep` names a
 * crash point (see faults.ts) between the durable temp file and the rename.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: { mode?: number; durable?: boolean; keepMode?: boolean; faultStep?: string } = {}): Promise<void> {
  const mode = options.mode ?? (options.keepMode ? await fsp.stat(target).then((s) => s.mode & 0o7777, () => undefined) : undefined);
  const tmp = tempPathFor(target);
  const handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (options.durable !== false) await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  if (mode !== undefined) await fsp.chmod(tmp, mode);
  if (options.faultStep) await faultPoint(options.faultStep);
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (options.durable !== false) await syncDirectory(path.dirname(target));
}

export async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, fsc.O_RDONLY);
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** A state file of shadowgit's own (a journal, the chain index): readRegularFile, by default uncapped. */
export function readFileIfExists(file: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer | undefined> {
  return readRegularFile(file, { maxBytes });
}

/**
 * Opens (creating it if need be) the regular file `file` to append to it: as readRegularFile
 * reads, a symlink is not followed and a FIFO neither waits for a reader nor is written to.
 */
export async function openForAppend(file: string): Promise<fsp.FileHandle> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NONBLOCK | fsc.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new NotRegularFileError(file, 'not a regular file');
    throw err;
  }
  try {
    refuseUnlessRegular(file, await handle.stat(), Number.MAX_SAFE_INTEGER);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Total bytes of regular files under `dir`; with `allocated`, the bytes their blocks take on disk
 * (what many small loose objects really cost, and what packing them saves).
 */
export async function directorySize(dir: string, measure: 'size' | 'allocated' = 'size'): Promise<number> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return directorySize(full, measure);
      if (entry.isFile()) {
        const stat = await fsp.lstat(full).catch(() => ({ size: 0, blocks: 0 }));
        return measure === 'allocated' ? stat.blocks * 512 : stat.size;
      }
      return 0;
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** Runs `worker` over `items` with at most `limit` in flight. */
export async function forEachLimit<T>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await worker(items[index]!, index);
    }
  });
  await Promise.all(runners);
}

/** Why a file shadowgit reads for itself was refused: not a regular file, or larger than the cap. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: 'not a regular file' | 'too large',
    /** The cap a too large file exceeded. */
    readonly maxBytes = 0,
  ) {
    super(`${file} is ${reason === 'too large' ? 'too large to read' : 'not a regular file'}`);
  }

  /** What is wrong with the file, as a phrase: "not a regular file", "larger than 4 MiB". */
  get problem(): string {
    return this.reason === 'too large' ? `larger than ${this.maxBytes / 1048576} MiB` : 'not a regular file';
  }
}

/**
 * Reads a file shadowgit needs for itself (config, ignore rules, package.json, tsconfig) only if
 * it is a regular file no larger than `maxBytes`: a FIFO would block forever, a device or a huge
 * file would exhaust memory. The file is opened with O_NONBLOCK|O_NOFOLLOW and checked through
 * the open handle (fstat), so a swap between the check and the read cannot smuggle a FIFO in.
 * A symlink is refused unless `followSymlinks` (git does not follow a symlinked .gitignore; a
 * tsconfig reached through node_modules often is one). Returns undefined when nothing is there;
 * throws NotRegularFileError for anything else.
 */
export async function readRegularFile(file: string, options: { maxBytes?: number; followSymlinks?: boolean } = {}): Promise<Buffer | undefined> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, regularOpenFlags(options));
  } catch (err) {
    return absentOrRefused(file, err);
  }
  try {
    refuseUnlessRegular(file, await handle.stat(), maxBytes);
    return capped(file, await handle.readFile(), maxBytes);
  } finally {
    await handle.close();
  }
}

/**
 * readRegularFile for callers that must answer synchronously: the TypeScript compiler's hosts
 * (tsconfig `extends`, module resolution) read files through a synchronous `readFile`.
 */
export function readRegularFileSync(file: string, options: Parameters<typeof readRegularFile>[1] = {}): Buffer | undefined {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let fd: number;
  try {
    fd = openSync(file, regularOpenFlags(options));
  } catch (err) {
    return absentOrRefused(file, err);
  }
  try {
    refuseUnlessRegular(file, fstatSync(fd), maxBytes);
    return capped(file, readFileSync(fd), maxBytes);
  } finally {
    closeSync(fd);
  }
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

function regularOpenFlags(options: { followSymlinks?: boolean }): number {
  return fsc.O_RDONLY | fsc.O_NONBLOCK | (options.followSymlinks ? 0 : fsc.O_NOFOLLOW);
}

/** Undefined when nothing is at `file`; a refusal when a symlink is there; else the error itself. */
function absentOrRefused(file: string, err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  if (code === 'ELOOP') throw new NotRegularFileError(file, 'not a regular file');
  throw err;
}

function refuseUnlessRegular(file: string, stat: Stats, maxBytes: number): void {
  if (!stat.isFile()) throw new NotRegularFileError(file, 'not a regular file');
  if (stat.size > maxBytes) throw new NotRegularFileError(file, 'too large', maxBytes);
}

/** A file that grew between the fstat and the read is refused too. */
function capped(file: string, data: Buffer, maxBytes: number): Buffer {
  if (data.length > maxBytes) throw new NotRegularFileError(file, 'too large', maxBytes);
  return data;
}
