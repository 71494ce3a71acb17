import { decodeCommit, decodeTag, decodeTree, MODE_GITLINK, MODE_TREE } from '../store/gitformat.js';
import type { ObjectStore } from '../store/objects.js';

/**
 * What a push sends: every object reachable from `tips` (commits, annotated tags, trees, blobs)
 * that is not reachable from `haves` (the server's refs that exist here). Like git's
 * `rev-list --objects tips --not haves` with edge hints: every commit behind a have is left
 * out, and so is every tree and blob of the haves and of the commits on the boundary (the
 * left-out parents of a sent commit). An object only an older remote commit holds may be sent
 * again: harmless, and it spares walking the remote's whole history of trees.
 */
export async function objectsToSend(store: ObjectStore, tips: readonly string[], haves: readonly string[]): Promise<string[]> {
  const haveSet = new Set(haves);
  const uninteresting = new Set<string>();
  /** Trees the server surely has: the haves' and the boundary commits'. */
  const edgeTrees = new Set<string>();
  let frontier = await presentOnly(store, haves);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const oid of frontier) {
      if (uninteresting.has(oid)) continue;
      uninteresting.add(oid);
      const object = await store.read(oid);
      if (object.type === 'tag') next.push(decodeTag(object.content).object);
      else if (object.type === 'commit') {
        const commit = decodeCommit(object.content);
        if (haveSet.has(oid)) edgeTrees.add(commit.tree);
        next.push(...commit.parents);
      } else if (object.type === 'tree' && haveSet.has(oid)) edgeTrees.add(oid);
    }
    frontier = next;
  }

  const sent: string[] = [];
  const visited = new Set<string>();
  /** The trees of sent commits, and trees or blobs a sent tag names. */
  const treeRoots: string[] = [];
  frontier = [...tips];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const oid of frontier) {
      if (visited.has(oid)) continue;
      visited.add(oid);
      const object = await store.read(oid);
      if (object.type === 'commit' && uninteresting.has(oid)) {
        edgeTrees.add(decodeCommit(object.content).tree);
      } else if (uninteresting.has(oid)) {
        continue;
      } else if (object.type === 'tag') {
        sent.push(oid);
        next.push(decodeTag(object.content).object);
      } else if (object.type === 'commit') {
        sent.push(oid);
        const commit = decodeCommit(object.content);
        treeRoots.push(commit.tree);
        next.push(...commit.parents);
      } else treeRoots.push(oid);
    }
    frontier = next;
  }

  const onServer = new Set<string>();
  await walkTrees(store, [...edgeTrees], onServer, () => undefined);
  await walkTrees(store, treeRoots, onServer, (oid) => sent.push(oid));
  return sent;
}

/**
 * Walks trees from `roots`, skipping anything in `seen` (and adding what it visits), calling
 * `visit` for each new tree and blob. Submodule entries (gitlinks) name commits of another
 * repository and are not followed.
 */
async function walkTrees(store: ObjectStore, roots: readonly string[], seen: Set<string>, visit: (oid: string) => void): Promise<void> {
  const stack = [...roots];
  while (stack.length > 0) {
    const oid = stack.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    visit(oid);
    const object = await store.read(oid);
    if (object.type !== 'tree') continue;
    for (const entry of decodeTree(object.content)) {
      if ((entry.mode as string) === MODE_GITLINK || seen.has(entry.oid)) continue;
      if (entry.mode === MODE_TREE) stack.push(entry.oid);
      else {
        seen.add(entry.oid);
        visit(entry.oid);
      }
    }
  }
}

/** The ids in `oids` this store holds. */
export async function presentOnly(store: ObjectStore, oids: readonly string[]): Promise<string[]> {
  const present: string[] = [];
  for (const oid of oids) if (await store.has(oid)) present.push(oid);
  return present;
}

/**
 * Up to `limit` commits reachable from `tips`, nearest first: the haves a fetch offers, so the
 * server leaves out what this repository holds.
 */
export async function recentCommits(store: ObjectStore, tips: readonly string[], limit: number): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  let frontier = await presentOnly(store, tips);
  while (frontier.length > 0 && found.length < limit) {
    const next: string[] = [];
    for (const oid of frontier) {
      if (seen.has(oid) || found.length >= limit) continue;
      seen.add(oid);
      const object = await store.read(oid).catch(() => undefined);
      if (object?.type === 'tag') next.push(decodeTag(object.content).object);
      else if (object?.type === 'commit') {
        found.push(oid);
        next.push(...decodeCommit(object.content).parents);
      }
    }
    frontier = next;
  }
  return found;
}
