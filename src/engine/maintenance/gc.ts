import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { readLastCheckout } from '../checkout/checkout.js';
import { ShadowGitError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { directorySize, forEachLimit } from '../fsutil.js';
import { decodeCommit, decodeTag, decodeTree } from '../store/gitformat.js';
import { walkTrees, type TreeWalk } from '../snapshot/treeread.js';
import { createDelta, indexBase, type DeltaIndex } from '../store/delta.js';
import type { ObjectType } from '../store/objects.js';
import { listPacks, PackFileWriter, readPackIndexIds, wholeItem, type PackItem, type WrittenPack } from '../store/pack.js';
import type { Repository } from '../store/repo.js';
import { readJournal } from '../checkout/journal.js';
import { STAT_CACHE } from '../store/statefiles.js';
import { StatCache } from '../worktree/statcache.js';

/** Unreachable loose objects younger than this are kept: a writer outside the lock may still need them. */
export const DEFAULT_GRACE_MS = 15 * 60_000;
/**
 * Blob packs are split: the index writer has no 64-bit offset table, so every offset must stay
 * under 2 GiB (the reader, packread.ts, reads packs of any size a bounded entry at a time).
 */
const MAX_PACK_BYTES = 512 * 1024 * 1024;
/** Routine gc adds packs for new objects; past this many, it rewrites them into one set. */
const MAX_PACKS = 8;

/** A grace period as typed: "0", "90s", "15m", "2h", "1d". */
export function parseGracePeriod(text: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new ShadowGitError(`"${text}" is not a grace period; write it like 0, 90s, 15m, 2h or 1d.`, 'EUSAGE');
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[(match[2] ?? 's') as 's']!;
}

export interface GcReport {
  /** Disk space the object store takes (allocated blocks), before and after. */
  bytesBefore: number;
  bytesAfter: number;
  reachableObjects: number;
  /** Objects written into new packs. */
  packedObjects: number;
  /** Unreachable objects deleted (loose past the grace period, or dropped from old packs). */
  deletedObjects: number;
  /** Unreachable loose objects kept because they are younger than the grace period. */
  keptRecent: number;
  packs: string[];
}

/**
 * Everything a snapshot, tag, note or engine state file needs: every ref, the undo record, an
 * interrupted checkout's commits, and the stat cache's tree, subtrees and blobs (the cache reuses
 * them without checking they exist, so they must never be deleted while it names them).
 */
async function collectRoots(repo: Repository, stored: Set<string>): Promise<{ commitish: string[]; cachedTrees: string[]; cachedBlobs: string[] }> {
  const existing = (oids: string[]) => oids.filter((oid) => stored.has(oid));
  // A ref naming a missing object is damage (gc stops on it); a state file naming one is only stale.
  const last = await readLastCheckout(repo);
  const journal = await readJournal(repo);
  const stateCommits = existing([last?.before, last?.target, journal?.before, journal?.target].filter((c): c is string => c !== undefined));
  const commitish = [...(await repo.refs.list('refs/')).values(), ...stateCommits];
  const cache = await StatCache.load(repo.statePath(STAT_CACHE));
  const cachedTrees = existing([...(cache.tree ? [cache.tree] : []), ...cache.trees]);
  const cachedBlobs = existing([...new Set([...cache.files.values()].map((f) => f.oid))]);
  return { commitish, cachedTrees, cachedBlobs };
}

/** Which delta group an object belongs to: a hash of the path it was first seen at (a collision only merges two groups). */
function pathKey(path: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) hash = Math.imul(hash ^ path.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Every object reachable from the roots: commits and tags, trees and blobs — trees and blobs
 * each with the key of the path it was first seen at, in the order first seen (newest snapshots
 * first), which is how gc picks delta bases. Commits, tags and trees are read here, so verified;
 * blobs only named (verified when they are packed). A damaged object stops gc before anything
 * is deleted.
 */
async function markReachable(repo: Repository, roots: { commitish: string[]; cachedTrees: string[]; cachedBlobs: string[] }): Promise<Reachable> {
  const metadata = new Set<string>();
  const trees = new Map<string, number>();
  const blobs = new Map<string, number>();
  const rootTrees: string[] = [];
  const enqueue = (oid: string, into: string[]) => {
    if (!metadata.has(oid)) {
      metadata.add(oid);
      into.push(oid);
    }
  };
  // Commits and tags first: the trees they name are then walked as one.
  let frontier: string[] = [];
  for (const oid of roots.commitish) enqueue(oid, frontier);
  while (frontier.length > 0) {
    const next: string[] = [];
    await forEachLimit(frontier, 16, async (oid) => {
      const object = await repo.objects.read(oid);
      if (object.type === 'commit') {
        const commit = decodeCommit(object.content);
        enqueue(commit.tree, rootTrees);
        for (const parent of commit.parents) enqueue(parent, next);
      } else if (object.type === 'tag') enqueue(decodeTag(object.content).object, next);
      else if (object.type === 'tree') rootTrees.push(oid);
    });
    frontier = next;
  }
  const walk: TreeWalk = {
    // An object a tree names as a subtree but is not one is kept, and not looked into.
    read: async (oid, dir) => {
      const object = await repo.objects.read(oid);
      if (object.type !== 'tree') return [];
      if (!trees.has(oid)) trees.set(oid, pathKey(dir));
      return decodeTree(object.content);
    },
    enter: (entry) => !metadata.has(entry.oid) && Boolean(metadata.add(entry.oid)),
    onBlob: (entry, rel) => {
      if (!blobs.has(entry.oid)) blobs.set(entry.oid, pathKey(rel));
    },
    concurrency: 16,
  };
  await walkTrees(rootTrees, walk);
  // The stat cache's trees after the snapshots' (which nearly always hold them): walked as roots,
  // a subtree's paths would start at it, and its objects land in the wrong delta groups.
  const cachedOnly: string[] = [];
  for (const oid of roots.cachedTrees) enqueue(oid, cachedOnly);
  await walkTrees(cachedOnly, walk);
  for (const oid of roots.cachedBlobs) if (!blobs.has(oid)) blobs.set(oid, pathKey(''));
  return { commitsAndTags: [...metadata].filter((oid) => !trees.has(oid)), trees, blobs };
}

interface Reachable {
  commitsAndTags: string[];
  /** Trees and blobs, each with its path key, in the order first seen. */
  trees: Map<string, number>;
  blobs: Map<string, number>;
}

interface LooseObject {
  oid: string;
  file: string;
  mtimeMs: number;
}

/** Loose objects, and files left by crashed writers (deleted once older than the grace period). */
async function inventoryLoose(objectsDir: string): Promise<{ objects: LooseObject[]; strayTemps: Array<{ file: string; mtimeMs: number }> }> {
  const objects: LooseObject[] = [];
  const strayTemps: Array<{ file: string; mtimeMs: number }> = [];
  for (const dir of await fsp.readdir(objectsDir)) {
    const full = path.join(objectsDir, dir);
    if (dir.endsWith('.tmp')) strayTemps.push({ file: full, mtimeMs: (await fsp.stat(full)).mtimeMs });
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    for (const name of await fsp.readdir(full)) {
      const file = path.join(full, name);
      const { mtimeMs } = await fsp.stat(file);
      if (/^[0-9a-f]{38}$/.test(name)) objects.push({ oid: dir + name, file, mtimeMs });
      else if (name.endsWith('.tmp') || name.startsWith('tmp_obj_')) strayTemps.push({ file, mtimeMs });
    }
  }
  // A pack without its index (a gc cut off between the two renames, or while deleting old
  // packs) is invisible to every reader: only a leftover.
  const packFiles = await fsp.readdir(path.join(objectsDir, 'pack'));
  for (const name of packFiles) {
    const file = path.join(objectsDir, 'pack', name);
    const orphanPack = name.endsWith('.pack') && !packFiles.includes(`${name.slice(0, -5)}.idx`);
    if (name.endsWith('.tmp') || orphanPack) strayTemps.push({ file, mtimeMs: (await fsp.stat(file)).mtimeMs });
  }
  return { objects, strayTemps };
}

/**
 * Deletes what no root reaches and packs the rest. The caller holds the repository lock. Order:
 * mark → write new packs (temp + rename) → only then delete loose objects now packed, old packs
 * and unreachable objects; a crash at any point leaves every reachable object readable.
 */
export async function collectGarbage(repo: Repository, options: { graceMs?: number; onProgress?: (packed: number) => void } = {}): Promise<GcReport> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const objectsDir = path.join(repo.gitdir, 'objects');
  const packDir = path.join(objectsDir, 'pack');
  await fsp.mkdir(packDir, { recursive: true });
  const bytesBefore = await directorySize(objectsDir, 'allocated');

  const cutoff = Date.now() - graceMs;
  const loose = await inventoryLoose(objectsDir);
  const oldPacks = await listPacks(packDir);
  const packedIds = new Set<string>();
  for (const name of oldPacks) for (const oid of await readPackIndexIds(path.join(packDir, `${name}.idx`))) packedIds.add(oid);
  const looseIds = new Set(loose.objects.map((o) => o.oid));

  const roots = await collectRoots(repo, new Set([...looseIds, ...packedIds]));
  const marked = await markReachable(repo, roots);
  const reachable = new Set([...marked.commitsAndTags, ...marked.trees.keys(), ...marked.blobs.keys()]);

  // Old packs holding unreachable objects (after a prune), or too many packs: rewrite them all.
  // Otherwise only the loose reachable objects not packed yet go into new packs.
  const packedUnreachable = [...packedIds].filter((oid) => !reachable.has(oid));
  const full = packedUnreachable.length > 0 || oldPacks.length >= MAX_PACKS;
  const inPacks = (oid: string) => reachable.has(oid) && (full || !packedIds.has(oid));
  const toPack: Reachable = {
    commitsAndTags: marked.commitsAndTags.filter(inPacks),
    trees: new Map([...marked.trees].filter(([oid]) => inPacks(oid))),
    blobs: new Map([...marked.blobs].filter(([oid]) => inPacks(oid))),
  };
  const looseToPack = loose.objects.some((o) => inPacks(o.oid));
  const written = full || looseToPack ? await packObjects(repo, packDir, toPack, options.onProgress) : [];
  const packs = [...(full ? [] : oldPacks), ...written.map((p) => p.name)].filter((n, i, all) => all.indexOf(n) === i).sort();

  let deletedObjects = 0;
  let keptRecent = 0;
  if (full) {
    // The new packs hold every reachable object: the old ones can go.
    for (const name of oldPacks.filter((n) => !packs.includes(n))) {
      await fsp.rm(path.join(packDir, `${name}.idx`), { force: true });
      await fsp.rm(path.join(packDir, `${name}.pack`), { force: true });
    }
    deletedObjects += packedUnreachable.filter((oid) => !looseIds.has(oid)).length;
  }
  const packedNow = full || looseToPack ? reachable : packedIds;
  await forEachLimit(loose.objects, 16, async (object) => {
    await faultPoint('gc-delete');
    if (reachable.has(object.oid)) {
      // A loose copy of an object a pack now holds.
      if (packedNow.has(object.oid)) await fsp.rm(object.file, { force: true });
    } else if (object.mtimeMs < cutoff) {
      await fsp.rm(object.file, { force: true });
      deletedObjects++;
    } else keptRecent++;
  });
  for (const temp of loose.strayTemps) if (temp.mtimeMs < cutoff) await fsp.rm(temp.file, { force: true });
  for (const dir of await fsp.readdir(objectsDir)) if (/^[0-9a-f]{2}$/.test(dir)) await fsp.rmdir(path.join(objectsDir, dir)).catch(() => undefined);

  return {
    bytesBefore,
    bytesAfter: await directorySize(objectsDir, 'allocated'),
    reachableObjects: reachable.size,
    packedObjects: written.reduce((n, p) => n + p.objects, 0),
    deletedObjects,
    keptRecent,
    packs,
  };
}

/**
 * Commits, tags and trees go into one small pack (what list, diff and verify read), blobs into
 * packs of about MAX_PACK_BYTES (what restore reads), so reading history never loads file contents.
 * Trees and text blobs are stored as deltas where that pays (see DeltaWindow).
 */
async function packObjects(repo: Repository, packDir: string, objects: Reachable, onProgress: (packed: number) => void = () => undefined): Promise<WrittenPack[]> {
  const packs: WrittenPack[] = [];
  let packed = 0;
  const counted = () => onProgress(++packed);
  if (objects.commitsAndTags.length + objects.trees.size > 0) {
    const writer = await PackFileWriter.open(packDir);
    try {
      for (const oid of objects.commitsAndTags.sort()) {
        await writer.add(await wholeItem(repo.objects, oid));
        counted();
      }
      for (const group of byPath(objects.trees)) {
        const window = new DeltaWindow();
        for (const oid of group) {
          await writer.add(window.pack(oid, await repo.objects.read(oid)));
          counted();
        }
      }
      packs.push(await writer.finish());
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }
  let writer: PackFileWriter | undefined;
  try {
    for (const group of byPath(objects.blobs)) {
      let window = new DeltaWindow();
      for (const oid of group) {
        if (writer && writer.bytes > MAX_PACK_BYTES) {
          packs.push(await writer.finish());
          writer = undefined;
        }
        if (!writer) {
          writer = await PackFileWriter.open(packDir);
          // A delta's base must be in its own pack.
          window = new DeltaWindow();
        }
        const large = repo.objects.largeBlobSize(oid) !== undefined;
        await writer.add(large ? await wholeItem(repo.objects, oid) : window.pack(oid, await repo.objects.read(oid)));
        counted();
      }
    }
    if (writer) packs.push(await writer.finish());
  } catch (err) {
    await writer?.abort();
    throw err;
  }
  return packs;
}

/** Object ids grouped by path key, each group in the order first seen; groups in the order first seen. */
function byPath(objects: Map<string, number>): string[][] {
  const groups = new Map<number, string[]>();
  for (const [oid, key] of objects) {
    const group = groups.get(key);
    if (group) group.push(oid);
    else groups.set(key, [oid]);
  }
  return [...groups.values()];
}

/** Versions this far back in a group are tried as bases (git's pack.window). */
const WINDOW_OBJECTS = 10;
/** ...and no more than this many bytes of them (content and index) are held. */
const WINDOW_BYTES = 64 * 1024 * 1024;
/** Longest chain of deltas to rebuild an object from (git's pack.depth). */
const MAX_DEPTH = 50;
/** Blobs above this are stored whole: deltas are for text, and this bounds one window entry. */
const MAX_DELTA_OBJECT = 16 * 1024 * 1024;
/** Smaller objects are not worth a delta's header and base reference. */
const MIN_DELTA_OBJECT = 64;
/** git's test for binary content: a NUL in the first 8000 bytes. */
const BINARY_PROBE = 8000;

/**
 * The last few objects of one path group, newest first, each ready to be a delta base. The first
 * object of a group (the newest version) is stored whole, each older one as a delta against
 * whichever of the window gives the smallest delta, when that is under half its size and the
 * chain stays within MAX_DEPTH.
 */
class DeltaWindow {
  /** Each base's index is built when an object is first tried against it: most groups hold one version. */
  private readonly entries: Array<{ oid: string; content: Buffer; index?: DeltaIndex; depth: number; cost: number }> = [];
  private bytes = 0;

  pack(oid: string, object: { type: ObjectType; content: Buffer }): PackItem {
    const { type, content } = object;
    const deltable =
      content.length >= MIN_DELTA_OBJECT && content.length <= MAX_DELTA_OBJECT && (type === 'tree' || (type === 'blob' && !content.subarray(0, BINARY_PROBE).includes(0)));
    if (!deltable) return { oid, type, content };
    let best: { base: string; delta: Buffer; depth: number } | undefined;
    let maxSize = Math.floor(content.length / 2);
    for (const base of this.entries) {
      if (base.depth >= MAX_DEPTH || Math.abs(base.content.length - content.length) >= maxSize) continue;
      base.index ??= indexBase(base.content);
      const delta = createDelta(base.index, content, maxSize);
      if (delta) {
        best = { base: base.oid, delta, depth: base.depth + 1 };
        maxSize = delta.length - 1;
      }
    }
    const cost = content.length * 2;
    this.entries.unshift({ oid, content, depth: best?.depth ?? 0, cost });
    this.bytes += cost;
    while (this.entries.length > WINDOW_OBJECTS || (this.entries.length > 1 && this.bytes > WINDOW_BYTES)) this.bytes -= this.entries.pop()!.cost;
    return best ? { oid, base: best.base, delta: best.delta } : { oid, type, content };
  }
}
