import { ShadowGitError } from '../errors.js';
import type { Repository } from '../store/repo.js';
import { trackingRefs } from '../snapshot/remotechains.js';
import { advertisedRefs } from '../remote/discover.js';
import { fetchPack } from '../remote/fetchpack.js';
import { shownUrl } from '../remote/http.js';
import { endpointOf, remoteRefs } from './push.js';
import type { Remote } from './remotes.js';
import type { TransferOptions } from '../remote/sendpack.js';

/**
 * `shadowgit fetch` (docs/remote.md, "Fetch"): every machine's chain, approvals and notes on the
 * remote, copied under `refs/remotes/<name>/…` (remotechains.ts) — objects first (one
 * upload-pack request), then the refs. Tracking refs the remote no longer has are dropped (only
 * `remote prune` removes anything there). Runs under the repository lock: it writes objects.
 */

export interface FetchReport {
  remote: string;
  url: string;
  /** Every machine on the remote, with its chain's tip and how many approvals it has. */
  machines: Array<{ machine: string; tip: string; approvals: number; notes: boolean }>;
  /** Refs here that moved. */
  updated: string[];
  objects: number;
}

const MACHINE = /^[a-z0-9-]+$/;

export async function fetchFromRemote(repo: Repository, remote: Remote, options: TransferOptions = {}): Promise<FetchReport> {
  const endpoint = await endpointOf(remote);
  const advertised = (await advertisedRefs(endpoint, 'git-upload-pack')).refs;
  const wanted = new Map<string, string>();
  const machines: FetchReport['machines'] = [];
  for (const [ref, oid] of advertised) {
    const head = /^refs\/heads\/(.+)$/.exec(ref);
    if (!head || !MACHINE.test(head[1]!) || head[1] === 'tags' || head[1] === 'notes') continue;
    const machine = head[1]!;
    const on = remoteRefs(machine);
    const here = trackingRefs(remote.name, machine);
    wanted.set(here.chain, oid);
    let approvals = 0;
    for (const [tagRef, tagOid] of advertised) {
      if (!tagRef.startsWith(on.tagPrefix)) continue;
      const slug = tagRef.slice(on.tagPrefix.length);
      if (!/^[a-z0-9._-]+$/.test(slug)) continue;
      wanted.set(here.tag(slug), tagOid);
      approvals++;
    }
    const notes = advertised.get(on.notes);
    if (notes) wanted.set(here.notes, notes);
    machines.push({ machine, tip: oid, approvals, notes: notes !== undefined });
  }
  return repo.withLock('fetch', async () => {
    const { objects } = await fetchPack(repo, endpoint, [...new Set(wanted.values())], options);
    const updated: string[] = [];
    const existing = await repo.refs.list(`refs/remotes/${remote.name}/`);
    for (const [ref, oid] of wanted) {
      if (existing.get(ref) === oid) continue;
      if (!(await repo.objects.has(oid))) throw new ShadowGitError(`${shownUrl(endpoint)} did not send ${oid} (${ref}); nothing was changed — fetch again.`, 'EREMOTE');
    }
    for (const [ref, oid] of wanted) {
      if (existing.get(ref) === oid) continue;
      await repo.refs.write(ref, oid);
      updated.push(ref);
    }
    for (const ref of existing.keys()) if (!wanted.has(ref)) await repo.refs.delete(ref);
    return { remote: remote.name, url: shownUrl(endpoint), machines: machines.sort((a, b) => (a.machine < b.machine ? -1 : 1)), updated, objects };
  });
}
