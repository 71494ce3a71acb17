import { randomInt } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { ShadowGitError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';
import { decodeCommit, decodeTag, messageBody, parseTrailers } from './gitformat.js';
import type { Repository } from './repo.js';

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
  return {
    id: trailers[ID_TRAILER] ?? commit.slice(0, 8),
    commit,
    tree: data.tree,
    parent: data.parents[0],
    date: new Date(data.committer.timestamp * 1000),
    message: messageBody(data.message),
    trigger: trailers[TRIGGER_TRAILER] ?? 'manual',
    changes: parseChanges(trailers[CHANGES_TRAILER]),
  };
}

/** Snapshots newest first, following the first-parent chain from the snapshot ref. */
export async function listSnapshots(repo: Repository, limit = Infinity): Promise<SnapshotInfo[]> {
  const result: SnapshotInfo[] = [];
  for (let commit = await repo.head(); commit && result.length < limit; ) {
    const info = await readSnapshot(repo, commit);
    result.push(info);
    commit = info.parent;
  }
  return result;
}

const SNAPSHOT_COUNT = 'snapshot-count.json';

/**
 * How many snapshots the chain from the snapshot ref holds. A commit's count never changes, so
 * the last count is kept with its commit and only the commits since are read (status would
 * otherwise read every snapshot of a long history). Races are harmless: any saved pair is true.
 */
export async function countSnapshots(repo: Repository): Promise<number> {
  const file = repo.statePath(SNAPSHOT_COUNT);
  let known: { commit?: unknown; count?: unknown } = {};
  try {
    known = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    // None yet (or damaged): count from the start.
  }
  const head = await repo.head();
  let count = 0;
  for (let commit = head; commit; commit = (await readSnapshot(repo, commit)).parent) {
    if (commit === known.commit && typeof known.count === 'number') {
      count += known.count;
      break;
    }
    count++;
  }
  if (head && head !== known.commit) await writeFileAtomic(file, JSON.stringify({ commit: head, count }), { durable: false }).catch(() => undefined);
  return count;
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
 * its unique prefix, a commit hash or unique prefix (4+ hex), an approved name or tag.
 */
export async function resolveRevision(repo: Repository, rev: string): Promise<SnapshotInfo> {
  const fail = (why: string): never => {
    throw new ShadowGitError(`${why}; run \`shadowgit list\` to see snapshot ids and approved names.`, 'EBADREV');
  };
  const tilde = /^(.*?)~(\d*)$/.exec(rev);
  const base = tilde ? tilde[1]! : rev;
  const back = tilde ? Number(tilde[2] || 1) : 0;
  const latest = base === 'latest' || base === 'HEAD' || base === '@';
  // `latest~N` needs only the newest N+1 commits; anything else may be anywhere in the chain.
  const snapshots = await listSnapshots(repo, latest ? back + 1 : Infinity);
  if (snapshots.length === 0) fail(`there are no snapshots yet, so "${rev}" cannot be found`);
  let index = latest ? 0 : -1;
  if (index < 0 && /^[k-z]{4,8}$/.test(base)) {
    const matches = snapshots.flatMap((s, i) => (s.id.startsWith(base) ? [i] : []));
    if (matches.length > 1) fail(`snapshot id prefix "${base}" is ambiguous (${matches.length} snapshots)`);
    if (matches.length === 1) index = matches[0]!;
  }
  if (index < 0 && /^[0-9a-f]{4,40}$/i.test(base)) {
    const lower = base.toLowerCase();
    const matches = snapshots.flatMap((s, i) => (s.commit.startsWith(lower) ? [i] : []));
    if (matches.length > 1) fail(`commit prefix "${base}" is ambiguous (${matches.length} snapshots)`);
    if (matches.length === 1) index = matches[0]!;
  }
  if (index < 0) {
    const approved = await listApproved(repo);
    const hit = approved.find((a) => a.name === base) ?? approved.find((a) => a.tag === base) ?? approved.find((a) => a.name.toLowerCase() === base.toLowerCase());
    if (hit) {
      index = snapshots.findIndex((s) => s.commit === hit.commit);
      if (index < 0) return readSnapshot(repo, hit.commit);
    }
  }
  if (index < 0) fail(`no snapshot, commit or approved revision matches "${rev}"`);
  if (index + back >= snapshots.length) fail(`"${rev}" goes back further than the ${snapshots.length} snapshots there are`);
  return snapshots[index + back]!;
}
