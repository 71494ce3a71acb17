import { lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as cacheLayout from './statcache-layout.js';
// Imported by their own names: the helper thread's source declares them again under these names.
import { DIR_FILES_AT, DIR_RECORD_BYTES, HEADER_COUNTS_BYTES, HEADER_STRINGS_AT, STAT_CTIME, STAT_FIELDS, STAT_INO, STAT_MODE, STAT_MTIME, STAT_SIZE, STR_LENGTH_BYTES } from './statcache-layout.js';

/** `mode` of a path that does not exist. */
const MISSING = -1;
/** `mode` of a path that could not be looked at (permission denied, …). */
const UNREADABLE = -2;

/** Paths claimed at a time: small enough to balance the threads, large enough to keep atomics rare. */
const CHUNK = 512;
/** Below this many paths a second thread costs more to start than it saves. */
const PARALLEL_FROM = 4000;
/** A chunk the helper thread claimed but has not finished after this long is done again here. */
const CHUNK_PATIENCE_MS = 2000;

/** `count` absolute paths, each made when first asked for: a thread makes only those it looks at. */
export interface PathList {
  count: number;
  pathAt(i: number): string;
}

/** Paths laid out directory by directory (see dirLayout), with what they were made from. */
export interface DirLayout extends PathList {
  dirStart: Int32Array;
  worktree: string;
  dirPaths: readonly string[];
  fileCounts: ArrayLike<number>;
  /** The paths of directory d's files, asked for only when they are looked at. */
  filesOf(d: number): readonly string[];
}

/**
 * The native helper (native/statbatch.c, built at install when a C compiler is there): the
 * same lstat calls from C threads, with no JavaScript object per path and no worker to start.
 * Without it, or with SHADOWGIT_NATIVE=0, the work goes to statChunks on two JS threads.
 */
interface StatBatch {
  start(root: string, bytes: Uint8Array, dirRanges: Int32Array, fileCounts: Int32Array, namesAt: number, namesEnd: number, results: Float64Array, threads: number, missing: number, unreadable: number): object;
  wait(job: object): void;
}

function loadStatBatch(): StatBatch | undefined {
  if (process.env.SHADOWGIT_NATIVE === '0') return undefined;
  try {
    return createRequire(import.meta.url)('../../../build/Release/statbatch.node') as StatBatch;
  } catch {
    return undefined;
  }
}
const statBatch = loadStatBatch();
/** Whether lstat work goes to the native helper (tests check it is used when built). */
export const nativeStat = statBatch !== undefined;

/**
 * Claims chunks of `paths` through `control[0]` until none are left, writing each lstat into
 * `results` and flagging the chunk done in `control[1 + chunk]`. Runs on the main thread and,
 * as source text, in the helper thread: it must use nothing but its arguments and the layout
 * constants (statcache-layout.ts).
 */
function statChunks(paths: PathList, results: Float64Array, control: Int32Array, lstat: typeof lstatSync, chunk: number, missing: number, unreadable: number): void {
  for (;;) {
    const start = Atomics.add(control, 0, chunk);
    if (start >= paths.count) return;
    const end = Math.min(start + chunk, paths.count);
    for (let i = start; i < end; i++) {
      const at = i * STAT_FIELDS;
      try {
        const stat = lstat(paths.pathAt(i), { throwIfNoEntry: false });
        if (!stat) {
          results[at + STAT_MODE] = missing;
          continue;
        }
        results[at + STAT_MTIME] = stat.mtimeMs;
        results[at + STAT_CTIME] = stat.ctimeMs;
        results[at + STAT_SIZE] = stat.size;
        results[at + STAT_INO] = stat.ino;
        results[at + STAT_MODE] = stat.mode;
      } catch (err) {
        results[at + STAT_MODE] = (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? missing : unreadable;
      }
    }
    Atomics.store(control, 1 + start / chunk, 1);
    Atomics.notify(control, 1 + start / chunk);
  }
}

/**
 * The paths of a scan laid out directory by directory, as a stat cache lists them: directory d
 * (at index dirStart[d]), then its files, absolute. The layout statAhead's helper thread works
 * on. Runs on the main thread and, as source text, in the helper thread: it must use nothing
 * but its arguments.
 */
export function dirLayout(worktree: string, dirPaths: readonly string[], fileCounts: ArrayLike<number>, filesOf: (d: number) => readonly string[]): DirLayout {
  let count = 0;
  for (let d = 0; d < dirPaths.length; d++) count += 1 + fileCounts[d]!;
  const dirOf = new Int32Array(count);
  const dirStart = new Int32Array(dirPaths.length);
  for (let d = 0, i = 0; d < dirPaths.length; i += 1 + fileCounts[d]!, d++) {
    dirStart[d] = i;
    dirOf.fill(d, i, i + 1 + fileCounts[d]!);
  }
  const pathAt = (i: number) => {
    const d = dirOf[i]!;
    const k = i - dirStart[d]!;
    if (k > 0) return `${worktree}/${filesOf(d)[k - 1]}`;
    return dirPaths[d] === '' ? worktree : `${worktree}/${dirPaths[d]}`;
  };
  return { count, dirStart, pathAt, worktree, dirPaths, fileCounts, filesOf };
}

/** Where a stat cache file's bytes hold each directory's path and the table of file names. */
export interface CachedRanges {
  /** Offset and byte length of each directory's path. */
  dirRanges: Int32Array;
  fileCounts: Int32Array;
  /** The file names, NUL between them, directory by directory: bytes [namesAt, namesEnd). */
  namesAt: number;
  namesEnd: number;
}

/**
 * Finds the directory paths and the file-name table in a stat cache file (see docs/statcache.md)
 * without decoding them. Also runs in the helper thread, as source text: it must use nothing
 * but its arguments and the layout constants.
 */
export function cachedRanges(bytes: Uint8Array): CachedRanges {
  // Not Buffer's readers: they are slow in code not yet optimised, as this is.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = HEADER_STRINGS_AT;
  at += STR_LENGTH_BYTES + view.getUint16(at, true);
  at += STR_LENGTH_BYTES + view.getUint16(at, true);
  const dirCount = view.getUint32(at, true);
  at += HEADER_COUNTS_BYTES;
  const dirRanges = new Int32Array(dirCount * 2);
  const fileCounts = new Int32Array(dirCount);
  for (let d = 0; d < dirCount; d++) {
    const length = view.getUint16(at, true);
    dirRanges[2 * d] = at + STR_LENGTH_BYTES;
    dirRanges[2 * d + 1] = length;
    at += STR_LENGTH_BYTES + length;
    fileCounts[d] = view.getUint32(at + DIR_FILES_AT, true);
    at += DIR_RECORD_BYTES;
  }
  const namesAt = at + 4;
  return { dirRanges, fileCounts, namesAt, namesEnd: namesAt + view.getUint32(at, true) };
}

/**
 * The paths a stat cache file lists, in dirLayout. Runs in the helper thread, as source text,
 * before the main thread has decoded the cache: it must use nothing but its arguments (and Buffer)
 * and the layout constants.
 */
export function cachedPaths(bytes: Uint8Array, worktree: string, layout: typeof dirLayout, ranges: typeof cachedRanges): PathList {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dirRanges, fileCounts, namesAt, namesEnd } = ranges(bytes);
  const dirPaths: string[] = [];
  for (let d = 0; d < fileCounts.length; d++) dirPaths.push(data.toString('utf8', dirRanges[2 * d]!, dirRanges[2 * d]! + dirRanges[2 * d + 1]!));
  const files = data.toString('utf8', namesAt, namesEnd).split('\0');
  const dirFiles: string[][] = [];
  for (let d = 0, next = 0; d < fileCounts.length; next += fileCounts[d]!, d++) dirFiles.push(files.slice(next, next + fileCounts[d]!));
  return layout(worktree, dirPaths, fileCounts, (d) => dirFiles[d]!);
}

const WORKER_SOURCE = `const { workerData: work } = require('node:worker_threads');
${Object.entries(cacheLayout).map(([name, value]) => `const ${name} = ${JSON.stringify(value)};`).join('\n')}
const given = work.cache ? undefined : work.paths.split('\\0');
const paths = given ? { count: given.length, pathAt: (i) => given[i] } : (${cachedPaths.toString()})(new Uint8Array(work.cache), work.worktree, ${dirLayout.toString()}, ${cachedRanges.toString()});
(${statChunks.toString()})(paths, new Float64Array(work.results), new Int32Array(work.control), require('node:fs').lstatSync, ${CHUNK}, ${MISSING}, ${UNREADABLE});`;

/** lstat work started ahead: on the native helper's threads, or shared with a JS helper thread. */
export interface StatJob {
  count: number;
  results: Float64Array;
  control?: Int32Array;
  worker?: Worker;
  native?: object;
}

function sharedJob(count: number, workerData: Record<string, unknown>): StatJob {
  const chunks = Math.ceil(count / CHUNK);
  const job: StatJob = { count, results: new Float64Array(new SharedArrayBuffer(count * STAT_FIELDS * 8)), control: new Int32Array(new SharedArrayBuffer((1 + chunks) * 4)) };
  try {
    job.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...workerData, results: job.results.buffer, control: job.control!.buffer } });
    job.worker.unref();
    // A helper that fails only means this thread does all the work.
    job.worker.on('error', () => undefined);
  } catch {
    job.worker = undefined;
  }
  return job;
}

/**
 * The native helper's threads start at once; the thread that waits for them joins in. Two
 * background threads on two cores: until it waits, the caller is busy decoding the cache, and
 * a third thread keeps a core working while another sleeps on a directory's inode lock
 * (status 325 -> 276 ms on the large tree against one background thread).
 */
function nativeJob(batch: StatBatch, worktree: string, bytes: Uint8Array, ranges: CachedRanges): StatJob {
  const count = ranges.fileCounts.reduce((sum, files) => sum + 1 + files, 0);
  const results = new Float64Array(count * STAT_FIELDS);
  const threads = count >= PARALLEL_FROM ? 2 : 0;
  return { count, results, native: batch.start(worktree, bytes, ranges.dirRanges, ranges.fileCounts, ranges.namesAt, ranges.namesEnd, results, threads, MISSING, UNREADABLE) };
}

/** A layout's paths as the native helper reads them: directory paths, then the names table. */
function encodeLayout(layout: DirLayout): { bytes: Buffer; ranges: CachedRanges } {
  const dirRanges = new Int32Array(layout.dirPaths.length * 2);
  const fileCounts = new Int32Array(layout.dirPaths.length);
  let at = 0;
  layout.dirPaths.forEach((dirPath, d) => {
    const length = Buffer.byteLength(dirPath);
    dirRanges[2 * d] = at;
    dirRanges[2 * d + 1] = length;
    at += length;
    fileCounts[d] = layout.fileCounts[d]!;
  });
  const bytes = Buffer.from(layout.dirPaths.join('') + Array.from(layout.dirPaths, (_, d) => layout.filesOf(d)).flat().join('\0'));
  return { bytes, ranges: { dirRanges, fileCounts, namesAt: at, namesEnd: bytes.length } };
}

const canShare = typeof SharedArrayBuffer === 'function';

/**
 * Starts the lstat of the paths the stat cache file `bytes` lists before the cache is decoded:
 * on the native helper's threads, else a helper thread whose start-up (~50 ms) and first
 * chunks overlap the decoding. Undefined when there is nothing worth starting early.
 */
export function statAhead(bytes: Buffer, worktree: string): StatJob | undefined {
  if (bytes.length < 40) return undefined;
  if (statBatch) return nativeJob(statBatch, worktree, bytes, cachedRanges(bytes));
  if (!canShare) return undefined;
  let at = HEADER_STRINGS_AT;
  at += STR_LENGTH_BYTES + bytes.readUInt16LE(at);
  at += STR_LENGTH_BYTES + bytes.readUInt16LE(at);
  // The directory and file counts: one lstat each.
  const count = bytes.readUInt32LE(at) + bytes.readUInt32LE(at + 4);
  if (count < PARALLEL_FROM) return undefined;
  const cache = new SharedArrayBuffer(bytes.length);
  new Uint8Array(cache).set(bytes);
  return sharedJob(count, { cache, worktree });
}

/**
 * lstat of every path, spread over two threads: a warm scan is bound by the system calls
 * (~2.5 µs each here, 45k files), which run in parallel. Returns STAT_FIELDS numbers per path,
 * in order. `ahead`, from statAhead on the cache these paths were listed from, is the work
 * already started. Synchronous on purpose: this thread does its share instead of waiting.
 */
export function statAll(paths: DirLayout, ahead?: StatJob): Float64Array {
  const { count } = paths;
  if (ahead?.native && ahead.count === count) {
    statBatch!.wait(ahead.native);
    return ahead.results;
  }
  if (ahead?.native) statBatch!.wait(ahead.native);
  if (statBatch) {
    const { bytes, ranges } = encodeLayout(paths);
    const job = nativeJob(statBatch, paths.worktree, bytes, ranges);
    statBatch.wait(job.native!);
    return job.results;
  }
  const allJoined = () => Array.from({ length: count }, (_, i) => paths.pathAt(i)).join('\0');
  const job = ahead && ahead.count === count ? ahead : canShare && count >= PARALLEL_FROM ? sharedJob(count, { paths: allJoined() }) : undefined;
  if (ahead && ahead !== job) void ahead.worker?.terminate();
  const chunks = Math.ceil(count / CHUNK);
  const results = job?.results ?? new Float64Array(count * STAT_FIELDS);
  const control = job?.control ?? new Int32Array(1 + chunks);
  statChunks(paths, results, control, lstatSync, CHUNK, MISSING, UNREADABLE);
  if (job?.worker) {
    for (let c = 0; c < chunks; c++) {
      if (Atomics.wait(control, 1 + c, 0, CHUNK_PATIENCE_MS) !== 'timed-out') continue;
      // The helper claimed it and stalled (or died): look at those paths here.
      const redo = new Int32Array(1 + chunks);
      redo[0] = c * CHUNK;
      statChunks({ count: Math.min(count, (c + 1) * CHUNK), pathAt: paths.pathAt }, results, redo, lstatSync, CHUNK, MISSING, UNREADABLE);
    }
    void job.worker.terminate();
  }
  return results;
}
