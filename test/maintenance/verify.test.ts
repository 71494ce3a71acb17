import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fingerprint, git, makeSandbox, runCli, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';

/** Damage the shadow repository by hand, then check that verify names exactly the damaged snapshots. */

interface VerifyJson {
  ok: boolean;
  approved: Array<{ name: string; id: string; ok: boolean }>;
  quick: boolean;
  snapshots: Array<{ id: string; ok: boolean; problems: Array<{ oid: string; path: string; problem: string }> }>;
  packs: Array<{ name: string; problem?: string }>;
}

let sb: Sandbox;
afterEach(async () => sb.cleanup());

async function threeSnapshots(files: Array<Record<string, string>>, approveFirst?: string): Promise<{ ids: string[]; commits: string[]; repo: string }> {
  const ids: string[] = [];
  const commits: string[] = [];
  for (const [i, f] of files.entries()) {
    await writeTree(sb.worktree, f);
    const s = runJson(sb, ['snapshot', '-m', `s${i + 1}`]);
    ids.push(s.id);
    commits.push(s.commit);
    if (i === 0 && approveFirst) runJson(sb, ['approve', approveFirst]);
  }
  return { ids, commits, repo: runJson(sb, ['status']).repo };
}

function looseFile(repo: string, oid: string): string {
  return path.join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
}

function damaged(report: VerifyJson): string[] {
  return report.snapshots.filter((s) => !s.ok).map((s) => s.id);
}

function verifyJson(args: string[] = []): { code: number; report: VerifyJson } {
  const result = runCli(sb, ['verify', '--json', ...args]);
  return { code: result.code, report: JSON.parse(result.stdout) as VerifyJson };
}

test('a flipped byte in a loose blob: verify names the snapshots holding it, and rollback to them refuses before touching the tree', async () => {
  sb = makeSandbox('sg-verify-');
  const { ids, commits, repo } = await threeSnapshots([{ 'a.txt': 'alpha\n' }, { 'b.txt': 'beta\n'.repeat(50) }, { 'c.txt': 'gamma\n' }]);
  expect(verifyJson()).toMatchObject({ code: 0, report: { ok: true } });

  const blob = (git(repo, ['rev-parse', `${commits[1]}:b.txt`]) as string).trim();
  const file = looseFile(repo, blob);
  await fsp.chmod(file, 0o644);
  const bytes = await fsp.readFile(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  await fsp.writeFile(file, bytes);

  const { code, report } = verifyJson();
  expect(code).toBe(1);
  expect(report.ok).toBe(false);
  expect(damaged(report)).toEqual([ids[2], ids[1]]);
  expect(report.snapshots.find((s) => s.id === ids[1])!.problems).toEqual([{ oid: blob, path: 'b.txt', problem: expect.stringMatching(/damaged/) }]);
  const text = runCli(sb, ['verify']);
  expect(text.code).toBe(1);
  expect(text.stdout).toContain(ids[1]);
  expect(text.stdout).toMatch(/1 snapshot\(s\) intact, 2 damaged/);
  expect(text.stdout).toContain(`Intact: ${ids[0]}`);

  // The rollback would have to write b.txt from the damaged blob: it stops before any write.
  await writeTree(sb.worktree, { 'b.txt': 'edited\n', 'a.txt': 'edited too\n' });
  const worktreeBefore = await fingerprint(sb.worktree);
  const rollback = runCli(sb, ['rollback', ids[1]!, '--yes']);
  expect(rollback.code).toBe(1);
  expect(rollback.stderr).toContain(blob);
  expect(rollback.stderr).toContain('(b.txt)');
  expect(rollback.stderr).toContain('shadowgit verify');
  expect(await fingerprint(sb.worktree)).toBe(worktreeBefore);
});

test('a truncated pack: verify reports the pack and every snapshot whose objects are in it; restore refuses', async () => {
  sb = makeSandbox('sg-verify-pack-');
  const { ids, repo } = await threeSnapshots([{ 'a.txt': 'alpha\n' }, { 'b.txt': 'beta\n' }, { 'c.txt': 'gamma\n' }]);
  runJson(sb, ['gc', '--grace', '0']);
  expect(verifyJson()).toMatchObject({ code: 0, report: { ok: true } });

  const packDir = path.join(repo, 'objects', 'pack');
  const blob = (git(repo, ['rev-parse', 'HEAD:a.txt']) as string).trim();
  let blobPack = '';
  for (const idx of (await fsp.readdir(packDir)).filter((n) => n.endsWith('.idx'))) {
    const ids = git(repo, ['verify-pack', '-v', path.join(packDir, idx)]) as string;
    if (ids.includes(blob)) blobPack = path.join(packDir, idx.replace(/\.idx$/, '.pack'));
  }
  expect(blobPack).not.toBe('');
  const { size } = await fsp.stat(blobPack);
  await fsp.chmod(blobPack, 0o644);
  await fsp.truncate(blobPack, size - 30);

  const { code, report } = verifyJson();
  expect(code).toBe(1);
  expect(report.packs.find((p) => blobPack.endsWith(`${p.name}.pack`))!.problem).toMatch(/truncated or damaged/);
  expect(damaged(report).sort()).toEqual([...ids].sort());

  await writeTree(sb.worktree, { 'a.txt': 'changed\n' });
  const restore = runCli(sb, ['restore', ids[0]!, '--', 'a.txt']);
  expect(restore.code).toBe(1);
  expect(restore.stderr).toMatch(/a\.txt.*shadowgit verify/);
  expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('changed\n');
});

test('a missing tree: the snapshots sharing it are damaged, the others intact; --quick checks only the latest and approved', async () => {
  sb = makeSandbox('sg-verify-tree-');
  const { ids, commits, repo } = await threeSnapshots([{ 'dir/x.txt': 'x\n', 'top.txt': '1\n' }, { 'top.txt': '2\n' }, { 'dir/y.txt': 'y\n' }], 'First');
  const dirTree = (git(repo, ['rev-parse', `${commits[0]}:dir`]) as string).trim();
  expect((git(repo, ['rev-parse', `${commits[1]}:dir`]) as string).trim()).toBe(dirTree);
  expect(verifyJson(['--quick'])).toMatchObject({ code: 0, report: { ok: true, quick: true } });
  await fsp.rm(looseFile(repo, dirTree));

  const { code, report } = verifyJson();
  expect(code).toBe(1);
  expect(damaged(report)).toEqual([ids[1], ids[0]]);
  expect(report.snapshots[0]).toMatchObject({ id: ids[2], ok: true });
  expect(report.snapshots[1]!.problems).toEqual([{ oid: dirTree, path: 'dir', problem: 'missing' }]);

  // --quick reads the latest snapshot (intact) and the approved one (damaged), not the middle one.
  const quick = verifyJson(['--quick']);
  expect(quick.code).toBe(1);
  expect(quick.report.snapshots.map((s) => [s.id, s.ok])).toEqual([[ids[2], true]]);
  expect(quick.report).toMatchObject({ quick: true, approved: [{ name: 'First', id: ids[0], ok: false }] });
});
