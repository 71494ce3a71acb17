import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/shadowgit.js';
import { git, makeSandbox, useHome, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { startUi, type UiSession } from '../helpers/ui.js';

/**
 * The read-only API (snapshot, compare, history, tree, file, impact) through real HTTP to the
 * real CLI's `shadowgit ui`, on a repository whose snapshots the facade made, with native git as
 * the oracle.
 */

let ui: UiSession;

/** One GET to the API: its status and JSON. */
async function get(url: string): Promise<{ status: number; json: any }> {
  const answer = await ui.get(url);
  return { status: answer.status, json: answer.json };
}

/** A GET that must answer 200. */
async function ok(url: string): Promise<any> {
  const answer = await get(url);
  if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

let sb: Sandbox;
let sg: ShadowGit;
let restoreHome: () => void;
let repo: string;
const commits: Record<string, string> = {};

const lines = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word} ${i}\n`).join('');
const HUGE = lines(300_000, 'huge line'); // about 5 MB: over the 4 MiB a diff reads
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 255]);

async function snap(name: string, files: Record<string, string | Buffer>, remove: string[] = []): Promise<void> {
  await writeTree(sb.worktree, files);
  for (const p of remove) await fsp.rm(path.join(sb.worktree, p));
  commits[name] = (await sg.snapshot({ message: name })).commit;
}

const numstat = (from: string, to: string) =>
  new Map(
    (git(repo, ['diff', '--numstat', from, to]) as string)
      .trim()
      .split('\n')
      .map((line) => {
        const [added, removed, p] = line.split('\t') as [string, string, string];
        return [p, added === '-' ? { binary: true } : { added: Number(added), removed: Number(removed) }];
      }),
  );

beforeAll(async () => {
  sb = makeSandbox('sg-ui-read-');
  restoreHome = useHome(sb.home);
  sg = await ShadowGit.open({ worktree: sb.worktree });
  repo = sg.repoPath;
  await fsp.mkdir(path.join(sb.worktree, 'dir/sub'), { recursive: true });
  await fsp.symlink('a.txt', path.join(sb.worktree, 'link'));
  await snap('s1', {
    'a.txt': 'one\ntwo\nthree\n',
    'dir/b.txt': 'bee\n',
    'dir/sub/c.txt': 'sea\n',
    'bin.dat': BINARY,
    'huge.txt': HUGE,
    'big.txt': lines(120_000, 'big'), // about 1.2 MB: over the 1 MiB of text /api/file returns
    'h.txt': 'first\n',
    'large.bin': Buffer.alloc(9 * 1048576, 'a'), // over the 8 MiB the facade reads whole
    'package.json': '{"name":"p","type":"module"}\n',
    'src/util.ts': 'export const add = (a: number, b: number) => a + b;\n',
    'src/app.ts': "import { add } from './util.js';\nexport const three = add(1, 2);\n",
    'src/lone.ts': 'export const lone = 1;\n',
    'test/app.test.ts': "import { three } from '../src/app.js';\nconsole.log(three);\n",
  });
  await snap('s2', { 'a.txt': 'ONE\ntwo\nthree\nfour\n', 'bin.dat': Buffer.concat([BINARY, BINARY]), 'huge.txt': `${HUGE}one more\n`, 'h.txt': 'second\n', 'd.txt': 'dee\n' }, ['dir/sub/c.txt']);
  await snap('s3', {}, ['h.txt']);
  await snap('s4', { 'h.txt': 'again\n' });
  await snap('s5', { 'x.txt': 'unrelated\n', 'wide.txt': `${'w'.repeat(1_100_000)}\n` });
  ui = await startUi(sb);
}, 60_000);

afterAll(async () => {
  await ui?.stop();
  restoreHome();
  await sb.cleanup();
});

describe('GET /api/snapshots/:rev', () => {
  test("show's details of one snapshot, the changed files as native git lists them", async () => {
    const s = await ok(`/api/snapshots/${commits.s2}`);
    expect(s).toMatchObject({ commit: commits.s2, parent: commits.s1, message: 's2', truncated: false, note: null });
    const byGit = (git(repo, ['diff', '--name-status', commits.s1!, commits.s2!]) as string).trim().split('\n').map((l) => l.split('\t')[1]);
    expect(s.files.map((f: { path: string }) => f.path)).toEqual(byGit);
    expect(s.files).toContainEqual({ path: 'dir/sub/c.txt', status: 'deleted' });
    expect((await ok(`/api/snapshots/${s.id}`)).commit).toBe(commits.s2);
    expect((await get('/api/snapshots/nosuchrev')).status).toBe(404);
    expect((await get('/api/snapshots/-rf')).status).toBe(400);
  });
});

describe('GET /api/compare', () => {
  test('two snapshots: the changed files with the line counts git diff --numstat gives; the huge file is flagged, not diffed', async () => {
    const c = await ok(`/api/compare?from=${commits.s1}&to=${commits.s2}`);
    expect(c.from.commit).toBe(commits.s1);
    expect(c.to.commit).toBe(commits.s2);
    const oracle = numstat(commits.s1!, commits.s2!);
    expect(c.files.map((f: { path: string }) => f.path).sort()).toEqual([...oracle.keys()].sort());
    for (const f of c.files) {
      if (f.path === 'huge.txt') {
        expect(f).toMatchObject({ added: null, removed: null, tooLarge: true });
        continue;
      }
      const expected = oracle.get(f.path)!;
      if ('binary' in expected) expect(f).toMatchObject({ binary: true, added: null, removed: null, tooLarge: false });
      else expect(f).toMatchObject({ binary: false, added: expected.added, removed: expected.removed, tooLarge: false });
    }
    expect(c.counts).toEqual({ added: 1, modified: 4, deleted: 1 });
    expect(c.total).toBe(6);
    expect(c.truncated).toBe(false);
  });

  test("one file's patch; binary and huge files say so instead", async () => {
    const a = await ok(`/api/compare/file?from=${commits.s1}&to=${commits.s2}&path=a.txt`);
    expect(a).toMatchObject({ path: 'a.txt', status: 'modified', binary: false, tooLarge: false, truncated: false });
    expect(a.patch).toContain('-one\n+ONE\n');
    expect(a.patch).toContain('+four\n');
    expect(await ok(`/api/compare/file?from=${commits.s1}&to=${commits.s2}&path=bin.dat`)).toMatchObject({ binary: true, tooLarge: false });
    expect(await ok(`/api/compare/file?from=${commits.s1}&to=${commits.s2}&path=huge.txt`)).toMatchObject({ status: 'modified', patch: '', tooLarge: true });
    expect(await ok(`/api/compare/file?from=${commits.s1}&to=${commits.s2}&path=dir/b.txt`)).toMatchObject({ status: 'unchanged', patch: '' });
    // A patch over 1 MiB is cut at a line: here before the one long line.
    const wide = await ok(`/api/compare/file?from=${commits.s4}&to=${commits.s5}&path=wide.txt`);
    expect(wide).toMatchObject({ status: 'added', truncated: true, tooLarge: false });
    expect(wide.patch).toBe('diff --shadowgit a/wide.txt b/wide.txt\n--- /dev/null\n+++ b/wide.txt\n@@ -0,0 +1,1 @@\n');
  });

  test('against the live tree (to omitted): the edits made since, counted', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'ONE\ntwo\n3\nfour\nfive\n', 'src/util.ts': 'export const add = (a: number, b: number) => b + a;\n' });
    const live = await ok(`/api/compare?from=${commits.s5}`);
    expect(live.to).toBe('worktree');
    expect(live.files).toEqual([
      { path: 'a.txt', status: 'modified', added: 2, removed: 1, binary: false, tooLarge: false },
      { path: 'src/util.ts', status: 'modified', added: 1, removed: 1, binary: false, tooLarge: false },
    ]);
    const patch = await ok(`/api/compare/file?from=${commits.s5}&path=a.txt`);
    expect(patch.patch).toContain('-three\n+3\n');
    // Without `from`: what status compares with, the latest snapshot here.
    expect((await ok('/api/compare')).from.commit).toBe(commits.s5);
  });
});

describe('GET /api/impact', () => {
  test('the changed module, the files that import it, the test marked: as impact finds them', async () => {
    // The live tree of the test before: src/util.ts (and a.txt, no module) changed since s5.
    const graph = await ok('/api/impact');
    expect(graph.changed).toEqual(['src/util.ts']);
    expect(graph.nodes).toEqual([
      { id: 'src/util.ts', changed: true, test: false, depth: 0 },
      { id: 'src/app.ts', changed: false, test: false, depth: 1 },
      { id: 'test/app.test.ts', changed: false, test: true, depth: 2 },
    ]);
    expect(graph.edges.map((e: { from: string; to: string }) => `${e.from} -> ${e.to}`).sort()).toEqual(['src/app.ts -> src/util.ts', 'test/app.test.ts -> src/app.ts']);
    expect(graph.truncated).toBe(false);
  });
});

describe('GET /api/history', () => {
  const logOf = (p: string) => (git(repo, ['log', '--format=%H', 'refs/heads/snapshots', '--', p]) as string).trim().split('\n');

  test('every snapshot in which the file changed, newest first, as git log -- path finds them, across add, modify, delete and re-add', async () => {
    const h = await ok('/api/history?path=h.txt');
    expect(h.next).toBeNull();
    expect(h.versions.map((v: { commit: string }) => v.commit)).toEqual(logOf('h.txt'));
    expect(h.versions.map((v: { status: string }) => v.status)).toEqual(['added', 'deleted', 'modified', 'added']);
    for (const v of h.versions) {
      if (v.status === 'deleted') expect(v).toMatchObject({ oid: null, mode: null });
      else expect(v.oid).toBe((git(repo, ['rev-parse', `${v.commit}:h.txt`]) as string).trim());
    }
    expect(h.versions[0].mode).toBe('100644');
    expect((await ok('/api/history?path=./dir//sub/c.txt')).versions.map((v: { commit: string }) => v.commit)).toEqual(logOf('dir/sub/c.txt'));
  });

  test('pages: limit, then before=next goes on where the page ended', async () => {
    const first = await ok('/api/history?path=h.txt&limit=3');
    expect(first.versions).toHaveLength(3);
    expect(first.next).not.toBeNull();
    const rest = await ok(`/api/history?path=h.txt&before=${first.next}`);
    expect([...first.versions, ...rest.versions].map((v: { commit: string }) => v.commit)).toEqual(logOf('h.txt'));
    expect(rest.next).toBeNull();
    // A page looks at a bounded number of snapshots: fewer versions than asked, and a next page.
    const scanned = await sg.fileHistory('h.txt', { limit: 10, maxScanned: 2 });
    expect(scanned.versions.map((v) => v.snapshot.commit)).toEqual([commits.s4]);
    expect(scanned.next?.commit).toBe(commits.s4);
    expect((await ok(`/api/history?path=h.txt&before=${scanned.next!.id}`)).versions.map((v: { commit: string }) => v.commit)).toEqual(logOf('h.txt').slice(1));
    expect((await get('/api/history?path=h.txt&limit=0')).status).toBe(400);
    expect((await get('/api/history?path=h.txt&limit=abc')).status).toBe(400);
  });
});

describe('GET /api/tree and /api/file', () => {
  test("one level of a snapshot's tree, directories first, as git ls-tree lists it", async () => {
    const root = await ok(`/api/tree?rev=${commits.s1}`);
    const byGit = (git(repo, ['ls-tree', commits.s1!]) as string).trim().split('\n').map((l) => {
      const [meta, name] = l.split('\t') as [string, string];
      const [mode, , oid] = meta.split(' ') as [string, string, string];
      return { name, mode: mode.replace(/^0/, ''), oid };
    });
    expect(root.entries.map((e: { name: string; mode: string; oid: string }) => ({ name: e.name, mode: e.mode, oid: e.oid })).sort((a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1))).toEqual(byGit);
    expect(root.entries.slice(0, 3).map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([
      ['dir', 'dir'],
      ['src', 'dir'],
      ['test', 'dir'],
    ]);
    expect(root.entries.find((e: { name: string }) => e.name === 'link')).toMatchObject({ type: 'symlink', mode: '120000', path: 'link' });
    const sub = await ok(`/api/tree?rev=${commits.s1}&dir=dir/sub`);
    expect(sub).toMatchObject({ dir: 'dir/sub', entries: [{ name: 'c.txt', path: 'dir/sub/c.txt', type: 'file', mode: '100644' }] });
    expect((await get(`/api/tree?rev=${commits.s2}&dir=dir/sub`)).status).toBe(404);
    expect((await get(`/api/tree?rev=${commits.s1}&dir=a.txt`)).status).toBe(404);
  });

  test('a text file whole; a binary file and one over 1 MiB as their size only', async () => {
    const text = await ok(`/api/file?rev=${commits.s2}&path=a.txt`);
    expect(text).toMatchObject({ path: 'a.txt', mode: '100644', binary: false, tooLarge: false, size: 19 });
    expect(text.text).toBe(git(repo, ['cat-file', '-p', `${commits.s2}:a.txt`]));
    expect(await ok(`/api/file?rev=${commits.s1}&path=bin.dat`)).toMatchObject({ binary: true, text: null, size: BINARY.length });
    const big = await ok(`/api/file?rev=${commits.s1}&path=big.txt`);
    expect(big).toMatchObject({ tooLarge: true, text: null, binary: false });
    expect(big.size).toBe(Number((git(repo, ['cat-file', '-s', `${commits.s1}:big.txt`]) as string).trim()));
    const large = await ok(`/api/file?rev=${commits.s1}&path=large.bin`);
    expect(large).toMatchObject({ tooLarge: true, text: null, size: 9 * 1048576 });
    expect(await ok(`/api/file?rev=${commits.s1}&path=link`)).toMatchObject({ mode: '120000', text: 'a.txt' });
    expect((await get(`/api/file?rev=${commits.s3}&path=h.txt`)).status).toBe(404);
    expect((await get('/api/file?rev=nosuchrev&path=a.txt')).status).toBe(404);
  });

  test('hostile paths and revisions are refused with one sentence', async () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a\0b', 'x'.repeat(5000), '']) {
      for (const url of [`/api/file?rev=latest&path=${encodeURIComponent(bad)}`, `/api/history?path=${encodeURIComponent(bad)}`, `/api/compare/file?path=${encodeURIComponent(bad)}`]) {
        const answer = await get(url);
        expect([url, answer.status, answer.json.error.code]).toEqual([url, 400, 'EUSAGE']);
        expect(answer.json.error.message.trim().split('\n')).toHaveLength(1);
      }
      if (bad !== '') expect((await get(`/api/tree?rev=latest&dir=${encodeURIComponent(bad)}`)).status).toBe(400);
    }
    expect((await get('/api/file?path=a.txt')).status).toBe(400);
    expect((await get('/api/tree?rev=a%00b')).status).toBe(400);
    expect((await get(`/api/compare?from=${'x'.repeat(300)}`)).status).toBe(400);
    expect((await get('/api/history?path=h.txt&before=nosuchrev')).status).toBe(404);
  });
});
