/**
 * The race harness (issue #17): while rollback, restore, undo or guard runs, a second process
 * (race-swapper.mjs) swaps directories for symlinks to a victim directory and files for hard
 * links to a victim file at random moments. Each trial checks that
 *  - the victim's names, modes and bytes are unchanged;
 *  - the command ended with every path the swapper did not touch as in the new tree (success),
 *    or stopped with one clear line: before writing (every path old), or with its journal in
 *    place (every path old or new), after which the next command finishes it (every path new).
 * Old and new trees are listed by native git (`ls-tree -r`) and the disk is hashed here, as git
 * hashes blobs, never through shadowgit.
 */
import { execFile } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeSandbox, writeTree } from '../helpers/sandbox.js';
import { gitOut } from '../faults/lib/native.js';
import { emptyRow, tally, type ScenarioRow } from '../faults/lib/report.js';
import { clearRefusal, seededRandom, shadowgit, type Run } from '../faults/lib/run.js';
import { victimPrint } from './checkout-helpers.js';

const execFileAsync = promisify(execFile);
const SWAPPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'race-swapper.mjs');

export type RaceCommand = 'rollback' | 'restore' | 'undo' | 'guard';
export const RACE_COMMANDS: RaceCommand[] = ['rollback', 'restore', 'undo', 'guard'];

/** path → "mode oid", as `git ls-tree -r` says it. */
type Listing = Map<string, string>;

const RESTORED_PATHS = ['d0', 'd4', 'x'];
const GUARD_BODY = 'rm -rf d4 d5; mkdir -p g0; i=0; while [ $i -lt 20 ]; do echo junk > g0/j$i.txt; i=$((i+1)); done; echo junk > top.txt; exit 1';

interface Fixture {
  dir: string;
  live: string;
  work: string;
  env: NodeJS.ProcessEnv;
  gitdir: string;
  victimDir: string;
  graveyard: string;
  /** Saved copies of `live`: the tree at B (recorded), and at A after a rollback from B (for undo). */
  atB: string;
  atA: string;
  idA: string;
  A: Listing;
  B: Listing;
  cleanup(): Promise<void>;
}

async function copyDir(from: string, to: string): Promise<void> {
  await fsp.rm(to, { recursive: true, force: true });
  await execFileAsync('cp', ['-a', from, to]);
}

async function listing(gitdir: string, rev: string): Promise<Listing> {
  const out = await gitOut(gitdir, ['ls-tree', '-r', '-z', rev]);
  const files: Listing = new Map();
  for (const record of out.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, , oid] = record.slice(0, tab).split(' ');
    files.set(record.slice(tab + 1), `${mode} ${oid}`);
  }
  return files;
}

const blobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/** The working tree as it is, hashed as git would, never following a symlink. */
async function diskListing(root: string): Promise<Listing> {
  const files: Listing = new Map();
  const walk = async (rel: string) => {
    for (const entry of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(root, child);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isSymbolicLink()) files.set(child, `120000 ${blobId(Buffer.from(await fsp.readlink(full)))}`);
      else if (entry.isFile()) files.set(child, `${(await fsp.stat(full)).mode & 0o100 ? '100755' : '100644'} ${blobId(await fsp.readFile(full))}`);
    }
  };
  await walk('');
  return files;
}

async function cli(f: { work: string; env: NodeJS.ProcessEnv }, args: string[]): Promise<Run> {
  const run = await shadowgit(args, { cwd: f.work, env: f.env });
  if (run.code !== 0) throw new Error(`fixture: shadowgit ${args.join(' ')} failed: ${run.stderr}`);
  return run;
}

export async function buildRaceFixture(): Promise<Fixture> {
  const sandbox = makeSandbox('sg-race-');
  const live = path.join(sandbox.dir, 'live');
  const work = path.join(live, 'work');
  const home = path.join(live, 'home');
  await fsp.mkdir(home, { recursive: true });
  const env = { ...sandbox.env, SHADOWGIT_HOME: home };
  const f = { work, env };

  const a: Record<string, string> = { 'top.txt': 'top\n', x: 'x is a file\n', 'run.sh': '#!/bin/sh\n' };
  for (let d = 0; d < 8; d++) for (let i = 0; i < 25; i++) a[`d${d}/f${i}.txt`] = `A ${d} ${i}\n`;
  await writeTree(work, a);
  await fsp.chmod(path.join(work, 'run.sh'), 0o755);
  await fsp.symlink('run.sh', path.join(work, 'link'));
  const snapA = JSON.parse((await cli(f, ['--json', 'snapshot', '-m', 'A'])).stdout) as { id: string; commit: string };

  // B: four directories gone (a rollback makes them again), files edited, a mode changed, new
  // directories (a rollback deletes them), x a directory.
  for (let d = 0; d < 4; d++) await fsp.rm(path.join(work, `d${d}`), { recursive: true });
  const b: Record<string, string> = { 'x/inner.txt': 'x is a directory\n' };
  for (let d = 4; d < 8; d++) for (let i = 0; i < 10; i++) b[`d${d}/f${i}.txt`] = `B ${d} ${i}\n`;
  for (let n = 0; n < 4; n++) for (let i = 0; i < 20; i++) b[`n${n}/g${i}.txt`] = `new ${n} ${i}\n`;
  await fsp.rm(path.join(work, 'x'));
  await writeTree(work, b);
  await fsp.chmod(path.join(work, 'd4/f11.txt'), 0o755);
  const snapB = JSON.parse((await cli(f, ['--json', 'snapshot', '-m', 'B'])).stdout) as { id: string; commit: string };
  const gitdir = JSON.parse((await cli(f, ['--json', 'status'])).stdout).repo as string;

  const atB = path.join(sandbox.dir, 'at-B');
  const atA = path.join(sandbox.dir, 'at-A');
  await copyDir(live, atB);
  await cli(f, ['rollback', snapA.id, '--yes']);
  await copyDir(live, atA);
  return {
    dir: sandbox.dir,
    live,
    work,
    env,
    gitdir,
    victimDir: path.join(sandbox.dir, 'victim'),
    graveyard: path.join(sandbox.dir, 'graveyard'),
    atB,
    atA,
    idA: snapA.id,
    A: await listing(gitdir, snapA.commit),
    B: await listing(gitdir, snapB.commit),
    cleanup: sandbox.cleanup,
  };
}

/** A victim the swapper points the tree at: files named as the tree's, one of them the hard-link source. */
async function makeVictim(f: Fixture): Promise<string> {
  await fsp.rm(f.victimDir, { recursive: true, force: true });
  const files: Record<string, string> = { 'hard.txt': 'victim file\n' };
  for (let i = 0; i < 25; i++) files[`f${i}.txt`] = `victim ${i}\n`;
  for (let i = 0; i < 20; i++) files[`g${i}.txt`] = `victim g ${i}\n`;
  await writeTree(f.victimDir, files);
  await fsp.chmod(path.join(f.victimDir, 'hard.txt'), 0o640);
  return path.join(f.victimDir, 'hard.txt');
}

function commandFor(command: RaceCommand, f: Fixture): { args: string[]; start: string; newTree: Listing } {
  if (command === 'rollback') return { args: ['rollback', f.idA, '--yes'], start: f.atB, newTree: f.A };
  if (command === 'undo') return { args: ['undo'], start: f.atA, newTree: f.B };
  if (command === 'guard') return { args: ['--json', 'guard', '--', 'sh', '-c', GUARD_BODY], start: f.atB, newTree: f.B };
  const restored = new Map([...f.B].filter(([p]) => !RESTORED_PATHS.some((r) => p === r || p.startsWith(`${r}/`))));
  for (const [p, entry] of f.A) if (RESTORED_PATHS.some((r) => p === r || p.startsWith(`${r}/`))) restored.set(p, entry);
  return { args: ['restore', f.idA, '--', ...RESTORED_PATHS], start: f.atB, newTree: restored };
}

/** The state the command started from: the tree it replaces (for guard, the failed state it recorded). */
async function oldTreeOf(command: RaceCommand, f: Fixture): Promise<Listing> {
  if (command === 'rollback' || command === 'restore') return f.B;
  if (command === 'undo') return f.A;
  const log = await gitOut(f.gitdir, ['log', '--format=%H %s', 'refs/heads/snapshots']);
  const failed = log.split('\n').find((line) => line.slice(41).startsWith('failed:'));
  return failed ? listing(f.gitdir, failed.slice(0, 40)) : f.B;
}

async function journalExists(f: Fixture): Promise<boolean> {
  return fsp.access(path.join(f.gitdir, 'shadowgit', 'journal.json')).then(
    () => true,
    () => false,
  );
}

/** A checkout's temp file (see tempPathFor): its directory and the start of the name it is renamed to. */
const CHECKOUT_TEMP = /^(.*\/)?\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Paths whose differences from both trees are the swapper's doing: what it swapped, all below,
 * and the file a swapped temp file of the checkout was renamed to (the read-back catches that one).
 */
function touchedBy(swaps: Array<{ path: string; temp?: string }>): (p: string) => boolean {
  const renamedTo = swaps.flatMap((s) => {
    const temp = CHECKOUT_TEMP.exec(s.path);
    return temp ? [`${temp[1] ?? ''}${temp[2]}`] : [];
  });
  return (p) => swaps.some((s) => p === s.path || p.startsWith(`${s.path}/`) || p === s.temp) || renamedTo.includes(p);
}

/** Paths (not touched by the swapper) that are in neither allowed state. */
function offenders(disk: Listing, allowed: Listing[], touched: (p: string) => boolean): string[] {
  const paths = new Set([...disk.keys(), ...allowed.flatMap((l) => [...l.keys()])]);
  return [...paths].filter((p) => !touched(p) && !allowed.some((l) => l.get(p) === disk.get(p))).sort();
}

async function runSwapper(config: Record<string, unknown>): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [SWAPPER, JSON.stringify(config)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** How a trial's command ended: what the checks above were run against. */
export type RaceOutcome = 'succeeded' | 'refused' | 'journalled';

export async function raceTrial(f: Fixture, command: RaceCommand, seed: number, afterJournal: boolean): Promise<{ problems: string[]; outcome: RaceOutcome }> {
  const random = seededRandom(seed);
  await copyDir(commandFor(command, f).start, f.live);
  await fsp.rm(f.graveyard, { recursive: true, force: true });
  await fsp.mkdir(f.graveyard);
  const victimFile = await makeVictim(f);
  const victimBefore = await victimPrint(f.victimDir);
  const log = path.join(f.dir, 'swaps.jsonl');
  await fsp.rm(log, { force: true });
  const { args, newTree } = commandFor(command, f);

  const swapper = await runSwapper({
    worktree: f.work,
    victimDir: f.victimDir,
    victimFile,
    graveyard: f.graveyard,
    journal: path.join(f.gitdir, 'shadowgit', 'journal.json'),
    seed,
    swaps: 1 + Math.floor(random() * 5),
    afterJournal,
    log,
  });
  const run = await shadowgit(args, { cwd: f.work, env: f.env, timeoutMs: 120000 });
  await swapper.stop();

  const problems: string[] = [];
  const swaps = (await fsp.readFile(log, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { path: string; temp?: string });
  const touched = touchedBy(swaps);
  const where = `${command} (seed ${seed}, swaps ${swaps.map((s) => s.path).join(' ') || 'none'})`;
  if ((await victimPrint(f.victimDir)) !== victimBefore) problems.push(`${where}: the victim directory changed`);
  if (run.hung) problems.push(`${where}: hung`);

  const succeeded = command === 'guard' ? /"restored"/.test(run.stdout) : run.code === 0;
  const disk = await diskListing(f.work);
  if (succeeded) {
    const wrong = offenders(disk, [newTree], touched);
    if (wrong.length > 0) problems.push(`${where}: succeeded but ${wrong.slice(0, 3).join(', ')} are not as in the target`);
    return { problems, outcome: 'succeeded' };
  }
  const refusal = clearRefusal(run);
  if (refusal) problems.push(`${where}: failed without one clear line (${refusal})`);
  const oldTree = await oldTreeOf(command, f);
  if (!(await journalExists(f))) {
    const wrong = offenders(disk, [oldTree], touched);
    if (wrong.length > 0) problems.push(`${where}: refused without a journal, but ${wrong.slice(0, 3).join(', ')} changed`);
    return { problems, outcome: 'refused' };
  }
  const mixed = offenders(disk, [oldTree, newTree], touched);
  if (mixed.length > 0) problems.push(`${where}: stopped journalled, but ${mixed.slice(0, 3).join(', ')} are neither old nor new`);
  // The next command, with nobody racing it, finishes the checkout.
  const next = await shadowgit(['snapshot', '-m', 'after the race'], { cwd: f.work, env: f.env });
  if (next.code !== 0) problems.push(`${where}: the next command failed: ${next.stderr.trim()}`);
  if (await journalExists(f)) problems.push(`${where}: the journal is still there after the next command`);
  const unfinished = offenders(await diskListing(f.work), [newTree], touched);
  if (unfinished.length > 0) problems.push(`${where}: the next command left ${unfinished.slice(0, 3).join(', ')} not as in the target`);
  if ((await victimPrint(f.victimDir)) !== victimBefore) problems.push(`${where}: the victim directory changed after the next command`);
  return { problems, outcome: 'journalled' };
}

/**
 * `trials` races of each command on one fixture, each with its own seed from `seed`; even trials
 * start swapping when the checkout's journal appears (its writes begin), odd ones at a random moment.
 */
export async function raceScenarios(commands: RaceCommand[], options: { trials: number; seed: number }): Promise<ScenarioRow[]> {
  const f = await buildRaceFixture();
  try {
    const rows: ScenarioRow[] = [];
    for (const command of commands) {
      const row = emptyRow(`race: ${command} while directories become symlinks and files hard links`);
      const outcomes: Record<RaceOutcome, number> = { succeeded: 0, refused: 0, journalled: 0 };
      for (let trial = 0; trial < options.trials; trial++) {
        const { problems, outcome } = await raceTrial(f, command, options.seed * 100003 + trial, trial % 2 === 0);
        tally(row, problems);
        outcomes[outcome] += 1;
      }
      process.stderr.write(`${row.scenario}: ${Object.entries(outcomes).map(([outcome, n]) => `${n} ${outcome}`).join(', ')}\n`);
      rows.push(row);
    }
    return rows;
  } finally {
    await f.cleanup();
  }
}
