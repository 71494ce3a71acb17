import type { Repository } from '../store/repo.js';

/**
 * Remote chains kept here (docs/remote.md): what a push or fetch learnt a remote holds, under
 * `refs/remotes/<remote>/<machine>` (a machine's chain), `refs/remotes/<remote>/tags/<machine>/<slug>`
 * and `refs/remotes/<remote>/notes/<machine>`. Machine names always end in `-<4 hex>`, so they
 * never collide with the `tags` and `notes` directories.
 */

export function trackingRefs(remote: string, machine: string): { chain: string; notes: string; tagPrefix: string; tag: (slug: string) => string } {
  const tagPrefix = `refs/remotes/${remote}/tags/${machine}/`;
  return { chain: `refs/remotes/${remote}/${machine}`, notes: `refs/remotes/${remote}/notes/${machine}`, tagPrefix, tag: (slug) => `${tagPrefix}${slug}` };
}

export interface FetchedChain {
  remote: string;
  machine: string;
  tip: string;
}

/** Every fetched (or pushed) chain, by remote and machine; `remote` limits it to one remote. */
export async function fetchedChains(repo: Repository, remote?: string): Promise<FetchedChain[]> {
  const chains: FetchedChain[] = [];
  for (const [ref, tip] of await repo.refs.list(remote ? `refs/remotes/${remote}/` : 'refs/remotes/')) {
    const match = /^refs\/remotes\/([^/]+)\/([a-z0-9-]+)$/.exec(ref);
    if (match && match[2] !== 'tags' && match[2] !== 'notes') chains.push({ remote: match[1]!, machine: match[2]!, tip });
  }
  return chains.sort((a, b) => (a.remote === b.remote ? (a.machine < b.machine ? -1 : 1) : a.remote < b.remote ? -1 : 1));
}
