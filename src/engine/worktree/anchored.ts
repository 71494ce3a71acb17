import { closeSync, constants as fsc, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, rmdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { faultPoint } from '../faults.js';

/** A directory of the working tree that is not what it was a moment ago: the tree changed under us. */
export class TreeChangedError extends ShadowGitError {
  constructor(
    readonly dir: string,
    what: string,
  ) {
    super(`${dir || 'the working tree root'} ${what} while shadowgit was writing`, 'ECHANGED');
  }
}

export interface DirIdentity {
  dev: number;
  ino: number;
}

/** An open directory of the tree: `at(name)` names one of its entries without following any symlink above it. */
interface Lease {
  at(name: string): string;
  done(): void;
}

const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
/** Open directory handles kept for reuse; idle ones beyond this are closed (a big checkout never meets EMFILE). */
const MAX_OPEN_DIRS = 64;
/** Errors that mean "no directory of the tree here": missing, a file, or a symlink (O_NOFOLLOW). */
const NOT_A_DIRECTORY = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

const notThere = (err: unknown) => NOT_A_DIRECTORY.has((err as NodeJS.ErrnoException).code ?? '');
export const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
export const nameOf = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);
const isUnder = (rel: string, dir: string) => rel === dir || rel.startsWith(`${dir}/`);

/**
 * The working tree as a checkout writes it: every write, rename, unlink, mkdir and read-back
 * below the root goes through a directory opened one component at a time with
 * O_DIRECTORY|O_NOFOLLOW, so no symlink in any component is ever followed, and each directory's
 * (dev, ino) must stay what it was when first seen (or made).
 *
 * Node has no openat(2); on Linux `/proc/self/fd/N/name` resolves `name` inside the open
 * directory N, which gives the same guarantee. Without /proc (macOS) each component is lstat'ed
 * and its (dev, ino) checked before and again after each operation: a swap in the window between
 * the check and the system call is caught afterwards, not prevented.
 *
 * A directory moved elsewhere while a handle to it is open still receives what is written
 * through that handle (it is the tree's own directory, never what now stands at its name); the
 * read-back, which walks from the root again and insists on the identities seen, then stops the
 * checkout with its journal in place.
 */
export class AnchoredTree {
  private readonly handles = new Map<string, { fd: number; users: number; dropped: boolean }>();
  private readonly identities: Map<string, DirIdentity>;
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly rootFd: number | undefined,
    expected: ReadonlyMap<string, DirIdentity> | undefined,
  ) {
    this.identities = new Map(expected);
  }

  /**
   * `expected` holds identities the directories must still have (those another AnchoredTree
   * saw, for a read-back); `viaProc: false` forces the lstat fallback.
   */
  static open(root: string, options: { expected?: ReadonlyMap<string, DirIdentity>; viaProc?: boolean } = {}): AnchoredTree {
    if (options.viaProc === false) return new AnchoredTree(root, undefined, options.expected);
    const fd = openSync(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      const direct = fstatSync(fd);
      const viaProc = statSync(`/proc/self/fd/${fd}/.`);
      if (direct.dev === viaProc.dev && direct.ino === viaProc.ino) return new AnchoredTree(root, fd, options.expected);
    } catch {
      // No /proc: the fallback below.
    }
    closeSync(fd);
    return new AnchoredTree(root, undefined, options.expected);
  }

  /** The (dev, ino) of every directory seen so far, for a later read-back to insist on. */
  get seen(): ReadonlyMap<string, DirIdentity> {
    return this.identities;
  }

  /** Closes every handle; may be called again (the identities stay readable through `seen`). */
  close(): void {
    for (const handle of this.handles.values()) closeSync(handle.fd);
    this.handles.clear();
    if (this.rootFd !== undefined && !this.closed) closeSync(this.rootFd);
    this.closed = true;
  }

  /** Runs `fn` inside directory `dir`; undefined (fn not run) when `dir` is no directory of the tree. */
  async within<T>(dir: string, fn: (at: (name: string) => string) => Promise<T> | T): Promise<T | undefined> {
    const lease = this.lease(dir);
    if (!lease) return undefined;
    try {
      return await fn(lease.at);
    } finally {
      lease.done();
    }
  }

  /**
   * Like `within`, for a directory that must be there: its absence means the tree changed, and
   * so does a failure of `fn` once the directory is no longer where it was (deleted or moved
   * while `fn` worked in it).
   */
  async inside<T>(dir: string, fn: (at: (name: string) => string) => Promise<T> | T): Promise<T> {
    const lease = this.lease(dir);
    if (!lease) throw new TreeChangedError(dir, this.describe(dir));
    try {
      return await fn(lease.at);
    } catch (err) {
      if (err instanceof ShadowGitError) throw err;
      if (!this.stillInPlace(dir)) throw new TreeChangedError(dir, this.describe(dir));
      // Our own temp file gone, a name turned into a directory: someone else is changing it.
      if (notThere(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') throw new TreeChangedError(dir, 'changed (an entry in it disappeared or changed type)');
      throw err;
    } finally {
      lease.done();
    }
  }

  /** Whether each component of `dir`, looked up afresh from the root, is still the directory seen before. */
  private stillInPlace(dir: string): boolean {
    const parts = dir === '' ? [] : dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      const known = this.identities.get(rel);
      const stat = this.lstatUnchecked(rel);
      if (!stat?.isDirectory() || (known && (known.dev !== stat.dev || known.ino !== stat.ino))) return false;
    }
    return true;
  }

  /** lstat of `rel`, or undefined when nothing is there (or a parent is not a directory of the tree). */
  lstat(rel: string): Stats | undefined {
    const lease = this.lease(parentOf(rel));
    if (!lease) return undefined;
    try {
      return lstatSync(lease.at(nameOf(rel)));
    } catch (err) {
      if (notThere(err)) return undefined;
      throw err;
    } finally {
      lease.done();
    }
  }

  list(dir: string): Dirent[] | undefined {
    const lease = this.lease(dir);
    if (!lease) return undefined;
    try {
      return readdirSync(lease.at('.'), { withFileTypes: true });
    } finally {
      lease.done();
    }
  }

  /** The entries of `dir` with their names as bytes: a name that is not UTF-8 decodes lossily. */
  listBytes(dir: string): Dirent<Buffer>[] | undefined {
    const lease = this.lease(dir);
    if (!lease) return undefined;
    try {
      return readdirSync(lease.at('.'), { withFileTypes: true, encoding: 'buffer' });
    } finally {
      lease.done();
    }
  }

  /** Makes `dir` a directory (its parent must be one) and remembers which directory it is. */
  async makeDirectory(dir: string): Promise<void> {
    await this.inside(parentOf(dir), (at) => {
      try {
        mkdirSync(at(nameOf(dir)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    });
    await faultPoint('worktree-dir');
    this.require(dir);
  }

  /** Opens `dir` (recording its identity); its absence means the tree changed. */
  require(dir: string): void {
    const lease = this.lease(dir);
    if (!lease) throw new TreeChangedError(dir, this.describe(dir));
    lease.done();
  }

  /** Removes directory `dir` if it is empty; true when it is gone. */
  removeIfEmpty(dir: string): boolean {
    const lease = this.lease(parentOf(dir));
    if (!lease) return false;
    try {
      rmdirSync(lease.at(nameOf(dir)));
      this.forget(dir);
      return true;
    } catch {
      return false;
    } finally {
      lease.done();
    }
  }

  /**
   * Removes directory `dir` and the empty directories below it. A file or symlink below it means
   * something appeared since the plan was checked: that is refused, never deleted.
   */
  removeEmptyTree(dir: string): void {
    for (const entry of this.list(dir) ?? []) {
      const child = `${dir}/${entry.name}`;
      if (!entry.isDirectory()) throw new TreeChangedError(child, 'appeared');
      this.removeEmptyTree(child);
    }
    if (!this.removeIfEmpty(dir) && this.lstat(dir)) throw new TreeChangedError(dir, 'could not be emptied');
  }

  /** What `dir` is now, said for a message. */
  private describe(dir: string): string {
    const stat = this.lstatUnchecked(dir);
    if (!stat) return 'disappeared';
    if (stat.isSymbolicLink()) return 'was replaced by a symlink';
    if (!stat.isDirectory()) return 'was replaced by a file';
    return 'was replaced';
  }

  private lstatUnchecked(rel: string): Stats | undefined {
    try {
      return this.lstat(rel);
    } catch {
      return undefined;
    }
  }

  /** Forgets `dir` and everything below it: removed by us, it may be made again as a new directory. */
  private forget(dir: string): void {
    for (const rel of [...this.identities.keys()]) if (isUnder(rel, dir)) this.identities.delete(rel);
    for (const [rel, handle] of [...this.handles]) {
      if (!isUnder(rel, dir)) continue;
      this.handles.delete(rel);
      if (handle.users === 0) closeSync(handle.fd);
      else handle.dropped = true;
    }
  }

  private remember(dir: string, stat: { dev: number; ino: number }): void {
    const known = this.identities.get(dir);
    if (known && (known.dev !== stat.dev || known.ino !== stat.ino)) throw new TreeChangedError(dir, 'was replaced by another directory');
    this.identities.set(dir, { dev: stat.dev, ino: stat.ino });
  }

  private lease(dir: string): Lease | undefined {
    if (this.rootFd === undefined) return this.checkedPathLease(dir);
    if (dir === '') return { at: (name) => `/proc/self/fd/${this.rootFd}/${name}`, done: () => undefined };
    let handle = this.handles.get(dir);
    if (handle) {
      // Most recently used last: eviction takes the oldest idle handle.
      this.handles.delete(dir);
      this.handles.set(dir, handle);
    } else {
      const parent = this.lease(parentOf(dir));
      if (!parent) return undefined;
      let fd: number;
      try {
        fd = openSync(parent.at(nameOf(dir)), DIR_FLAGS);
      } catch (err) {
        if (notThere(err)) return undefined;
        throw err;
      } finally {
        parent.done();
      }
      try {
        this.remember(dir, fstatSync(fd));
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      handle = { fd, users: 0, dropped: false };
      this.handles.set(dir, handle);
      this.closeIdle();
    }
    const held = handle;
    held.users += 1;
    return {
      at: (name) => `/proc/self/fd/${held.fd}/${name}`,
      done: () => {
        held.users -= 1;
        if (held.dropped && held.users === 0) closeSync(held.fd);
      },
    };
  }

  private closeIdle(): void {
    for (const [rel, handle] of this.handles) {
      if (this.handles.size <= MAX_OPEN_DIRS) return;
      if (handle.users > 0) continue;
      this.handles.delete(rel);
      closeSync(handle.fd);
    }
  }

  /** The fallback: every component lstat'ed and its identity checked, before and after. */
  private checkedPathLease(dir: string): Lease | undefined {
    if (!this.checkComponents(dir)) return undefined;
    const full = dir === '' ? this.root : path.join(this.root, dir);
    return {
      at: (name) => path.join(full, name),
      done: () => {
        if (!this.checkComponents(dir)) throw new TreeChangedError(dir, this.describe(dir));
      },
    };
  }

  private checkComponents(dir: string): boolean {
    if (dir === '') return true;
    const parts = dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      let stat: Stats;
      try {
        stat = lstatSync(path.join(this.root, rel));
      } catch (err) {
        if (notThere(err)) return false;
        throw err;
      }
      if (!stat.isDirectory()) return false;
      this.remember(rel, stat);
    }
    return true;
  }
}
