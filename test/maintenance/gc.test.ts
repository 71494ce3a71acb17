import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, makeSandbox, rememberEnv, runCli, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { Repository } from '../../src/engine/store/repo.js';
import { ShadowGit } from '../../src/shadowgit.js';
import { readWorktree } from '../../src/engine/snapshot/snapshot.js';
import { STAT_CACHE } from '../../src/engine/store/statefiles.js';
import type { GcReport } from '../../src/engine/maintenance/gc.js';

type GcJson = GcReport & { bytesFreed: number };

let sb: Sandbox;
const restoreHome = rememberEnv('SHADOWGIT_HOME');
afterEach(async () => {
  restoreHome();
  await sb.cleanup();
});

const worktreeFiles = (root: string) => diskFiles(root, (_rel, name) => name === '.git');

function looseCount(repo: string): number {
  return Number(/^count: (\d+)$/m.exec(git(repo, ['count-objects', '-v']) as string)![1]);
}

/** Writes an object no snapshot references, with native git, and returns its id. */
function strayBlob(repo: string, content: string): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  return execFileSync('git', ['--git-dir', repo, 'hash-object', '-w', '--stdin'], { input: content, env, encoding: 'utf8' }).trim();
}

async function backdate(repo: string, oid: string, minutes: number): Promise<void> {
  const when = new Date(Date.now() - minutes * 60_000);
  await fsp.utimes(path.join(repo, 'objects', oid.slice(0, 2), oid.slice(2)), when, when);
}

test('gc packs everything reachable into packs native git reads, keeps young strays, and every command works from packs', async () => {
  sb = makeSandbox('sg-gc-');
  await writeTree(sb.worktree, { 'src/app.ts': 'v1\n', 'bin/run.sh': '#!/bin/sh\necho hi\n', 'big.bin': randomBytes(300_000) });
  await fsp.chmod(path.join(sb.worktree, 'bin/run.sh'), 0o755);
  await fsp.symlink('src/app.ts', path.join(sb.worktree, 'link'));
  const s1 = runJson(sb, ['snapshot', '-m', 'one']);
  runJson(sb, ['approve', 'Base']);
  await writeTree(sb.worktree, { 'src/app.ts': 'v2\n', 'src/new.ts': 'new\n' });
  const s2 = runJson(sb, ['snapshot', '-m', 'two']);
  const { repo } = runJson(sb, ['status']);
  const diffBefore = runJson(sb, ['diff', s1.id, s2.id]);
  const filesOf = new Map([s1, s2].map((s) => [s.id, gitTreeFiles(repo, s.commit)]));

  const young = strayBlob(repo, 'written a moment ago by someone else\n');
  const old = strayBlob(repo, 'left over long ago\n');
  await backdate(repo, old, 60);

  const report = runJson<GcJson>(sb, ['gc']);
  expect(report.deletedObjects).toBe(1);
  expect(report.keptRecent).toBe(1);
  expect(report.packedObjects).toBe(report.reachableObjects);
  expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
  expect(() => git(repo, ['cat-file', '-e', old])).toThrow();
  expect(git(repo, ['cat-file', 'blob', young])).toBe('written a moment ago by someone else\n');
  expect(looseCount(repo)).toBe(1); // only the young stray is still loose
  fsck(repo);
  const inPack = Number(/^in-pack: (\d+)$/m.exec(git(repo, ['count-objects', '-v']) as string)![1]);
  expect(inPack).toBe(report.reachableObjects);
  for (const [id, files] of filesOf) expectSameFiles(gitTreeFiles(repo, runJson(sb, ['show', id]).commit), files);

  // Everything reads from packs now.
  expect(runJson(sb, ['list']).map((s: { id: string }) => s.id)).toEqual([s2.id, s1.id]);
  expect(runJson(sb, ['diff', s1.id, s2.id])).toEqual(diffBefore);
  expect(runCli(sb, ['verify']).code).toBe(0);
  runJson(sb, ['rollback', 'Base', '--yes']);
  expectSameFiles(await worktreeFiles(sb.worktree), filesOf.get(s1.id)!);
  runJson(sb, ['undo']);
  expectSameFiles(await worktreeFiles(sb.worktree), filesOf.get(s2.id)!);
  await writeTree(sb.worktree, { 'src/app.ts': 'broken\n' });
  runJson(sb, ['restore', s2.id, '--', 'src/app.ts']);
  expect(await fsp.readFile(path.join(sb.worktree, 'src/app.ts'), 'utf8')).toBe('v2\n');

  // A new snapshot on top of packed history (the stat cache reuses packed ids), then gc again.
  await writeTree(sb.worktree, { 'src/third.ts': 'third\n' });
  const s3 = runJson(sb, ['snapshot', '-m', 'three']);
  fsck(repo);
  const again = runJson<GcJson>(sb, ['gc', '--grace', '0']);
  expect(again.deletedObjects).toBe(1); // the young stray, now past a zero grace period
  // Routine gc only adds packs for the new objects; the existing packs stay.
  expect(again.packs).toEqual(expect.arrayContaining(report.packs));
  expect(again.packedObjects).toBeLessThan(again.reachableObjects);
  expect(looseCount(repo)).toBe(0);
  fsck(repo);
  expect(gitTreeFiles(repo, s3.commit).get('src/third.ts')!.content.toString()).toBe('third\n');
  // Nothing left to do: the packs stay as they are.
  expect(runJson<GcJson>(sb, ['gc', '--grace', '0']).packs).toEqual(again.packs);
});

test('objects the stat cache names survive gc even when no snapshot references them', async () => {
  sb = makeSandbox('sg-gc-cache-');
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  runJson(sb, ['snapshot']);
  const { repo } = runJson(sb, ['status']);
  // A recorder that wrote its objects and its cache but no commit (e.g. killed just before it):
  // the cache now vouches for a blob no ref reaches.
  await writeTree(sb.worktree, { 'pending.txt': 'recorded, not yet committed\n' });
  process.env.SHADOWGIT_HOME = sb.home;
  const repository = await Repository.open({ worktree: sb.worktree });
  const state = await readWorktree(repository, { write: true });
  await state.cache.save(repository.statePath(STAT_CACHE));
  const pending = state.files.get('pending.txt')!.oid;
  expect(git(repo, ['rev-list', '--objects', '--all'])).not.toContain(pending);
  await backdate(repo, pending, 60);

  runJson(sb, ['gc', '--grace', '0']);
  expect(git(repo, ['cat-file', 'blob', pending])).toBe('recorded, not yet committed\n');
  const next = runJson(sb, ['snapshot']);
  fsck(repo);
  expect(gitTreeFiles(repo, next.commit).get('pending.txt')!.content.toString()).toBe('recorded, not yet committed\n');

  // Control: without the cache naming it, the same kind of stray is deleted.
  await writeTree(sb.worktree, { 'other.txt': 'cached, then the cache is gone\n' });
  const other = (await readWorktree(repository, { write: true })).files.get('other.txt')!.oid;
  await backdate(repo, other, 60);
  runJson(sb, ['gc', '--grace', '0']);
  expect(() => git(repo, ['cat-file', '-e', other])).toThrow();
});

test('a gc killed between writing a pack and its index, or while deleting, leaves every snapshot readable; the next gc cleans up', async () => {
  sb = makeSandbox('sg-gc-crash-');
  await writeTree(sb.worktree, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n' });
  const first = runJson(sb, ['snapshot']);
  await writeTree(sb.worktree, { 'a.txt': 'a2\n' });
  const second = runJson(sb, ['snapshot']);
  const { repo } = runJson(sb, ['status']);
  const expected = [first, second].map((s) => gitTreeFiles(repo, s.commit));
  const packDir = path.join(repo, 'objects', 'pack');

  for (const fault of ['pack:1', 'gc-delete:2']) {
    expect(runCli(sb, ['gc', '--grace', '0'], { env: { SHADOWGIT_FAULT: fault } }).code).not.toBe(0);
    expect(runCli(sb, ['verify']).code).toBe(0);
    [first, second].forEach((s, i) => expectSameFiles(gitTreeFiles(repo, s.commit), expected[i]!));
  }
  runJson(sb, ['gc', '--grace', '0']);
  const names = await fsp.readdir(packDir);
  for (const pack of names.filter((n) => n.endsWith('.pack'))) expect(names).toContain(pack.replace(/\.pack$/, '.idx'));
  expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  expect(looseCount(repo)).toBe(0);
  fsck(repo);
  runJson(sb, ['rollback', first.id, '--yes']);
  expectSameFiles(await diskFiles(sb.worktree), expected[0]!);
});

test('a long-lived library instance keeps writing snapshots after a gc (its own or another process) removed emptied object directories', async () => {
  sb = makeSandbox('sg-gc-live-');
  process.env.SHADOWGIT_HOME = sb.home;
  const files = (round: string) => Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}.txt`, `${round} ${i}\n`]));
  const fanOutDirs = async (repo: string) => (await fsp.readdir(path.join(repo, 'objects'))).filter((d) => /^[0-9a-f]{2}$/.test(d));
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  let previousDirs: string[] = [];
  for (const [round, gc] of [['first', () => runJson(sb, ['gc', '--grace', '0'])], ['second', () => sg.gc({ graceMs: 0 })], ['third', async () => undefined]] as const) {
    const content = files(round);
    // This round's blobs fall into directories an earlier round made and gc removed.
    if (previousDirs.length > 0) expect(Object.values(content).some((text) => previousDirs.includes(blobId(text).slice(0, 2)))).toBe(true);
    await writeTree(sb.worktree, content);
    const snapshot = await sg.snapshot();
    const { repo } = await sg.status();
    fsck(repo);
    expectSameFiles(gitTreeFiles(repo, snapshot.commit), await worktreeFiles(sb.worktree));
    previousDirs = await fanOutDirs(repo);
    await gc();
    if (round !== 'third') expect(await fanOutDirs(repo)).toEqual([]);
  }
});

/** The id native git gives `content` as a blob, without writing it. */
function blobId(content: string): string {
  return execFileSync('git', ['hash-object', '--stdin'], { input: content, encoding: 'utf8' }).trim();
}
