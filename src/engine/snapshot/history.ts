import { randomInt } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CorruptObjectError, ShadowGitError } from '../errors.js';
import { forEachLimit, readFileIfExists, writeFileAtomic } from '../fsutil.js';
import { decodeCommit, decodeTag, messageBody, parseTrailers } from '../store/gitformat.js';
import { readOps } from '../store/oplog.js';
import { BROKEN_TIP_ADVICE, DamagedRefError, SNAPSHOT_REF } from '../store/refs.js';
import type { Repository } from '../store/repo.js';
import { parseProvenance, type AgentProvenance } from '../provenance.js';
import { RemovedSnapshotError, Rewrites, type Removal } from './rewrites.js';
import { findPrompt, groupSessions, parsePromptRevision } from './sessions.js';
import { fetchedChains, trackingRefs } from './remotechains.js';
import { BROKEN_REFS_DIR, OPLOG } from '../store/statefiles.js';
import { ChainIndex, discardChainIndex, indexHeader, indexLine, saveChainIndex, type IndexedSnapshot } from './chainindex.js';

export const ID_TRAILER = 'Shadowgit-Id';
export const TRIGGER_TRAILER = 'Shadowgit-Trigger';
export const CHANGES_TRAILER = 'Shadowgit-Changes';
export const NAME_TRAILER = 'Shadowgit-Name';

export interface ChangeCounts {
  added: number;
  modified: number;
  deleted: number;
}

export interface SnapshotInfo {
  /** Stable id (letters k–z, never confused with a hex hash); survives history rewrites. */
  id: string;
  commit: string;
  tree: string;
  parent: string | undefined;
  date: Date;
  message: string;
  trigger: string;
  changes: ChangeCounts;
  /** Who asked, when an agent's hook recorded it (see provenance.ts). */
  agent?: AgentProvenance;
}

export interface ApprovedRevision {
  /** The name as the user wrote it ("Feature Complete"). */
  name: string;
  /** The tag name derived from it ("feature-complete"). */
  tag: string;
  commit: string;
  description: string;
  date: Date;
}

const ID_ALPHABET = 'klmnopqrstuvwxyz';

/** A new snapshot id: 8 letters from k–z, like jj's change ids, so it never reads as hex. */
export function newSnapshotId(): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function formatChanges(changes: ChangeCounts): string {
  return `+${changes.added} ~${changes.modified} -${changes.deleted}`;
}

function parseChanges(text: string | undefined): ChangeCounts {
  const match = /^\+(\d+) ~(\d+) -(\d+)$/.exec(text ?? '');
  return match ? { added: Number(match[1]), modified: Number(match[2]), deleted: Number(match[3]) } : { added: 0, modified: 0, deleted: 0 };
}

export async function readSnapshot(repo: Repository, commit: string): Promise<SnapshotInfo> {
  const data = decodeCommit(await repo.objects.readTyped(commit, 'commit'));
  const trailers = parseTrailers(data.message);
  const agent = parseProvenance(trailers);
  return {
    id: trailers[ID_TRAILER] ?? commit.slice(0, 8),
    commit,
    tree: data.tree,
    parent: data.parents[0],
    date: new Date(data.committer.timestamp * 1000),
    message: messageBody(data.message),
    trigger: trailers[TRIGGER_TRAILER] ?? 'manual',
    changes: parseChanges(trailers[CHANGES_TRAILER]),
    ...(agent && { agent }),
  };
}

/** "object … (src) is damaged (it does not inflate)": what is wrong, without what to do. */
export function describeDamage(damage: CorruptObjectError): string {
  return `object ${damage.oid}${damage.path ? ` (${damage.path})` : ''} is ${damage.detail}`;
}

/** A snapshot whose commit reads but an object of its tree does not. */
export class DamagedSnapshotError extends ShadowGitError {
  constructor(
    readonly snapshot: SnapshotInfo,
    readonly damage: CorruptObjectError,
  ) {
    super(
      `snapshot ${snapshot.id} (commit ${snapshot.commit.slice(0, 10)}) cannot be read: ${describeDamage(damage)}; nothing was changed — run \`shadowgit verify\` to see which snapshots are intact and roll back to one of them (\`shadowgit snapshot\` records the working tree in full).`,
      'ECORRUPT',
    );
  }
}

/** Runs `read`, which reads objects of `snapshot`: a missing or damaged one is reported as that snapshot's damage. */
export async function readingSnapshot<T>(snapshot: SnapshotInfo, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof CorruptObjectError) throw new DamagedSnapshotError(snapshot, err);
    throw err;
  }
}

/** The snapshots ref names no readable commit: its file holds junk, or its commit is missing or damaged. */
export class BrokenTipError extends ShadowGitError {
  constructor(
    readonly file: string,
    /** The commit it names, when it names one. */
    readonly commit: string | undefined,
    readonly why: string,
  ) {
    super(`the snapshots ref ${file} ${why}; ${BROKEN_TIP_ADVICE}.`, 'EBADREF');
  }
}

/** The latest snapshot, undefined when there is none yet; BrokenTipError when the snapshots ref names no readable commit. */
export async function readLatest(repo: Repository): Promise<SnapshotInfo | undefined> {
  const file = path.join(repo.gitdir, SNAPSHOT_REF);
  let head: string | undefined;
  try {
    head = await repo.head();
  } catch (err) {
    if (err instanceof DamagedRefError) throw new BrokenTipError(file, undefined, err.problem);
    throw err;
  }
  if (!head) return undefined;
  try {
    return await readSnapshot(repo, head);
  } catch (err) {
    if (err instanceof CorruptObjectError) throw new BrokenTipError(file, head, `names commit ${head}, which is ${err.detail}`);
    throw err;
  }
}

/**
 * Sets a broken snapshots ref aside (its bytes are kept in shadowgit/broken-refs/; nothing is
 * deleted) and finds the newest intact snapshot the op log names, for the next snapshot to
 * continue from: every operation logs the snapshots it made, so the chain before the break is
 * found again and stays reachable (gc would otherwise delete it).
 */
export async function setAsideBrokenTip(repo: Repository, broken: BrokenTipError): Promise<{ keptIn: string; resumeFrom: SnapshotInfo | undefined }> {
  const keptIn = repo.statePath(path.join(BROKEN_REFS_DIR, `snapshots.${new Date().toISOString().replace(/[:.]/g, '-')}`));
  await fsp.mkdir(path.dirname(keptIn), { recursive: true });
  await writeFileAtomic(keptIn, (await readFileIfExists(broken.file)) ?? `${broken.commit}\n`);
  const rewrites = await Rewrites.load(repo);
  for (const record of (await readOps(repo.statePath(OPLOG))).reverse()) {
    for (const logged of Array.isArray(record.commits) ? record.commits : []) {
      const fate = typeof logged === 'string' ? rewrites.follow(logged) : undefined;
      const commit = fate && 'commit' in fate ? fate.commit : undefined;
      if (!commit || commit === broken.commit || !/^[0-9a-f]{40}$/.test(commit)) continue;
      try {
        return { keptIn, resumeFrom: await readSnapshot(repo, commit) };
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
      }
    }
  }
  return { keptIn, resumeFrom: undefined };
}

/** The parent snapshot of `child`; a missing or damaged parent commit is named, with what still works. */
export async function readParent(repo: Repository, child: Pick<SnapshotInfo, 'id' | 'commit' | 'parent'>): Promise<SnapshotInfo> {
  try {
    return await readSnapshot(repo, child.parent!);
  } catch (err) {
    if (!(err instanceof CorruptObjectError)) throw err;
    throw new ShadowGitError(
      `commit ${child.parent}, the parent of snapshot ${child.id} (commit ${child.commit.slice(0, 10)}), is ${err.detail}, so the snapshots before ${child.id} cannot be read; run \`shadowgit verify\` — ${child.id} and the snapshots after it can still be rolled back to by id.`,
      'ECORRUPT',
    );
  }
}

/**
 * Snapshots newest first, following the first-parent chain from the snapshot ref. A damaged
 * commit in the chain throws, unless `onBreak` takes the error: the snapshots before it are then
 * left out.
 */
export async function listSnapshots(repo: Repository, limit = Infinity, onBreak?: (err: ShadowGitError) => void): Promise<SnapshotInfo[]> {
  const result: SnapshotInfo[] = [];
  for (let info = limit > 0 ? await readLatest(repo) : undefined; info; ) {
    result.push(info);
    if (!info.parent || result.length >= limit) break;
    try {
      info = await readParent(repo, info);
    } catch (err) {
      if (!onBreak || !(err instanceof ShadowGitError)) throw err;
      onBreak(err);
      break;
    }
  }
  return result;
}

/** The chain index brought up to the snapshots ref, and what stopped it short when a commit of the chain cannot be read. */
export interface Chain {
  index: ChainIndex;
  broken?: ShadowGitError;
}

/**
 * The chain from the snapshot ref as its index has it (chainindex.ts), brought up to date first:
 * the tip is read (BrokenTipError when it cannot be), then the commits from it back to the first
 * one the index holds — usually none or one; all of them when the index is missing, damaged, or
 * holds no commit of the chain (a prune removed the oldest snapshot, the ref was moved to another
 * chain). An index that was updated is saved whole (temp + rename: no lock needed, any complete
 * file is true for the tip it names).
 */
export async function loadChain(repo: Repository): Promise<Chain> {
  const latest = await readLatest(repo);
  const saved = await ChainIndex.read(repo);
  if (!latest) return { index: ChainIndex.parse(indexHeader(undefined))! };
  if (saved?.tip === latest.commit) {
    const broken = saved.rootParent ? await breakBelow(repo, saved) : undefined;
    if (!saved.rootParent || broken) {
      if (!saved.clean) await saveChainIndex(repo, saved.text);
      return { index: saved, ...(broken && { broken }) };
    }
    // The commit that could not be read reads again: build the index anew to take in what is behind it.
    return catchUp(repo, latest, undefined);
  }
  const caughtUp = await catchUp(repo, latest, saved);
  if (caughtUp.index.rootParent && !caughtUp.broken) {
    const broken = await breakBelow(repo, caughtUp.index);
    if (!broken) return catchUp(repo, latest, undefined);
    caughtUp.broken = broken;
  }
  return caughtUp;
}

/** Reads the commits from `latest` back to the first one `saved` holds, and saves the index that results. */
async function catchUp(repo: Repository, latest: SnapshotInfo, saved: ChainIndex | undefined): Promise<Chain> {
  const newer: SnapshotInfo[] = [];
  let text: string | undefined;
  let broken: ShadowGitError | undefined;
  for (let info = latest; !text; ) {
    const position = saved ? saved.positionOf(info.commit) : -1;
    if (position >= 0) {
      text = saved!.textWith(position, newer.reverse());
      break;
    }
    newer.push(info);
    if (!info.parent) {
      text = indexHeader(undefined) + newer.reverse().map(indexLine).join('');
      break;
    }
    try {
      info = await readParent(repo, info);
    } catch (err) {
      if (!(err instanceof ShadowGitError)) throw err;
      broken = err;
      text = indexHeader(info.parent) + newer.reverse().map(indexLine).join('');
    }
  }
  await saveChainIndex(repo, text);
  return { index: ChainIndex.parse(text)!, ...(broken && { broken }) };
}

/** Why the snapshots older than the index's oldest cannot be read (its parent does not read); undefined when it reads now. */
async function breakBelow(repo: Repository, index: ChainIndex): Promise<ShadowGitError | undefined> {
  try {
    await readParent(repo, index.at(index.length - 1));
    return undefined;
  } catch (err) {
    if (err instanceof ShadowGitError) return err;
    throw err;
  }
}

/**
 * The snapshot at `position` of `index`, read from its commit: the index is never the truth, so
 * what it names is confirmed by the one read the caller needs anyway. A commit that does not
 * read or is not the snapshot the index says (damage since it was indexed) discards the index
 * and asks again (`again`), from an index built by reading the chain.
 */
async function confirmed<T>(repo: Repository, index: ChainIndex, position: number, again: (() => Promise<T>) | undefined): Promise<SnapshotInfo | T> {
  try {
    const snapshot = await readSnapshot(repo, index.commitAt(position));
    if (snapshot.id === index.idAt(position)) return snapshot;
    if (!again) throw new ShadowGitError(`commit ${snapshot.commit} was read as snapshot ${snapshot.id} just after it was indexed as ${index.idAt(position)}: the repository changed meanwhile; run the command again.`, 'ECORRUPT');
  } catch (err) {
    if (!(err instanceof CorruptObjectError) || !again) throw err;
  }
  await discardChainIndex(repo);
  return again!();
}

/**
 * Reads the commits of the snapshots at `positions` (what a listing shows): the index is not
 * trusted with what is shown, and a commit damaged since it was indexed is reported as the walk
 * would (the snapshots before it cannot be read). A listing thus costs a read per line shown,
 * not per snapshot. False when a commit is another snapshot than the index says: the index is
 * then discarded, and the next load builds it from the chain.
 */
export async function confirmListed(repo: Repository, index: ChainIndex, positions: number[]): Promise<boolean> {
  let newestDamaged: number | undefined;
  let mismatch = false;
  await forEachLimit(positions, 8, async (position) => {
    try {
      if ((await readSnapshot(repo, index.commitAt(position))).id !== index.idAt(position)) mismatch = true;
    } catch (err) {
      if (!(err instanceof CorruptObjectError)) throw err;
      if (newestDamaged === undefined || position < newestDamaged) newestDamaged = position;
    }
  });
  // Damage to the tip is BrokenTipError (readLatest's); any other, the parent of the snapshot after it.
  if (newestDamaged === 0) await readLatest(repo);
  if (newestDamaged !== undefined) await readParent(repo, index.at(newestDamaged - 1));
  if (mismatch) await discardChainIndex(repo);
  return !mismatch;
}

/** The snapshot of the chain whose id is `id`, undefined when none is. */
export async function findSnapshotById(repo: Repository, id: string, fromReadChain = false): Promise<SnapshotInfo | undefined> {
  const { index } = await loadChain(repo);
  const position = index.positionsWithIdPrefix(id).find((p) => index.idAt(p) === id);
  return position === undefined ? undefined : confirmed(repo, index, position, fromReadChain ? undefined : () => findSnapshotById(repo, id, true));
}

/**
 * Every snapshot of the chain, newest first, from the chain index: no commit is read (so no
 * tree is known). A damaged commit in the chain throws, as listSnapshots does.
 */
export async function listIndexed(repo: Repository): Promise<IndexedSnapshot[]> {
  const { index, broken } = await loadChain(repo);
  if (broken) throw broken;
  return Array.from({ length: index.length }, (_, position) => index.at(position));
}

/** How many snapshots the chain from the snapshot ref holds (the readable part, when a commit of it is damaged). */
export async function countSnapshots(repo: Repository): Promise<number> {
  return (await loadChain(repo)).index.length;
}

/** Derives a valid tag name from a display name: "Feature Complete" → "feature-complete". */
export function tagNameFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/\.lock$/, '-lock');
  if (!slug) throw new ShadowGitError(`the name ${JSON.stringify(name)} has no letters or digits to make a tag name from; choose another name.`, 'EUSAGE');
  return slug;
}

export async function listApproved(repo: Repository): Promise<ApprovedRevision[]> {
  const tags = await repo.refs.list('refs/tags/');
  const result: ApprovedRevision[] = [];
  for (const [ref, oid] of tags) {
    const tagName = ref.slice('refs/tags/'.length);
    const object = await repo.objects.read(oid, ref);
    if (object.type === 'commit') {
      result.push({ name: tagName, tag: tagName, commit: oid, description: '', date: new Date(0) });
      continue;
    }
    const tag = decodeTag(object.content);
    const trailers = parseTrailers(tag.message);
    const subject = messageBody(tag.message).split('\n')[0] ?? '';
    const name = trailers[NAME_TRAILER] ?? tagName;
    const description = subject.startsWith(`${name}: `) ? subject.slice(name.length + 2) : '';
    result.push({ name, tag: tagName, commit: tag.object, description, date: new Date(tag.tagger.timestamp * 1000) });
  }
  return result.sort((a, b) => b.date.getTime() - a.date.getTime());
}

/**
 * Resolves what a user typed to a snapshot commit: `latest`/`HEAD` (with `~N`), a snapshot id or
 * its unique prefix, a commit hash or unique prefix (4+ hex) — also one a prune has since
 * rewritten (rewrites.ts) —, an approved name or tag, `prompt:N[@SESSION]` (the snapshot taken as
 * an agent's prompt N was submitted, sessions.ts). A snapshot a prune removed is reported as
 * such (RemovedSnapshotError), not as unknown.
 */
export async function resolveRevision(repo: Repository, rev: string, fromReadChain = false): Promise<SnapshotInfo> {
  let fail = (why: string, hint = 'run `shadowgit list` to see snapshot ids and approved names'): never => {
    throw new ShadowGitError(`${why}; ${hint}.`, 'EBADREV');
  };
  const tilde = /^(.*?)~(\d*)$/.exec(rev);
  const base = tilde ? tilde[1]! : rev;
  const back = tilde ? Number(tilde[2] || 1) : 0;
  const latest = base === 'latest' || base === 'HEAD' || base === '@';
  // `REMOTE/MACHINE/…` names a snapshot on a fetched chain (remotechains.ts).
  if (/^[^/~]+\/[^/~]+\/./.test(rev)) {
    const fetched = await resolveOnFetchedChains(repo, rev, fail);
    if (fetched) return fetched;
  }
  // A damaged commit ends the chain there: the snapshots after it can still be found.
  const { index, broken } = await loadChain(repo);
  if (broken) {
    fail = (why: string): never => {
      throw new ShadowGitError(`${why} among the snapshots that can be read, and ${broken.message}`, 'EBADREV');
    };
  }
  if (index.length === 0) {
    const fetched = await resolveOnFetchedChains(repo, rev, fail);
    if (fetched) return fetched;
    fail(`there are no snapshots yet, so "${rev}" cannot be found`);
  }
  let position = latest ? 0 : -1;
  if (position < 0 && /^[k-z]{4,8}$/.test(base)) {
    const matches = index.positionsWithIdPrefix(base);
    if (matches.length > 1) fail(`snapshot id prefix "${base}" is ambiguous (${matches.length} snapshots)`);
    if (matches.length === 1) position = matches[0]!;
    else {
      // Ids survive prune, so an id missing from the chain can only have been removed.
      const removed = (await Rewrites.load(repo)).removalsWithIdPrefix(base);
      if (removed.length === 1) throw new RemovedSnapshotError(removed[0]!, base);
      if (removed.length > 1) fail(`snapshot id prefix "${base}" matches no kept snapshot, only ${removed.length} removed by prune`);
    }
  }
  if (position < 0 && /^[0-9a-f]{4,40}$/i.test(base)) {
    const lower = base.toLowerCase();
    const found = new Set(index.positionsWithCommitPrefix(lower));
    const removals = new Map<string, Removal>();
    // A hash printed before a prune names its snapshot through the rewrites (unless the full hash is in the chain as typed).
    if (lower.length < 40 || found.size === 0) {
      const rewrites = await Rewrites.load(repo);
      for (const old of rewrites.oldCommitsStartingWith(lower)) {
        const fate = rewrites.follow(old);
        if ('removal' in fate) removals.set(fate.removal.commit, fate.removal);
        else if (index.positionOf(fate.commit) >= 0) found.add(index.positionOf(fate.commit));
      }
    }
    if (found.size > 1) fail(`commit prefix "${base}" is ambiguous (${found.size} snapshots)`);
    if (found.size === 1) position = [...found][0]!;
    else if (removals.size === 1) throw new RemovedSnapshotError([...removals.values()][0]!, base);
    else if (removals.size > 1) fail(`commit prefix "${base}" matches no kept snapshot, only ${removals.size} removed by prune`);
  }
  const prompt = position < 0 ? parsePromptRevision(base) : undefined;
  if (prompt) {
    position = findPrompt(groupSessions(index.agentSnapshots()), prompt, (why) => fail(why, 'run `shadowgit sessions` to see the agent sessions and their prompts')).position;
  }
  if (position < 0) {
    const approved = await listApproved(repo);
    const hit = approved.find((a) => a.name === base) ?? approved.find((a) => a.tag === base) ?? approved.find((a) => a.name.toLowerCase() === base.toLowerCase());
    if (hit) {
      position = index.positionOf(hit.commit);
      if (position < 0) return readSnapshot(repo, hit.commit);
    }
  }
  if (position < 0) {
    // An id only another machine's chain holds, once fetched.
    const fetched = await resolveOnFetchedChains(repo, rev, fail);
    if (fetched) return fetched;
    fail(`no snapshot, commit or approved revision matches "${rev}"`);
  }
  if (position + back >= index.length) fail(`"${rev}" goes back further than the ${index.length} snapshots there are`);
  return confirmed(repo, index, position + back, fromReadChain ? undefined : () => resolveRevision(repo, rev, true));
}

/** A remote chain's snapshots, newest first. */
export async function chainSnapshots(repo: Repository, tip: string, limit = Infinity): Promise<SnapshotInfo[]> {
  const result: SnapshotInfo[] = [];
  for (let commit: string | undefined = tip; commit && result.length < limit; ) {
    const info = await readSnapshot(repo, commit);
    result.push(info);
    commit = info.parent;
  }
  return result;
}

/** The approvals of a machine on a remote: commit → display names. */
export async function chainApprovals(repo: Repository, remote: string, machine: string): Promise<Map<string, string[]>> {
  const byCommit = new Map<string, string[]>();
  const { tagPrefix } = trackingRefs(remote, machine);
  for (const [ref, oid] of await repo.refs.list(tagPrefix)) {
    const object = await repo.objects.read(oid, ref);
    if (object.type !== 'tag') continue;
    const tag = decodeTag(object.content);
    const name = parseTrailers(tag.message)[NAME_TRAILER] ?? ref.slice(tagPrefix.length);
    byCommit.set(tag.object, [...(byCommit.get(tag.object) ?? []), name]);
  }
  return byCommit;
}

/**
 * A snapshot on a fetched chain: `REMOTE/MACHINE/<id prefix | commit prefix | latest~N>` (the
 * form given), or a plain id prefix with `back` steps (~N) found on no local snapshot. Undefined
 * when nothing matches; `fail` for an ambiguous or too long answer.
 */
export async function resolveOnFetchedChains(repo: Repository, rev: string, fail: (why: string) => never): Promise<SnapshotInfo | undefined> {
  const named = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\/([a-z0-9-]+)\/(.+)$/.exec(rev);
  const chains = await fetchedChains(repo, named?.[1]);
  // Not a remote with fetched chains: an approved name may hold slashes too.
  if (named && chains.length === 0) return undefined;
  const candidates = named ? chains.filter((c) => c.machine === named[2]) : chains;
  if (named && candidates.length === 0) fail(`no fetched chain is named "${named[1]}/${named[2]}" (\`shadowgit fetch ${named[1]}\`, then \`shadowgit list --remote ${named[1]}\`)`);
  const part = named ? named[3]! : rev;
  const tilde = /^(.*?)~(\d*)$/.exec(part);
  const base = tilde ? tilde[1]! : part;
  const back = tilde ? Number(tilde[2] || 1) : 0;
  const latest = base === 'latest' || base === 'HEAD' || base === '@';
  if (!named && (latest || !/^[k-z]{4,8}$/.test(base))) return undefined;
  const hits: Array<{ chain: SnapshotInfo[]; index: number }> = [];
  for (const { tip } of candidates) {
    const chain = await chainSnapshots(repo, tip);
    chain.forEach((s, index) => {
      if (latest ? index === 0 : s.id.startsWith(base) || (/^[0-9a-f]{4,40}$/.test(base) && s.commit.startsWith(base))) hits.push({ chain, index });
    });
  }
  if (hits.length === 0) return named ? fail(`no snapshot on the fetched chain ${named[1]}/${named[2]} matches "${part}"`) : undefined;
  if (hits.length > 1) fail(`"${rev}" matches ${hits.length} snapshots on fetched chains; name one as REMOTE/MACHINE/ID (\`shadowgit list --remote NAME\`)`);
  const { chain, index } = hits[0]!;
  if (index + back >= chain.length) fail(`"${rev}" goes back further than the ${chain.length} snapshots on that chain`);
  return chain[index + back];
}
