import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import picomatch from 'picomatch';
import { describeJsonError } from '../config.js';
import { ShadowGitError } from '../errors.js';
import { forEachLimit, NotRegularFileError, readRegularFile, TEMP_NAME } from '../fsutil.js';
import { decodeTree, type TreeEntry } from '../store/gitformat.js';
import { checkedOutBase } from '../snapshot/base.js';
import { listSnapshots, readSnapshot, type SnapshotInfo } from '../snapshot/history.js';
import { processAlive, RepoLock } from '../store/lock.js';
import type { Repository } from '../store/repo.js';
import { readJournal } from '../checkout/journal.js';
import { scanWorktree, type ScannedDir } from '../worktree/scan.js';
import { readFlatTree, walkTrees } from '../snapshot/treeread.js';
import { readWatcher } from '../worktree/watchstate.js';
import { LOCK } from '../store/statefiles.js';

/** Critical unless `"critical"` in .shadowgit takes them out ("!pattern"); its other patterns add to these. */
export const DEFAULT_CRITICAL = ['**/package.json', '**/tsconfig*.json', '**/package-lock.json', '**/npm-shrinkwrap.json', '**/yarn.lock', '**/pnpm-lock.yaml'];

/**
 * Which paths are critical: the defaults, then the `"critical"` patterns in their order, read
 * like a .gitignore — the last pattern that matches decides, and "!pattern" takes what it
 * matches back out (a negated pattern also matches the files inside a directory it names, so
 * "!playground" leaves out everything in playground/). Globs are picomatch's: `*` stays within
 * one directory, `**` crosses them.
 */
export function criticalMatcher(patterns: string[]): (relPath: string) => boolean {
  const rules = [...DEFAULT_CRITICAL, ...patterns].map((pattern) => {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1).replace(/\/+$/, '') : pattern;
    // flags 's': picomatch's regexes use `.`, which without it never matches a newline in a name.
    return { negated, matches: picomatch(glob, { dot: true, flags: 's' }) };
  });
  return (relPath) => {
    let critical = false;
    for (const rule of rules) {
      if (rule.negated ? selfOrAncestors(relPath).some((p) => rule.matches(p)) : rule.matches(relPath)) critical = !rule.negated;
    }
    return critical;
  };
}

/** "a/b/c.json" → ["a/b/c.json", "a/b", "a"]. */
function selfOrAncestors(relPath: string): string[] {
  const out = [relPath];
  for (let i = relPath.lastIndexOf('/'); i > 0; i = relPath.lastIndexOf('/', i - 1)) out.push(relPath.slice(0, i));
  return out;
}

/**
 * Larger critical files are not read to be checked: lockfiles of big monorepos reach tens of
 * MiB, and parsing much more would take longer than the rest of doctor.
 */
const MAX_CHECKED_BYTES = 64 * 1024 ** 2;
const GiB = 1024 ** 3;
const DISK_WARN = GiB;
const DISK_CRITICAL = 512 * 1024 ** 2;
const STALE_SNAPSHOT_SECONDS = 7 * 24 * 3600;

export type Severity = 'ok' | 'info' | 'warn' | 'error';

export interface SnapshotRef {
  id: string;
  commit: string;
  date: string;
}

export interface Finding {
  check: 'repo' | 'integrity' | 'lock' | 'journal' | 'watcher' | 'disk' | 'snapshot-age' | 'temp-files' | 'critical-file';
  severity: Severity;
  message: string;
  /** Critical-file findings: the file, and the newest snapshot holding a healthy copy. */
  path?: string;
  lastHealthy?: SnapshotRef;
}

export interface DoctorReport {
  worktree: string;
  repo: string;
  healthy: boolean;
  findings: Finding[];
}

type Ts = (typeof import('ts-morph'))['ts'];
const SCRIPT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/i;
/** JSON files whose tools accept comments and trailing commas. */
const JSONC = /(^|\/)((ts|js)config[^/]*\.json|\.vscode\/[^/]+\.json)$/i;

/** A file whose health cannot be judged (as opposed to a damaged one): the message says why. */
export class NotCheckedError extends Error {}

/**
 * Syntax checks of one file's bytes: not empty, not all NUL, JSON parses, TS/JS parses. The
 * TypeScript parser (bundled with ts-morph) is loaded only when a script file is checked.
 */
export class ContentChecker {
  private ts: Ts | undefined;
  private readonly verdicts = new Map<string, string | undefined>();

  /** The problem with `content` as the file `relPath`, or undefined when healthy; NotCheckedError when it cannot tell. */
  async problem(relPath: string, content: Buffer, cacheKey?: string): Promise<string | undefined> {
    const key = cacheKey && `${relPath}\0${cacheKey}`;
    if (key && this.verdicts.has(key)) return this.verdicts.get(key);
    let verdict: string | undefined;
    try {
      verdict = await this.check(relPath, content);
    } catch (err) {
      // The parsers recurse once per nesting level: 1000 nested parentheses overflow the stack.
      if (err instanceof RangeError) throw new NotCheckedError(`the parser gave up (${err.message}): nested too deeply`);
      throw err;
    }
    if (key) this.verdicts.set(key, verdict);
    return verdict;
  }

  private async check(relPath: string, content: Buffer): Promise<string | undefined> {
    if (content.length === 0) return 'empty (0 bytes)';
    if (content.every((b) => b === 0)) return `only NUL bytes (${content.length}): truncated or zeroed`;
    // A leading BOM is what some Windows editors write; node, npm and TypeScript all skip it.
    const text = content.toString('utf8').replace(/^\uFEFF/, '');
    if (/\.json$/i.test(relPath)) {
      const problem = jsonProblem(text, JSONC.test(relPath));
      if (problem) return problem;
    }
    if (SCRIPT.test(relPath)) {
      this.ts ??= (await import('ts-morph')).ts;
      const ts = this.ts;
      const source = ts.createSourceFile(relPath, text, ts.ScriptTarget.Latest, false, scriptKind(ts, relPath));
      const diagnostics = (source as unknown as { parseDiagnostics: import('ts-morph').ts.DiagnosticWithLocation[] }).parseDiagnostics;
      const first = diagnostics[0];
      if (first) {
        const { line } = source.getLineAndCharacterOfPosition(first.start);
        return `syntax error at line ${line + 1}: ${ts.flattenDiagnosticMessageText(first.messageText, ' ').replace(/\.$/, '')}${diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : ''}`;
      }
    }
    return undefined;
  }
}

function scriptKind(ts: Ts, file: string): import('ts-morph').ts.ScriptKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.tsx') return ts.ScriptKind.TSX;
  if (ext === '.jsx') return ts.ScriptKind.JSX;
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/**
 * What is wrong with a JSON file, in words and with its line and column. Plain JSON is judged
 * by JSON.parse (what node and npm use); jsonc-parser only says where and what, and also judges
 * the files whose tools accept comments and trailing commas.
 */
function jsonProblem(text: string, commentsAllowed: boolean): string | undefined {
  if (!commentsAllowed) {
    try {
      JSON.parse(text);
      return undefined;
    } catch (err) {
      return locateJsonError(text) ?? `invalid JSON: ${(err as Error).message}`;
    }
  }
  return firstJsonError(text, true);
}

/** Where JSON.parse's error is; undefined when jsonc-parser, which recurses per nesting level, gives up on the depth. */
function locateJsonError(text: string): string | undefined {
  try {
    return firstJsonError(text, false);
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

function firstJsonError(text: string, commentsAllowed: boolean): string | undefined {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { allowTrailingComma: commentsAllowed, disallowComments: !commentsAllowed });
  if (errors.length === 0) return undefined;
  const { line, column, what } = describeJsonError(text, errors[0]!);
  return `invalid JSON at line ${line}, column ${column}: ${what}`;
}

function flattenScan(dir: ScannedDir, out: string[] = []): string[] {
  for (const f of dir.files) if (f.kind === 'file') out.push(f.path);
  for (const d of dir.dirs) flattenScan(d, out);
  return out;
}

/**
 * Regular files a snapshot would record now, and the paths it would skip (a FIFO named
 * package.json is a critical file gone bad); paths only, nothing is read or hashed.
 */
async function listWorktreeFiles(repo: Repository): Promise<string[]> {
  const scan = await scanWorktree(repo.worktree, repo.config.exclude);
  return [...flattenScan(scan.root), ...scan.skipped.map((s) => s.path)];
}

/** Temp files left in the tree by writes whose process died (a safe edit or restore cut off). */
function strayTempFiles(files: string[]): string[] {
  return files.filter((p) => {
    const match = TEMP_NAME.exec(path.posix.basename(p));
    return match !== null && !processAlive(Number(match[1]));
  });
}

/**
 * Finds healthy copies of files in the snapshot history, newest first. Blobs are looked up path
 * by path through the trees (not whole trees), and verdicts are cached per blob.
 */
export class HealthHistory {
  private snapshots: SnapshotInfo[] | undefined;
  private readonly treeCache = new Map<string, Promise<TreeEntry[]>>();

  constructor(
    private readonly repo: Repository,
    private readonly checker: ContentChecker,
  ) {}

  async newestHealthy(relPath: string): Promise<SnapshotInfo | undefined> {
    if (!(await this.repo.exists())) return undefined;
    this.snapshots ??= await listSnapshots(this.repo);
    for (const snapshot of this.snapshots) {
      const oid = await this.blobAt(snapshot.tree, relPath);
      if (!oid) continue;
      let content: Buffer;
      try {
        content = await this.repo.objects.readTyped(oid, 'blob', relPath);
      } catch {
        continue; // a damaged copy is no copy
      }
      const problem = await this.checker.problem(relPath, content, oid).catch((err: unknown) => {
        if (err instanceof NotCheckedError) return err.message; // cannot vouch for it
        throw err;
      });
      if (problem === undefined) return snapshot;
    }
    return undefined;
  }

  private async blobAt(tree: string, relPath: string): Promise<string | undefined> {
    let found: string | undefined;
    await walkTrees([tree], {
      // A tree that cannot be read holds no copy.
      read: (oid) => this.entries(oid).catch(() => undefined),
      enter: (_entry, dir) => relPath.startsWith(`${dir}/`),
      onBlob: (entry, rel) => {
        if (rel === relPath) found = entry.oid;
      },
    });
    return found;
  }

  private entries(tree: string): Promise<TreeEntry[]> {
    let cached = this.treeCache.get(tree);
    if (!cached) {
      cached = this.repo.objects.readTyped(tree, 'tree').then(decodeTree);
      this.treeCache.set(tree, cached);
    }
    return cached;
  }
}

export interface CriticalFile {
  path: string;
  /** Undefined when healthy. */
  problem?: string;
  /** Why its health could not be judged (too large, too deeply nested); it is not damaged for all doctor knows. */
  notChecked?: string;
}

/**
 * The critical files (defaults + `"critical"` globs) that exist now or should (see
 * expectedTree), each checked on disk: one that should exist and does not is missing.
 */
export async function checkCriticalFiles(repo: Repository, checker: ContentChecker, worktreeFiles?: string[]): Promise<CriticalFile[]> {
  const isCritical = criticalMatcher(repo.config.critical);
  const onDisk = new Set((worktreeFiles ?? (await listWorktreeFiles(repo))).filter((p) => isCritical(p)));
  const reference = await expectedTree(repo);
  const recorded = reference ? [...(await readFlatTree(repo.objects, reference)).keys()].filter((p) => isCritical(p)) : [];
  const paths = [...new Set([...onDisk, ...recorded])].sort();
  const results: CriticalFile[] = [];
  await forEachLimit(paths, 8, async (p) => {
    results.push({ path: p, ...(await inspectOnDisk(repo, checker, p)) });
  });
  return results.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The tree the working tree should hold files of: its base — the latest snapshot's, or, when a
 * rollback, undo or guard came after it, that checkout's target (files it removed are not "missing").
 */
async function expectedTree(repo: Repository): Promise<string | undefined> {
  const head = (await repo.exists()) ? await repo.head() : undefined;
  if (!head) return undefined;
  const latest = await readSnapshot(repo, head);
  return ((await checkedOutBase(repo, latest))?.snapshot ?? latest).tree;
}

/** The problem with the file at `relPath` in the working tree now, or undefined if healthy (or not checked). */
export async function checkOnDisk(repo: Repository, checker: ContentChecker, relPath: string): Promise<string | undefined> {
  return (await inspectOnDisk(repo, checker, relPath)).problem;
}

async function inspectOnDisk(repo: Repository, checker: ContentChecker, relPath: string): Promise<Omit<CriticalFile, 'path'>> {
  const full = path.join(repo.worktree, relPath);
  let content: Buffer | undefined;
  try {
    // A symlink is recorded as a link: what it points to is not this file's content.
    if ((await fsp.lstat(full)).isSymbolicLink()) return {};
    // Read only as a regular file (a FIFO would block doctor forever), and only up to the cap.
    content = await readRegularFile(full, { maxBytes: MAX_CHECKED_BYTES });
  } catch (err) {
    if (err instanceof NotRegularFileError) return err.reason === 'too large' ? { notChecked: err.problem } : { problem: err.problem };
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `unreadable (${(err as Error).message})` };
  }
  if (!content) return { problem: 'missing' };
  try {
    return { problem: await checker.problem(relPath, content) };
  } catch (err) {
    if (err instanceof NotCheckedError) return { notChecked: err.message };
    throw err;
  }
}

const snapshotRef = (s: SnapshotInfo): SnapshotRef => ({ id: s.id, commit: s.commit, date: s.date.toISOString() });

async function freeBytes(dir: string): Promise<number> {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const stats = await fsp.statfs(d);
      return stats.bavail * stats.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw err;
    }
  }
}

function formatGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

async function checkRepository(repo: Repository, findings: Finding[]): Promise<SnapshotInfo | undefined> {
  if (!(await repo.exists())) {
    findings.push({ check: 'repo', severity: 'warn', message: 'no shadow repository yet, so nothing is protected; run `shadowgit snapshot` or `shadowgit watch --detach`.' });
    return undefined;
  }
  let snapshots: SnapshotInfo[];
  try {
    await repo.checkSafety();
    snapshots = await listSnapshots(repo);
  } catch (err) {
    findings.push({ check: 'repo', severity: 'error', message: `the shadow repository cannot be read: ${(err as Error).message}` });
    return undefined;
  }
  findings.push({ check: 'repo', severity: 'ok', message: `shadow repository readable, ${snapshots.length} snapshot(s).` });
  const latest = snapshots[0];
  if (!latest) return undefined;
  try {
    const files = await readFlatTree(repo.objects, latest.tree);
    await forEachLimit([...files], 8, async ([p, entry]) => {
      await repo.objects.verifyBlob(entry.oid, p);
    });
    findings.push({ check: 'integrity', severity: 'ok', message: `latest snapshot ${latest.id}: all ${files.size} file object(s) present and intact.` });
  } catch (err) {
    findings.push({ check: 'integrity', severity: 'error', message: `latest snapshot ${latest.id} is damaged: ${(err as Error).message}` });
  }
  const age = Math.round((Date.now() - latest.date.getTime()) / 1000);
  const ageText = age < 3600 ? `${Math.round(age / 60)} min` : age < 172800 ? `${Math.round(age / 3600)} h` : `${Math.round(age / 86400)} days`;
  findings.push(
    age > STALE_SNAPSHOT_SECONDS
      ? { check: 'snapshot-age', severity: 'warn', message: `the last snapshot (${latest.id}) is ${ageText} old; run \`shadowgit snapshot\`, or \`shadowgit watch --detach\` to keep them coming.` }
      : { check: 'snapshot-age', severity: 'info', message: `the last snapshot (${latest.id}) is ${ageText} old.` },
  );
  return latest;
}

async function checkState(repo: Repository, findings: Finding[]): Promise<void> {
  const lock = await RepoLock.inspect(repo.statePath(LOCK));
  if (!lock) findings.push({ check: 'lock', severity: 'ok', message: 'the repository is not locked.' });
  else if (lock.stale) findings.push({ check: 'lock', severity: 'warn', message: `a stale lock from pid ${lock.pid} (\`${lock.command}\`, ${lock.since}) is left; the next command removes it.` });
  else findings.push({ check: 'lock', severity: 'info', message: `locked by pid ${lock.pid} (\`${lock.command}\`) since ${lock.since}.` });

  const journal = await readJournal(repo).catch(() => undefined);
  if (journal) findings.push({ check: 'journal', severity: 'warn', message: `an interrupted ${journal.op} (started ${journal.startedAt}) is pending; the next command finishes it.` });

  const watcher = await readWatcher(repo);
  if (!watcher) findings.push({ check: 'watcher', severity: 'info', message: 'no watcher is running (`shadowgit watch --detach` starts one).' });
  else if (watcher.stale) findings.push({ check: 'watcher', severity: 'warn', message: `the watcher (pid ${watcher.state.pid}) died without stopping; \`shadowgit watch\` cleans it up.` });
  else findings.push({ check: 'watcher', severity: 'ok', message: `watcher running (pid ${watcher.state.pid}) since ${watcher.state.since}.` });
}

async function checkDisk(repo: Repository, findings: Finding[]): Promise<void> {
  try {
    const free = await freeBytes(repo.gitdir);
    const where = `free where the shadow repository lives (${path.dirname(repo.gitdir)})`;
    if (free < DISK_CRITICAL) findings.push({ check: 'disk', severity: 'error', message: `only ${formatGiB(free)} ${where}; snapshots may fail — free some space or run \`shadowgit gc\`.` });
    else if (free < DISK_WARN) findings.push({ check: 'disk', severity: 'warn', message: `${formatGiB(free)} ${where}; below 1 GiB.` });
    else findings.push({ check: 'disk', severity: 'ok', message: `${formatGiB(free)} ${where}.` });
  } catch (err) {
    findings.push({ check: 'disk', severity: 'warn', message: `cannot tell the free disk space: ${(err as Error).message}` });
  }
}

/** Every check; `healthy` is false when any finding is a warning or an error. */
export async function diagnose(repo: Repository): Promise<DoctorReport> {
  const findings: Finding[] = [];
  await checkRepository(repo, findings);
  if (await repo.exists()) await checkState(repo, findings);
  await checkDisk(repo, findings);

  const checker = new ContentChecker();
  const history = new HealthHistory(repo, checker);
  const files = await listWorktreeFiles(repo);
  const strays = strayTempFiles(files);
  if (strays.length > 0) {
    findings.push({ check: 'temp-files', severity: 'warn', message: `${strays.length} temp file(s) left by interrupted writes (the originals are intact); delete them: ${strays.slice(0, 5).join(', ')}${strays.length > 5 ? ', …' : ''}` });
  }
  let critical: CriticalFile[] = [];
  try {
    critical = await checkCriticalFiles(repo, checker, files);
  } catch (err) {
    if (!(err instanceof ShadowGitError)) throw err;
    findings.push({ check: 'critical-file', severity: 'error', message: `cannot list the critical files: ${err.message}` });
  }
  for (const file of critical) {
    const last = await history.newestHealthy(file.path);
    const lastHealthy = last ? snapshotRef(last) : undefined;
    if (file.notChecked) {
      findings.push({ check: 'critical-file', severity: 'info', path: file.path, message: `not checked: ${file.notChecked}.`, lastHealthy });
      continue;
    }
    if (!file.problem) {
      findings.push({ check: 'critical-file', severity: 'ok', path: file.path, message: 'healthy.', lastHealthy });
      continue;
    }
    const fix = last ? `healthy in snapshot ${last.id} — \`shadowgit recover ${file.path}\` restores it` : 'no snapshot holds a healthy copy';
    findings.push({ check: 'critical-file', severity: 'error', path: file.path, message: `${file.problem}; ${fix}.`, lastHealthy });
  }
  return { worktree: repo.worktree, repo: repo.gitdir, healthy: findings.every((f) => f.severity === 'ok' || f.severity === 'info'), findings };
}
