import { spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { ShadowGitError } from '../../src/engine/errors.js';
import { escapedName } from '../../src/engine/worktree/names.js';
import { ShadowGit } from '../../src/shadowgit.js';
import { clearRefusal, shadowgit } from '../faults/lib/run.js';

/**
 * The property-based round trip (issue #17): a generated tree A is written with byte-exact
 * names, snapshotted, mutated into a generated tree B (file↔directory swaps included: both come
 * from one small pool of names), snapshotted, and rolled back to A. Checked independently of
 * shadowgit's own reading: native git's view of A's commit, the tree read back from disk with
 * Buffer names, and this file's own model of what can be recorded.
 */

export type Node = { kind: 'file'; content: Buffer; exec: boolean } | { kind: 'link'; target: Buffer } | { kind: 'dir'; entries: Entry[] };
export interface Entry {
  name: Buffer;
  node: Node;
}
export interface Case {
  a: Entry[];
  b: Entry[];
}

/** A command's clear refusal: one sentence saying what is wrong (anything else thrown is a failure). */
export class Refusal extends Error {}

/** What a run needs of shadowgit: the CLI or the library API behind it. */
export interface Driver {
  snapshot(): Promise<{ commit: string; skipped: string[] }>;
  /** Resolves when the rollback succeeded; rejects with a Refusal when it refused, clearly. */
  rollback(commit: string): Promise<void>;
  gitdir(): Promise<string>;
}

/** The library API, in process: fast, for the bounded run. */
export function libraryDriver(worktree: string): Driver {
  const open = () => ShadowGit.open({ worktree });
  return {
    snapshot: async () => {
      const report = await (await open()).snapshot();
      return { commit: report.commit, skipped: report.skipped.map((s) => s.path) };
    },
    rollback: async (commit) => {
      try {
        await (await open()).rollback(commit);
      } catch (err) {
        // A refusal is one sentence of ShadowGitError; anything else is a bug.
        if (!(err instanceof ShadowGitError)) throw new Error(`the rollback failed with an unexpected error: ${(err as Error).stack}`);
        throw new Refusal(err.message);
      }
    },
    gitdir: async () => (await open()).repoPath,
  };
}

/** The real CLI, a process per command (the fault suite's frozen build when it runs). */
export function cliDriver(worktree: string, env: NodeJS.ProcessEnv): Driver {
  const cli = async (args: string[]) => {
    const run = await shadowgit(args, { cwd: worktree, env });
    if (run.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${run.code}: ${run.stderr.trim()}`);
    return JSON.parse(run.stdout);
  };
  return {
    snapshot: async () => {
      const report = await cli(['snapshot', '--json']);
      return { commit: report.commit, skipped: report.skipped.map((s: { path: string }) => s.path) };
    },
    rollback: async (commit) => {
      const run = await shadowgit(['rollback', commit, '--yes'], { cwd: worktree, env });
      if (run.code === 0) return;
      const unclear = clearRefusal(run);
      if (unclear) throw new Error(`the rollback failed without a clear refusal (${unclear})`);
      throw new Refusal(run.stderr.trim());
    },
    gitdir: async () => (await cli(['status', '--json'])).repo,
  };
}

// ---------------------------------------------------------------------------------------------
// Generators

const bytes = (text: string) => Buffer.from(text);
/** Each with its look-alikes: `a\xff` decodes to `a\uFFFD`, Latin-1 `caf\xe9` is `café` in NFC and NFD. */
const SPECIAL_NAMES = [
  'back\\slash', '\\', '\\\\', '.git', '.Git', '.GIT', '.gIT', 'git~1', '.git.', '.git ', '-rf', '--', '-', '...', ' ', 'a b', 'tab\there', 'new\nline',
  'caf\u00e9', 'cafe\u0301', 'a\uFFFD', '\u{1F600}', 'x'.repeat(255), '.shadowgit-cookie-1-0123456789abcdef', '.shadowgit-cookie-x',
].map(bytes).concat([Buffer.from([0x61, 0xff]), Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
/** Names that are configuration, not data: they would change what is recorded. */
const RESERVED = new Set(['.', '..', '.gitignore', '.shadowgitignore', '.shadowgit', 'node_modules']);

/** Any byte but NUL and `/` (the two a file name cannot hold). */
const nameByte = fc.integer({ min: 1, max: 254 }).map((b) => (b >= 0x2f ? b + 1 : b));
const rawName = (min: number, max: number) => fc.array(nameByte, { minLength: min, maxLength: max }).map((b) => Buffer.from(b));
/** A 255-byte name of random bytes, made from one seed: shrinking it one byte at a time through the CLI would take hours. */
const longRawName = fc.integer({ min: 1, max: 0x7fffffff }).map((seed) => {
  const name = Buffer.alloc(255);
  for (let i = 0, x = seed; i < name.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const b = 1 + ((x >>> 16) % 254);
    name[i] = b >= 0x2f ? b + 1 : b;
  }
  return name;
});
/** Any Unicode (lone surrogates become U+FFFD when encoded), never NUL or `/`. */
const unicodeName = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).map((text) => bytes(text.replace(/[\0/]/g, '_')));
const nameArb = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_NAMES) },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-zA-Z0-9._-]{1,8}$/).map(bytes) },
    { weight: 2, arbitrary: unicodeName },
    { weight: 1, arbitrary: rawName(1, 6) },
    { weight: 1, arbitrary: longRawName },
  )
  .filter((name) => name.length <= 255 && !RESERVED.has(name.toString('latin1')));

const keyOf = (name: Buffer) => name.toString('latin1');

const linkTargetArb = (pool: Buffer[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...['/etc/passwd', '/', '/nonexistent/x', '..', '../outside', '.', 'nowhere', 'a/../../b', '\\..\\x', 'a'.repeat(4095)].map(bytes)) },
    { weight: 3, arbitrary: fc.constantFrom(...pool) },
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...pool), { minLength: 2, maxLength: 3 }).map((parts) => Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p])))) },
    { weight: 1, arbitrary: rawName(1, 40) },
  );

const fileArb = fc.record({
  kind: fc.constant('file' as const),
  content: fc.oneof(fc.constant(Buffer.alloc(0)), fc.string({ maxLength: 40 }).map(bytes), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))),
  exec: fc.boolean(),
});

function dirArb(pool: Buffer[], depth: number): fc.Arbitrary<Entry[]> {
  const node: fc.Arbitrary<Node> =
    depth > 0
      ? fc.oneof(fileArb, fc.record({ kind: fc.constant('link' as const), target: linkTargetArb(pool) }), fc.record({ kind: fc.constant('dir' as const), entries: fc.constant(null) }).chain(() => dirArb(pool, depth - 1).map((entries) => ({ kind: 'dir' as const, entries }))))
      : fc.oneof(fileArb, fc.record({ kind: fc.constant('link' as const), target: linkTargetArb(pool) }));
  return fc.uniqueArray(fc.record({ name: fc.constantFrom(...pool), node }), { maxLength: 5, selector: (e) => keyOf(e.name) });
}

/** Two trees over one pool of names, so B reuses A's names as other kinds (file↔directory swaps). */
export const caseArb: fc.Arbitrary<Case> = fc
  .uniqueArray(nameArb, { minLength: 2, maxLength: 7, selector: keyOf })
  .chain((pool) => fc.record({ a: dirArb(pool, 2), b: dirArb(pool, 2) }));

// ---------------------------------------------------------------------------------------------
// The tree on disk (Buffer paths throughout: names are bytes)

const child = (dir: Buffer, name: Buffer) => Buffer.concat([dir, Buffer.from('/'), name]);

/** Makes the tree at `root` be `to` (it is `from` now), changing in place only what differs. */
export function applyTree(root: Buffer, from: Entry[], to: Entry[]): void {
  const before = new Map(from.map((e) => [keyOf(e.name), e.node]));
  const after = new Map(to.map((e) => [keyOf(e.name), e.node]));
  /** Kept in place: same kind, and for a symlink the same target. */
  const kept = (old: Node | undefined, next: Node | undefined) => old !== undefined && next !== undefined && old.kind === next.kind && (old.kind !== 'link' || old.target.equals((next as { target: Buffer }).target));
  for (const e of from) if (!kept(e.node, after.get(keyOf(e.name)))) rmSync(child(root, e.name), { recursive: true, force: true });
  for (const e of to) {
    const full = child(root, e.name);
    const old = before.get(keyOf(e.name));
    const same = kept(old, e.node);
    if (e.node.kind === 'dir') {
      if (!same) mkdirSync(full);
      applyTree(full, same ? (old as { entries: Entry[] }).entries : [], e.node.entries);
    } else if (e.node.kind === 'file') {
      const was = same ? (old as { content: Buffer; exec: boolean }) : undefined;
      if (!was || !was.content.equals(e.node.content)) writeFileSync(full, e.node.content);
      if (!was || was.exec !== e.node.exec) chmodSync(full, e.node.exec ? 0o755 : 0o644);
    } else if (!same) symlinkSync(e.node.target, full);
  }
}

/** A file or symlink as git records it: mode and bytes. Keys are paths as latin1 (one char per byte). */
export type Files = Map<string, { mode: string; content: Buffer }>;

/** Every file and symlink under `root`, read with Buffer names, directories only as paths. */
export function readDisk(root: Buffer): Files {
  const files: Files = new Map();
  const walk = (dir: Buffer, rel: string) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const full = child(dir, name);
      const path = rel === '' ? keyOf(name) : `${rel}/${keyOf(name)}`;
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full, path);
      else if (stat.isSymbolicLink()) files.set(path, { mode: '120000', content: readlinkSync(full, { encoding: 'buffer' }) });
      else files.set(path, { mode: stat.mode & 0o100 ? '100755' : '100644', content: readFileSync(full) });
    }
  };
  walk(root, '');
  return files;
}

const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

function nativeGit(gitdir: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync('git', ['--git-dir', gitdir, ...args], { env: GIT_ENV, input, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return result.stdout;
}

/** A commit's files as native git reads them (ls-tree -z, cat-file --batch): byte-exact names. */
export function gitFiles(gitdir: string, commit: string): Files {
  const listing = nativeGit(gitdir, ['ls-tree', '-r', '-z', commit]);
  const entries: Array<{ mode: string; oid: string; path: string }> = [];
  for (let at = 0; at < listing.length; ) {
    const end = listing.indexOf(0, at);
    const record = listing.subarray(at, end);
    const tab = record.indexOf(0x09);
    const [mode, , oid] = record.subarray(0, tab).toString().split(' ') as [string, string, string];
    entries.push({ mode, oid, path: keyOf(record.subarray(tab + 1)) });
    at = end + 1;
  }
  const batch = nativeGit(gitdir, ['cat-file', '--batch'], Buffer.from(entries.map((e) => `${e.oid}\n`).join('')));
  const files: Files = new Map();
  let at = 0;
  for (const e of entries) {
    const newline = batch.indexOf(0x0a, at);
    const size = Number(batch.subarray(at, newline).toString().split(' ')[2]);
    files.set(e.path, { mode: e.mode, content: batch.subarray(newline + 1, newline + 1 + size) });
    at = newline + 1 + size + 1;
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// The model: what a snapshot of a tree records, reports as skipped, and leaves out in silence

interface Expected {
  recorded: Files;
  /** Paths reported as skipped, as shadowgit shows them. */
  skipped: string[];
  /** Files and symlinks on disk that are not recorded (below a skipped or silent path). */
  unrecorded: Files;
  /**
   * The top paths under which `unrecorded` lie, and whether a rollback must keep them: they hold
   * a file or symlink, or a name that is not UTF-8 (a checkout does not look inside those), or
   * they are a `.git` in any case.
   */
  unrecordedRoots: Array<{ path: string; keep: boolean }>;
}

/** A path as shadowgit shows it: a name that is not UTF-8 escaped (escapedName), any other as it is. */
const shown = (key: string) =>
  key
    .split('/')
    .map((name) => Buffer.from(name, 'latin1'))
    .map((raw) => (isUtf8(raw) ? raw.toString() : escapedName(raw)))
    .join('/');

function model(entries: Entry[]): Expected {
  const expected: Expected = { recorded: new Map(), skipped: [], unrecorded: new Map(), unrecordedRoots: [] };
  const all = (es: Entry[], rel: string, into: Files) => {
    for (const e of es) {
      const path = rel === '' ? keyOf(e.name) : `${rel}/${keyOf(e.name)}`;
      if (e.node.kind === 'dir') all(e.node.entries, path, into);
      else into.set(path, e.node.kind === 'file' ? { mode: e.node.exec ? '100755' : '100644', content: e.node.content } : { mode: '120000', content: e.node.target });
    }
  };
  const leaveOut = (e: Entry, path: string, report: boolean) => {
    if (report) expected.skipped.push(shown(path));
    const files: Files = new Map();
    all([e], path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '', files);
    for (const [p, f] of files) expected.unrecorded.set(p, f);
    const notUtf8 = (entry: Entry): boolean => !isUtf8(entry.name) || (entry.node.kind === 'dir' && entry.node.entries.some(notUtf8));
    // A `.git` in any case is kept even when empty: the scan skipped it, so a checkout must not delete it.
    expected.unrecordedRoots.push({ path, keep: files.size > 0 || notUtf8(e) || e.name.toString().toLowerCase() === '.git' });
  };
  const walk = (es: Entry[], rel: string) => {
    for (const e of es) {
      const path = rel === '' ? keyOf(e.name) : `${rel}/${keyOf(e.name)}`;
      const text = e.name.toString();
      if (text === '.git' || (rel === '' && /^\.shadowgit-cookie-\d+-[0-9a-f]{16}$/.test(text))) leaveOut(e, path, false);
      else if (!isUtf8(e.name) || text.toLowerCase() === '.git') leaveOut(e, path, true);
      else if (e.node.kind === 'dir') walk(e.node.entries, path);
      else if (e.node.kind === 'link' && !isUtf8(e.node.target)) leaveOut(e, path, true);
      else all([e], rel, expected.recorded);
    }
  };
  walk(entries, '');
  expected.skipped.sort();
  return expected;
}

// ---------------------------------------------------------------------------------------------
// The property

const show = (files: Files) => [...files.keys()].sort().map(shown);

function expectSame(actual: Files, expected: Files, what: string): void {
  const a = show(actual);
  const e = show(expected);
  if (JSON.stringify(a) !== JSON.stringify(e)) throw new Error(`${what}: different paths\n  actual:   ${JSON.stringify(a)}\n  expected: ${JSON.stringify(e)}`);
  for (const [p, x] of actual) {
    const y = expected.get(p)!;
    if (x.mode !== y.mode || !x.content.equals(y.content)) throw new Error(`${what}: ${shown(p)} differs (mode ${x.mode}, expected ${y.mode}; ${x.content.length} bytes, expected ${y.content.length})`);
  }
}

const under = (path: string, dir: string) => path.startsWith(`${dir}/`);

/**
 * A rollback must refuse (before writing anything) when it would have to replace something not
 * recorded: A needs a file where B keeps unrecorded files (or a name it cannot read as UTF-8),
 * or a directory where B keeps an unrecorded file or symlink.
 */
function mustRefuse(a: Expected, b: Expected): boolean {
  return b.unrecordedRoots.some((u) => u.keep && [...a.recorded.keys()].some((p) => p === u.path || under(u.path, p) || under(p, u.path)));
}

/** One run: write A, snapshot, write B, snapshot, roll back to A; throws on any difference. */
export async function roundTrip(worktree: string, driver: Driver, c: Case): Promise<void> {
  const root = Buffer.from(worktree);
  applyTree(root, [], c.a);
  const a = model(c.a);
  const b = model(c.b);
  const snapA = await driver.snapshot();
  const gitdir = await driver.gitdir();
  const recordedA = gitFiles(gitdir, snapA.commit);
  expectSame(recordedA, a.recorded, 'snapshot A as native git reads it, against A as generated');
  expect(snapA.skipped.sort()).toEqual(a.skipped);

  applyTree(root, c.a, c.b);
  const snapB = await driver.snapshot();
  expectSame(gitFiles(gitdir, snapB.commit), b.recorded, 'snapshot B as native git reads it, against B as generated');
  expect(snapB.skipped.sort()).toEqual(b.skipped);

  const onDiskB = readDisk(root);
  const refused = await driver.rollback(snapA.commit).then(
    () => undefined,
    (err: Error) => {
      if (err instanceof Refusal) return err;
      throw err;
    },
  );
  if (mustRefuse(a, b)) {
    if (!refused) throw new Error('the rollback replaced files that were never recorded');
    expectSame(readDisk(root), onDiskB, `the tree after a refused rollback (${refused.message})`);
  } else {
    if (refused) throw refused;
    expectSame(readDisk(root), new Map([...recordedA, ...b.unrecorded]), 'the tree after the rollback, against snapshot A and what B did not record');
  }
  // What the checkout left in the stat cache must agree with the disk: the next snapshot records
  // exactly the state now (A, or B after a refusal) and reports what B left unrecorded.
  const again = await driver.snapshot();
  const treeOf = (commit: string) => nativeGit(gitdir, ['rev-parse', `${commit}^{tree}`]).toString().trim();
  if (treeOf(again.commit) !== treeOf(refused ? snapB.commit : snapA.commit)) throw new Error(`the snapshot after the rollback records another tree than ${refused ? 'B' : 'A'}`);
  expect(again.skipped.sort()).toEqual(b.skipped);
  const fsck = spawnSync('git', ['--git-dir', gitdir, 'fsck', '--no-progress'], { env: GIT_ENV, encoding: 'utf8' });
  if (fsck.status !== 0) throw new Error(`git fsck: ${fsck.stdout}${fsck.stderr}`);
}
