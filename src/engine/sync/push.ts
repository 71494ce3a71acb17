import { existsSync } from 'node:fs';
import { DEFAULT_MAX_FILE_BYTES } from '../config.js';
import { ShadowGitError } from '../errors.js';
import { decodeCommit, decodeTag, encodeCommit, encodeTag, encodeTree, MODE_FILE, type TreeEntry } from '../store/gitformat.js';
import { looseObjectPath, STREAM_THRESHOLD } from '../store/objects.js';
import type { Repository } from '../store/repo.js';
import { diffTrees } from '../snapshot/diff.js';
import { listApproved, listIndexed, readSnapshot, type SnapshotInfo } from '../snapshot/history.js';
import { readNotes } from '../snapshot/notes.js';
import { trackingRefs } from '../snapshot/remotechains.js';
import { lookupCredentials } from '../remote/credentials.js';
import { advertisedRefs } from '../remote/discover.js';
import { fetchPack } from '../remote/fetchpack.js';
import { shownUrl, type Endpoint } from '../remote/http.js';
import { machineName, readMachineName, readRemoteState, writeRemoteState, type Remote, type RemoteState } from './remotes.js';
import { sendPack, type RefUpdate, type TransferProgress } from '../remote/sendpack.js';

/**
 * `shadowgit push` (docs/remote.md, "Push"): the local snapshots not yet on the remote are
 * appended to this machine's remote chain `refs/heads/<machine>` — the local commits themselves
 * while the local chain continues the remote one, else "grafts" (same tree, message, author
 * and committer, parent = the previous remote commit; a retried push makes the same ids) —,
 * approvals go to `refs/tags/<machine>/<slug>` and notes to `refs/notes/<machine>`, all in one
 * atomic request. Only the remote's answer moves the local state: the tracking refs
 * `refs/remotes/<name>/…` (which keep the grafts from gc) and `shadowgit/remotes/<name>.json`.
 * The network is used outside the repository lock, so snapshots are never held up by a push.
 */

export interface PushedSnapshot {
  id: string;
  /** The local commit, and the remote chain's commit holding the same tree (the same one unless grafted). */
  commit: string;
  remoteCommit: string;
}

export interface PushReport {
  remote: string;
  /** Without userinfo. */
  url: string;
  machine: string;
  pushed: PushedSnapshot[];
  /** Every ref the push moved on the remote. */
  refs: Array<{ ref: string; old?: string; new: string }>;
  /** Objects the packs carried. */
  objects: number;
  /** Receive-pack requests made: more than one when the server refused a request that large (413). */
  requests: number;
  /** Approvals left out (a tag the remote already has elsewhere, a snapshot not on the chain). */
  warnings: string[];
}

export interface PushOptions {
  onProgress?: (progress: TransferProgress) => void;
}

/** The refs a machine's pushes write on the remote. */
export function remoteRefs(machine: string): { chain: string; notes: string; tag: (slug: string) => string; tagPrefix: string } {
  return { chain: `refs/heads/${machine}`, notes: `refs/notes/${machine}`, tag: (slug) => `refs/tags/${machine}/${slug}`, tagPrefix: `refs/tags/${machine}/` };
}

export async function endpointOf(remote: Remote): Promise<Endpoint> {
  const credentials = await lookupCredentials(remote.url);
  return { url: remote.url, ...(credentials ? { credentials } : {}) };
}

interface ChainStep {
  snapshot: SnapshotInfo;
  remoteCommit: string;
}

interface PushPlan {
  machine: string;
  remoteTip: string | undefined;
  steps: ChainStep[];
  /** Tags and notes: sent with the last (or only) request. */
  extras: RefUpdate[];
  /** Tracking refs for the extras, moved once they are on the remote. */
  extraTracking: Array<{ ref: string; oid: string }>;
  warnings: string[];
}

const sizeText = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The content size of blob `oid`, or 0 when it is surely under `limit` (a loose object too small to stream). */
async function blobSizeOver(repo: Repository, oid: string, limit: number): Promise<number> {
  const large = repo.objects.largeBlobSize(oid);
  if (large !== undefined) return large > limit ? large : 0;
  if (limit >= STREAM_THRESHOLD && existsSync(looseObjectPath(repo.gitdir, oid))) return 0;
  const { content } = await repo.objects.read(oid);
  return content.length > limit ? content.length : 0;
}

/** Files a push would send that are over `limit`: refused, named, before anything is sent. */
async function checkFileSizes(repo: Repository, steps: ChainStep[], baseTree: string | undefined, limit: number): Promise<void> {
  const seen = new Set<string>();
  const over: string[] = [];
  let previous = baseTree;
  for (const { snapshot } of steps) {
    for (const change of await diffTrees(repo.objects, previous, snapshot.tree)) {
      const oid = change.newOid;
      if (!oid || oid === change.oldOid || seen.has(oid)) continue;
      seen.add(oid);
      const bytes = await blobSizeOver(repo, oid, limit);
      if (bytes > 0) over.push(`${change.path} (${sizeText(bytes)}, snapshot ${snapshot.id})`);
    }
    previous = snapshot.tree;
  }
  if (over.length > 0) {
    throw new ShadowGitError(
      `nothing was pushed: ${over.slice(0, 5).join(', ')}${over.length > 5 ? ` and ${over.length - 5} more` : ''} ${over.length === 1 ? 'is' : 'are'} over the remote's per-file limit of ${sizeText(limit)}; exclude ${over.length === 1 ? 'it' : 'them'} (.shadowgit "exclude", then \`shadowgit prune\`) or raise "remote": {"maxFileBytes"} in .shadowgit if the server takes more.`,
      'ETOOLARGE',
    );
  }
}

/**
 * What to push, with every object it needs written here (grafts, tag objects, the notes commit)
 * and nothing moved. The caller holds the lock.
 */
async function planPush(repo: Repository, remote: Remote, endpoint: Endpoint, maxFileBytes: number): Promise<PushPlan> {
  const machine = await machineName(repo);
  const on = remoteRefs(machine);
  const advertised = (await advertisedRefs(endpoint, 'git-receive-pack')).refs;
  const remoteTip = advertised.get(on.chain);
  const remoteNotes = advertised.get(on.notes);
  // Only this machine writes its refs, so they are here, unless the state was lost (or the answer to a push was).
  const missing: string[] = [];
  for (const oid of [remoteTip, remoteNotes]) if (oid && !(await repo.objects.has(oid))) missing.push(oid);
  if (missing.length > 0) await fetchPack(repo, endpoint, missing);

  const local = (await listIndexed(repo)).reverse();
  if (local.length === 0) throw new ShadowGitError('there are no snapshots to push yet; take one with `shadowgit snapshot`.', 'EUSAGE');
  const localIndex = new Map(local.map((s, i) => [s.id, i]));
  const approved = await listApproved(repo);
  // Snapshot id → its commit on the remote chain: the newest one on the remote chain that this chain has is the last pushed.
  const onRemote = new Map<string, string>();
  let lastPushed = -1;
  let remoteTipTree: string | undefined;
  for (let commit = remoteTip; commit; ) {
    const info = await readSnapshot(repo, commit);
    remoteTipTree ??= info.tree;
    if (!onRemote.has(info.id)) onRemote.set(info.id, commit);
    if (lastPushed < 0 && localIndex.has(info.id)) {
      lastPushed = localIndex.get(info.id)!;
      // Approvals may name older snapshots: then the whole remote chain is needed.
      if (approved.length === 0) break;
    }
    commit = info.parent;
  }

  const steps: ChainStep[] = [];
  let previous = remoteTip;
  for (const snapshot of local.slice(lastPushed + 1)) {
    if (onRemote.has(snapshot.id)) continue;
    const data = decodeCommit(await repo.objects.readTyped(snapshot.commit, 'commit', `snapshot ${snapshot.id}`));
    const continues = data.parents.length === (previous ? 1 : 0) && data.parents[0] === previous;
    const remoteCommit = continues ? snapshot.commit : await repo.objects.write('commit', encodeCommit({ ...data, parents: previous ? [previous] : [] }));
    steps.push({ snapshot: { ...snapshot, tree: data.tree }, remoteCommit });
    onRemote.set(snapshot.id, remoteCommit);
    previous = remoteCommit;
  }
  await checkFileSizes(repo, steps, remoteTipTree, maxFileBytes);

  const tracking = trackingRefs(remote.name, machine);
  const extras: RefUpdate[] = [];
  const extraTracking: Array<{ ref: string; oid: string }> = [];
  const warnings: string[] = [];
  for (const approval of approved) {
    const localTag = await repo.refs.read(`refs/tags/${approval.tag}`);
    const object = localTag && (await repo.objects.read(localTag, `refs/tags/${approval.tag}`));
    if (!object || object.type !== 'tag') continue;
    const remoteCommit = onRemote.get((await readSnapshot(repo, approval.commit)).id);
    if (!remoteCommit) {
      warnings.push(`approval "${approval.name}" was not pushed: its snapshot is not on the snapshot chain.`);
      continue;
    }
    const tag = decodeTag(object.content);
    const oid = await repo.objects.write('tag', encodeTag({ ...tag, object: remoteCommit }));
    const ref = on.tag(approval.tag);
    const there = advertised.get(ref);
    if (there === oid) continue;
    if (there) {
      warnings.push(`approval "${approval.name}" was not pushed: the remote keeps the earlier one (a tag on the remote is never moved).`);
      continue;
    }
    extras.push({ ref, old: undefined, new: oid });
    extraTracking.push({ ref: tracking.tag(approval.tag), oid });
  }

  const localNotes = await readNotes(repo);
  const notes = remoteNotes ? await readNotes(repo, remoteNotes) : new Map<string, string>();
  let added = 0;
  for (const { snapshot, remoteCommit } of steps) {
    const blob = localNotes.get(snapshot.commit);
    if (blob && notes.get(remoteCommit) !== blob) {
      notes.set(remoteCommit, blob);
      added++;
    }
  }
  if (added > 0) {
    const entries: TreeEntry[] = [...notes].map(([commit, blob]) => ({ name: commit, mode: MODE_FILE, oid: blob }));
    const tree = await repo.objects.write('tree', encodeTree(entries));
    // The newest pushed snapshot's date, not now: a retried push makes the same notes commit.
    const { committer } = decodeCommit(await repo.objects.readTyped(steps[steps.length - 1]!.snapshot.commit, 'commit'));
    const signature = { ...committer, name: 'shadowgit', email: 'shadowgit@localhost' };
    const oid = await repo.objects.write('commit', encodeCommit({ tree, parents: remoteNotes ? [remoteNotes] : [], author: signature, committer: signature, message: `Notes added by 'shadowgit push'\n` }));
    extras.push({ ref: on.notes, old: remoteNotes, new: oid });
    extraTracking.push({ ref: tracking.notes, oid });
  }
  return { machine, remoteTip, steps, extras, extraTracking, warnings };
}

/**
 * Pushes to `remote` (see the module comment). On a 413 the chain goes in chunks, oldest
 * first, each its own atomic request with the state advanced after it; a failure is recorded
 * in the state file for `status` and thrown.
 */
export async function pushToRemote(repo: Repository, remote: Remote, options: PushOptions = {}): Promise<PushReport> {
  const endpoint = await endpointOf(remote);
  const maxFileBytes = repo.config.remote?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  try {
    const plan = await repo.withLock('push', () => planPush(repo, remote, endpoint, maxFileBytes));
    const { machine } = plan;
    const report: PushReport = { remote: remote.name, url: shownUrl(endpoint), machine, pushed: [], refs: [], objects: 0, requests: 0, warnings: plan.warnings };
    const on = remoteRefs(machine);
    const tracking = trackingRefs(remote.name, machine);
    const { steps, extras } = plan;
    let tip = plan.remoteTip;
    let start = 0;
    let size = Math.max(steps.length, 1);
    for (;;) {
      const end = Math.min(start + size, steps.length);
      const last = end === steps.length;
      const chain: RefUpdate[] = end > start ? [{ ref: on.chain, old: tip, new: steps[end - 1]!.remoteCommit }] : [];
      const updates = [...chain, ...(last ? extras : [])];
      if (updates.length > 0) {
        try {
          const result = await sendPack(repo, endpoint, updates, options);
          report.objects += result.objects;
          report.requests++;
        } catch (err) {
          if (err instanceof ShadowGitError && err.code === 'ETOOLARGE' && end - start > 1) {
            size = Math.ceil((end - start) / 2);
            continue;
          }
          if (err instanceof ShadowGitError && err.code === 'ETOOLARGE') {
            throw new ShadowGitError(`${report.url} refused even one snapshot's request as too large (413)${report.requests > 0 ? ` after ${report.pushed.length} snapshots were pushed` : ''}; raise the server's request size limit, or exclude the large files.`, 'ETOOLARGE');
          }
          throw err;
        }
      }
      const pushed = steps.slice(start, end);
      await repo.withLock('push', async () => {
        const state: RemoteState = { ...(await readRemoteState(repo, remote.name)), machine: plan.machine, lastPush: new Date().toISOString() };
        delete state.lastError;
        if (pushed.length > 0) {
          const newest = pushed[pushed.length - 1]!;
          await repo.refs.write(tracking.chain, newest.remoteCommit);
          Object.assign(state, { remoteTip: newest.remoteCommit, lastPushedId: newest.snapshot.id, lastPushedDate: newest.snapshot.date.toISOString() });
        } else if (tip) {
          const newest = await readSnapshot(repo, tip);
          await repo.refs.write(tracking.chain, tip);
          Object.assign(state, { remoteTip: tip, lastPushedId: newest.id, lastPushedDate: newest.date.toISOString() });
        }
        if (last) for (const { ref, oid } of plan.extraTracking) await repo.refs.write(ref, oid);
        await writeRemoteState(repo, remote.name, state);
      });
      report.pushed.push(...pushed.map(({ snapshot, remoteCommit }) => ({ id: snapshot.id, commit: snapshot.commit, remoteCommit })));
      report.refs.push(...updates.map(({ ref, old, new: oid }) => ({ ref, ...(old ? { old } : {}), new: oid! })));
      if (end > start) tip = steps[end - 1]!.remoteCommit;
      if (last) return report;
      start = end;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await repo
      .withLock('push', async () => {
        const state = await readRemoteState(repo, remote.name);
        const known = state?.machine ?? (await readMachineName(repo));
        if (known) await writeRemoteState(repo, remote.name, { ...state, machine: known, lastError: { time: new Date().toISOString(), message } });
      })
      .catch(() => undefined);
    throw err;
  }
}
