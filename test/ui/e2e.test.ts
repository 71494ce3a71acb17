import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, makeSandbox, repoOf, runCli, runCliAsync, runJson, writeTree, type Sandbox, type TreeFile } from '../helpers/sandbox.js';
import { startGitServer } from '../helpers/gitserver.js';
import { startUi, type UiSession } from '../helpers/ui.js';

/**
 * The browser UI end to end: Debian's headless chromium, driven by playwright-core, on the page
 * the real CLI's `shadowgit ui` serves, over snapshots the real CLI made. Every scenario checks
 * the page, then the tree on disk or the shadow repository with native git.
 */

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let sb: Sandbox;
let ui: UiSession;
let context: BrowserContext;
let page: Page;
let repo: string;
/** What went wrong in the page: uncaught errors and console errors. Each test ends with none. */
let pageErrors: string[];
/** Snapshot ids by the message they were recorded with. */
const ids: Record<string, string> = {};

function snapshot(message: string): string {
  const result = runJson<{ id: string }>(sb, ['snapshot', '-m', message]);
  ids[message] = result.id;
  return result.id;
}

const commitOf = (id: string) => runJson<{ commit: string }>(sb, ['show', id]).commit;
const read = (rel: string) => fsp.readFile(path.join(sb.worktree, rel), 'utf8');

/** The working tree as on disk, without the shadowgit files a tree may hold. */
const tree = () => diskFiles(sb.worktree);

/** The page at `hash` of the signed-in server. */
async function open(hash: string): Promise<void> {
  await page.goto(`${ui.origin}/${hash}`);
}

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  sb = makeSandbox('sg-ui-e2e-');
  await writeTree(sb.worktree, {
    'src/math.ts': 'export const add = (a: number, b: number) => a + b;\n',
    'src/index.ts': "import { add } from './math.js';\nexport const three = add(1, 2);\n",
    'notes.txt': 'first notes\n',
    'old.txt': 'to be removed\n',
  });
  snapshot('one');
  await writeTree(sb.worktree, { 'notes.txt': 'second notes\n', 'src/math.ts': 'export const add = (a: number, b: number) => a + b;\nexport const sub = (a: number, b: number) => a - b;\n' });
  await fsp.rm(path.join(sb.worktree, 'old.txt'));
  snapshot('two');
  expect(runCli(sb, ['approve', 'reviewed']).code).toBe(0);
  await writeTree(sb.worktree, { 'notes.txt': 'third notes\n', 'new.txt': 'a new file\n' });
  snapshot('three');
  repo = repoOf(sb);
  ui = await startUi(sb);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && pageErrors.push(msg.text()));
  // The printed URL signs the browser in (token → cookie) and lands on the timeline.
  await page.goto(ui.url);
});

afterEach(async () => {
  await context?.close();
  await ui?.stop();
  await sb?.cleanup();
});

/** The ids of the timeline's rows, top to bottom, once `count` are shown. */
async function timelineIds(count: number): Promise<string[]> {
  await page.getByTestId('snapshot-row').nth(count - 1).waitFor();
  return page.getByTestId('snapshot-row').evaluateAll((els) => els.map((el) => el.getAttribute('data-id')!));
}

const row = (id: string) => page.locator(`[data-testid="snapshot-row"][data-id="${id}"]`);

/** What a checkout from the tree `now` to the files `target` must write and delete: native git's files against the disk's. */
function expectedPlan(now: Map<string, TreeFile>, target: Map<string, TreeFile>): { write: string[]; delete: string[] } {
  const differs = (p: string, f: TreeFile) => !now.has(p) || !now.get(p)!.content.equals(f.content) || now.get(p)!.mode !== f.mode;
  return {
    write: [...target].filter(([p, f]) => differs(p, f)).map(([p]) => p).sort(),
    delete: [...now.keys()].filter((p) => !target.has(p)).sort(),
  };
}

/** The texts of the list items under `testid` (a plan's files), sorted. */
async function listed(testid: string): Promise<string[]> {
  const items = page.getByTestId(testid).locator('li');
  return (await items.allInnerTexts()).map((t) => t.trim()).sort();
}

describe('shadowgit ui in a browser', () => {
  test('the timeline shows the snapshots the CLI made, newest first, with the approval', async () => {
    // The token left the address bar; the cookie carries the session.
    expect(new URL(page.url()).search).toBe('');
    const shown = await timelineIds(3);
    expect(shown).toEqual([ids.three, ids.two, ids.one]);
    // Native git orders the snapshot chain the same way.
    const chain = (git(repo, ['rev-list', 'refs/heads/snapshots']) as string).trim().split('\n');
    expect(shown.map(commitOf)).toEqual(chain);
    // The approval is a badge on its snapshot, and a tag native git finds on that commit.
    await row(ids.two!).locator('.badge.approved', { hasText: 'reviewed' }).waitFor();
    expect((git(repo, ['tag', '--points-at', commitOf(ids.two!)]) as string).trim()).toBe('reviewed');
    expect(await row(ids.one!).locator('.badge.approved').count()).toBe(0);
    // All three were taken by hand: one group.
    await page.getByRole('region', { name: 'Manual: 3 snapshots' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  test('the remotes holding each snapshot are badges on the timeline', async () => {
    const server = await startGitServer();
    try {
      const serverRepo = server.createRepo('backup.git');
      expect(runCli(sb, ['remote', 'add', 'origin', server.url('backup.git')]).code).toBe(0);
      // Not spawnSync: the git server answers from this process's event loop.
      const pushed = await runCliAsync(sb, ['push']);
      expect(pushed).toMatchObject({ code: 0 });
      await writeTree(sb.worktree, { 'notes.txt': 'not pushed\n' });
      const four = snapshot('four');
      await open('#/timeline');
      expect(await timelineIds(4)).toEqual([four, ids.three, ids.two, ids.one]);
      for (const id of [ids.one!, ids.two!, ids.three!]) {
        await row(id).locator('.badge.remote', { hasText: 'origin' }).waitFor();
        // Native git finds the commit on the server.
        expect(git(serverRepo, ['cat-file', '-t', commitOf(id)]).trim()).toBe('commit');
      }
      expect(await row(four).locator('.badge.remote').count()).toBe(0);
      expect(() => git(serverRepo, ['cat-file', '-e', commitOf(four)])).toThrow();
      expect(pageErrors).toEqual([]);
    } finally {
      await server.close();
    }
    // A push, a server and a browser: room for a loaded machine.
  }, 120_000);

  test('the timeline pages back with "Older"', async () => {
    await open('#/timeline?limit=2');
    expect(await timelineIds(2)).toEqual([ids.three, ids.two]);
    expect(await page.getByTestId('snapshot-row').count()).toBe(2);
    await page.getByRole('button', { name: 'Older' }).click();
    expect(await timelineIds(3)).toEqual([ids.three, ids.two, ids.one]);
    // The first snapshot of the chain (native git: the commit without a parent) ends the pages.
    expect((git(repo, ['rev-list', '--max-parents=0', 'refs/heads/snapshots']) as string).trim()).toBe(commitOf(ids.one!));
    await page.getByRole('button', { name: 'Older' }).waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });

  test('approve from the page: a name in use is refused with the sentence, a new one tags the latest snapshot', async () => {
    await timelineIds(3);
    await page.getByText('Approve the tree as it is…').click();
    const form = page.getByRole('form', { name: 'Approve the tree as it is' });
    await form.getByLabel('Approval name').fill('reviewed');
    await form.getByRole('button', { name: 'Approve' }).click();
    const refusal = form.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/reviewed/);
    expect((git(repo, ['tag', '--points-at', commitOf(ids.three!)]) as string).trim()).toBe('');
    await form.getByLabel('Approval name').fill('shipped');
    await form.getByRole('button', { name: 'Approve' }).click();
    await form.getByTestId('approve-report').waitFor();
    expect(await form.getByTestId('cli').innerText()).toBe('shadowgit approve shipped');
    expect((git(repo, ['tag', '--points-at', commitOf(ids.three!)]) as string).trim()).toBe('shipped');
    await row(ids.three!).locator('.badge.approved', { hasText: 'shipped' }).waitFor();
    // The browser logs the refused request; nothing else went wrong.
    expect(pageErrors).toEqual([expect.stringContaining('status of 409')]);
  });

  test('comparing two snapshots picked on the timeline lists the changed files and shows a diff', async () => {
    await timelineIds(3);
    await page.getByRole('checkbox', { name: `Select ${ids.one} to compare` }).check();
    await page.getByRole('checkbox', { name: `Select ${ids.two} to compare` }).check();
    await page.getByRole('button', { name: 'Compare selected' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/compare'));
    const hash = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    expect([hash.get('from'), hash.get('to')]).toEqual([ids.one, ids.two]);
    const files = page.getByTestId('changed-files').locator('tr');
    await files.first().waitFor();
    const paths = (await page.getByTestId('changed-files').locator('code').allInnerTexts()).sort();
    const gitPaths = (git(repo, ['diff', '--name-only', commitOf(ids.one!), commitOf(ids.two!)]) as string).trim().split('\n').sort();
    expect(paths).toEqual(gitPaths);
    expect(paths).toEqual(['notes.txt', 'old.txt', 'src/math.ts']);
    await page.getByTestId('compare-summary').filter({ hasText: '3 files changed' }).waitFor();
    // The file picked shows its diff: the line added in "two" is there as an insertion.
    await files.filter({ hasText: 'src/math.ts' }).getByRole('link').click();
    const inserted = page.getByTestId('diff').locator('.d2h-ins', { hasText: 'export const sub' });
    await inserted.first().waitFor();
    await page.getByRole('button', { name: 'Side by side' }).click();
    await page.getByTestId('diff').locator('.d2h-file-side-diff').first().waitFor();
    await page.getByTestId('diff').locator('.d2h-ins', { hasText: 'export const sub' }).first().waitFor();
    expect(pageErrors).toEqual([]);
  });

  test('a snapshot the CLI records appears on the open timeline without a reload', async () => {
    await timelineIds(3);
    await page.evaluate(() => ((globalThis as unknown as { stillHere: boolean }).stillHere = true));
    await writeTree(sb.worktree, { 'notes.txt': 'fourth notes\n' });
    const recorded = await runCliAsync(sb, ['--json', 'snapshot', '-m', 'four']);
    expect(recorded.code).toBe(0);
    const id = (JSON.parse(recorded.stdout) as { id: string }).id;
    await row(id).waitFor();
    expect(await timelineIds(4)).toEqual([id, ids.three, ids.two, ids.one]);
    expect(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect((git(repo, ['rev-list', '--count', 'refs/heads/snapshots']) as string).trim()).toBe('4');
    expect(pageErrors).toEqual([]);
  });

  test("restoring a version from a file's history writes that version to disk", async () => {
    await writeTree(sb.worktree, { 'notes.txt': 'unsaved edit\n' });
    await open('#/history?path=notes.txt');
    const versions = page.getByTestId('version-row');
    await versions.nth(2).waitFor();
    // Every snapshot in which notes.txt changed, newest first, as native git's log of the path finds them.
    const shown = await versions.evaluateAll((els) => els.map((el) => el.getAttribute('data-id')!));
    const gitLog = (git(repo, ['log', '--format=%H', 'refs/heads/snapshots', '--', 'notes.txt']) as string).trim().split('\n');
    expect(shown.map(commitOf)).toEqual(gitLog);
    await page.locator(`[data-testid="version-row"][data-id="${ids.one}"]`).getByRole('button', { name: `Restore ${ids.one}…` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('plan-preview').waitFor();
    expect(await listed('plan-write')).toEqual(['notes.txt']);
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await dialog.getByTestId('action-report').waitFor();
    expect(await dialog.getByTestId('cli').innerText()).toMatch(/^shadowgit restore /);
    // The file on disk is the version of "one", byte for byte as native git stores it.
    expect(await read('notes.txt')).toBe(git(repo, ['show', `${commitOf(ids.one!)}:notes.txt`]));
    expect(await read('notes.txt')).toBe('first notes\n');
    // The unsaved edit it replaced was recorded first.
    const pre = await dialog.getByTestId('pre-rollback').innerText();
    expect(git(repo, ['show', `${commitOf(pre)}:notes.txt`])).toBe('unsaved edit\n');
    // Nothing else moved.
    expect(await read('src/math.ts')).toContain('export const sub');
    fsck(repo);
    expect(pageErrors).toEqual([]);
  });

  test('rollback shows what it would write and delete, and on confirmation makes the tree the target', async () => {
    await writeTree(sb.worktree, { 'src/index.ts': 'an edit not yet recorded\n' });
    const before = await tree();
    const target = gitTreeFiles(repo, commitOf(ids.one!));
    const plan = expectedPlan(before, target);
    expect(plan).toEqual({ write: ['notes.txt', 'old.txt', 'src/index.ts', 'src/math.ts'], delete: ['new.txt'] });
    await open(`#/snapshot?rev=${ids.one}`);
    await page.getByRole('button', { name: 'Roll back to this snapshot…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('plan-preview').waitFor();
    expect(await listed('plan-write')).toEqual(plan.write);
    expect(await listed('plan-delete')).toEqual(plan.delete);
    // Nothing is changed by looking.
    expectSameFiles(await tree(), before);
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog.getByTestId('action-report').waitFor();
    expect(await dialog.getByTestId('cli').innerText()).toMatch(new RegExp(`^shadowgit rollback ${ids.one}`));
    expectSameFiles(await tree(), target);
    // The state before is a snapshot native git holds, with the unrecorded edit in it.
    const pre = await dialog.getByTestId('pre-rollback').innerText();
    expect(runJson<{ trigger: string }>(sb, ['show', pre]).trigger).toBe('pre-rollback');
    expectSameFiles(gitTreeFiles(repo, commitOf(pre)), before);
    fsck(repo);
    expect(pageErrors).toEqual([]);
  });

  test('undo in the page returns the tree to before the last rollback', async () => {
    const before = await tree();
    expect(runCli(sb, ['rollback', ids.one!, '--yes']).code).toBe(0);
    expectSameFiles(await tree(), gitTreeFiles(repo, commitOf(ids.one!)));
    await page.getByRole('button', { name: 'Undo…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('plan-preview').waitFor();
    const plan = expectedPlan(await tree(), before);
    expect(plan).toEqual({ write: ['new.txt', 'notes.txt', 'src/math.ts'], delete: ['old.txt'] });
    expect(await listed('plan-write')).toEqual(plan.write);
    expect(await listed('plan-delete')).toEqual(plan.delete);
    await dialog.getByRole('button', { name: 'Undo', exact: true }).click();
    await dialog.getByTestId('action-report').waitFor();
    expect(await dialog.getByTestId('cli').innerText()).toBe('shadowgit undo');
    expectSameFiles(await tree(), before);
    fsck(repo);
    expect(pageErrors).toEqual([]);
  });
});

/** A directory of a commit as native git lists it: name, type and blob or tree id. */
interface GitEntry {
  name: string;
  type: 'blob' | 'tree' | 'commit';
  mode: string;
  oid: string;
}

function gitLsTree(commit: string, dir = ''): GitEntry[] {
  const listing = git(repo, ['ls-tree', '-z', dir ? `${commit}:${dir}` : commit]) as string;
  return listing
    .split('\0')
    .filter(Boolean)
    .map((record) => {
      const [meta, name] = record.split('\t') as [string, string];
      const [mode, type, oid] = meta.split(' ') as [string, GitEntry['type'], string];
      return { name, type, mode, oid };
    });
}

/**
 * The rows the Browse view must show for native git's listing: directories first, then by name
 * (code units), a directory with a slash after it, a symlink with an arrow, a submodule marked.
 */
function expectedRows(entries: GitEntry[]): string[] {
  const isDir = (e: GitEntry) => e.type === 'tree';
  return [...entries]
    .sort((a, b) => Number(isDir(b)) - Number(isDir(a)) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => (isDir(e) ? `${e.name}/` : e.type === 'commit' ? `${e.name} (submodule)` : e.mode === '120000' ? `${e.name} →` : e.name));
}

/** The rows of the Browse view's listing of `dir` in snapshot `id`, without the ".." up a level. */
async function browseRows(id: string, dir: string): Promise<string[]> {
  const list = page.getByRole('list', { name: `Files in ${dir || 'the root'} of ${id}` });
  await list.locator('li').first().waitFor();
  return (await list.locator('li').allInnerTexts()).map((t) => t.trim()).filter((t) => t !== '..');
}

/** `n` written as the page writes numbers (the browser's locale). */
const shownNumber = (n: number) => page.evaluate((x) => x.toLocaleString(), n);

describe('Browse in a browser', () => {
  const MiB = 1024 * 1024;

  test("a snapshot's directories list what native git lists, and a file's text is its blob", async () => {
    await writeTree(sb.worktree, { 'src/util/strings.ts': 'export const shout = (s: string) => `${s}!`;\n' });
    await fsp.symlink('notes.txt', path.join(sb.worktree, 'notes-link'));
    const four = snapshot('four');
    const commit = commitOf(four);
    await open('#/browse');
    // The form takes a snapshot by id (the default is the latest).
    await page.getByRole('combobox', { name: 'Snapshot' }).fill(ids.one!);
    await page.getByRole('button', { name: 'Browse', exact: true }).click();
    expect(await browseRows(ids.one!, '')).toEqual(expectedRows(gitLsTree(commitOf(ids.one!))));
    expect(await browseRows(ids.one!, '')).toEqual(['src/', 'notes.txt', 'old.txt']);
    await page.getByRole('combobox', { name: 'Snapshot' }).fill(four);
    await page.getByRole('button', { name: 'Browse', exact: true }).click();
    expect(await browseRows(four, '')).toEqual(expectedRows(gitLsTree(commit)));
    expect(await browseRows(four, '')).toEqual(['src/', 'new.txt', 'notes-link →', 'notes.txt']);
    // Down a directory and another, then back up by the crumbs.
    await page.getByRole('link', { name: 'src/' }).click();
    expect(await browseRows(four, 'src')).toEqual(expectedRows(gitLsTree(commit, 'src')));
    await page.getByRole('link', { name: 'util/' }).click();
    expect(await browseRows(four, 'src/util')).toEqual(expectedRows(gitLsTree(commit, 'src/util')));
    await page.getByRole('navigation', { name: 'Directory' }).getByRole('link', { name: 'src', exact: true }).click();
    expect(await browseRows(four, 'src')).toEqual(['util/', 'index.ts', 'math.ts']);
    // A file opened: its text is native git's blob, byte for byte, and its size git's.
    await page.getByRole('link', { name: 'math.ts', exact: true }).click();
    const math = gitLsTree(commit, 'src').find((e) => e.name === 'math.ts')!;
    const article = page.getByRole('article', { name: 'File src/math.ts' });
    await article.getByTestId('file-text').waitFor();
    expect(await article.getByTestId('file-text').textContent()).toBe(git(repo, ['cat-file', '-p', math.oid]));
    expect(await article.innerText()).toContain(`${await shownNumber(Number(git(repo, ['cat-file', '-s', math.oid]).trim()))} bytes · mode ${math.mode} · in ${four}`);
    // A symlink shows its target, as git stores it.
    await page.getByRole('navigation', { name: 'Directory' }).getByRole('link', { name: four }).click();
    await page.getByRole('link', { name: 'notes-link →' }).click();
    const link = gitLsTree(commit).find((e) => e.name === 'notes-link')!;
    await page.getByRole('article', { name: 'File notes-link' }).getByTestId('file-text').waitFor();
    expect(await page.getByTestId('file-text').textContent()).toBe(git(repo, ['cat-file', '-p', link.oid]));
    expect(await page.getByTestId('file-text').textContent()).toBe('notes.txt');
    expect(pageErrors).toEqual([]);
  });

  test('a binary file and a file over 1 MiB are said to be so, not shown as text; one of exactly 1 MiB is shown', async () => {
    const binary = Buffer.from(Array.from({ length: 600 }, (_, i) => i % 256));
    await writeTree(sb.worktree, {
      'data/image.bin': binary,
      'data/big.txt': `${'a line of text\n'.repeat(Math.ceil(MiB / 15))}`.slice(0, MiB + 1),
      'data/exact.txt': `${'a line of text\n'.repeat(Math.ceil(MiB / 15))}`.slice(0, MiB),
    });
    const four = snapshot('four');
    const commit = commitOf(four);
    const data = new Map(gitLsTree(commit, 'data').map((e) => [e.name, e]));
    const size = (name: string) => Number(git(repo, ['cat-file', '-s', data.get(name)!.oid]).trim());
    expect([size('image.bin'), size('big.txt'), size('exact.txt')]).toEqual([600, MiB + 1, MiB]);
    await open(`#/browse?rev=${four}&dir=data`);
    expect(await browseRows(four, 'data')).toEqual(expectedRows([...data.values()]));

    await page.getByRole('link', { name: 'image.bin' }).click();
    const image = page.getByRole('article', { name: 'File data/image.bin' });
    await image.getByText('A binary file: not shown.').waitFor();
    expect(await image.getByTestId('file-text').count()).toBe(0);
    expect(await image.innerText()).toContain(`${await shownNumber(size('image.bin'))} bytes`);

    await page.getByRole('link', { name: 'big.txt' }).click();
    const big = page.getByRole('article', { name: 'File data/big.txt' });
    await big.getByText('Over 1 MiB: not shown.').waitFor();
    expect(await big.getByTestId('file-text').count()).toBe(0);
    expect(await big.innerText()).toContain(`${await shownNumber(size('big.txt'))} bytes`);

    await page.getByRole('link', { name: 'exact.txt' }).click();
    const exact = page.getByRole('article', { name: 'File data/exact.txt' });
    await exact.getByTestId('file-text').waitFor();
    expect(await exact.getByTestId('file-text').textContent()).toBe(git(repo, ['cat-file', '-p', data.get('exact.txt')!.oid]));
    expect(pageErrors).toEqual([]);
  });

  test('"Restore this version" in Browse previews, then writes that one file, the edit it replaces kept first', async () => {
    await writeTree(sb.worktree, { 'notes.txt': 'unsaved edit\n' });
    const before = await tree();
    await open(`#/browse?rev=${ids.one}&path=notes.txt`);
    const article = page.getByRole('article', { name: 'File notes.txt' });
    await article.getByTestId('file-text').waitFor();
    expect(await article.getByTestId('file-text').textContent()).toBe('first notes\n');
    await article.getByRole('button', { name: 'Restore this version…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('plan-preview').waitFor();
    expect(await listed('plan-write')).toEqual(['notes.txt']);
    expect(await dialog.getByTestId('plan-delete').count()).toBe(0);
    // Nothing is changed by looking.
    expectSameFiles(await tree(), before);
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await dialog.getByTestId('action-report').waitFor();
    expect(await dialog.getByTestId('cli').innerText()).toBe(`shadowgit restore ${ids.one} -- notes.txt`);
    // notes.txt is the version of "one" as native git stores it; every other file is as it was.
    const after = await tree();
    expect(after.get('notes.txt')!.content.toString()).toBe(git(repo, ['show', `${commitOf(ids.one!)}:notes.txt`]));
    expect(after.get('notes.txt')!.content.toString()).toBe('first notes\n');
    expectSameFiles(after, new Map([...before, ['notes.txt', after.get('notes.txt')!]]));
    // The unsaved edit it replaced is a snapshot native git holds.
    const pre = await dialog.getByTestId('pre-rollback').innerText();
    expectSameFiles(gitTreeFiles(repo, commitOf(pre)), before);
    fsck(repo);
    expect(pageErrors).toEqual([]);
  });
});
