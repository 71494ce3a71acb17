import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ShadowGitError } from './errors.js';
import { CONFIG_FILE, loadConfig, type ShadowGitConfig } from './config.js';

/** $SHADOWGIT_HOME, else the XDG data directory. */
export function shadowHome(): string {
  if (process.env.SHADOWGIT_HOME) return path.resolve(process.env.SHADOWGIT_HOME);
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'shadowgit');
}

/**
 * The working tree to protect: `explicit` when given (-C), else the nearest ancestor of `cwd`
 * holding `.shadowgit` or `.git` or already having a shadow repo, else `cwd`. Always a real
 * path, so one tree maps to one repo.
 */
export async function findWorktree(cwd: string, explicit?: string): Promise<string> {
  const start = explicit ? path.resolve(cwd, explicit) : cwd;
  let real: string;
  try {
    real = await fsp.realpath(start);
  } catch {
    throw new ShadowGitError(`working tree ${start} does not exist; pass an existing directory with -C.`);
  }
  const stat = await fsp.stat(real);
  if (!stat.isDirectory()) throw new ShadowGitError(`${real} is not a directory; pass a directory with -C.`);
  if (explicit) return real;
  for (let dir = real; ; dir = path.dirname(dir)) {
    for (const marker of [path.join(dir, CONFIG_FILE), path.join(dir, '.git'), path.join(defaultRepoPath(dir), 'HEAD')]) {
      try {
        await fsp.lstat(marker);
        return dir;
      } catch {
        // keep looking upwards
      }
    }
    if (path.dirname(dir) === dir) return real;
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function defaultRepoPath(worktree: string): string {
  const key = createHash('sha256').update(worktree).digest('hex').slice(0, 16);
  const name = (path.basename(worktree) || 'root').replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(shadowHome(), 'repos', `${name}-${key}.git`);
}

/** One shadow repository per working tree, keyed by the tree's real path. */
export function shadowRepoPath(worktree: string, config: ShadowGitConfig): string {
  let repo: string;
  if (config.repo) {
    const expanded = config.repo.startsWith('~/') ? path.join(os.homedir(), config.repo.slice(2)) : config.repo;
    repo = path.resolve(worktree, expanded);
  } else {
    repo = defaultRepoPath(worktree);
  }
  if (isInside(repo, worktree)) {
    throw new ShadowGitError(`the shadow repository ${repo} would be inside the working tree; set "repo" in .shadowgit to a path outside ${worktree}.`, 'ECONFIG');
  }
  return repo;
}

/** Where shadowgit keeps its own state (stat cache, lock, journal, op log) inside a shadow repository. */
export function stateDirOf(gitdir: string): string {
  return path.join(gitdir, 'shadowgit');
}

/** The working tree (as findWorktree finds it), its config and its shadow repository's path; nothing is opened or created. */
export async function locateRepository(options: { cwd?: string; worktree?: string } = {}): Promise<{ worktree: string; config: ShadowGitConfig; gitdir: string }> {
  const worktree = await findWorktree(options.cwd ?? process.cwd(), options.worktree);
  const config = await loadConfig(worktree);
  return { worktree, config, gitdir: shadowRepoPath(worktree, config) };
}
