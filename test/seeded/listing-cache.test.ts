// The scan trusts a directory's cached listing while the directory's stat is unchanged, and a
// watcher's list of changed paths over the stat of every file. These tests try to make either
// shortcut miss a change; native git, reading the same tree from scratch, is the oracle.
import { promises as fsp, utimesSync } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/index.js';
import { ObjectStore } from '../../src/engine/store/objects.js';
import { recordTree } from '../../src/engine/snapshot/record.js';
import { scanWorktree } from '../../src/engine/worktree/scan.js';
import { cachedPaths, cachedRanges, dirLayout } from '../../src/engine/worktree/statall.js';
import { StatCache } from '../../src/engine/worktree/statcache.js';
import { askWatcher } from '../../src/engine/worktree/watchclient.js';
import { Repository } from '../../src/engine/store/repo.js';
import { prng } from '../../scripts/bench/tree.mjs';
import { changesBetween, filesOf, nativeTree, randomEditor } from '../helpers/edits.js';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, repoOf, runCli, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-listing-', (s) => (sb = s), { setHome: true });

const treeOf = (gitdir: string, commit: string) => (git(gitdir, ['rev-parse', `${commit}^{tree}`]) as string).trim();

describe('cached directory listings never hide a change (random edits, native git as oracle)', () => {
  test('24 rounds of random edits, ignore-file changes and rollbacks', async () => {
    const random = prng(20261122);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const w = (rel: string) => path.join(sb.worktree, rel);
    await writeTree(sb.worktree, { 'src/a.ts': 'a\n', 'src/lib/b.ts': 'b\n', 'docs/readme.md': 'r\n', 'logs/x.log': 'log\n', '.gitignore': '*.log\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const snapshots: string[] = [];
    let counter = 0;

    const files = async () => [...(await diskFiles(sb.worktree))].filter(([p, f]) => p !== '.gitignore' && f.mode !== '120000').map(([p]) => p);
    const dirs = async () => [...new Set((await files()).map((p) => path.posix.dirname(p)))];
    const edits: Array<() => Promise<void>> = [
      async () => writeTree(sb.worktree, { [`${pick(await dirs())}/new${counter++}.ts`]: `n${counter}\n` }),
      async () => writeTree(sb.worktree, { [`${pick(await dirs())}/deep${counter++}/er/f.ts`]: `d${counter}\n` }),
      async () => fsp.rm(w(pick(await files())), { force: true }),
      async () => {
        const below = (await dirs()).filter((d) => d !== '.');
        if (below.length > 0) await fsp.rm(w(pick(below)), { recursive: true, force: true });
      },
      async () => {
        const from = pick(await files());
        await fsp.rename(w(from), w(`${pick(await dirs())}/moved${counter++}.ts`)).catch(() => undefined);
      },
      // Same size, written at once: only the racy rule or a stat change can tell.
      async () => {
        const file = pick(await files());
        const content = await fsp.readFile(w(file));
        if (content.length > 0) content[0] = content[0] === 0x7a ? 0x79 : 0x7a;
        await fsp.writeFile(w(file), content);
      },
      async () => fsp.chmod(w(pick(await files())), random() < 0.5 ? 0o755 : 0o644),
      async () => {
        await fsp.mkdir(w(`${pick(await dirs())}/empty${counter++}`), { recursive: true });
      },
      async () => {
        const file = pick(await files());
        await fsp.rm(w(file), { force: true });
        await writeTree(sb.worktree, { [`${file}/inside.ts`]: 'was a file\n' });
      },
      async () => fsp.symlink('../target', w(`${pick(await dirs())}/link${counter++}`)).catch(() => undefined),
      // Ignore rules change: files appear in and disappear from the recorded tree.
      async () => fsp.writeFile(w('.gitignore'), pick(['*.log\n', '*.md\n', 'src/lib/\n', '*.log\n!keep.log\n', ''])),
      async () => writeTree(sb.worktree, { [`${pick(await dirs())}/.gitignore`]: pick(['*.ts\n', 'new*\n', '']) }),
      async () => writeTree(sb.worktree, { [`${pick(await dirs())}/keep.log`]: 'kept?\n' }),
    ];

    for (let round = 0; round < 24; round++) {
      const edit = random() < 0.1 && snapshots.length > 1 ? 'rollback' : Math.floor(random() * edits.length);
      if (edit === 'rollback') {
        const target = pick(snapshots);
        await sg.rollback(target);
        expect(treeOf(sg.repoPath, (await sg.list()).find((s) => s.id === target)!.commit)).toBe(nativeTree(sb));
      } else {
        if ((await files()).length === 0) await writeTree(sb.worktree, { [`seed${counter++}.ts`]: 'again\n' });
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) await edits[edit]!();
      }
      const status = await sg.status();
      // Status compares with the snapshot the tree was last made to match: after a rollback its
      // target (the base), else the latest; a new snapshot counts its changes against the same.
      const from = status.base?.commit ?? status.lastSnapshot?.commit;
      const report = await sg.snapshot();
      snapshots.push(report.id);
      expect({ round, edit, tree: treeOf(sg.repoPath, report.commit) }).toEqual({ round, edit, tree: nativeTree(sb) });
      // What status listed and what the snapshot counted are what native git sees between the commits.
      const nativeDiff = (a: string, b: string) => {
        const native = { added: [] as string[], modified: [] as string[], deleted: [] as string[] };
        for (const line of (git(sg.repoPath, ['diff-tree', '-r', '--no-renames', '--name-status', a, b]) as string).trim().split('\n').filter(Boolean)) {
          const [letter, file] = line.split('\t') as [string, string];
          native[letter === 'A' ? 'added' : letter === 'D' ? 'deleted' : 'modified'].push(file);
        }
        return native;
      };
      if (from) {
        const native = nativeDiff(from, report.commit);
        expect({ round, changes: status.changes }).toEqual({ round, changes: native });
        if (report.created) expect({ round, counts: report.changes }).toEqual({ round, counts: { added: native.added.length, modified: native.modified.length, deleted: native.deleted.length } });
      }
    }
    fsck(sg.repoPath);
  }, 120_000);

  test('ignore rules changed anywhere take effect at once: a new ignore file, an edited one, a removed one', async () => {
    await writeTree(sb.worktree, { 'a/one.ts': '1\n', 'a/two.md': '2\n', 'b/three.ts': '3\n', 'b/.gitignore': '*.md\n', 'b/four.md': '4\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const recorded = async () => {
      const report = await sg.snapshot();
      const tree = treeOf(sg.repoPath, report.commit);
      expect(tree).toBe(nativeTree(sb));
      return [...gitTreeFiles(sg.repoPath, report.commit).keys()].sort();
    };
    expect(await recorded()).toEqual(['a/one.ts', 'a/two.md', 'b/.gitignore', 'b/three.ts']);
    await writeTree(sb.worktree, { 'a/.gitignore': '*.ts\n' });
    expect(await recorded()).toEqual(['a/.gitignore', 'a/two.md', 'b/.gitignore', 'b/three.ts']);
    await fsp.writeFile(path.join(sb.worktree, 'b/.gitignore'), '*.ts\n');
    expect(await recorded()).toEqual(['a/.gitignore', 'a/two.md', 'b/.gitignore', 'b/four.md']);
    await fsp.rm(path.join(sb.worktree, 'a/.gitignore'));
    expect(await recorded()).toEqual(['a/one.ts', 'a/two.md', 'b/.gitignore', 'b/four.md']);
  });

  test('a directory changed in the tick the cache was written is listed again, even with an identical stat', async () => {
    const gitdir = path.join(sb.dir, 'store.git');
    git(gitdir, ['init', '--bare', '-q']);
    const store = new ObjectStore(gitdir);
    await writeTree(sb.worktree, { 'dir/a.txt': 'a\n' });
    const first = await recordTree(sb.worktree, await scanWorktree(sb.worktree, []), StatCache.empty(), store);
    const cacheFile = path.join(sb.dir, 'statcache');
    await writeTree(sb.worktree, { 'dir/b.txt': 'b\n' });
    // Pretend the directory's stat did not change (a coarse clock can do that) …
    const now = await fsp.lstat(path.join(sb.worktree, 'dir'));
    first.cache.dirs.get('dir')!.stat = { mtimeMs: now.mtimeMs, ctimeMs: now.ctimeMs, ino: now.ino };
    await first.cache.save(cacheFile);
    const seen = async () => {
      const cache = await StatCache.load(cacheFile);
      const scan = await scanWorktree(sb.worktree, [], { previous: cache });
      return [...(await recordTree(sb.worktree, scan, cache, store)).files.keys()].sort();
    };
    // … then a cache written in the same tick is racy: the listing is read again.
    utimesSync(cacheFile, new Date(Math.floor(now.mtimeMs)), new Date(Math.floor(now.mtimeMs)));
    expect(await seen()).toEqual(['dir/a.txt', 'dir/b.txt']);
    // Control: a cache written later is trusted, so the racy rule is what found b.txt above.
    utimesSync(cacheFile, new Date(now.mtimeMs + 10_000), new Date(now.mtimeMs + 10_000));
    expect(await seen()).toEqual(['dir/a.txt']);
  });

  test('after a rollback the next snapshots see edits to written files and removals of written directories', async () => {
    await writeTree(sb.worktree, { 'keep.txt': 'k\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const before = await sg.snapshot();
    await writeTree(sb.worktree, { 'new/dir/f.txt': 'f\n', 'keep.txt': 'k2\n' });
    const after = await sg.snapshot();
    // The cache each rollback leaves must give exactly the target's tree, and then nothing new.
    await sg.rollback(before.id);
    expect(treeOf(sg.repoPath, (await sg.snapshot()).commit)).toBe(treeOf(sg.repoPath, before.commit));
    expect((await sg.snapshot()).created).toBe(false);
    await sg.rollback(after.id);
    expect(treeOf(sg.repoPath, (await sg.snapshot()).commit)).toBe(treeOf(sg.repoPath, after.commit));
    expect((await sg.snapshot()).created).toBe(false);
    await fsp.writeFile(path.join(sb.worktree, 'keep.txt'), 'k3\n');
    await fsp.rm(path.join(sb.worktree, 'new'), { recursive: true });
    const edited = await sg.snapshot();
    expect(edited.changes).toEqual({ added: 0, modified: 1, deleted: 1 });
    expectSameFiles(gitTreeFiles(sg.repoPath, edited.commit), await diskFiles(sb.worktree));
    fsck(sg.repoPath);
  });
});

describe('a watcher\'s changed paths replace the stat of every file', () => {
  test('with a real watcher running, every edit made just before a snapshot is recorded (native git as oracle)', async () => {
    await writeTree(sb.worktree, { 'src/a.ts': 'a\n', 'src/lib/b.ts': 'b\n', 'docs/r.md': 'r\n', '.gitignore': '*.log\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    expect(runCli(sb, ['watch', '--detach', '--debounce', '600', '--interval', '600']).code).toBe(0);
    try {
      const editor = randomEditor(sb.worktree, 7);
      for (let round = 0; round < 20; round++) {
        await editor.edit();
        // No pause: the watcher's cookie round trip is what makes the edit visible.
        const report = await sg.snapshot();
        expect({ round, tree: treeOf(sg.repoPath, report.commit) }).toEqual({ round, tree: nativeTree(sb) });
      }
      const cache = await StatCache.load(path.join(sg.repoPath, 'shadowgit', 'statcache'));
      expect(cache.watchToken).toEqual(expect.any(String));
      const answer = await askWatcher(await Repository.open({ worktree: sb.worktree }), cache.watchToken);
      expect(Array.isArray(answer?.paths)).toBe(true);
    } finally {
      expect(runCli(sb, ['watch', '--stop']).code).toBe(0);
    }
    fsck(sg.repoPath);
  }, 60_000);

  async function cachedState(files: Record<string, string>) {
    const gitdir = path.join(sb.dir, 'store.git');
    git(gitdir, ['init', '--bare', '-q']);
    const store = new ObjectStore(gitdir);
    await writeTree(sb.worktree, files);
    const first = await recordTree(sb.worktree, await scanWorktree(sb.worktree, [], { watch: { token: 't1', paths: 'all' } }), StatCache.empty(), store);
    const cacheFile = path.join(sb.dir, 'statcache');
    await first.cache.save(cacheFile);
    // Written a while ago: nothing is racy, so only the watcher's list can lead the scan.
    utimesSync(cacheFile, new Date(Date.now() + 10_000), new Date(Date.now() + 10_000));
    const record = async (paths: string[] | 'all') => {
      const cache = await StatCache.load(cacheFile);
      const scan = await scanWorktree(sb.worktree, [], { previous: cache, watch: { token: 't2', paths } });
      const recorded = await recordTree(sb.worktree, scan, cache, store);
      return new Map([...recorded.files].map(([p, e]) => [p, e.oid]));
    };
    return { record };
  }

  test('only the listed paths are looked at: an unlisted change stays unseen, a listed one is recorded', async () => {
    const { record } = await cachedState({ 'a/one.txt': '1\n', 'b/two.txt': '2\n' });
    await fsp.writeFile(path.join(sb.worktree, 'a/one.txt'), 'one changed\n');
    await fsp.writeFile(path.join(sb.worktree, 'b/two.txt'), 'two changed\n');
    await writeTree(sb.worktree, { 'c/new/three.txt': '3\n' });
    const before = await record([]);
    const listed = await record(['a/one.txt', 'c']);
    // Proof the shortcut is taken: with nothing listed, nothing was looked at.
    expect(before.has('c/new/three.txt')).toBe(false);
    expect(listed.get('a/one.txt')).not.toBe(before.get('a/one.txt'));
    expect(listed.get('b/two.txt')).toBe(before.get('b/two.txt'));
    expect(listed.has('c/new/three.txt')).toBe(true);
    // 'all' means a full look: everything is found.
    const all = await record('all');
    expect(all.get('b/two.txt')).not.toBe(before.get('b/two.txt'));
  });

  test('a listed deletion of a directory removes its files', async () => {
    const { record } = await cachedState({ 'a/one.txt': '1\n', 'a/sub/deep.txt': 'd\n', 'b/two.txt': '2\n' });
    await fsp.rm(path.join(sb.worktree, 'a/sub'), { recursive: true });
    expect([...(await record(['a/sub'])).keys()].sort()).toEqual(['a/one.txt', 'b/two.txt']);
  });
});

test('on a large tree the lstat started while the cache loads sees every change (native git as oracle)', async () => {
  const names: Record<string, string> = {};
  for (let i = 0; i < 4500; i++) names[`d${i % 60}/e${i % 7}/f${i}.txt`] = `content ${i}\n`;
  await writeTree(sb.worktree, names);
  const gitdir = path.join(sb.dir, 'store.git');
  git(gitdir, ['init', '--bare', '-q']);
  const store = new ObjectStore(gitdir);
  const first = await recordTree(sb.worktree, await scanWorktree(sb.worktree, []), StatCache.empty(), store);
  const cacheFile = path.join(sb.dir, 'statcache');
  await first.cache.save(cacheFile);
  utimesSync(cacheFile, new Date(Date.now() + 10_000), new Date(Date.now() + 10_000));
  // Same-size rewrites, a deletion and an addition, spread over the tree.
  for (const i of [3, 1200, 2222, 4499]) await fsp.writeFile(path.join(sb.worktree, `d${i % 60}/e${i % 7}/f${i}.txt`), `CONTENT ${i}\n`);
  await fsp.rm(path.join(sb.worktree, 'd5/e5/f5.txt'));
  await writeTree(sb.worktree, { 'd7/e0/new.txt': 'new\n' });

  const cache = await StatCache.load(cacheFile, { statAheadIn: sb.worktree });
  const scan = await scanWorktree(sb.worktree, [], { previous: cache });
  const recorded = await recordTree(sb.worktree, scan, cache, store);
  expect(recorded.tree).toBe(nativeTree(sb));
  // The work was started ahead (and taken by that scan): nothing is left to take.
  expect(cache.takeStatJob(sb.worktree)).toBeUndefined();
  const again = path.join(sb.dir, 'statcache-copy');
  await fsp.copyFile(cacheFile, again);
  expect((await StatCache.load(again, { statAheadIn: sb.worktree })).takeStatJob(sb.worktree)?.count).toBe(first.cache.dirs.size + first.cache.files.size);
});

test('the repository size status reports right after snapshots (carried forward by the writer) is every byte on disk', async () => {
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  /** Every file under the shadow repository, summed independently of shadowgit. */
  const bytesOnDisk = async () => {
    let total = 0;
    const walk = async (dir: string) => {
      for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else total += (await fsp.lstat(full)).size;
      }
    };
    await walk(sg.repoPath);
    return total;
  };
  for (let round = 0; round < 6; round++) {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`r${round}/f${i}.txt`] = `round ${round} file ${i}\n`;
    await writeTree(sb.worktree, files);
    await sg.snapshot();
    // Two reads: the first may rewrite the size cache (its own bytes change), the second must agree with the disk.
    await sg.status();
    expect((await sg.status()).repoBytes).toBe(await bytesOnDisk());
  }
});

test('status counts snapshots from the last count on (native git rev-list as oracle), also after a prune rewrites the chain', async () => {
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  const revCount = () => Number((git(sg.repoPath, ['rev-list', '--count', 'refs/heads/snapshots']) as string).trim());
  for (let i = 0; i < 12; i++) {
    await writeTree(sb.worktree, { 'f.txt': `version ${i}\n` });
    await sg.snapshot();
    if (i % 4 === 3) expect((await sg.status()).snapshots).toBe(revCount());
  }
  await sg.prune({ policy: { keepLast: 3 } });
  expect((await sg.status()).snapshots).toBe(revCount());
  await writeTree(sb.worktree, { 'f.txt': 'after the prune\n' });
  await sg.snapshot();
  const status = await sg.status();
  expect(status.snapshots).toBe(revCount());
  expect(status.lastSnapshot?.commit).toBe((git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']) as string).trim());
});

test("the helper thread lays out the cache file's paths exactly as the main thread lays out the decoded cache", async () => {
  const names: Record<string, string> = { 'top.txt': 't', 'ünï/cödé.ts': 'u', 'a/b/c/d/e.ts': 'e', 'a/b/sibling.ts': 's', 'empty-after/x/y.ts': 'y' };
  for (let i = 0; i < 300; i++) names[`d${i % 7}/s${i % 3}/f${i}.txt`] = `${i}`;
  await writeTree(sb.worktree, names);
  expect(runCli(sb, ['snapshot']).code).toBe(0);
  const cacheFile = path.join(repoOf(sb), 'shadowgit', 'statcache');
  const cache = await StatCache.load(cacheFile);
  const dirs = [...cache.dirs.values()];
  const main = dirLayout(sb.worktree, [...cache.dirs.keys()], dirs.map((dir) => dir.files.length), (d) => dirs[d]!.files);
  const helper = cachedPaths(await fsp.readFile(cacheFile), sb.worktree, dirLayout, cachedRanges);
  const all = (list: { count: number; pathAt(i: number): string }) => Array.from({ length: list.count }, (_, i) => list.pathAt(i));
  expect(all(helper)).toEqual(all(main));
  // Every directory and file once, absolute.
  expect(main.count).toBe(cache.dirs.size + cache.files.size);
  expect(new Set(all(main))).toEqual(new Set([sb.worktree, ...[...cache.dirs.keys()].filter((d) => d !== '').map((d) => path.join(sb.worktree, d)), ...Object.keys(names).map((p) => path.join(sb.worktree, p))]));
});

test('the stat cache file written after each of many changes decodes to exactly the latest snapshot (native git as oracle)', async () => {
  // Saving copies the records of directories that did not change from the previous file; a
  // record copied to the wrong place would make the file undecodable (a silent full rescan) or wrong.
  await writeTree(sb.worktree, { 'src/a.ts': 'a\n', 'src/lib/b.ts': 'b\n', 'docs/r.md': 'r\n', 'x/y/z/deep.ts': 'deep\n', 'm/n/o.ts': 'o\n', '.gitignore': '*.log\n' });
  const editor = randomEditor(sb.worktree, 7);
  const shadowRepo = repoOf(sb);
  for (let round = 0; round < 9; round++) {
    await editor.edit();
    // Directories come and go at the top too, so the unchanged ones after them move in the
    // file's order (and must not be copied to their old place).
    await writeTree(sb.worktree, { [`t${round}/u/v.ts`]: `${round}\n` });
    if (round % 3 === 2) await fsp.rm(path.join(sb.worktree, `t${round - 2}`), { recursive: true });
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    // A copy: loading the file itself could hand back the instance this process last saw.
    const copy = path.join(sb.dir, `statcache-${round}`);
    await fsp.copyFile(path.join(shadowRepo, 'shadowgit', 'statcache'), copy);
    const cache = await StatCache.load(copy);
    const head = treeOf(shadowRepo, 'refs/heads/snapshots');
    const cached = new Map([...cache.files].map(([p, entry]) => [p, `${entry.mode} ${entry.oid}`]));
    expect({ round, tree: cache.tree, files: cached }).toEqual({ round, tree: head, files: filesOf(shadowRepo, head) });
    // One recursive listing (trees included) is the oracle for every directory: a git process
    // per tree per round made this the slowest test of the suite.
    const gitTrees = new Map<string, string>([['', head]]);
    const gitEntries = new Map<string, string[]>([['', []]]);
    for (const line of (git(shadowRepo, ['ls-tree', '-r', '-t', '-z', head]) as string).split('\0').filter(Boolean)) {
      const [info, p] = line.split('\t') as [string, string];
      const [mode, type, id] = info.split(' ') as [string, string, string];
      if (type === 'tree') {
        gitTrees.set(p, id);
        gitEntries.set(p, []);
      }
      const slash = p.lastIndexOf('/');
      gitEntries.get(slash < 0 ? '' : p.slice(0, slash))!.push(`${mode.replace(/^0/, '')} ${id} ${p.slice(slash + 1)}`);
    }
    // The directories: each one that records something has git's tree id for it, and its
    // subdirectories that record something are git's subtrees of it.
    const recording = [...cache.dirs].filter(([, dir]) => dir.entries > 0 || dir.tree !== undefined);
    const structure = (trees: Map<string, string>, subdirsOf: (p: string) => string[]) => Object.fromEntries([...trees].map(([p, oid]) => [p, { oid, subdirs: subdirsOf(p).sort() }]));
    expect({ round, dirs: structure(new Map(recording.map(([p, dir]) => [p, dir.tree!])), (p) => cache.dirs.get(p)!.subdirs.filter((sub) => cache.dirs.get(sub)!.entries > 0)) }).toEqual({
      round,
      dirs: structure(gitTrees, (p) => [...gitTrees.keys()].filter((sub) => sub !== '' && sub !== p && (p === '' ? !sub.includes('/') : sub.startsWith(`${p}/`) && !sub.slice(p.length + 1).includes('/')))),
    });
    // What a diff takes from the cache instead of reading the tree: each tree's entries, as git lists them.
    for (const [p, oid] of gitTrees) {
      const listed = gitEntries.get(p)!;
      const fromCache = cache.treeEntries(p, oid)?.map((e) => `${e.mode} ${e.oid} ${e.name}`);
      expect({ round, p, entries: fromCache?.sort() }).toEqual({ round, p, entries: listed.sort() });
      expect(cache.treeEntries(p, '0'.repeat(40))).toBeUndefined();
    }
  }
});

test('a tree found exactly as the cache has it shares the cache, and diffs against older snapshots through its tree ids (native git as oracle)', async () => {
  await writeTree(sb.worktree, { 'src/a.ts': 'a\n', 'src/lib/b.ts': 'b\n', 'docs/r.md': 'r\n', '.gitignore': '*.log\n' });
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  const editor = randomEditor(sb.worktree, 7);
  const taken: string[] = [];
  for (let i = 0; i < 6; i++) {
    for (let k = 0; k < 4; k++) await editor.edit();
    taken.push((await sg.snapshot()).commit);
  }
  const gitdir = repoOf(sb);
  const latest = filesOf(gitdir, treeOf(gitdir, taken.at(-1)!));

  // The recording of an unchanged tree is the cache itself, not a copy built directory by directory.
  const cache = await StatCache.load(path.join(gitdir, 'shadowgit', 'statcache'));
  const recorded = await recordTree(sb.worktree, await scanWorktree(sb.worktree, sg.config.exclude, { previous: cache }), cache, undefined);
  expect(recorded.cache.dirs).toBe(cache.dirs);
  expect(recorded.tree).toBe(nativeTree(sb));

  for (const commit of taken) {
    const { changes } = await sg.diff(commit);
    const listed = { added: [] as string[], modified: [] as string[], deleted: [] as string[] };
    for (const change of changes) listed[change.status === 'mode' ? 'modified' : change.status].push(change.path);
    expect(listed).toEqual(changesBetween(filesOf(gitdir, treeOf(gitdir, commit)), latest));
  }
});
