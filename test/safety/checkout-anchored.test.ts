/**
 * The directory handles every checkout writes through (src/engine/worktree/anchored.ts): a component
 * swapped for a symlink is never followed, with /proc (Linux) and with the lstat fallback
 * (macOS), and a big checkout keeps its open handles bounded.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AnchoredTree, TreeChangedError } from '../../src/engine/worktree/anchored.js';
import { diskTree, makeScratch } from '../faults/lib/native.js';
import { BIN, git, repoOf, runJson, useSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { victimPrint } from './checkout-helpers.js';

let sb: Sandbox;
useSandbox('sg-anchored-', (s) => (sb = s));

describe.each([
  ['through /proc/self/fd', true],
  ['with the lstat fallback', false],
])('AnchoredTree %s', (_how, viaProc) => {
  test('a directory swapped for a symlink after it was opened or made is refused, and nothing reaches the victim', async () => {
    const victim = path.join(sb.dir, 'victim');
    await writeTree(victim, { 'x.txt': 'victim\n' });
    const before = await victimPrint(victim);
    await writeTree(sb.worktree, { 'a/b/old.txt': 'old\n' });
    const tree = AnchoredTree.open(sb.worktree, { viaProc });
    try {
      await tree.makeDirectory('d');
      await tree.inside('a/b', (at) => fsp.writeFile(at('new.txt'), 'new\n'));
      for (const dir of ['d', 'a']) {
        await fsp.rename(path.join(sb.worktree, dir), path.join(sb.dir, `moved-${dir}`));
        await fsp.symlink(victim, path.join(sb.worktree, dir));
      }
      // Through a handle cache (proc) or a fresh check (fallback): d, and a/b below a swapped a.
      const writeInto = (dir: string) => tree.inside(dir, (at) => fsp.writeFile(at('x.txt'), 'written through\n'));
      if (!viaProc) {
        await expect(writeInto('d')).rejects.toThrow(TreeChangedError);
        await expect(writeInto('a/b')).rejects.toThrow(TreeChangedError);
      } else {
        // Open handles keep pointing at the directories that were moved out: never at the victim.
        await writeInto('d');
        await writeInto('a/b');
        expect(await fsp.readFile(path.join(sb.dir, 'moved-d', 'x.txt'), 'utf8')).toBe('written through\n');
      }
    } finally {
      tree.close();
    }
    // A fresh walk that insists on the directories seen before refuses both.
    const again = AnchoredTree.open(sb.worktree, { viaProc });
    try {
      await expect(again.inside('d', () => undefined)).rejects.toThrow(/d was replaced by a symlink/);
      await expect(again.inside('a/b', () => undefined)).rejects.toThrow(TreeChangedError);
    } finally {
      again.close();
    }
    expect(await victimPrint(victim)).toBe(before);
  });
});

test('a rollback that makes 400 directories runs with 128 file descriptors (directory handles are bounded)', async () => {
  const files: Record<string, string> = {};
  for (let d = 0; d < 400; d++) files[`d${d}/e/f.txt`] = `${d}\n`;
  await writeTree(sb.worktree, files);
  const target = runJson<{ id: string; commit: string }>(sb, ['snapshot']);
  for (let d = 0; d < 400; d++) await fsp.rm(path.join(sb.worktree, `d${d}`), { recursive: true });
  runJson(sb, ['snapshot']);
  const result = spawnSync('sh', ['-c', `ulimit -n 128 && exec "${process.execPath}" "${BIN}" rollback ${target.id} --yes`], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(await diskTree(await makeScratch(path.join(sb.dir, 'scratch.git')), sb.worktree)).toBe(git(repoOf(sb), ['rev-parse', `${target.commit}^{tree}`]).trim());
});
