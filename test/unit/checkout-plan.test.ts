import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { checkPlan, planFromChanges, planRestore, verifyPlanObjects, type RestorePlan } from '../../src/engine/checkout/plan.js';
import { compareTrees } from '../../src/engine/snapshot/diff.js';
import { MODE_EXEC, MODE_FILE, MODE_LINK, type EntryMode } from '../../src/engine/store/gitformat.js';
import { ObjectStore } from '../../src/engine/store/objects.js';
import type { Repository } from '../../src/engine/store/repo.js';
import { AnchoredTree } from '../../src/engine/worktree/anchored.js';

// The checkout's plan (what to write, what to delete) and its checks (what to refuse before the
// first write), in process: the plan is pure, the checks look at a real temp tree, and the entry
// checks read objects native git wrote.

/** The trees a plan is made from, named by the planner's own signature (wherever the type lives). */
type FlatTree = Parameters<typeof planRestore>[0];
type FlatEntry = NonNullable<ReturnType<FlatTree['get']>>;

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const flat = (entries: Record<string, [string, EntryMode?]>): FlatTree =>
  new Map(Object.entries(entries).map(([p, [oid, mode]]): [string, FlatEntry] => [p, { oid, mode: mode ?? MODE_FILE }]));

describe('planRestore', () => {
  test('a file that becomes a directory is deleted and the files below it written, and back', () => {
    expect(planRestore(flat({ a: [A] }), flat({ 'a/b': [A], 'a/c/d': [B] }))).toEqual({ write: ['a/b', 'a/c/d'], delete: ['a'] });
    expect(planRestore(flat({ 'a/b': [A], 'a/c/d': [B] }), flat({ a: [A] }))).toEqual({ write: ['a'], delete: ['a/b', 'a/c/d'] });
  });

  test('a change of mode alone is written: executable bit, file to symlink with the same blob', () => {
    const current = flat({ run: [A, MODE_FILE], link: [B, MODE_FILE], same: [A, MODE_EXEC] });
    const target = flat({ run: [A, MODE_EXEC], link: [B, MODE_LINK], same: [A, MODE_EXEC] });
    expect(planRestore(current, target)).toEqual({ write: ['link', 'run'], delete: [] });
  });

  test('equal trees plan nothing; paths come out sorted', () => {
    const tree = flat({ z: [A], 'b/x': [B], a: [A] });
    expect(planRestore(tree, tree)).toEqual({ write: [], delete: [] });
    expect(planRestore(new Map(), tree).write).toEqual(['a', 'b/x', 'z']);
  });

  test('a scope keeps writes and deletes to its files and directories, by whole components', () => {
    const current = flat({ 'src/a': [A], 'src/gone': [A], 'srcx/a': [A], readme: [A] });
    const target = flat({ 'src/a': [B], 'srcx/a': [B], readme: [B], 'src/new/f': [B] });
    expect(planRestore(current, target, ['src'])).toEqual({ write: ['src/a', 'src/new/f'], delete: ['src/gone'] });
    expect(planRestore(current, target, ['readme', 'src/gone'])).toEqual({ write: ['readme'], delete: ['src/gone'] });
    // '' is the root: everything.
    expect(planRestore(current, target, [''])).toEqual(planRestore(current, target));
  });
});

describe('planFromChanges', () => {
  test('is the plan planRestore makes, from the changes going from the target to the tree', () => {
    const current = flat({ a: [A], 'd/x': [A], 'd/y': [B, MODE_EXEC], kept: [A], link: [A, MODE_LINK] });
    const target = flat({ 'a/inner': [B], d: [A], kept: [A], link: [A, MODE_FILE], added: [B, MODE_EXEC] });
    const { plan, target: written } = planFromChanges(compareTrees(target, current));
    const expected = planRestore(current, target);
    expect({ write: [...plan.write].sort(), delete: [...plan.delete].sort() }).toEqual(expected);
    // What it writes is the target's entry, mode included.
    for (const p of expected.write) expect(written.get(p)).toEqual(target.get(p));
    expect(written.size).toBe(expected.write.length);
  });
});

describe('checkPlan and the entry checks', () => {
  let dir: string;
  let cases = 0;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'sg-plan-')));
  });
  afterAll(() => {
    execFileSync('chmod', ['-R', 'u+rwX', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh tree with `files` ('x/' makes a directory; a [link] tuple makes a symlink). */
  function tree(files: Record<string, string | Buffer | [string]>): { root: string; tree: AnchoredTree } {
    const root = path.join(dir, `case-${++cases}`);
    mkdirSync(root);
    for (const [rel, content] of Object.entries(files)) {
      const full = path.join(root, rel);
      mkdirSync(rel.endsWith('/') ? full : path.dirname(full), { recursive: true });
      if (Array.isArray(content)) symlinkSync(content[0], full);
      else if (!rel.endsWith('/')) writeFileSync(full, content);
    }
    return { root, tree: AnchoredTree.open(root) };
  }

  /** The tree's entries (symlinks not followed), to show a refusal wrote nothing. */
  function listing(root: string, rel = ''): string[] {
    return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((entry) => {
      const child = path.join(rel, entry.name);
      return entry.isDirectory() ? [`${child}/`, ...listing(root, child)] : [child];
    }).sort();
  }

  async function refusal(t: { root: string; tree: AnchoredTree }, plan: RestorePlan, skipped: { path: string; reason: string }[] = []): Promise<string> {
    const before = listing(t.root);
    const error = await checkPlan(t.tree, plan, skipped).then(() => undefined, (err: { code?: string; message: string }) => err);
    t.tree.close();
    expect(listing(t.root)).toEqual(before);
    expect(error?.code).toBe('ECONFLICT');
    return error!.message;
  }

  async function passes(t: { root: string; tree: AnchoredTree }, plan: RestorePlan, skipped: { path: string; reason: string }[] = []): Promise<void> {
    await expect(checkPlan(t.tree, plan, skipped)).resolves.toBeUndefined();
    t.tree.close();
  }

  test('a directory the target makes a file may go when everything in it is recorded and deleted', async () => {
    await passes(tree({ 'd/x': 'x', 'd/sub/y': 'y', 'd/empty/': '' }), { write: ['d'], delete: ['d/x', 'd/sub/y'] });
  });

  test('a directory holding ignored files is not replaced by a file', async () => {
    const message = await refusal(tree({ 'd/x': 'x', 'd/sub/build.log': 'ignored' }), { write: ['d'], delete: ['d/x'] });
    expect(message).toContain('d is a directory holding files that are not recorded (d/sub/build.log)');
    // Deleting the recorded files alone is fine: the ignored one, and so its directory, stay.
    await passes(tree({ 'd/x': 'x', 'd/sub/build.log': 'ignored' }), { write: [], delete: ['d/x'] });
  });

  test('names a scan never records keep their directory: a .git in any case, a name that is not UTF-8', async () => {
    expect(await refusal(tree({ 'd/x': 'x', 'd/.GIT/': '' }), { write: ['d'], delete: ['d/x'] })).toContain('(d/.GIT)');
    // Decoded, f\xff reads as the recorded f\uFFFD the plan deletes: only its bytes tell them apart.
    const t = tree({ 'd/x': 'x', 'd/f\uFFFD': 'recorded' });
    writeFileSync(Buffer.concat([Buffer.from(`${t.root}/d/`), Buffer.from([0x66, 0xff])]), 'latin-1 name');
    expect(await refusal(t, { write: ['d'], delete: ['d/x', 'd/f\uFFFD'] })).toMatch(/not recorded \(d\/f\S+\)/);
  });

  test('a parent the target needs as a directory: a recorded file or symlink there is deleted first', async () => {
    await passes(tree({ a: 'file' }), { write: ['a/b'], delete: ['a'] });
    // Deleted, the link is never followed: what it points at does not matter.
    const outside = path.join(dir, 'outside');
    mkdirSync(path.join(outside, 'b'), { recursive: true });
    await passes(tree({ a: [outside] }), { write: ['a/b/c'], delete: ['a'] });
  });

  test('an unrecorded file or symlink where the target needs a directory is refused, not written through', async () => {
    expect(await refusal(tree({ a: 'ignored' }), { write: ['a/b'], delete: [] })).toContain('a is a file that is not recorded');
    const outside = path.join(dir, 'elsewhere');
    mkdirSync(outside);
    expect(await refusal(tree({ 'x/a': [outside] }), { write: ['x/a/b'], delete: [] })).toContain('x/a is a symlink that is not recorded');
    expect(readdirSync(outside)).toEqual([]);
  });

  test('a file that could not be backed up is not overwritten', async () => {
    const message = await refusal(tree({ locked: 'secret' }), { write: ['locked'], delete: [] }, [{ path: 'locked', reason: 'permission denied' }]);
    expect(message).toContain('locked could not be backed up (permission denied)');
  });

  describe('verifyPlanObjects, on objects native git wrote', () => {
    let gitdir: string;
    let repo: Repository;
    const hash = (content: string | Buffer) => execFileSync('git', ['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], { input: content }).toString().trim();

    beforeAll(() => {
      gitdir = path.join(dir, 'objects.git');
      execFileSync('git', ['init', '-q', '--bare', gitdir]);
      repo = { objects: new ObjectStore(gitdir) } as unknown as Repository;
    });

    test('reads back every blob to write, as git has it', async () => {
      const text = hash('hello\n');
      const link = hash('../target');
      const verified = await verifyPlanObjects(repo, ['f', 'l'], flat({ f: [text, MODE_EXEC], l: [link, MODE_LINK] }));
      expect(verified.get(text)).toEqual(execFileSync('git', ['--git-dir', gitdir, 'cat-file', 'blob', text]));
      expect(verified.get(link)?.toString()).toBe('../target');
    });

    test.each([
      ['a gitlink', () => [hash('x'), '160000'], /has the mode 160000/],
      ['a tree mode', () => [hash('x'), '40000'], /has the mode 40000/],
      ['an empty symlink target', () => [hash(''), MODE_LINK], /an empty symlink target/],
      ['a symlink target that is not UTF-8', () => [hash(Buffer.from([0x2e, 0xff])), MODE_LINK], /not valid UTF-8/],
    ])('refuses %s before anything is written', async (_what, entry, message) => {
      const [oid, mode] = entry();
      await expect(verifyPlanObjects(repo, ['p'], flat({ p: [oid, mode as EntryMode] }))).rejects.toMatchObject({ code: 'ETAMPERED', message: expect.stringMatching(message) });
    });

    test('refuses a blob that is missing or does not match its id', async () => {
      await expect(verifyPlanObjects(repo, ['gone'], flat({ gone: ['0'.repeat(40)] }))).rejects.toMatchObject({ code: 'ECORRUPT' });
      const oid = hash('original\n');
      const loose = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
      chmodSync(loose, 0o644);
      writeFileSync(loose, deflateSync(Buffer.from('blob 9\0tampered\n')));
      expect(() => execFileSync('git', ['--git-dir', gitdir, 'fsck', '--strict'], { stdio: 'pipe' })).toThrow(); // git agrees it is damaged
      await expect(verifyPlanObjects(repo, ['f'], flat({ f: [oid] }))).rejects.toMatchObject({ code: 'ECORRUPT', message: expect.stringContaining('(f)') });
    });
  });
});
