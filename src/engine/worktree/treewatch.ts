import { promises as fsp, watch, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import { DirRules, IGNORE_FILES } from './ignore.js';
import { isWatchCookie } from './watchcookie.js';

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);
const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

interface WatchedDir {
  watcher: FSWatcher;
  rules: DirRules;
  /**
   * A watch follows its inode: a directory replaced under the same name needs a new one. The
   * number alone cannot tell (a freed inode number is soon given to the next new directory), so
   * a 'rename' event for the name replaces the watch too.
   */
  ino: number;
}

export interface TreeWatcherEvents {
  /** A recorded path (file or directory, worktree-relative posix; '' is the root) changed. */
  onChange(relPath: string): void;
  /** Watching is degraded (e.g. the system's limit on watches is reached). */
  onWarning(message: string): void;
  /** A sync cookie (isWatchCookie) appeared or vanished in the root; never a change. */
  onCookie(name: string): void;
  /** Changes may have gone unseen (watches were replaced, events were dropped): rescan everything. */
  onLost(): void;
}

/**
 * Linux drops inotify events beyond fs.inotify.max_queued_events, and libuv drops the overflow
 * notice, so Node never hears of it. libuv reads the whole queue in one go without yielding, so
 * an overflow shows as a burst of at least that many events before the next setImmediate; half
 * of it is counted as a possible overflow. Undefined where there is no such limit to read.
 */
async function overflowBurst(): Promise<number | undefined> {
  const limit = Number(await fsp.readFile('/proc/sys/fs/inotify/max_queued_events', 'utf8').catch(() => ''));
  return limit > 0 ? Math.ceil(limit / 2) : undefined;
}

/**
 * Watches exactly the directories a snapshot records: one non-recursive fs.watch per directory,
 * entered with the same ignore rules as the scanner (DirRules), so ignored directories
 * (node_modules, build output) and every `.git` hold no watch and never wake anyone. A
 * library like chokidar would need those rules as a synchronous predicate and watch
 * per-file; one watch per directory is all "something changed here" needs.
 */
export class TreeWatcher {
  private readonly dirs = new Map<string, WatchedDir>();
  private closed = false;
  private limitReported = false;
  /** Event handling still under way (lstat, watching new directories, reloading rules). */
  private readonly pending = new Set<Promise<void>>();
  private burstLimit: number | undefined;
  private burst: { events: number; done: Promise<void> } | undefined;

  constructor(
    private readonly worktree: string,
    private readonly excludes: string[],
    private readonly events: TreeWatcherEvents,
  ) {}

  async start(): Promise<void> {
    this.burstLimit = await overflowBurst();
    await this.addDir('', this.rootRules());
  }

  /** Resolves once every event delivered so far has been reported (or reported lost). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending, this.burst?.done]);
  }

  get watchedDirectories(): number {
    return this.dirs.size;
  }

  /** True when some directories could not be watched; callers fall back to periodic snapshots. */
  get degraded(): boolean {
    return this.limitReported;
  }

  close(): void {
    this.closed = true;
    for (const { watcher } of this.dirs.values()) watcher.close();
    this.dirs.clear();
  }

  private rootRules(): DirRules {
    return DirRules.root(this.excludes);
  }

  /**
   * Watch first, then list: nothing created between the two calls goes unseen. With
   * `reportNew` (a directory that appeared while watching), each directory of the subtree is
   * reported once it is watched: what it held before then was never seen as events.
   */
  private async addDir(rel: string, parentRules: DirRules, reportNew = false): Promise<void> {
    if (this.closed || this.dirs.has(rel)) return;
    const absolute = path.join(this.worktree, rel);
    // The inode before the watch: if the directory is replaced in between, the two differ and
    // the parent's event for the replacement re-adds it.
    let ino: number;
    try {
      ino = (await fsp.lstat(absolute)).ino;
    } catch {
      return; // Gone again: its parent's event reports it.
    }
    if (this.closed || this.dirs.has(rel)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(absolute, { persistent: true }, (event, name) => this.onEvent(rel, event, name ? String(name) : undefined));
    } catch (err) {
      this.reportFailure(rel, err);
      return;
    }
    watcher.on('error', (err) => {
      this.removeDir(rel);
      this.reportFailure(rel, err);
    });
    const entry: WatchedDir = { watcher, rules: parentRules, ino };
    this.dirs.set(rel, entry);
    let names;
    try {
      names = await fsp.readdir(absolute, { withFileTypes: true });
    } catch {
      this.removeDir(rel);
      return;
    }
    entry.rules = await parentRules.child(this.worktree, rel, new Set(names.map((n) => n.name)));
    if (reportNew) this.events.onChange(rel);
    const children = names.filter((n) => n.isDirectory() && n.name !== '.git').map((n) => join(rel, n.name));
    await Promise.all(children.filter((child) => !entry.rules.ignores(child, true)).map((child) => this.addDir(child, entry.rules, reportNew)));
  }

  private removeDir(rel: string): void {
    for (const [dir, { watcher }] of this.dirs) {
      if (dir === rel || rel === '' || dir.startsWith(`${rel}/`)) {
        watcher.close();
        this.dirs.delete(dir);
      }
    }
  }

  private reportFailure(rel: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    if (this.limitReported) return;
    this.limitReported = true;
    const why = code === 'ENOSPC' || code === 'EMFILE' ? 'the system limit on file watches is reached (on Linux raise fs.inotify.max_user_watches)' : (err as Error).message;
    this.events.onWarning(`cannot watch ${rel || '.'} and possibly more directories: ${why}; changes there are recorded by the periodic snapshot instead.`);
  }

  private onEvent(dir: string, event: string, name: string | undefined): void {
    const entry = this.dirs.get(dir);
    if (!entry || this.closed) return;
    this.countBurst();
    if (name === undefined) {
      this.events.onChange(dir);
      return;
    }
    if (dir === '' && isWatchCookie(name)) {
      this.events.onCookie(name);
      return;
    }
    if (name === '.git' || name.split(/[\\/]/).includes('.git')) return;
    const child = join(dir, name);
    this.track(IGNORE_FILES.includes(name) ? this.reload(dir, child) : this.classify(child, entry.rules, event === 'rename'));
  }

  private countBurst(): void {
    if (this.burstLimit === undefined) return;
    if (this.burst) {
      this.burst.events++;
      return;
    }
    const burst = { events: 1, done: new Promise<void>((resolve) => setImmediate(resolve)) };
    this.burst = burst;
    void burst.done.then(() => {
      this.burst = undefined;
      if (burst.events >= this.burstLimit!) this.events.onLost();
    });
  }

  /** A failure half-way (e.g. watching a new directory) may have lost events: say so. */
  private track(work: Promise<void>): void {
    const handled = work.catch(() => this.events.onLost());
    this.pending.add(handled);
    void handled.finally(() => this.pending.delete(handled));
  }

  /** `renamed`: the name was created, removed or moved here, so a directory under it may be a new one. */
  private async classify(child: string, rules: DirRules, renamed: boolean): Promise<void> {
    let stat: Stats;
    try {
      stat = await fsp.lstat(path.join(this.worktree, child));
    } catch {
      // Gone: a watched directory was removed or renamed away, or a file was deleted.
      const wasWatched = this.dirs.has(child);
      if (wasWatched) this.removeDir(child);
      if (wasWatched || !(rules.ignores(child, false) || rules.ignores(child, true))) this.events.onChange(child);
      return;
    }
    const isDir = stat.isDirectory();
    const watched = this.dirs.get(child);
    if (watched && (!isDir || renamed || watched.ino !== stat.ino)) this.removeDir(child);
    if (rules.ignores(child, isDir)) return;
    if (isDir && !this.dirs.has(child)) await this.addDir(child, rules, true);
    this.events.onChange(child);
  }

  /**
   * The ignore file `file` changed in `dir`: re-enter the subtree with fresh rules. Events while
   * its watches are replaced go unseen, and paths the old rules ignored are news to anyone
   * tracking changes, so this counts as lost events.
   */
  private async reload(dir: string, file: string): Promise<void> {
    const parentRules = dir === '' ? this.rootRules() : this.dirs.get(parentOf(dir))?.rules;
    if (parentRules) {
      this.removeDir(dir);
      await this.addDir(dir, parentRules);
    }
    this.events.onLost();
    this.events.onChange(file);
  }
}
