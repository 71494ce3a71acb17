import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ShadowGitError } from '../errors.js';
import { CONFIG_FILE, loadConfig, type ShadowGitConfig } from '../config.js';
import { exists, readRegularFile, writeFileAtomic } from '../fsutil.js';
import { STATE_DIR } from './statefiles.js';

/** $SHADOWGIT_HOME, else the XDG data directory. */
export function shadowHome(): string {
  if (process.env.SHADOWGIT_HOME) return path.resolve(process.env.SHADOWGIT_HOME);
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'shadowgit');
}

/**
 * The working tree to protect: `explicit` when given (the library's `worktree` option names
 * the tree exactly), else the nearest ancestor of `cwd` holding `.shadowgit` or `.git` or
 * already having a shadow repo, else `cwd` (the CLI's `-C DIR` changes `cwd` first, as git's
 * does). Always a real path, so one tree maps to one repo.
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

/** Where the shadow repository of `worktree` is asked to be, as written (not yet resolved or checked). */
function requestedRepoPath(worktree: string, config: ShadowGitConfig): string {
  if (!config.repo) return defaultRepoPath(worktree);
  const expanded = config.repo.startsWith('~/') ? path.join(os.homedir(), config.repo.slice(2)) : config.repo;
  return path.resolve(worktree, expanded);
}

/**
 * The section shadowgit writes into the config of every shadow repository it creates (every
 * version has): the marker that the directory is one, naming the tree it holds snapshots of.
 */
export function shadowMarker(worktree: string): string {
  return `[shadowgit]\n\tworktree = ${JSON.stringify(worktree)}\n`;
}

/** The tree the marker in `gitdir`'s config names; undefined when there is no marker. */
async function markedWorktree(gitdir: string): Promise<string | undefined> {
  const config = await readRegularFile(path.join(gitdir, 'config'), { maxBytes: 64 * 1024 }).catch(() => undefined);
  let section = '';
  for (const line of (config?.toString('utf8') ?? '').split('\n')) {
    const header = /^\s*\[([^\]]*)\]/.exec(line);
    if (header) section = header[1]!.trim().toLowerCase();
    const value = /^\s*worktree\s*=\s*(.*?)\s*$/.exec(line)?.[1];
    if (section !== 'shadowgit' || value === undefined) continue;
    try {
      return JSON.parse(value) as string;
    } catch {
      return value;
    }
  }
  return undefined;
}

/** Updates the marker of a shadow repository whose tree was moved (see shadowRepoPath) to name `worktree`. */
export async function remarkWorktree(gitdir: string, worktree: string): Promise<void> {
  const marked = await markedWorktree(gitdir);
  if (marked === undefined || marked === worktree) return;
  const file = path.join(gitdir, 'config');
  const text = (await fsp.readFile(file, 'utf8')).replace(/\[shadowgit\][\s\S]*?(?=^\s*\[|(?![\s\S]))/m, shadowMarker(worktree));
  await writeFileAtomic(file, text, { keepMode: true });
}

/**
 * `target` with every symlink resolved, though its last components may not exist yet: the real
 * path of its deepest existing ancestor, plus the rest.
 */
async function realPathAllowingMissing(target: string, setting: string): Promise<string> {
  const missing: string[] = [];
  for (let dir = target; ; dir = path.dirname(dir)) {
    try {
      return path.join(await fsp.realpath(dir), ...missing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new ShadowGitError(`the shadow repository path ${target} goes through a file; set ${setting} to a path made of directories.`, 'ECONFIG');
      if (code !== 'ENOENT' || path.dirname(dir) === dir) throw err;
      if (await exists(dir)) throw new ShadowGitError(`${dir} is a symlink to nothing, on the way to the shadow repository ${target}; fix or remove the link.`, 'ECONFIG');
      missing.unshift(path.basename(dir));
    }
  }
}

/** A directory that looks like a git repository: HEAD and objects/, as git itself recognises one. */
async function isGitDirectory(dir: string): Promise<boolean> {
  const [head, objects] = await Promise.all([fsp.lstat(path.join(dir, 'HEAD')).catch(() => undefined), fsp.stat(path.join(dir, 'objects')).catch(() => undefined)]);
  return Boolean(head?.isFile() && objects?.isDirectory());
}

/**
 * Refuses a directory that others could use to swap or plant what shadowgit reads: writable by
 * group or others (unless sticky, like /tmp: then nobody else can rename or remove what is ours
 * in it), or owned by another user (a parent may also be root's, as ssh allows for ~/.ssh).
 */
async function checkOwnership(dir: string, options: { parent: boolean; setting: string }): Promise<void> {
  const stat = await fsp.stat(dir).catch(() => undefined);
  if (!stat) return;
  const role = options.parent ? `the directory ${dir}, which holds the shadow repository,` : `the shadow repository ${dir}`;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stat.uid !== uid && !(options.parent && stat.uid === 0)) {
    throw new ShadowGitError(`${role} is owned by another user (uid ${stat.uid}); ${options.parent ? '' : 'move it away, or '}set ${options.setting} to a directory of yours.`, 'EUNSAFE');
  }
  if ((stat.mode & 0o022) !== 0 && !(options.parent && (stat.mode & 0o1000) !== 0)) {
    throw new ShadowGitError(`${role} is writable by others (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 700 ${dir}\`.`, 'EUNSAFE');
  }
}

/**
 * The real path of `worktree`'s shadow repository, once it is known to be a safe place for it:
 * not a symlink; after resolving symlinks, not inside the tree, not containing it, not inside a
 * `.git` or any other git repository; missing, empty, or a shadow repository of this tree (its
 * config carries shadowgit's marker naming it); neither it nor the directories holding it
 * writable by others or owned by another user. Anything else is refused with one sentence,
 * before anything is created or changed.
 */
export async function shadowRepoPath(worktree: string, config: ShadowGitConfig): Promise<string> {
  const requested = requestedRepoPath(worktree, config);
  const setting = config.repo ? `"repo" in ${path.join(worktree, CONFIG_FILE)}` : 'SHADOWGIT_HOME';
  if ((await fsp.lstat(requested).catch(() => undefined))?.isSymbolicLink()) {
    throw new ShadowGitError(`the shadow repository ${requested} is a symlink; set ${setting} to the directory it points to.`, 'EUNSAFE');
  }
  const gitdir = await realPathAllowingMissing(requested, setting);
  const named = gitdir === requested ? requested : `${requested} (really ${gitdir})`;
  if (isInside(gitdir, worktree)) throw new ShadowGitError(`the shadow repository ${named} would be inside the working tree; set ${setting} to a path outside ${worktree}.`, 'ECONFIG');
  if (isInside(worktree, gitdir)) throw new ShadowGitError(`the shadow repository ${named} would contain the working tree ${worktree}; set ${setting} to a directory of its own outside it.`, 'ECONFIG');
  for (let dir = gitdir; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (path.basename(dir).toLowerCase() === '.git' || (dir !== gitdir && (await isGitDirectory(dir)))) {
      throw new ShadowGitError(`the shadow repository ${named} would be in ${dir}, which is git's own; set ${setting} to a path outside it.`, 'ECONFIG');
    }
  }
  const parents = config.repo ? [path.dirname(gitdir)] : [path.dirname(gitdir), path.dirname(path.dirname(gitdir))];
  for (const parent of parents) await checkOwnership(parent, { parent: true, setting });
  const stat = await fsp.lstat(gitdir).catch(() => undefined);
  if (!stat) return gitdir;
  if (!stat.isDirectory()) throw new ShadowGitError(`the shadow repository ${named} is a file, not a directory; set ${setting} to a new or empty directory.`, 'ECONFIG');
  const marked = await markedWorktree(gitdir);
  if (marked === undefined) {
    if ((await fsp.readdir(gitdir)).length === 0) return gitdir;
    throw new ShadowGitError(`${named} is not a shadow repository (its config has no [shadowgit] section), so shadowgit leaves it alone; set ${setting} to a new or empty directory.`, 'ECONFIG');
  }
  // A tree that moved keeps its shadow repository; one still beside it must not share it.
  if (marked !== worktree && (await fsp.stat(marked).then((s) => s.isDirectory(), () => false))) {
    throw new ShadowGitError(`the shadow repository ${named} holds the snapshots of ${marked}; set ${setting} to a directory of its own for ${worktree}.`, 'ECONFIG');
  }
  await checkOwnership(gitdir, { parent: false, setting });
  return gitdir;
}

/** Where shadowgit keeps its own state (stat cache, lock, journal, op log) inside a shadow repository. */
export function stateDirOf(gitdir: string): string {
  return path.join(gitdir, STATE_DIR);
}

/** The working tree (as findWorktree finds it), its config and its shadow repository's path; nothing is opened or created. */
export async function locateRepository(options: { cwd?: string; worktree?: string } = {}): Promise<{ worktree: string; config: ShadowGitConfig; gitdir: string }> {
  const worktree = await findWorktree(options.cwd ?? process.cwd(), options.worktree);
  // Its shadow repository would be inside it wherever it went: name the real mistake.
  if (path.dirname(worktree) === worktree) throw new ShadowGitError(`${worktree} is the filesystem root; run shadowgit in a project directory (or pass -C DIR).`, 'EUSAGE');
  const config = await loadConfig(worktree);
  return { worktree, config, gitdir: await shadowRepoPath(worktree, config) };
}
