import path from 'node:path';
import { forEachLimit } from '../fsutil.js';
import { decodeCommit, decodeTag, decodeTree, MODE_LINK, MODE_TREE, parseTrailers, type TreeEntry } from '../store/gitformat.js';
import { ID_TRAILER, listApproved } from '../snapshot/history.js';
import { readNotes } from '../snapshot/notes.js';
import { discardChainIndexUnlike } from '../snapshot/chainindex.js';
import { walkTrees } from '../snapshot/treeread.js';
import { symlinkTargetProblem, treeEntriesProblem } from '../worktree/names.js';
import { checkPack, listPacks } from '../store/pack.js';
import { NOTES_REF } from '../store/refs.js';
import type { Repository } from '../store/repo.js';

export interface ObjectProblem {
  oid: string;
  /** Where in the snapshot ("src/app.ts", "/" for its root tree, "commit" for the commit itself). */
  path: string;
  problem: string;
}

export interface CheckedRevision {
  id: string;
  commit: string;
  /** Approved name, for approved revisions. */
  name?: string;
  ok: boolean;
  problems: ObjectProblem[];
}

export interface VerifyReport {
  ok: boolean;
  quick: boolean;
  snapshots: CheckedRevision[];
  approved: CheckedRevision[];
  packs: Array<{ name: string; problem?: string }>;
  notes: ObjectProblem[];
  /** Set when a damaged commit cuts the chain: snapshots older than it cannot be reached. */
  chainBrokenAt?: string;
  objectsChecked: number;
}

/**
 * Re-reads every object the snapshots and approved revisions need (the object store re-hashes
 * each one), parses commits and trees, and attributes every problem to the snapshots that hold
 * it. `quick` checks only the latest snapshot and the approved revisions.
 */
export async function verifyRepository(repo: Repository, options: { quick?: boolean; onProgress?: (objects: number) => void } = {}): Promise<VerifyReport> {
  const checker = new ObjectChecker(repo, options.onProgress);
  const report: VerifyReport = { ok: true, quick: Boolean(options.quick), snapshots: [], approved: [], packs: [], notes: [], objectsChecked: 0 };

  const packDir = path.join(repo.gitdir, 'objects', 'pack');
  if (!options.quick) for (const name of await listPacks(packDir)) report.packs.push({ name, problem: await checkPack(packDir, name) });

  const commits: Array<{ commit: string; tree?: string; id: string; problem?: ObjectProblem }> = [];
  for (let commit = await repo.head(); commit; ) {
    const read = await checker.commit(commit);
    commits.push({ commit, ...read });
    if (read.problem) {
      report.chainBrokenAt = commit;
      break;
    }
    commit = options.quick ? undefined : read.parent;
  }

  // Every commit of the chain was just read: the chain index must agree with them all.
  if (!options.quick && !report.chainBrokenAt) await discardChainIndexUnlike(repo, commits);

  const tagged: Array<{ name: string; tagProblem?: ObjectProblem; commit?: string }> = [];
  for (const [ref, oid] of await repo.refs.list('refs/tags/')) {
    try {
      const object = await repo.objects.read(oid, ref);
      tagged.push({ name: ref.slice('refs/tags/'.length), commit: object.type === 'tag' ? decodeTag(object.content).object : oid });
    } catch (err) {
      tagged.push({ name: ref.slice('refs/tags/'.length), tagProblem: { oid, path: ref, problem: describe(err) } });
    }
  }
  const names = new Map((await listApproved(repo).catch(() => [])).map((a) => [a.tag, a.name]));
  const approvedCommits = await Promise.all(tagged.map(async (t) => (t.commit ? { commit: t.commit, ...(await checker.commit(t.commit)) } : undefined)));

  const trees = [...commits, ...approvedCommits].flatMap((c) => (c?.tree ? [c.tree] : []));
  await checker.checkTrees(trees);

  for (const c of commits) report.snapshots.push(checked(c.id, c.commit, c.problem ? [c.problem] : checker.problemsUnder(c.tree!)));
  tagged.forEach((t, i) => {
    const c = approvedCommits[i];
    const problems = t.tagProblem ? [t.tagProblem] : c?.problem ? [c.problem] : checker.problemsUnder(c!.tree!);
    report.approved.push({ ...checked(c?.id ?? t.name, c?.commit ?? '', problems), name: names.get(t.name) ?? t.name });
  });

  if (await repo.refs.read(NOTES_REF)) {
    try {
      await forEachLimit([...(await readNotes(repo))], 16, async ([commit, blob]) => {
        const problem = await checker.blob(blob);
        if (problem) report.notes.push({ oid: blob, path: `note of ${commit}`, problem });
      });
    } catch (err) {
      report.notes.push({ oid: '', path: NOTES_REF, problem: (err as Error).message });
    }
  }

  report.objectsChecked = checker.count;
  report.ok = [...report.snapshots, ...report.approved].every((s) => s.ok) && report.packs.every((p) => !p.problem) && report.notes.length === 0 && !report.chainBrokenAt;
  return report;
}

function checked(id: string, commit: string, problems: ObjectProblem[]): CheckedRevision {
  return { id, commit, ok: problems.length === 0, problems };
}

/** Reads each object once, remembers what is wrong with it, and maps problems to paths per tree. */
class ObjectChecker {
  private readonly trees = new Map<string, TreeEntry[] | string>();
  private readonly blobs = new Map<string, string | undefined>();
  /** Why an intact blob that a tree names as a symlink cannot be written as one. */
  private readonly linkTargets = new Map<string, string | undefined>();
  private readonly under = new Map<string, ObjectProblem[]>();
  private readonly commits = new Set<string>();

  constructor(
    private readonly repo: Repository,
    private readonly onProgress: (objects: number) => void = () => undefined,
  ) {}

  get count(): number {
    return this.trees.size + this.blobs.size + this.commits.size;
  }

  async commit(commit: string): Promise<{ id: string; tree?: string; parent?: string; problem?: ObjectProblem }> {
    this.commits.add(commit);
    try {
      const data = decodeCommit(await this.repo.objects.readTyped(commit, 'commit'));
      return { id: parseTrailers(data.message)[ID_TRAILER] ?? commit.slice(0, 8), tree: data.tree, parent: data.parents[0] };
    } catch (err) {
      return { id: commit.slice(0, 8), problem: { oid: commit, path: 'commit', problem: describe(err) } };
    }
  }

  async blob(oid: string, asLink = false): Promise<string | undefined> {
    if (!this.blobs.has(oid) || (asLink && this.blobs.get(oid) === undefined && !this.linkTargets.has(oid))) {
      try {
        const content = await this.repo.objects.readTyped(oid, 'blob');
        this.blobs.set(oid, undefined);
        if (asLink) this.linkTargets.set(oid, symlinkTargetProblem(content));
      } catch (err) {
        this.blobs.set(oid, describe(err));
      }
      this.onProgress(this.count);
    }
    return this.blobs.get(oid);
  }

  /** Reads every tree under `roots` not read before, then every blob they name, with bounded concurrency. */
  async checkTrees(roots: string[]): Promise<void> {
    const blobIds = new Set<string>();
    const linkIds = new Set<string>();
    await walkTrees(
      roots.filter((t) => !this.trees.has(t)),
      {
        read: async (oid) => {
          try {
            const content = await this.repo.objects.readTyped(oid, 'tree');
            const entries = decodeTree(content);
            const unwritable = treeEntriesProblem(content, entries);
            if (unwritable) throw new Error(`it holds ${unwritable}`);
            this.trees.set(oid, entries);
            return entries;
          } catch (err) {
            this.trees.set(oid, describe(err));
            return undefined;
          }
        },
        enter: (entry) => !this.trees.has(entry.oid),
        onBlob: (entry, _path, isLink) => (isLink ? linkIds : blobIds).add(entry.oid),
        once: true,
        concurrency: 16,
      },
    );
    await forEachLimit([...new Set([...blobIds, ...linkIds])], 16, async (oid) => {
      await this.blob(oid, linkIds.has(oid));
    });
  }

  /** Problems of every object under `tree` (already checked), with paths relative to it. */
  problemsUnder(tree: string, prefix = ''): ObjectProblem[] {
    const here = (p: ObjectProblem[]) => (prefix ? p.map((x) => ({ ...x, path: x.path === '/' ? prefix : `${prefix}/${x.path}` })) : p);
    const cached = this.under.get(tree);
    if (cached) return here(cached);
    const entries = this.trees.get(tree);
    let problems: ObjectProblem[] = [];
    if (typeof entries === 'string') problems = [{ oid: tree, path: '/', problem: entries }];
    else if (entries) {
      for (const e of entries) {
        if (e.mode === MODE_TREE) problems.push(...this.problemsUnder(e.oid, e.name));
        else {
          const problem = this.blobs.get(e.oid) ?? (e.mode === MODE_LINK ? this.linkTargets.get(e.oid) : undefined);
          if (problem) problems.push({ oid: e.oid, path: e.name, problem });
        }
      }
    }
    this.under.set(tree, problems);
    return here(problems);
  }
}

/** The reason alone: CorruptObjectError's message also tells what to do, which the report says once. */
function describe(err: unknown): string {
  const message = (err as Error).message;
  const match = /^object [0-9a-f]+(?: \([^)]*\))? is (.*?); nothing was changed/.exec(message);
  return match ? match[1]! : message;
}
