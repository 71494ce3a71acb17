import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { readLastCheckout } from '../checkout/checkout.js';
import { ShadowGitError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { directorySize, forEachLimit } from '../fsutil.js';
import { decodeCommit, decodeTag, decodeTree } from '../store/gitformat.js';
import { walkTrees } from '../snapshot/treeread.js';
import { listPacks, readPackIndexIds, writePack, type WrittenPack } from '../store/pack.js';
import type { Repository } from '../store/repo.js';
import { readJournal } from '../checkout/journal.js';
import { STAT_CACHE } from '../store/statefiles.js';
import { StatCache } from '../worktree/statcache.js';

/** Unreachable loose objects younger than this are kept: a writer outside the lock may still need them. */
export const DEFAULT_GRACE_MS = 15 * 60_000;
/** isomorphic-git reads a whole pack into memory and cannot address past 2 GiB: blob packs are split. */
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

/**
 * Every object reachable from the roots, split into metadata (commits, tags, trees: read here, so
 * verified) and blobs (only named here; verified when they are packed). A damaged object stops
 * gc before anything is deleted.
 */
async function markReachable(repo: Repository, roots: { commitish: string[]; cachedTrees: string[]; cachedBlobs: string[] }): Promise<{ metadata: Set<string>; blobs: Set<string> }> {
  const metadata = new Set<string>();
  const blobs = new Set<string>(roots.cachedBlobs);
  const trees: string[] = [];
  const enqueue = (oid: string, into: string[]) => {
    if (!metadata.has(oid)) {
      metadata.add(oid);
      into.push(oid);
    }
  };
  // Commits and tags first: the trees they name are then walked as one.
  let frontier: string[] = [];
  for (const oid of roots.commitish) enqueue(oid, frontier);
  for (const oid of roots.cachedTrees) enqueue(oid, trees);
  while (frontier.length > 0) {
    const next: string[] = [];
    await forEachLimit(frontier, 16, async (oid) => {
      const object = await repo.objects.read(oid);
      if (object.type === 'commit') {
        const commit = decodeCommit(object.content);
        enqueue(commit.tree, trees);
        for (const parent of commit.parents) enqueue(parent, next);
      } else if (object.type === 'tag') enqueue(decodeTag(object.content).object, next);
      else if (object.type === 'tree') trees.push(oid);
    });
    frontier = next;
  }
  await walkTrees(trees, {
    // An object a tree names as a subtree but is not one is kept, and not looked into.
    read: async (oid) => {
      const object = await repo.objects.read(oid);
      return object.type === 'tree' ? decodeTree(object.content) : [];
    },
    enter: (entry) => !metadata.has(entry.oid) && Boolean(metadata.add(entry.oid)),
    onBlob: (entry) => blobs.add(entry.oid),
    concurrency: 16,
  });
  return { metadata, blobs };
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
  const reachable = new Set([...marked.metadata, ...marked.blobs]);

  // Old packs holding unreachable objects (after a prune), or too many packs: rewrite them all.
  // Otherwise only the loose reachable objects not packed yet go into new packs.
  const packedUnreachable = [...packedIds].filter((oid) => !reachable.has(oid));
  const full = packedUnreachable.length > 0 || oldPacks.length >= MAX_PACKS;
  const inPacks = (oid: string) => reachable.has(oid) && (full || !packedIds.has(oid));
  const toPack = { metadata: new Set([...marked.metadata].filter(inPacks)), blobs: new Set([...marked.blobs].filter(inPacks)) };
  const looseToPack = loose.objects.some((o) => toPack.metadata.has(o.oid) || toPack.blobs.has(o.oid));
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
 */
async function packObjects(repo: Repository, packDir: string, objects: { metadata: Set<string>; blobs: Set<string> }, onProgress: (packed: number) => void = () => undefined): Promise<WrittenPack[]> {
  const packs: WrittenPack[] = [];
  let packed = 0;
  const counted = () => onProgress(++packed);
  if (objects.metadata.size > 0) packs.push(await writePack(repo.objects, packDir, [...objects.metadata].sort(), Infinity, counted));
  for (let rest = [...objects.blobs].sort(); rest.length > 0; ) {
    const pack = await writePack(repo.objects, packDir, rest, MAX_PACK_BYTES, counted);
    packs.push(pack);
    rest = rest.slice(pack.objects);
  }
  return packs;
}
