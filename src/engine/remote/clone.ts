import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { decodeCommit } from '../store/gitformat.js';
import { NOTES_REF, SNAPSHOT_REF } from '../store/refs.js';
import type { Repository } from '../store/repo.js';
import type { Advertisement } from './discover.js';

/**
 * The backups of one tree as the remote holds them (docs/remote.md, "Names on the remote"): each
 * machine that pushed has its chain `refs/heads/<machine>`, its approvals
 * `refs/tags/<machine>/<slug>` (annotated tags naming commits of that chain) and its notes
 * `refs/notes/<machine>`.
 */
export interface RemoteMachine {
  name: string;
  /** The tip of the machine's remote chain. */
  chain: string;
  /** Approved name's slug → tag object id. */
  tags: Map<string, string>;
  /** The machine's notes commit. */
  notes?: string;
}

/**
 * A ref name component a remote may hand us that is also safe as a path under the repository:
 * no `..`, no leading dot, nothing but letters, digits and `._-` (what machine names and
 * approval slugs are made of).
 */
const COMPONENT = '[A-Za-z0-9_][A-Za-z0-9._-]*';
const safeRefTail = (text: string) => new RegExp(`^${COMPONENT}(/${COMPONENT})*$`).test(text) && !text.includes('..') && !/\.lock(\/|$)/.test(text);

/** Every machine with a chain on the remote, by name; refs outside the layout (or with names unsafe as paths) are left out. */
export function remoteMachines(advertisement: Advertisement): Map<string, RemoteMachine> {
  const machines = new Map<string, RemoteMachine>();
  for (const [ref, oid] of advertisement.refs) {
    const name = /^refs\/heads\/([^/]+)$/.exec(ref)?.[1];
    if (name && safeRefTail(name)) machines.set(name, { name, chain: oid, tags: new Map() });
  }
  for (const [ref, oid] of advertisement.refs) {
    const tag = /^refs\/tags\/([^/]+)\/(.+)$/.exec(ref);
    if (tag && safeRefTail(tag[2]!)) machines.get(tag[1]!)?.tags.set(tag[2]!, oid);
    const notes = /^refs\/notes\/([^/]+)$/.exec(ref)?.[1];
    if (notes && machines.has(notes)) machines.get(notes)!.notes = oid;
  }
  return machines;
}

/** The objects to fetch for `machines`: their chains, approvals and notes. */
export function machineWants(machines: Iterable<RemoteMachine>): string[] {
  return [...machines].flatMap((m) => [m.chain, ...m.tags.values(), ...(m.notes ? [m.notes] : [])]);
}

/** The machines to fetch for a clone: the one asked for, else all of them (the newest is picked once their tips are here). */
export function machinesToFetch(machines: Map<string, RemoteMachine>, shownUrl: string, requested?: string): RemoteMachine[] {
  if (machines.size === 0) throw new ShadowGitError(`${shownUrl} holds no snapshots (no refs/heads/<machine> chain); check the URL, or push to it first.`, 'ENOTHING');
  if (requested === undefined) return [...machines.values()];
  const machine = machines.get(requested);
  if (!machine) throw new ShadowGitError(`${shownUrl} has no machine named ${JSON.stringify(requested)}; it holds ${[...machines.keys()].sort().join(', ')}.`, 'EUSAGE');
  return [machine];
}

/** The fetched machine whose chain tip was committed last (ties: the first name in order). */
export async function newestMachine(repo: Repository, machines: RemoteMachine[]): Promise<RemoteMachine> {
  let newest: { machine: RemoteMachine; time: number } | undefined;
  for (const machine of [...machines].sort((a, b) => a.name.localeCompare(b.name))) {
    const time = decodeCommit(await repo.objects.readTyped(machine.chain, 'commit', `the tip of ${machine.name}`)).committer.timestamp;
    if (!newest || time > newest.time) newest = { machine, time };
  }
  return newest!.machine;
}

/**
 * Makes `machine`'s fetched chain, approvals and notes this repository's own: its snapshots
 * ref, `refs/tags/<slug>` and the notes ref. Every object is already here (fetched first); the
 * chain goes last, since it is what makes the repository one that has snapshots.
 */
export async function adoptMachine(repo: Repository, machine: RemoteMachine): Promise<void> {
  for (const [slug, tag] of machine.tags) await repo.refs.write(`refs/tags/${slug}`, tag);
  if (machine.notes) await repo.refs.write(NOTES_REF, machine.notes);
  await repo.refs.write(SNAPSHOT_REF, machine.chain);
}

/**
 * The directory a clone may fill, checked before anything is written: missing, or an empty
 * directory — not a symlink, a file or a directory with anything in it. Returns its absolute
 * path and whether it exists.
 */
export async function checkCloneTarget(dir: string): Promise<{ dir: string; exists: boolean }> {
  if (dir.trim() === '') throw new ShadowGitError('the clone directory is empty (an unset shell variable?); name a new or empty directory.', 'EUSAGE');
  const absolute = path.resolve(dir);
  const stat = await fsp.lstat(absolute).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  if (stat?.isSymbolicLink()) throw new ShadowGitError(`${absolute} is a symbolic link; clone into a new or empty directory, named by its real path.`, 'EUSAGE');
  if (stat && !stat.isDirectory()) throw new ShadowGitError(`${absolute} exists and is not a directory; clone into a new or empty directory.`, 'EUSAGE');
  if (stat && (await fsp.readdir(absolute)).length > 0) throw new ShadowGitError(`${absolute} is not empty; clone into a new or empty directory (a clone never writes over files).`, 'EUSAGE');
  return { dir: absolute, exists: Boolean(stat) };
}

/**
 * Takes back what a clone that failed before its checkout wrote: the shadow repository it
 * created (else the refs it adopted into the one it found without snapshots), and the directory
 * if it created it (still empty: nothing was checked out).
 */
export async function undoClone(repo: Repository, created: { repo: boolean; dir: boolean }, adopted?: RemoteMachine): Promise<void> {
  if (created.repo) await fsp.rm(repo.gitdir, { recursive: true, force: true });
  else if (adopted) for (const ref of [SNAPSHOT_REF, NOTES_REF, ...[...adopted.tags.keys()].map((slug) => `refs/tags/${slug}`)]) await repo.refs.delete(ref);
  if (created.dir) await fsp.rmdir(repo.worktree).catch(() => undefined);
}
