import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { promises as fsp, mkdtempSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'shadowgit');

/** A temp working tree and its own SHADOWGIT_HOME, removed by `cleanup()`. */
export interface Sandbox {
  dir: string;
  worktree: string;
  home: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** Returns a function that puts `process.env[name]` back as it is now (in-process library calls set it). */
export function rememberEnv(name: string): () => void {
  const original = process.env[name];
  return () => {
    if (original === undefined) delete process.env[name];
    else process.env[name] = original;
  };
}

/**
 * Points this process's SHADOWGIT_HOME (the library API reads it) at `home`; the returned
 * function puts the previous value back.
 */
export function useHome(home: string): () => void {
  const restore = rememberEnv('SHADOWGIT_HOME');
  process.env.SHADOWGIT_HOME = home;
  return restore;
}

/** Runs `body` with SHADOWGIT_HOME at `home` (useHome), restored however it ends. */
export async function withHome<T>(home: string, body: () => Promise<T>): Promise<T> {
  const restore = useHome(home);
  try {
    return await body();
  } finally {
    restore();
  }
}

export function makeSandbox(prefix = 'sg-test-'): Sandbox {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  const worktree = path.join(dir, 'work');
  const home = path.join(dir, 'home');
  execFileSync('mkdir', ['-p', worktree, home]);
  const env: NodeJS.ProcessEnv = { ...process.env, SHADOWGIT_HOME: home, NO_COLOR: '1', SHADOWGIT_LOCK_TIMEOUT: '60000' };
  delete env.NODE_OPTIONS;
  return {
    dir,
    worktree,
    home,
    env,
    cleanup: async () => {
      await fsp.chmod(dir, 0o700).catch(() => undefined);
      execFileSync('chmod', ['-R', 'u+rwX', dir]);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes files: `{ 'a/b.txt': 'text' }`; Buffers are written as they are. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    await fsp.mkdir(path.dirname(full), { recursive: true });
    await fsp.writeFile(full, content);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a child process. */
export function runCli(sandbox: Sandbox, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? sandbox.worktree, env: { ...sandbox.env, ...options.env }, encoding: 'utf8', input: options.input ?? '' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Async variant, for running several CLIs at once. */
export function runCliAsync(sandbox: Sandbox, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? sandbox.worktree, env: { ...sandbox.env, ...options.env } });
    // A CLI may stop reading early (a bounded input): the write then fails with EPIPE, which is the CLI's to report.
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function runJson<T = any>(sandbox: Sandbox, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): T {
  const result = runCli(sandbox, ['--json', ...args], options);
  if (result.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Native git, with no user or system config, as an independent oracle. */
export function git(gitdir: string, args: string[], options: { encoding?: 'buffer' } = {}): any {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  return execFileSync('git', ['--git-dir', gitdir, ...args], { env, encoding: options.encoding === 'buffer' ? undefined : 'utf8', maxBuffer: 1 << 30 });
}

export function fsck(gitdir: string): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const result = spawnSync('git', ['--git-dir', gitdir, 'fsck', '--strict', '--no-progress'], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git fsck --strict failed (${result.status}): ${result.stdout}${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

export interface TreeFile {
  mode: string;
  content: Buffer;
}

/** Every recorded file of a commit, read with native git: path → (mode, bytes). */
export function gitTreeFiles(gitdir: string, rev: string): Map<string, TreeFile> {
  const listing = git(gitdir, ['ls-tree', '-r', '-z', rev]) as string;
  const files = new Map<string, TreeFile>();
  for (const record of listing.split('\0')) {
    if (!record) continue;
    const [meta, name] = record.split('\t') as [string, string];
    const [mode, , oid] = meta.split(' ') as [string, string, string];
    files.set(name, { mode, content: git(gitdir, ['cat-file', 'blob', oid], { encoding: 'buffer' }) as Buffer });
  }
  return files;
}

const IGNORED_DIRS = new Set(['.git', 'node_modules']);

/**
 * The working tree as it is on disk, read independently of shadowgit: path → (mode, bytes), with
 * `skip` deciding which top-level names to leave out (default: .git and node_modules anywhere).
 */
export async function diskFiles(root: string, skip: (rel: string, name: string) => boolean = (_rel, name) => IGNORED_DIRS.has(name)): Promise<Map<string, TreeFile>> {
  const files = new Map<string, TreeFile>();
  const walk = async (rel: string) => {
    for (const entry of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(child, entry.name)) continue;
      const full = path.join(root, child);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isSymbolicLink()) files.set(child, { mode: '120000', content: Buffer.from(await fsp.readlink(full)) });
      else if (entry.isFile()) {
        const stat = await fsp.stat(full);
        files.set(child, { mode: stat.mode & 0o100 ? '100755' : '100644', content: await fsp.readFile(full) });
      }
    }
  };
  await walk('');
  return files;
}

/** A directory export as on disk, without the marker export adds at its top. */
export const exportedFiles = (dir: string) => diskFiles(dir, (rel) => rel === '.shadowgit-export');

/** Fails with the first difference between two file maps. */
export function expectSameFiles(actual: Map<string, TreeFile>, expected: Map<string, TreeFile>): void {
  const a = [...actual.keys()].sort();
  const e = [...expected.keys()].sort();
  if (JSON.stringify(a) !== JSON.stringify(e)) throw new Error(`different paths:\n actual:   ${a.join(', ')}\n expected: ${e.join(', ')}`);
  for (const p of a) {
    const x = actual.get(p)!;
    const y = expected.get(p)!;
    if (x.mode !== y.mode) throw new Error(`${p}: mode ${x.mode}, expected ${y.mode}`);
    if (!x.content.equals(y.content)) throw new Error(`${p}: content differs`);
  }
}

/** The shadow repo path, asked of the CLI itself. */
export function repoOf(sandbox: Sandbox): string {
  return runJson<{ repo: string }>(sandbox, ['status']).repo;
}

/** A snapshot of every byte under a directory (to prove a `.git` was not touched). */
export async function fingerprint(dir: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  const walk = async (rel: string) => {
    const entries = (await fsp.readdir(path.join(dir, rel), { withFileTypes: true })).sort((x, y) => (x.name < y.name ? -1 : 1));
    for (const entry of entries) {
      const child = path.join(rel, entry.name);
      const stat = await fsp.lstat(path.join(dir, child));
      hash.update(`${child}\0${stat.mode}\0${stat.mtimeMs}\0`);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) hash.update(await fsp.readFile(path.join(dir, child)));
    }
  };
  await walk('');
  return hash.digest('hex');
}

/**
 * A fresh sandbox for every test of the calling file, handed over through `assign`; with
 * `setHome`, this process's SHADOWGIT_HOME points into it too (for tests of the library API).
 */
export function useSandbox(prefix: string, assign: (sandbox: Sandbox) => void, options: { setHome?: boolean } = {}): void {
  let current: Sandbox | undefined;
  let previousHome: string | undefined;
  beforeEach(() => {
    current = makeSandbox(prefix);
    assign(current);
    if (options.setHome) {
      previousHome = process.env.SHADOWGIT_HOME;
      process.env.SHADOWGIT_HOME = current.home;
    }
  });
  afterEach(async () => {
    if (options.setHome) {
      if (previousHome === undefined) delete process.env.SHADOWGIT_HOME;
      else process.env.SHADOWGIT_HOME = previousHome;
    }
    await current?.cleanup();
  });
}

/**
 * The shadow repo's refs and object counts, read with native git: a command that wrote nothing
 * leaves them exactly as they were.
 */
export function refsAndObjects(gitdir: string): string {
  return `${git(gitdir, ['for-each-ref', '--format=%(refname) %(objectname)'])}${git(gitdir, ['count-objects', '-v'])}`;
}
