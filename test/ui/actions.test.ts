import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fsck, git, makeSandbox, repoOf, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { startUi, type UiSession } from '../helpers/ui.js';

/**
 * Every UI action through HTTP leaves what its CLI twin leaves on an identical sandbox: the
 * working tree's files, the snapshots' trees and triggers (native git reads them), the approvals,
 * and the op log's entry; `git fsck --strict` passes on both shadow repositories. A plan is
 * carried out once, and only while the tree is as planned.
 */

let cliSide: Sandbox;
let uiSide: Sandbox;
let ui: UiSession;

/** Both sides' trees, built by the same edits. */
async function both(files: Record<string, string>, remove: string[] = []): Promise<void> {
  for (const sb of [cliSide, uiSide]) {
    await writeTree(sb.worktree, files);
    for (const p of remove) await fsp.rm(path.join(sb.worktree, p));
  }
}

/** The chain as native git reads it, newest first: each snapshot's tree and trigger (ids and dates differ between the sides). */
function chain(sb: Sandbox): string[] {
  const log = git(repoOf(sb), ['log', '--format=%T %(trailers:key=Shadowgit-Trigger,valueonly,separator=)', 'refs/heads/snapshots']) as string;
  return log.trim().split('\n');
}

/** Approvals by native git: tag name → the tree it names. */
function approvals(sb: Sandbox): string[] {
  return (git(repoOf(sb), ['for-each-ref', '--format=%(refname) %(*tree)', 'refs/tags']) as string).trim().split('\n');
}

/** The newest op log entry as `shadowgit log --json` has it, without what differs by nature (times, commit hashes). */
function lastOp(sb: Sandbox): unknown {
  const [op] = runJson<Array<{ op: string; args: unknown; outcome: string; commits: string[] }>>(sb, ['log', '-n', '1']);
  return { op: op!.op, args: op!.args, outcome: op!.outcome, commits: op!.commits.length };
}

async function expectSameState(): Promise<void> {
  expectSameFiles(await diskFiles(uiSide.worktree), await diskFiles(cliSide.worktree));
  expect(chain(uiSide)).toEqual(chain(cliSide));
  expect(approvals(uiSide)).toEqual(approvals(cliSide));
  expect(lastOp(uiSide)).toEqual(lastOp(cliSide));
  fsck(repoOf(cliSide));
  fsck(repoOf(uiSide));
}

/** Plans `op` through the UI, checks the plan is the preview the facade's plan gives, and carries it out. */
async function planAndRun(op: string, body: Record<string, unknown>, cli: string[]): Promise<any> {
  const planned = await ui.post(`/api/${op}/plan`, body);
  expect(planned.status).toBe(200);
  expect(planned.json.cli).toBe(['shadowgit', ...cli].join(' '));
  const done = await ui.post(`/api/${op}`, { plan: planned.json.plan.id });
  expect(done.status).toBe(200);
  expect(done.json.cli).toBe(planned.json.cli);
  expect(done.json.writtenPaths).toEqual(planned.json.plan.write);
  expect(done.json.deletedPaths).toEqual(planned.json.plan.delete);
  runJson(cliSide, cli);
  return done.json;
}

beforeAll(async () => {
  cliSide = makeSandbox('sg-ui-actions-cli-');
  uiSide = makeSandbox('sg-ui-actions-ui-');
  await both({ 'a.txt': 'one\n', 'dir/b.txt': 'bee\n', 'c.txt': 'sea\n' });
  for (const sb of [cliSide, uiSide]) runJson(sb, ['snapshot', '-m', 'first']);
  await both({ 'a.txt': 'two\n', 'd.txt': 'dee\n' }, ['c.txt']);
  for (const sb of [cliSide, uiSide]) runJson(sb, ['snapshot', '-m', 'second']);
  await both({ 'a.txt': 'three, not recorded\n', 'e.txt': 'new\n' });
  ui = await startUi(uiSide);
}, 60_000);

afterAll(async () => {
  await ui?.stop();
  await cliSide.cleanup();
  await uiSide.cleanup();
});

describe('each action leaves what the CLI leaves', () => {
  test('rollback: the preview, then the tree, the pre-rollback snapshot and the op log as `rollback latest~1 --yes`', async () => {
    const done = await planAndRun('rollback', { rev: 'latest~1' }, ['rollback', 'latest~1', '--yes']);
    expect(done.preRollback.created).toBe(true);
    await expectSameState();
    expect(await fsp.readFile(path.join(uiSide.worktree, 'c.txt'), 'utf8')).toBe('sea\n');
  });

  test('restore: some paths, as `restore latest~2 -- a.txt dir`', async () => {
    await both({ 'a.txt': 'edited again\n', 'dir/b.txt': 'bee edited\n', 'dir/new.txt': 'n\n' });
    await planAndRun('restore', { rev: 'latest~2', paths: ['a.txt', 'dir'] }, ['restore', 'latest~2', '--', 'a.txt', 'dir']);
    await expectSameState();
  });

  test('undo: as `undo`', async () => {
    await planAndRun('undo', {}, ['undo']);
    await expectSameState();
  });

  test('approve: as `approve "Release One" -m "checked by hand" --force`', async () => {
    const done = await ui.post('/api/approve', { name: 'Release One', description: 'checked by hand', force: true });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ name: 'Release One', tag: expect.any(String), cli: "shadowgit approve 'Release One' -m 'checked by hand' --force" });
    runJson(cliSide, ['approve', 'Release One', '-m', 'checked by hand', '--force']);
    await expectSameState();
    const taken = await ui.post('/api/approve', { name: 'Release One' });
    expect(taken.status).toBe(409);
    expect(taken.json.error.code).toBe('EEXISTS');
  });

  test("the UI's actions are in `shadowgit log` as the CLI's are", () => {
    const ops = (sb: Sandbox) => runJson<Array<{ op: string; args: unknown; outcome: string }>>(sb, ['log', '-n', '50']).map((o) => ({ op: o.op, args: o.args, outcome: o.outcome }));
    expect(ops(uiSide).filter((o) => o.op !== 'approve' || o.outcome === 'ok')).toEqual(ops(cliSide));
  });
});

describe('plans', () => {
  test('a tree edited after planning: 409, and nothing is written or recorded', async () => {
    const planned = await ui.post('/api/rollback/plan', { rev: 'latest~2' });
    expect(planned.status).toBe(200);
    await writeTree(uiSide.worktree, { 'a.txt': 'edited after the plan\n' });
    const before = { files: await diskFiles(uiSide.worktree), chain: chain(uiSide) };
    const refused = await ui.post('/api/rollback', { plan: planned.json.plan.id });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('ECHANGED');
    expectSameFiles(await diskFiles(uiSide.worktree), before.files);
    expect(chain(uiSide)).toEqual(before.chain);
    fsck(repoOf(uiSide));
  });

  test('a revision that moved since the plan: 409', async () => {
    const planned = await ui.post('/api/rollback/plan', { rev: 'latest' });
    runJson(uiSide, ['snapshot', '-m', 'moves latest']);
    await writeTree(uiSide.worktree, { 'a.txt': 'edited after the plan\n' });
    const refused = await ui.post('/api/rollback', { plan: planned.json.plan.id });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('ECHANGED');
  });

  test('a plan is good once, and only for its own action', async () => {
    const planned = await ui.post('/api/restore/plan', { rev: 'latest~1', paths: ['a.txt'] });
    expect(planned.status).toBe(200);
    const asRollback = await ui.post('/api/rollback', { plan: planned.json.plan.id });
    expect(asRollback.status).toBe(400);
    expect((await ui.post('/api/restore', { plan: planned.json.plan.id })).status).toBe(200);
    const again = await ui.post('/api/restore', { plan: planned.json.plan.id });
    expect(again.status).toBe(400);
    expect(again.json.error.message).toMatch(/unknown, already carried out or expired/);
    expect((await ui.post('/api/restore', { plan: 'nosuchplan' })).status).toBe(400);
  });

  test('bad bodies are usage errors; hostile paths are refused before anything is read', async () => {
    for (const [route, body] of [
      ['rollback/plan', {}],
      ['rollback/plan', { rev: 7 }],
      ['rollback/plan', { rev: '--force' }],
      ['restore/plan', { rev: 'latest' }],
      ['restore/plan', { rev: 'latest', paths: [] }],
      ['restore/plan', { rev: 'latest', paths: ['../outside'] }],
      ['restore/plan', { rev: 'latest', paths: ['/etc/passwd'] }],
      ['restore/plan', { rev: 'latest', paths: ['a\u0000b'] }],
      ['approve', {}],
      ['approve', { name: 'bad\u0007name' }],
      ['rollback', {}],
    ] as const) {
      const answer = await ui.post(`/api/${route}`, body);
      expect([route, body, answer.status]).toEqual([route, body, 400]);
      expect(answer.json.error.code).toBe('EUSAGE');
    }
    expect((await ui.post('/api/rollback/plan', { rev: 'nosuchrev' })).status).toBe(404);
  });
});
