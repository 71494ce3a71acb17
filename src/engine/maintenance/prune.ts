import { promises as fsp } from 'node:fs';
import { readLastCheckout } from '../checkout/checkout.js';
import type { RetentionPolicy } from '../config.js';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import { faultPoint } from '../faults.js';
import { decodeCommit, decodeTag, decodeTree, encodeCommit, encodeTag, MODE_TREE, type TreeEntry } from '../store/gitformat.js';
import { CHANGES_TRAILER, formatChanges, listApproved, listIndexed, type ChangeCounts } from '../snapshot/history.js';
import type { IndexedSnapshot } from '../snapshot/chainindex.js';
import { readNotes, writeNotesCommit } from '../snapshot/notes.js';
import { NOTES_REF, SNAPSHOT_REF } from '../store/refs.js';
import type { Repository } from '../store/repo.js';
import { readJournal } from '../checkout/journal.js';
import { applyPolicy, describePolicy, type RetentionDecision } from './retention.js';
import { appendPruneRecord, newPruneRecord, type PruneRecord } from '../snapshot/rewrites.js';
import { LAST_CHECKOUT, PRUNE_JOURNAL } from '../store/statefiles.js';

/**
 * Removing snapshots from the middle of the linear chain means rewriting every kept descendant
 * (same tree, message, dates; new parent). Snapshot ids are trailers, so they survive; commit
 * hashes of rewritten snapshots change, and every ref, note and undo record naming them is
 * re-pointed. Crash safety: all new objects first, then a journal listing every ref value to
 * set and the prune's record for rewrites.jsonl, then that record, then the refs; an interrupted
 * prune is finished from the journal by the next command. So every record in rewrites.jsonl
 * belongs to a prune that completes, and old hashes resolve before, during and after it.
 */
interface PruneJournal {
  /** Ref → the value it must end with. */
  refs: Record<string, string>;
  /** The new content of last-checkout.json, when it names rewritten commits. */
  lastCheckout?: string;
  /** Old commit → new commit and the removed snapshots, for rewrites.jsonl (absent in journals of older versions). */
  record?: PruneRecord;
}

/** Snapshots that must survive any policy, with the reason shown by `prune --dry-run`. */
export async function protectedSnapshots(repo: Repository): Promise<Map<string, string[]>> {
  const reasons = new Map<string, string[]>();
  const add = (commit: string | undefined, reason: string) => {
    if (commit) reasons.set(commit, [...(reasons.get(commit) ?? []), reason]);
  };
  for (const approved of await listApproved(repo)) add(approved.commit, `approved: ${approved.name}`);
  const last = await readLastCheckout(repo);
  if (last) {
    add(last.before, `undo point (state before the last ${last.op})`);
    add(last.target, `target of the last ${last.op}`);
  }
  const journal = await readJournal(repo);
  if (journal) {
    add(journal.before, `state before the interrupted ${journal.op}`);
    add(journal.target, `target of the interrupted ${journal.op}`);
  }
  return reasons;
}

export async function planPrune(repo: Repository, policy: RetentionPolicy): Promise<RetentionDecision[]> {
  return applyPolicy(await listIndexed(repo), policy, await protectedSnapshots(repo));
}

export interface PruneOutcome {
  removed: IndexedSnapshot[];
  kept: number;
  /** Kept snapshots that got a new commit hash because an ancestor was removed. */
  rewritten: number;
}

/** Removes the snapshots `decisions` (made by `policy`) does not keep. The caller holds the repository lock. */
export async function executePrune(repo: Repository, decisions: RetentionDecision[], policy: RetentionPolicy): Promise<PruneOutcome> {
  const removed = decisions.filter((d) => !d.keep).map((d) => d.snapshot);
  const kept = decisions.filter((d) => d.keep).map((d) => d.snapshot);
  if (removed.length === 0) return { removed, kept: kept.length, rewritten: 0 };

  const mapping = await rewriteChain(repo, [...kept].reverse());
  const journal: PruneJournal = { refs: {}, record: newPruneRecord(describePolicy(policy), mapping, removed) };
  const head = kept[0];
  if (head) journal.refs[SNAPSHOT_REF] = mapping.get(head.commit)!;

  for (const [ref, oid] of await repo.refs.list('refs/tags/')) {
    const replacement = await repointTag(repo, oid, mapping);
    if (replacement) journal.refs[ref] = replacement;
  }
  const notesCommit = await remapNotes(repo, mapping, new Set(removed.map((s) => s.commit)));
  if (notesCommit) journal.refs[NOTES_REF] = notesCommit;
  const last = await readLastCheckout(repo);
  if (last) {
    const remapped = { ...last, before: mapping.get(last.before) ?? last.before, target: mapping.get(last.target) ?? last.target };
    if (remapped.before !== last.before || remapped.target !== last.target) journal.lastCheckout = JSON.stringify(remapped);
  }

  await writeFileAtomic(repo.statePath(PRUNE_JOURNAL), JSON.stringify(journal));
  await faultPoint('prune-journal');
  await applyPruneJournal(repo, journal);
  const rewritten = kept.filter((s) => mapping.get(s.commit) !== s.commit).length;
  return { removed, kept: kept.length, rewritten };
}

/** Finishes a prune cut off after its journal was written (idempotent: it only sets final values). */
export async function recoverInterruptedPrune(repo: Repository): Promise<boolean> {
  const raw = await readFileIfExists(repo.statePath(PRUNE_JOURNAL));
  if (!raw) return false;
  let journal: PruneJournal;
  try {
    journal = JSON.parse(raw.toString('utf8')) as PruneJournal;
  } catch {
    // Written atomically, so this is outside damage. Nothing is lost by dropping it: every ref
    // still names a whole commit, and gc keeps whatever any ref reaches.
    await fsp.rm(repo.statePath(PRUNE_JOURNAL), { force: true });
    return false;
  }
  await applyPruneJournal(repo, journal);
  return true;
}

async function applyPruneJournal(repo: Repository, journal: PruneJournal): Promise<void> {
  if (journal.record) await appendPruneRecord(repo, journal.record);
  await faultPoint('prune-rewrites');
  for (const [ref, oid] of Object.entries(journal.refs)) {
    await repo.refs.write(ref, oid);
    await faultPoint('prune-ref');
  }
  if (journal.lastCheckout) await writeFileAtomic(repo.statePath(LAST_CHECKOUT), journal.lastCheckout);
  await fsp.rm(repo.statePath(PRUNE_JOURNAL), { force: true });
}

/**
 * Re-links `keptOldestFirst` into one chain: a snapshot whose parent is unchanged keeps its
 * commit, unread (so only the snapshots newer than the oldest removed one are read); any other
 * gets a new commit with the same tree, message and dates. The change counts of a snapshot whose
 * parent was removed are recomputed against its new parent. Returns old commit → new commit for
 * every kept snapshot.
 */
async function rewriteChain(repo: Repository, keptOldestFirst: IndexedSnapshot[]): Promise<Map<string, string>> {
  const mapping = new Map<string, string>();
  const readCommit = async (snapshot: IndexedSnapshot) => decodeCommit(await repo.objects.readTyped(snapshot.commit, 'commit', `snapshot ${snapshot.id}`));
  let previous: IndexedSnapshot | undefined;
  /** The tree of `previous`, when its commit was read. */
  let previousTree: string | undefined;
  for (const snapshot of keptOldestFirst) {
    const newParent = previous ? mapping.get(previous.commit)! : undefined;
    if (snapshot.parent === newParent) {
      mapping.set(snapshot.commit, snapshot.commit);
      previousTree = undefined;
    } else {
      const data = await readCommit(snapshot);
      let message = data.message;
      if (snapshot.parent !== previous?.commit) {
        const fromTree = previous && (previousTree ?? (await readCommit(previous)).tree);
        const changes = await countTreeChanges(repo, fromTree, data.tree);
        message = message.replace(new RegExp(`^${CHANGES_TRAILER}: .*$`, 'm'), `${CHANGES_TRAILER}: ${formatChanges(changes)}`);
      }
      mapping.set(snapshot.commit, await repo.objects.write('commit', encodeCommit({ ...data, parents: newParent ? [newParent] : [], message })));
      previousTree = data.tree;
    }
    previous = snapshot;
  }
  return mapping;
}

/** A new tag object (same name, tagger and message) when the tagged commit was rewritten. */
async function repointTag(repo: Repository, oid: string, mapping: Map<string, string>): Promise<string | undefined> {
  const object = await repo.objects.read(oid);
  if (object.type === 'commit') {
    const target = mapping.get(oid);
    return target && target !== oid ? target : undefined;
  }
  const tag = decodeTag(object.content);
  const target = mapping.get(tag.object);
  if (!target || target === tag.object) return undefined;
  return repo.objects.write('tag', encodeTag({ ...tag, object: target }));
}

/** Moves notes to the rewritten commits and drops notes of removed snapshots; undefined when nothing changes. */
async function remapNotes(repo: Repository, mapping: Map<string, string>, removed: Set<string>): Promise<string | undefined> {
  const notes = await readNotes(repo);
  const remapped = new Map<string, string>();
  let changed = false;
  for (const [commit, blob] of notes) {
    if (removed.has(commit)) {
      changed = true;
      continue;
    }
    const target = mapping.get(commit) ?? commit;
    if (target !== commit) changed = true;
    remapped.set(target, blob);
  }
  // No history: notes of removed snapshots must not stay reachable through older notes commits.
  return changed ? writeNotesCommit(repo, remapped, `Notes rewritten by 'shadowgit prune'`, { history: false }) : undefined;
}

/** Added/modified/deleted file counts between two trees, skipping identical subtrees. */
async function countTreeChanges(repo: Repository, from: string | undefined, to: string): Promise<ChangeCounts> {
  const counts: ChangeCounts = { added: 0, modified: 0, deleted: 0 };
  const entriesOf = async (tree: string | undefined): Promise<Map<string, TreeEntry>> =>
    new Map(tree ? decodeTree(await repo.objects.readTyped(tree, 'tree')).map((e) => [e.name, e]) : []);
  const walk = async (a: string | undefined, b: string | undefined): Promise<void> => {
    if (a === b) return;
    const [left, right] = await Promise.all([entriesOf(a), entriesOf(b)]);
    for (const name of new Set([...left.keys(), ...right.keys()])) {
      const x = left.get(name);
      const y = right.get(name);
      const xTree = x?.mode === MODE_TREE ? x.oid : undefined;
      const yTree = y?.mode === MODE_TREE ? y.oid : undefined;
      if (xTree || yTree) await walk(xTree, yTree);
      const xFile = x && !xTree ? x : undefined;
      const yFile = y && !yTree ? y : undefined;
      if (xFile && yFile) {
        if (xFile.oid !== yFile.oid || xFile.mode !== yFile.mode) counts.modified++;
      } else if (xFile) counts.deleted++;
      else if (yFile) counts.added++;
    }
  };
  await walk(from, to);
  return counts;
}
