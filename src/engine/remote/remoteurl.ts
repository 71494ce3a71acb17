import { ShadowGitError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import type { Repository } from '../store/repo.js';
import { redactUrl } from './credentials.js';

/**
 * A remote's URL is `remote.<name>.url` in the shadow repository's own git config, so native git
 * run on the shadow repository sees the same remotes. Never with credentials in it: those come
 * from the credentials module only. isomorphic-git reads and writes the config (loaded here
 * only, so commands without remotes never load it).
 */

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `name`, if it can name a remote (a config subsection and a ref component); else a usage error. */
export function checkRemoteName(name: string): string {
  if (!REMOTE_NAME.test(name) || name.includes('..') || name.endsWith('.lock')) {
    throw new ShadowGitError(`${JSON.stringify(name)} cannot name a remote; use letters, digits, '.', '_' and '-' (e.g. origin).`, 'EUSAGE');
  }
  return name;
}

/**
 * isomorphic-git, for the config of the shadow repository: loaded only by the commands that touch
 * remotes. Its writes go through temp file + rename: it rewrites the config in place, and a crash
 * in the middle would cut off the `[shadowgit] worktree` marker that makes the repository ours.
 */
export async function isomorphicGit(): Promise<{ git: typeof import('isomorphic-git').default; fs: typeof import('node:fs') }> {
  const [{ default: git }, fs] = await Promise.all([import('isomorphic-git'), import('node:fs')]);
  const promises = { ...fs.promises, writeFile: (file: string, data: string | Uint8Array) => writeFileAtomic(file, data, { keepMode: true }) };
  return { git, fs: { ...fs, promises } as typeof fs };
}

/** Records `url`, without any user name or token it carries, as remote `name`. */
export async function recordRemoteUrl(repo: Repository, name: string, url: string): Promise<void> {
  const { git, fs } = await isomorphicGit();
  await git.setConfig({ fs, gitdir: repo.gitdir, path: `remote.${checkRemoteName(name)}.url`, value: redactUrl(url) });
}
