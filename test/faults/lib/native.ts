/**
 * Native git as the independent oracle of the fault suite. The product never runs git; these
 * helpers do, with no user or system config, to compute what a working tree's tree id *should*
 * be, to check the shadow repository with `git fsck --strict`, and to list what is reachable.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git and never throws: callers judge the exit code themselves. */
export async function gitRun(gitdir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<GitResult> {
  try {
    const { stdout, stderr } = await execFileAsync('git', ['--git-dir', gitdir, ...args], { env: { ...GIT_ENV, ...env }, maxBuffer: 1 << 28, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

export async function gitOut(gitdir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await gitRun(gitdir, args, env);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** A bare scratch repository that native git uses to hash working trees (never the shadow repo). */
export async function makeScratch(dir: string): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  await gitOut(dir, ['init', '--bare', '-q']);
  return dir;
}

/**
 * The git tree id of `worktree` as it is on disk, computed by native git (`add -A` into a
 * throw-away index, `write-tree`). Equal ids mean byte-identical files, modes and symlinks.
 */
export async function diskTree(scratch: string, worktree: string): Promise<string> {
  const index = path.join(scratch, `index.${process.pid}.${Math.random().toString(36).slice(2)}`);
  const env = { GIT_INDEX_FILE: index, GIT_WORK_TREE: worktree };
  try {
    await gitOut(scratch, ['--work-tree', worktree, 'add', '-A', '--', '.'], env);
    return (await gitOut(scratch, ['--work-tree', worktree, 'write-tree'], env)).trim();
  } finally {
    await fsp.rm(index, { force: true });
  }
}

/** `git fsck --strict` of the shadow repository: ok, and what it said. */
export async function fsckStrict(gitdir: string): Promise<{ ok: boolean; output: string }> {
  const result = await gitRun(gitdir, ['fsck', '--strict', '--no-progress', '--no-dangling']);
  const output = `${result.stdout}${result.stderr}`.trim();
  // fsck exits 0 on some warnings (e.g. garbage files); anything it prints besides nothing is a finding.
  return { ok: result.code === 0 && !/error|missing|broken|corrupt|bad/i.test(output), output };
}

/** Tree id of every commit on the snapshot chain, newest first, with the parent counts. */
export async function snapshotChain(gitdir: string): Promise<Array<{ commit: string; tree: string; parents: number }>> {
  const out = await gitRun(gitdir, ['log', '--format=%H %T %P', 'refs/heads/snapshots']);
  if (out.code !== 0) return [];
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, tree, ...parents] = line.split(' ');
      return { commit: commit!, tree: tree!, parents: parents.filter(Boolean).length };
    });
}

/** Ids of every object reachable from any ref of the shadow repository. */
export async function reachableObjects(gitdir: string): Promise<Set<string>> {
  const out = await gitRun(gitdir, ['rev-list', '--objects', '--all']);
  return new Set(out.stdout.split('\n').map((line) => line.slice(0, 40)).filter((id) => id.length === 40));
}

/** Blob id and size of every file of `tree` in the scratch repository. */
export async function treeBlobs(scratch: string, tree: string): Promise<Array<{ path: string; oid: string; size: number }>> {
  const out = await gitOut(scratch, ['ls-tree', '-r', '-l', '-z', tree]);
  return out
    .split('\0')
    .filter(Boolean)
    .map((record) => {
      const [meta, name] = record.split('\t') as [string, string];
      const [, , oid, size] = meta.split(/\s+/) as [string, string, string, string];
      return { path: name, oid, size: Number(size) || 0 };
    });
}

/** Every ref of the shadow repo and what it points at (tags included). */
export async function refsOf(gitdir: string): Promise<Map<string, string>> {
  const out = await gitRun(gitdir, ['for-each-ref', '--format=%(refname) %(objectname)']);
  return new Map(out.stdout.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}
