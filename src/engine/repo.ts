import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ShadowGitConfig } from './config.js';
import { ShadowGitError } from './errors.js';
import { exists } from './fsutil.js';
import { RepoLock } from './lock.js';
import { ObjectStore } from './objects.js';
import { locateRepository, stateDirOf } from './paths.js';
import { RefStore, SNAPSHOT_REF } from './refs.js';

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
  ) {
    this.objects = new ObjectStore(gitdir);
    this.refs = new RefStore(gitdir);
    this.stateDir = stateDirOf(gitdir);
  }

  static async open(options: { cwd?: string; worktree?: string } = {}): Promise<Repository> {
    const { worktree, gitdir, config } = await locateRepository(options);
    return new Repository(worktree, gitdir, config);
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
   * crash never leaves a half-made repository under the real name.
   */
  async ensureCreated(): Promise<void> {
    if (await this.exists()) {
      await this.checkSafety();
      return;
    }
    const parent = path.dirname(this.gitdir);
    await fsp.mkdir(parent, { recursive: true, mode: 0o700 });
    const tmp = path.join(parent, `.${path.basename(this.gitdir)}.${randomBytes(4).toString('hex')}.tmp`);
    await fsp.mkdir(tmp, { mode: 0o700 });
    for (const dir of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'shadowgit']) await fsp.mkdir(path.join(tmp, dir), { recursive: true });
    await fsp.writeFile(path.join(tmp, 'HEAD'), `ref: ${SNAPSHOT_REF}\n`);
    await fsp.writeFile(path.join(tmp, 'config'), `${GIT_CONFIG}[shadowgit]\n\tworktree = ${JSON.stringify(this.worktree)}\n`);
    await fsp.writeFile(path.join(tmp, 'description'), `shadowgit snapshots of ${this.worktree}\n`);
    try {
      await fsp.rename(tmp, this.gitdir);
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      // Another process created it first: theirs is as good as ours.
      if (!(await this.exists())) throw err;
    }
    await fsp.chmod(this.gitdir, 0o700);
  }

  /** Refuses a shadow repo that others could write to: its snapshots could not be trusted. */
  async checkSafety(): Promise<void> {
    const stat = await fsp.stat(this.gitdir);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new ShadowGitError(`the shadow repository ${this.gitdir} is owned by another user (uid ${stat.uid}); move it away or set "repo" in .shadowgit.`, 'EUNSAFE');
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new ShadowGitError(`the shadow repository ${this.gitdir} is writable by others (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 700 ${this.gitdir}\`.`, 'EUNSAFE');
    }
  }

  /** Runs `fn` holding the repository's cross-process lock. */
  async withLock<T>(command: string, fn: () => Promise<T>): Promise<T> {
    await fsp.mkdir(this.stateDir, { recursive: true });
    const lock = new RepoLock(this.statePath('lock'), command);
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
