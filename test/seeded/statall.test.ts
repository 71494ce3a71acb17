// statAll's two implementations (the native helper and the JavaScript threads) must report for
// every path exactly what lstat reports, including the awkward ones. lstatSync in this process
// is the oracle; the JavaScript path runs in a child with SHADOWGIT_NATIVE=0 (read at load).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { dirLayout, nativeStat, statAll } from '../../src/engine/worktree/statall.js';
import { STAT_FIELDS } from '../../src/engine/worktree/statcache-layout.js';
import { nativeTree } from '../helpers/edits.js';
import { fsck, git, repoOf, ROOT, runCli, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-statall-', (s) => (sb = s), { setHome: true });

const ADDON = path.join(ROOT, 'build', 'Release', 'statbatch.node');

/** A tree with every kind of entry the scan meets, laid out as a stat cache lists it. */
async function awkwardTree(files: number) {
  const names: Record<string, string> = { 'top.txt': 't', 'ünï/cödé.ts': 'u', 'exec.sh': '#!/bin/sh\n' };
  for (let i = 0; i < files; i++) names[`d${i % 40}/s${i % 3}/f${i}.txt`] = 'x'.repeat(i % 97);
  await writeTree(sb.worktree, names);
  const w = (rel: string) => path.join(sb.worktree, rel);
  chmodSync(w('exec.sh'), 0o755);
  symlinkSync('top.txt', w('link-to-file'));
  symlinkSync('nowhere', w('dangling'));
  symlinkSync('d1', w('link-to-dir'));
  mkdirSync(w('locked/inner'), { recursive: true });
  await writeTree(sb.worktree, { 'locked/inner/secret.txt': 's' });
  // Times with a fraction of a millisecond: the helper must compute mtimeMs as Node does.
  utimesSync(w('top.txt'), 1_700_000_000.123456, 1_700_000_000.987654);
  const byDir = new Map<string, string[]>([['', ['top.txt', 'exec.sh', 'link-to-file', 'dangling', 'link-to-dir', 'ünï/cödé.ts', 'gone.txt', 'top.txt/under-a-file', 'link-to-dir/f1.txt']]]);
  for (const name of Object.keys(names)) {
    const dir = path.posix.dirname(name);
    if (dir !== '.' && !name.startsWith('ünï')) byDir.set(dir, [...(byDir.get(dir) ?? []), name]);
  }
  byDir.set('locked', ['locked/inner']);
  byDir.set('locked/inner', ['locked/inner/secret.txt']);
  byDir.set('gone-dir', ['gone-dir/x']);
  const lists = [...byDir.values()];
  return dirLayout(sb.worktree, [...byDir.keys()], lists.map((files) => files.length), (d) => lists[d]!);
}

/** What lstat says of a path, in statAll's five numbers (mode -1 missing, -2 unreadable). */
function oracle(file: string): number[] {
  try {
    const stat = lstatSync(file, { throwIfNoEntry: false });
    if (!stat) return [-1];
    return [stat.mtimeMs, stat.ctimeMs, stat.size, stat.ino, stat.mode];
  } catch (err) {
    return [(err as NodeJS.ErrnoException).code === 'ENOTDIR' ? -1 : -2];
  }
}

function expectAsLstat(results: ArrayLike<number>, layout: { count: number; pathAt(i: number): string }) {
  const seen = { missing: 0, present: 0 };
  for (let i = 0; i < layout.count; i++) {
    const want = oracle(layout.pathAt(i));
    const got = Array.from({ length: STAT_FIELDS }, (_, k) => results[i * STAT_FIELDS + k]!);
    if (want.length === 1) {
      seen.missing++;
      expect([layout.pathAt(i), got[4]]).toEqual([layout.pathAt(i), want[0]]);
    } else {
      seen.present++;
      expect([layout.pathAt(i), ...got]).toEqual([layout.pathAt(i), ...want]);
    }
  }
  return seen;
}

/** statAll in a child process with SHADOWGIT_NATIVE=0: the JavaScript threads' results. */
function statAllInJavaScript(dirPaths: string[], dirFiles: string[][], worktree: string): number[] {
  const script = `import { dirLayout, nativeStat, statAll } from ${JSON.stringify(path.join(ROOT, 'dist/engine/worktree/statall.js'))};
const [worktree, dirPaths, dirFiles] = JSON.parse(process.argv[1]);
if (nativeStat) throw new Error('SHADOWGIT_NATIVE=0 did not turn the helper off');
process.stdout.write(JSON.stringify(Array.from(statAll(dirLayout(worktree, dirPaths, dirFiles.map((files) => files.length), (d) => dirFiles[d])))));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([worktree, dirPaths, dirFiles])], { env: { ...process.env, SHADOWGIT_NATIVE: '0' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as number[];
}

test('the native helper is in use when it was built at install', () => {
  expect(nativeStat).toBe(existsSync(ADDON));
});

describe.each([['a few paths (one thread)', 60], ['thousands of paths (shared between threads)', 5000]])('statAll over %s reports what lstat reports', (_name, files) => {
  test('in this process (native helper when built)', async () => {
    const layout = await awkwardTree(files);
    chmodSync(path.join(sb.worktree, 'locked'), 0o000);
    try {
      const seen = expectAsLstat(statAll(layout), layout);
      // Missing: gone.txt, top.txt/under-a-file, gone-dir and its file (and, as non-root, what is under locked/).
      expect(seen.missing).toBeGreaterThanOrEqual(4);
      expect(seen.present).toBeGreaterThan(files);
    } finally {
      chmodSync(path.join(sb.worktree, 'locked'), 0o755);
    }
  });

  test('on the JavaScript threads (SHADOWGIT_NATIVE=0)', async () => {
    const layout = await awkwardTree(files);
    chmodSync(path.join(sb.worktree, 'locked'), 0o000);
    try {
      expectAsLstat(statAllInJavaScript([...layout.dirPaths], Array.from(layout.dirPaths, (_, d) => [...layout.filesOf(d)]), sb.worktree), layout);
    } finally {
      chmodSync(path.join(sb.worktree, 'locked'), 0o755);
    }
  });
});

test('statAll of a working tree that is gone reports every path missing, on either path', async () => {
  const gone = path.join(sb.dir, 'never-made');
  const layout = dirLayout(gone, ['', 'a'], [1, 1], (d) => [['x.txt'], ['a/y.txt']][d]!);
  const results = statAll(layout);
  for (let i = 0; i < layout.count; i++) expect(results[i * STAT_FIELDS + 4]).toBe(-1);
  const inJavaScript = statAllInJavaScript(['', 'a'], [['x.txt'], ['a/y.txt']], gone);
  for (let i = 0; i < layout.count; i++) expect(inJavaScript[i * STAT_FIELDS + 4]).toBe(-1);
});

(existsSync(ADDON) ? describe : describe.skip)('the native helper refuses arguments that would make it read or write out of bounds', () => {
  const batch = existsSync(ADDON) ? (createRequire(import.meta.url)(ADDON) as { start(...args: unknown[]): object; wait(job: unknown): void }) : undefined;
  const bytes = Buffer.from('dira\0b');
  const good = () => [ROOT, bytes, Int32Array.of(0, 3), Int32Array.of(2), 3, bytes.length, new Float64Array(3 * STAT_FIELDS), 0, -1, -2];
  const withArg = (at: number, value: unknown) => good().map((arg, i) => (i === at ? value : arg));
  test.each([
    ['a directory range past the end of the bytes', withArg(2, Int32Array.of(4, 9)), /outside the bytes/],
    ['more names counted than the table holds', withArg(3, Int32Array.of(5)), /fewer names/],
    ['a results array of the wrong size', withArg(6, new Float64Array(2 * STAT_FIELDS)), /5 numbers per entry/],
    ['a names table that ends past the bytes', withArg(5, 99), /bad arguments/],
    ['results of the wrong element type', withArg(6, new Int32Array(3 * STAT_FIELDS)), /bad arguments/],
    ['too few arguments', good().slice(0, 9), /expected 10 arguments/],
  ])('%s', (_name, args, message) => {
    expect(() => batch!.start(...args)).toThrow(message);
  });
  test('a job that is not a job', () => {
    expect(() => batch!.wait({})).toThrow(/expected a job/);
    const job = batch!.start(...good());
    batch!.wait(job);
    // Waiting twice is harmless.
    batch!.wait(job);
  });
});

test('snapshots on the JavaScript threads (SHADOWGIT_NATIVE=0) record what native git records, change after change', async () => {
  const names: Record<string, string> = {};
  for (let i = 0; i < 4500; i++) names[`d${i % 60}/e${i % 7}/f${i}.txt`] = `content ${i}\n`;
  await writeTree(sb.worktree, names);
  const env = { ...process.env, SHADOWGIT_NATIVE: '0' };
  expect(runCli(sb, ['snapshot'], { env }).code).toBe(0);
  for (const round of [1, 2, 3]) {
    await writeTree(sb.worktree, { [`d${round}/e${round}/f${round * 61}.txt`]: `CHANGED ${round}\n`, [`new${round}/n.txt`]: 'n\n' });
    expect(runCli(sb, ['snapshot'], { env }).code).toBe(0);
    expect((git(repoOf(sb), ['rev-parse', 'refs/heads/snapshots^{tree}']) as string).trim()).toBe(nativeTree(sb));
  }
  fsck(repoOf(sb));
});
