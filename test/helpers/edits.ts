import { promises as fsp, rmSync } from 'node:fs';
import path from 'node:path';
import { prng } from '../../scripts/bench/tree.mjs';
import { diskFiles, git, writeTree, type Sandbox } from './sandbox.js';

/** Where nativeTree writes its trees. */
export const oracleRepo = (sb: Sandbox) => path.join(sb.dir, 'oracle.git');

/** The tree native git records for the sandbox's working tree, from a fresh index each time. */
export function nativeTree(sb: Sandbox): string {
  const gitdir = oracleRepo(sb);
  git(gitdir, ['init', '--bare', '-q']);
  rmSync(path.join(gitdir, 'index'), { force: true });
  const withTree = ['-c', 'core.bare=false', '--work-tree', sb.worktree, '-C', sb.worktree];
  git(gitdir, [...withTree, 'add', '-A', '.']);
  return (git(gitdir, [...withTree, 'write-tree']) as string).trim();
}

/**
 * Seeded random edits of the kinds that can hide from a cache: new files in existing and new
 * directories, same-size rewrites, deletions, renames into another directory, chmod, new
 * symlinks, files an ignore rule (`*.log`) keeps out. `edit()` makes one.
 */
export function randomEditor(worktree: string, seed: number): { random: () => number; files: () => Promise<string[]>; edit: () => Promise<void> } {
  const random = prng(seed);
  const w = (rel: string) => path.join(worktree, rel);
  const files = async () => [...(await diskFiles(worktree))].filter(([p, f]) => p !== '.gitignore' && f.mode !== '120000').map(([p]) => p);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  let n = 0;
  const edits: Array<() => Promise<unknown>> = [
    async () => writeTree(worktree, { [`${path.posix.dirname(pick(await files()))}/n${n++}.ts`]: 'new\n' }),
    async () => writeTree(worktree, { [`src/d${n++}/e/f.ts`]: 'deep\n' }),
    async () => fsp.writeFile(w(pick(await files())), `same${n++ % 10}\n`),
    async () => fsp.rm(w(pick(await files()))),
    async () => fsp.rename(w(pick(await files())), w(`docs/m${n++}.md`)),
    async () => fsp.chmod(w(pick(await files())), random() < 0.5 ? 0o755 : 0o644),
    async () => fsp.symlink('../src/a.ts', w(`docs/l${n++}`)),
    async () => writeTree(worktree, { [`x${n++}.log`]: 'ignored\n' }),
  ];
  const edit = async () => {
    if ((await files()).length < 2) await writeTree(worktree, { [`src/s${n++}.ts`]: 's\n' });
    await pick(edits)();
  };
  return { random, files, edit };
}

/** path → "mode oid" of every file in `tree`, read by native git. */
export function filesOf(gitdir: string, tree: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of (git(gitdir, ['ls-tree', '-r', '-z', tree]) as string).split('\0')) {
    if (!line) continue;
    const [info, file] = line.split('\t');
    const [mode, , oid] = info!.split(' ');
    files.set(file!, `${mode} ${oid}`);
  }
  return files;
}

/** What changed from `before` to `after` (filesOf listings), each list sorted. */
export function changesBetween(before: Map<string, string>, after: Map<string, string>): { added: string[]; modified: string[]; deleted: string[] } {
  const added = [...after.keys()].filter((p) => !before.has(p));
  const modified = [...after.keys()].filter((p) => before.has(p) && before.get(p) !== after.get(p));
  const deleted = [...before.keys()].filter((p) => !after.has(p));
  return { added: added.sort(), modified: modified.sort(), deleted: deleted.sort() };
}
