// The one tree walker (walkTrees) and each of its users — snapshots (readFlatTree), gc, verify,
// doctor's history — on trees native git builds: what each visits, and how each treats
// gitlinks, symlinks and missing objects.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { collectGarbage } from '../../src/engine/maintenance/gc.js';
import { verifyRepository } from '../../src/engine/maintenance/verify.js';
import { ContentChecker, HealthHistory } from '../../src/engine/protect/doctor.js';
import { readFlatTree, walkTrees } from '../../src/engine/snapshot/treeread.js';
import { decodeTree } from '../../src/engine/store/gitformat.js';
import { Repository } from '../../src/engine/store/repo.js';
import { git, makeSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
let repo: Repository;
let gitdir: string;
const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const gitIn = (args: string[], input: string) => execFileSync('git', ['--git-dir', gitdir, ...args], { env, input, encoding: 'utf8' }).trim();
const blob = (content: string) => gitIn(['hash-object', '-w', '--stdin'], content);
/** `git mktree --missing` of "mode type oid\tname" lines: entries may name objects that are not there. */
const tree = (...lines: string[]) => gitIn(['mktree', '--missing'], `${lines.join('\n')}\n`);
const commit = (treeOid: string, message: string, parent?: string) => gitIn(['commit-tree', treeOid, ...(parent ? ['-p', parent] : [])], message);
const has = (oid: string) => {
  try {
    git(gitdir, ['cat-file', '-e', oid]);
    return true;
  } catch {
    return false;
  }
};

const SUBMODULE_COMMIT = '1234567890abcdef1234567890abcdef12345678';
const MISSING_TREE = 'dead'.repeat(10);
const MISSING_BLOB = 'beef'.repeat(10);
let fileA: string;
let linkTarget: string;
let pkg: string;
let inner: string;
let root: string;

beforeAll(async () => {
  sb = makeSandbox('sg-treewalk-');
  process.env.SHADOWGIT_HOME = sb.home;
  repo = await Repository.open({ worktree: sb.worktree });
  await repo.ensureCreated();
  gitdir = repo.gitdir;
  fileA = blob('a\n');
  linkTarget = blob('a');
  pkg = blob('{ "name": "fixture" }\n');
  inner = tree(`100644 blob ${fileA}\tf`, `100644 blob ${pkg}\tpackage.json`);
  // The same subtree at two paths, a symlink, an executable, a submodule.
  root = tree(`100644 blob ${fileA}\ta`, `100755 blob ${fileA}\tx`, `120000 blob ${linkTarget}\tl`, `040000 tree ${inner}\td`, `040000 tree ${inner}\te`, `160000 commit ${SUBMODULE_COMMIT}\tmod`, `100644 blob ${pkg}\tpackage.json`);
});
afterAll(async () => {
  delete process.env.SHADOWGIT_HOME;
  await sb.cleanup();
});

describe('walkTrees and readFlatTree (snapshots)', () => {
  test('every file and symlink at its path, in every subtree that repeats; gitlinks passed over', async () => {
    const flat = await readFlatTree(repo.objects, root);
    expect([...flat.keys()].sort()).toEqual(['a', 'd/f', 'd/package.json', 'e/f', 'e/package.json', 'l', 'package.json', 'x']);
    expect(flat.get('l')).toEqual({ oid: linkTarget, mode: '120000' });
    expect(flat.get('x')).toEqual({ oid: fileA, mode: '100755' });
    expect([...(await readFlatTree(repo.objects, inner, 'p/q')).keys()].sort()).toEqual(['p/q/f', 'p/q/package.json']);
  });

  test('once: a tree object is read once whatever the number of paths to it; symlinks are told apart', async () => {
    const reads: string[] = [];
    const blobs: Array<[string, boolean]> = [];
    await walkTrees([root, inner], {
      read: async (oid) => {
        reads.push(oid);
        return decodeTree(await repo.objects.readTyped(oid, 'tree'));
      },
      onBlob: (_entry, path, isLink) => blobs.push([path, isLink]),
      once: true,
      concurrency: 1,
    });
    expect(reads.sort()).toEqual([root, inner].sort());
    expect(blobs.filter(([, isLink]) => isLink)).toEqual([['l', true]]);
    // inner is a root too: read there, not again as d/ or e/.
    expect(blobs.filter(([p]) => /(^|\/)f$/.test(p))).toEqual([['f', false]]);
  });

  test('enter limits the walk; a missing subtree stops readFlatTree', async () => {
    const seen: string[] = [];
    await walkTrees([root], { read: async (oid) => decodeTree(await repo.objects.readTyped(oid, 'tree')), enter: (_e, dir) => dir === 'e', onBlob: (_e, p) => seen.push(p) });
    expect(seen.filter((p) => p.includes('/')).sort()).toEqual(['e/f', 'e/package.json']);
    const broken = tree(`100644 blob ${fileA}\ta`, `040000 tree ${MISSING_TREE}\tgone`);
    await expect(readFlatTree(repo.objects, broken)).rejects.toThrow(MISSING_TREE);
  });
});

describe('verify and doctor walk the snapshot history', () => {
  let good: string;
  let damaged: string;
  beforeAll(() => {
    good = commit(root, 'good\n\nShadowgit-Id: kkkkkkkk\n');
    // A blob gone under d/, a subtree gone at s/; the gitlink and the symlink are fine.
    const damagedInner = tree(`100644 blob ${fileA}\tf`, `100644 blob ${MISSING_BLOB}\tgone`);
    damaged = commit(tree(`040000 tree ${damagedInner}\td`, `040000 tree ${MISSING_TREE}\ts`, `120000 blob ${linkTarget}\tl`, `160000 commit ${SUBMODULE_COMMIT}\tmod`, `100644 blob ${pkg}\tpackage.json`), 'damaged\n\nShadowgit-Id: mmmmmmmm\n', good);
    git(gitdir, ['update-ref', 'refs/heads/snapshots', damaged]);
  });

  test('verify: each missing object at its path; a gitlink is no problem; the intact snapshot is ok', async () => {
    const report = await verifyRepository(repo);
    const [latest, first] = report.snapshots;
    expect(first).toMatchObject({ commit: good, ok: true, problems: [] });
    expect(latest!.commit).toBe(damaged);
    expect(latest!.problems.map((p) => [p.path, p.oid]).sort()).toEqual([
      ['d/gone', MISSING_BLOB],
      ['s', MISSING_TREE],
    ]);
  });

  test('doctor: a file or symlink is found along its path, past damage; never through a gitlink, a file or a missing tree', async () => {
    const history = new HealthHistory(repo, new ContentChecker());
    expect((await history.newestHealthy('package.json'))?.commit).toBe(damaged);
    expect((await history.newestHealthy('d/package.json'))?.commit).toBe(good);
    expect((await history.newestHealthy('l'))?.commit).toBe(damaged);
    expect(await history.newestHealthy('mod/package.json')).toBeUndefined();
    expect(await history.newestHealthy('a/package.json')).toBeUndefined();
    expect(await history.newestHealthy('s/package.json')).toBeUndefined();
  });

  test('gc keeps what the trees name (symlink targets included), skips gitlinks, and stops at a missing tree', async () => {
    git(gitdir, ['update-ref', 'refs/heads/snapshots', good]);
    const junk = blob('unreachable\n');
    // The gitlink names a commit that is not here: gc fails if it takes it for an object to keep.
    await collectGarbage(repo, { graceMs: 0 });
    expect([fileA, linkTarget, pkg, inner, root, good].every(has)).toBe(true);
    expect(has(junk)).toBe(false);
    const broken = commit(tree(`100644 blob ${fileA}\ta`, `040000 tree ${MISSING_TREE}\ts`), 'broken\n', good);
    git(gitdir, ['update-ref', 'refs/heads/snapshots', broken]);
    const junk2 = blob('unreachable too\n');
    await expect(collectGarbage(repo, { graceMs: 0 })).rejects.toThrow(MISSING_TREE);
    expect(has(junk2)).toBe(true);
  });
});
