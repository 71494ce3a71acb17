import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import { loadChain } from '../snapshot/history.js';
import type { Repository } from '../store/repo.js';
import { MACHINE_NAME, REMOTES_DIR } from '../store/statefiles.js';
import { redactUrl } from '../remote/credentials.js';
import { checkRemoteName, isomorphicGit } from '../remote/remoteurl.js';

/**
 * Remotes (name → URL) live in the shadow repository's own git config as `remote.<name>.url`,
 * so native git sees them too; never a credential there. What was pushed to each is kept in
 * the state file `shadowgit/remotes/<name>.json` (RemoteState), and the name this shadow
 * repository's refs have on every remote in `shadowgit/machine.json`.
 */

export interface Remote {
  name: string;
  /** As configured: never holds a password (add refuses one). */
  url: string;
}

/** `shadowgit/remotes/<name>.json`, written (temp file + rename) only under the repository lock. */
export interface RemoteState {
  /** The machine name the refs were pushed under. */
  machine: string;
  /** The remote chain's tip (`refs/heads/<machine>` there) after the last successful push. */
  remoteTip?: string;
  /** The newest local snapshot that remote chain holds: its id and committer date (ISO). */
  lastPushedId?: string;
  lastPushedDate?: string;
  /** When the last push succeeded (ISO). */
  lastPush?: string;
  /** The last push's failure, cleared by the next success. */
  lastError?: { time: string; message: string };
}

/** An http(s) URL without a password in it (a password belongs in the environment or the credential file). */
export function checkRemoteUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ShadowGitError(`${JSON.stringify(redactUrl(url))} is not a URL; give the remote as https://host/path.`, 'EUSAGE');
  }
  if (parsed.password) {
    throw new ShadowGitError(
      `the URL holds a password, which would be stored in the shadow repository's config; add the URL without it and put the token in SHADOWGIT_REMOTE_TOKEN or the 0600 credential file (see docs/remote.md).`,
      'EUSAGE',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ShadowGitError(`${parsed.protocol.slice(0, -1)} remotes are not supported (only http and https); give the remote's https:// URL.`, 'EUSAGE');
  }
}

export async function listRemotes(repo: Repository): Promise<Remote[]> {
  if (!(await repo.exists())) return [];
  const { git, fs } = await isomorphicGit();
  const remotes = await git.listRemotes({ fs, gitdir: repo.gitdir });
  // A remote added by hand without a URL is no remote of ours.
  return remotes
    .flatMap(({ remote, url }) => (url ? [{ name: remote, url }] : []))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function findRemote(repo: Repository, name: string): Promise<Remote> {
  checkRemoteName(name);
  const remote = (await listRemotes(repo)).find((r) => r.name === name);
  if (!remote) throw new ShadowGitError(`there is no remote named "${name}"; \`shadowgit remote list\` shows them, \`shadowgit remote add ${name} URL\` adds it.`, 'EUSAGE');
  return remote;
}

/**
 * The remote a command without a name means: `.shadowgit`'s `remote.name`, else the only one.
 */
export async function defaultRemote(repo: Repository): Promise<Remote> {
  const configured = repo.config.remote?.name;
  if (configured) return findRemote(repo, configured);
  const remotes = await listRemotes(repo);
  if (remotes.length === 1) return remotes[0]!;
  if (remotes.length === 0) throw new ShadowGitError('there is no remote yet; add one with `shadowgit remote add origin https://host/path`.', 'EUSAGE');
  throw new ShadowGitError(`there are ${remotes.length} remotes (${remotes.map((r) => r.name).join(', ')}); name one, or set "remote": {"name": …} in .shadowgit.`, 'EUSAGE');
}

/** The caller holds the lock. */
export async function addRemote(repo: Repository, name: string, url: string): Promise<Remote> {
  checkRemoteName(name);
  checkRemoteUrl(url);
  if ((await listRemotes(repo)).some((r) => r.name === name)) {
    throw new ShadowGitError(`a remote named "${name}" exists already; remove it first (\`shadowgit remote remove ${name}\`) or choose another name.`, 'EEXISTS');
  }
  const { git, fs } = await isomorphicGit();
  await git.setConfig({ fs, gitdir: repo.gitdir, path: `remote.${name}.url`, value: url });
  return { name, url };
}

/**
 * Forgets the remote here (its config and state file, and the refs under refs/remotes/<name>/);
 * nothing on the remote changes. The caller holds the lock.
 */
export async function removeRemote(repo: Repository, name: string): Promise<Remote> {
  const remote = await findRemote(repo, name);
  const { git, fs } = await isomorphicGit();
  await git.deleteRemote({ fs, gitdir: repo.gitdir, remote: name });
  for (const ref of (await repo.refs.list(`refs/remotes/${name}/`)).keys()) await repo.refs.delete(ref);
  await fsp.rm(remoteStatePath(repo, name), { force: true });
  return remote;
}

function remoteStatePath(repo: Repository, name: string): string {
  return repo.statePath(path.join(REMOTES_DIR, `${name}.json`));
}

export async function readRemoteState(repo: Repository, name: string): Promise<RemoteState | undefined> {
  const data = await readFileIfExists(remoteStatePath(repo, name));
  if (!data) return undefined;
  try {
    const state = JSON.parse(data.toString('utf8')) as RemoteState;
    return typeof state.machine === 'string' ? state : undefined;
  } catch {
    // A damaged state file costs a longer next push (the remote is asked what it has), nothing more.
    return undefined;
  }
}

/** The caller holds the lock. */
export async function writeRemoteState(repo: Repository, name: string, state: RemoteState): Promise<void> {
  const file = remoteStatePath(repo, name);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** `<hostname>-<4 hex>`, lower case `[a-z0-9-]`: two machines of one name still differ. */
function newMachineName(): string {
  const host = os
    .hostname()
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${host || 'machine'}-${randomBytes(2).toString('hex')}`;
}

/** This shadow repository's machine name, when it has pushed before. */
export async function readMachineName(repo: Repository): Promise<string | undefined> {
  const data = await readFileIfExists(repo.statePath(MACHINE_NAME));
  if (!data) return undefined;
  try {
    const { machine } = JSON.parse(data.toString('utf8')) as { machine?: unknown };
    return typeof machine === 'string' && /^[a-z0-9-]+$/.test(machine) ? machine : undefined;
  } catch {
    return undefined;
  }
}

/** The machine name, made and kept on first use. The caller holds the lock. */
export async function machineName(repo: Repository): Promise<string> {
  const known = await readMachineName(repo);
  if (known) return known;
  const machine = newMachineName();
  await writeFileAtomic(repo.statePath(MACHINE_NAME), `${JSON.stringify({ machine })}\n`);
  return machine;
}

export interface RemoteSummary {
  name: string;
  /** Without userinfo. */
  url: string;
  /** This repository's machine name there, once it has pushed. */
  machine?: string;
  lastPush?: string;
  /** Local snapshots newer than the newest one on the remote chain. */
  unpushed: number;
  lastError?: { time: string; message: string };
}

/** Every remote with what its state file says, and how many snapshots are not yet pushed there. */
export async function remoteSummaries(repo: Repository): Promise<RemoteSummary[]> {
  const remotes = await listRemotes(repo);
  if (remotes.length === 0) return [];
  // The chain index, not the commits: a chain never pushed would otherwise be read whole.
  const index = await loadChain(repo).then((chain) => chain.index, () => undefined);
  const summaries: RemoteSummary[] = [];
  for (const remote of remotes) {
    const state = await readRemoteState(repo, remote.name);
    const pushedDate = state?.lastPushedDate ? Date.parse(state.lastPushedDate) : undefined;
    // Newest first, up to the last pushed one (or, when a prune removed it, the first that is not newer).
    let unpushed = 0;
    for (let position = 0; index && position < index.length; position++) {
      const snapshot = index.at(position);
      if (snapshot.id === state?.lastPushedId || (pushedDate !== undefined && snapshot.date.getTime() <= pushedDate)) break;
      unpushed++;
    }
    summaries.push({
      name: remote.name,
      url: redactUrl(remote.url),
      ...(state?.machine ? { machine: state.machine } : {}),
      ...(state?.lastPush ? { lastPush: state.lastPush } : {}),
      unpushed,
      ...(state?.lastError ? { lastError: state.lastError } : {}),
    });
  }
  return summaries;
}
