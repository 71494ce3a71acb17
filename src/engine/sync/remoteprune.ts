import type { RetentionPolicy } from '../config.js';
import { ShadowGitError } from '../errors.js';
import { applyPolicy, describePolicy, resolvePolicy, type RetentionDecision } from '../maintenance/retention.js';
import { advertisedRefs } from '../remote/discover.js';
import { fetchPack } from '../remote/fetchpack.js';
import { shownUrl } from '../remote/http.js';
import { RemoteRejectedError, sendPack, type RefUpdate } from '../remote/sendpack.js';
import { chainSnapshots } from '../snapshot/history.js';
import { readNotes } from '../snapshot/notes.js';
import { trackingRefs } from '../snapshot/remotechains.js';
import { decodeCommit, decodeTag, encodeCommit, encodeTag, encodeTree, MODE_FILE, parseTrailers, signatureNow, type TreeEntry } from '../store/gitformat.js';
import type { Repository } from '../store/repo.js';
import { NAME_TRAILER } from '../snapshot/history.js';
import { endpointOf, remoteRefs } from './push.js';
import { readMachineName, readRemoteState, writeRemoteState, type Remote } from './remotes.js';

/**
 * `shadowgit remote prune NAME` (docs/remote.md, "Retention on the remote"): the retention
 * policy applied to this machine's remote chain. The kept snapshots become a new chain (the
 * commits up to the first removed one are kept as they are, the rest re-parented, trees and
 * ids unchanged); `refs/heads/<machine>` is moved to it non-fast-forward, this machine's
 * approvals are moved to the new commits and its notes re-keyed, in one atomic request. The
 * only command that rewrites anything on a remote — which an append-only server refuses.
 */

export interface RemotePruneReport {
  remote: string;
  url: string;
  machine: string;
  policyText: string;
  decisions: RetentionDecision[];
  removed: number;
  kept: number;
  dryRun: boolean;
  /** The chain's tip before and after (equal when nothing was removed or on a dry run). */
  oldTip: string;
  newTip: string;
}

export async function pruneRemote(repo: Repository, remote: Remote, options: { policy?: RetentionPolicy; dryRun?: boolean } = {}): Promise<RemotePruneReport> {
  const endpoint = await endpointOf(remote);
  const machine = await readMachineName(repo);
  const url = shownUrl(endpoint);
  if (!machine) throw new ShadowGitError(`this shadow repository has not pushed to ${remote.name} yet, so there is nothing of its own to prune there.`, 'EUSAGE');
  const { policy } = resolvePolicy(options.policy ?? {}, repo.config.retention);
  const on = remoteRefs(machine);
  const here = trackingRefs(remote.name, machine);

  const plan = await repo.withLock('remote-prune', async () => {
    const advertisement = await advertisedRefs(endpoint, 'git-receive-pack');
    const tip = advertisement.refs.get(on.chain);
    if (!tip) throw new ShadowGitError(`${url} holds no chain of machine ${machine} (${on.chain}); nothing to prune.`, 'EUSAGE');
    const tags = [...advertisement.refs].filter(([ref]) => ref.startsWith(on.tagPrefix));
    const notesTip = advertisement.refs.get(on.notes);
    const missing: string[] = [];
    for (const oid of [tip, notesTip, ...tags.map(([, oid]) => oid)]) if (oid && !(await repo.objects.has(oid))) missing.push(oid);
    if (missing.length > 0) await fetchPack(repo, endpoint, missing);

    const chain = await chainSnapshots(repo, tip);
    // Approved snapshots are kept, as a local prune keeps them.
    const protect = new Map<string, string[]>();
    const tagObjects = new Map<string, ReturnType<typeof decodeTag>>();
    for (const [ref, oid] of tags) {
      const tag = decodeTag(await repo.objects.readTyped(oid, 'tag', ref));
      tagObjects.set(ref, tag);
      const name = parseTrailers(tag.message)[NAME_TRAILER] ?? ref.slice(on.tagPrefix.length);
      protect.set(tag.object, [...(protect.get(tag.object) ?? []), `approved: ${name}`]);
    }
    const decisions = applyPolicy(chain, policy, protect);
    const kept = decisions.filter((d) => d.keep).map((d) => d.snapshot);
    if (options.dryRun || kept.length === chain.length) return { tip, newTip: tip, decisions, kept: kept.length, updates: [] as RefUpdate[] };

    // Oldest first: a commit whose parent is the previous kept one is kept as it is.
    const renamed = new Map<string, string>();
    let previous: string | undefined;
    for (const snapshot of [...kept].reverse()) {
      const data = decodeCommit(await repo.objects.readTyped(snapshot.commit, 'commit', `snapshot ${snapshot.id}`));
      const same = data.parents.length === (previous ? 1 : 0) && data.parents[0] === previous;
      const commit = same ? snapshot.commit : await repo.objects.write('commit', encodeCommit({ ...data, parents: previous ? [previous] : [] }));
      renamed.set(snapshot.commit, commit);
      previous = commit;
    }
    const newTip = previous!;
    const updates: RefUpdate[] = [{ ref: on.chain, old: tip, new: newTip }];
    for (const [ref, tag] of tagObjects) {
      const target = renamed.get(tag.object);
      if (!target || target === tag.object) continue;
      updates.push({ ref, old: advertisement.refs.get(ref), new: await repo.objects.write('tag', encodeTag({ ...tag, object: target })) });
    }
    if (notesTip) {
      const notes = await readNotes(repo, notesTip);
      const entries: TreeEntry[] = [];
      for (const [commit, blob] of notes) {
        const target = renamed.get(commit);
        if (target) entries.push({ name: target, mode: MODE_FILE, oid: blob });
      }
      const tree = await repo.objects.write('tree', encodeTree(entries));
      const signature = signatureNow();
      const commit = await repo.objects.write('commit', encodeCommit({ tree, parents: [notesTip], author: signature, committer: signature, message: "Notes rewritten by 'shadowgit remote prune'\n" }));
      updates.push({ ref: on.notes, old: notesTip, new: commit });
    }
    return { tip, newTip, decisions, kept: kept.length, updates };
  });

  const report: RemotePruneReport = { remote: remote.name, url, machine, policyText: describePolicy(policy), decisions: plan.decisions, removed: plan.decisions.length - plan.kept, kept: plan.kept, dryRun: Boolean(options.dryRun), oldTip: plan.tip, newTip: plan.newTip };
  if (plan.updates.length === 0) return report;
  try {
    await sendPack(repo, endpoint, plan.updates);
  } catch (err) {
    if (err instanceof RemoteRejectedError) {
      throw new ShadowGitError(`${err.message.replace(/\.$/, '')} — remote prune rewrites this machine's chain there, which a server that keeps everything (append-only) refuses; prune its repository on the server itself, if at all.`, 'EREJECTED');
    }
    throw err;
  }
  await repo.withLock('remote-prune', async () => {
    for (const { ref, new: oid } of plan.updates) {
      if (ref === on.chain) await repo.refs.write(here.chain, oid!);
      else if (ref === on.notes) await repo.refs.write(here.notes, oid!);
      else await repo.refs.write(here.tag(ref.slice(on.tagPrefix.length)), oid!);
    }
    const state = await readRemoteState(repo, remote.name);
    await writeRemoteState(repo, remote.name, { ...state, machine, remoteTip: plan.newTip });
  });
  return report;
}
