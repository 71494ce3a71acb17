import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ShadowGitConfig } from '../config.js';
import { ShadowGitError } from '../errors.js';
import { exists } from '../fsutil.js';
import { RepoLock } from './lock.js';
import { ObjectStore } from './objects.js';
import { locateRepository, remarkWorktree, shadowMarker, shadowRepoPath, stateDirOf } from './paths.js';
import { RefStore, SNAPSHOT_REF } from './refs.js';
import { LOCK, STATE_DIR } from './statefiles.js';

/** The shadow repo's own config: nothing from the user's git config applies to it. */
const GIT_CONFIG = `[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = true
\tsymlinks = true
\tignorecase = false
\tlogallrefupdates = false
[gc]
\tauto = 0
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
`;

export interface RepositoryOptions {
  cwd?: string;
  worktree?: string;
  /**
   * Create a shadow repository of the home directory, which is refused otherwise: a tree that
   * large is almost always a command run in the wrong directory. (`/` is refused always: its
   * shadow repository would be inside it.)
   */
  allowHome?: boolean;
}

/** Whether `worktree` (a real path) is the user's home directory. */
export async function isHomeDirectory(worktree: string): Promise<boolean> {
  return worktree === (await fsp.realpath(os.homedir()).catch(() => os.homedir()));
}

/** The refusal to create a shadow repository of the home directory `worktree`. */
export function homeRefusal(worktree: string): ShadowGitError {
  return new ShadowGitError(`${worktree} is your home directory, and snapshotting all of it is almost certainly a mistake; run shadowgit in a project directory (or pass -C DIR), or if you mean it, run \`shadowgit init\` here first (or \`shadowgit snapshot --yes\`).`, 'EUSAGE');
}

/**
 * One working tree and its shadow repository. Engine state that is not git's (stat cache, lock,
 * journal, op log) lives in `<repo>/shadowgit/`.
 */
export class Repository {
  readonly objects: ObjectStore;
  readonly refs: RefStore;
  readonly stateDir: string;

  private constructor(
    readonly worktree: string,
    readonly gitdir: string,
    readonly config: ShadowGitConfig,
    private readonly allowHome: boolean,
  ) {
    this.objects = new ObjectStore(gitdir);
    this.refs = new RefStore(gitdir);
    this.stateDir = stateDirOf(gitdir);
  }

  static async open(options: RepositoryOptions = {}): Promise<Repository> {
    const { worktree, gitdir, config } = await locateRepository(options);
    return new Repository(worktree, gitdir, config, options.allowHome ?? false);
  }

  statePath(name: string): string {
    return path.join(this.stateDir, name);
  }

  async exists(): Promise<boolean> {
    return exists(path.join(this.gitdir, 'HEAD'));
  }

  /** Fails with a clear message when there is no shadow repo yet (read-only commands). */
  async requireExisting(): Promise<void> {
    if (!(await this.exists())) throw new ShadowGitError(`no snapshots yet for ${this.worktree}; run \`shadowgit snapshot\` first.`, 'ENOREPO');
    await this.checkSafety();
  }

  /**
   * Creates the shadow repo if missing: built in a temp directory and renamed into place, so a
   * crash never leaves a half-made repository under the real name. New directories are 0700.
   */
  async ensureCreated(): Promise<void> {
    if (await this.exists()) {
      await this.checkSafety();
      await remarkWorktree(this.gitdir, this.worktree);
      return;
    }
    if (!this.allowHome && (await isHomeDirectory(this.worktree))) throw homeRefusal(this.worktree);
    const parent = path.dirname(this.gitdir);
    await fsp.mkdir(parent, { recursive: true, mode: 0o700 });
    const tmp = path.join(parent, `.${path.basename(this.gitdir)}.${randomBytes(4).toString('hex')}.tmp`);
    await fsp.mkdir(tmp, { mode: 0o700 });
    for (const dir of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', STATE_DIR]) await fsp.mkdir(path.join(tmp, dir), { recursive: true });
    await fsp.writeFile(path.join(tmp, 'HEAD'), `ref: ${SNAPSHOT_REF}\n`);
    await fsp.writeFile(path.join(tmp, 'config'), `${GIT_CONFIG}${shadowMarker(this.worktree)}`);
    await fsp.writeFile(path.join(tmp, 'description'), `shadowgit snapshots of ${this.worktree}\n`);
    try {
      await fsp.rename(tmp, this.gitdir);
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      // Another process created it first: theirs is as good as ours. Something else there is refused.
      await this.checkSafety();
      if (!(await this.exists())) throw err;
    }
    await fsp.chmod(this.gitdir, 0o700);
  }

  /**
   * Checks again what opening checked (see shadowRepoPath): the repository is where it was, is a
   * shadow repository of this tree, and nobody else can write to it or swap it.
   */
  async checkSafety(): Promise<void> {
    const gitdir = await shadowRepoPath(this.worktree, this.config);
    if (gitdir !== this.gitdir) throw new ShadowGitError(`the shadow repository moved from ${this.gitdir} to ${gitdir} while shadowgit was running; run the command again.`, 'EUNSAFE');
  }

  /** Runs `fn` holding the repository's cross-process lock. */
  async withLock<T>(command: string, fn: () => Promise<T>): Promise<T> {
    await fsp.mkdir(this.stateDir, { recursive: true });
    const lock = new RepoLock(this.statePath(LOCK), command);
    await lock.acquire();
    this.objects.forgetDirectories();
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  async head(): Promise<string | undefined> {
    return this.refs.read(SNAPSHOT_REF);
  }
}
