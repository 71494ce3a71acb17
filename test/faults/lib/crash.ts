/**
 * Crash anywhere: a command is killed (SIGKILL) at a deterministic write step (through the
 * engine's SHADOWGIT_FAULT hook) or after a random delay, then the suite checks that nothing was
 * lost. Every trial starts from a copy of the same fixture, at the same path (the shadow repo's
 * name is keyed by the working tree's path), so every trial sees identical commits.
 *
 * Fixture history: S1 = state A (approved "Base"), S2 = state B, then the tree is edited to C and
 * rolled back to S1 (S3 = C, the pre-rollback snapshot), then edited to D, left unrecorded. So
 * every command has real work: snapshot/approve record D, rollback goes to B, restore brings src/
 * back from B, undo returns to C.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeSandbox, writeTree, type Sandbox } from '../../helpers/sandbox.js';
import { diskTree, fsckStrict, gitOut, gitRun, makeScratch, reachableObjects, refsOf, snapshotChain, treeBlobs } from './native.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { seededRandom, shadowgit, type Run } from './run.js';

const execFileAsync = promisify(execFile);

/** Every write step the engine exposes to SHADOWGIT_FAULT (src/engine/faults.ts). */
export const FAULT_STEPS = ['object', 'tree', 'commit', 'ref', 'journal', 'worktree-file', 'statcache', 'pack', 'gc-delete', 'prune-journal', 'prune-rewrites', 'prune-ref'];

export type CrashCommand = 'snapshot' | 'approve' | 'rollback' | 'restore' | 'undo' | 'prune' | 'gc' | 'guard' | 'recover';

export interface Fixture {
  sandbox: Sandbox;
  /** Where trials run; the fixture is copied here before each one. */
  live: string;
  saved: string;
  work: string;
  gitdir: string;
  scratch: string;
  env: NodeJS.ProcessEnv;
  snapshots: Array<{ name: string; commit: string; tree: string }>;
  tags: Map<string, string>;
  /** Tree each tag peels to: what must survive a prune, which rewrites commits. */
  tagTrees: Map<string, string>;
  trees: { A: string; B: string; C: string; D: string; restored: string; guardDamage: string; recovered: string };
  /** Blobs of D, the unrecorded state every command starts from: what must never be lost. */
  startBlobs: Array<{ path: string; oid: string; size: number }>;
}

/** A valid package.json; D empties it, which `recover` must repair. */
const PACKAGE_JSON = '{ "name": "fixture", "version": "1.0.0" }\n';
const GUARD_DAMAGE = { file: 'src/b.ts', content: 'broken by the guarded command' };

function bytes(random: () => number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

async function cli(f: { work: string; env: NodeJS.ProcessEnv }, args: string[]): Promise<Run> {
  const run = await shadowgit(args, { cwd: f.work, env: f.env });
  if (run.code !== 0) throw new Error(`fixture: shadowgit ${args.join(' ')} failed: ${run.stderr}`);
  return run;
}

async function copyDir(from: string, to: string): Promise<void> {
  await fsp.rm(to, { recursive: true, force: true });
  await execFileAsync('cp', ['-a', from, to]);
}

export async function buildFixture(seed: number): Promise<Fixture> {
  const sandbox = makeSandbox('sg-crash-');
  const live = path.join(sandbox.dir, 'live');
  const work = path.join(live, 'work');
  const home = path.join(live, 'home');
  await fsp.mkdir(work, { recursive: true });
  await fsp.mkdir(home, { recursive: true });
  const env = { ...sandbox.env, SHADOWGIT_HOME: home };
  const f = { work, env };
  const random = seededRandom(seed);
  const scratch = await makeScratch(path.join(sandbox.dir, 'scratch.git'));

  const a: Record<string, string | Buffer> = { 'package.json': PACKAGE_JSON, 'README.md': '# fixture\n', 'empty.txt': '', docs: 'docs as a file\n', 'big.bin': bytes(random, 256 * 1024), 'bin/run.sh': '#!/bin/sh\necho run\n' };
  for (const n of ['a', 'b', 'c', 'd', 'e']) a[`src/${n}.ts`] = `export const ${n} = ${Math.floor(random() * 1e6)};\n`;
  for (let i = 1; i <= 10; i++) a[`src/lib/x${i}.ts`] = `export const x${i} = '${bytes(random, 24).toString('hex')}';\n`;
  await writeTree(work, a);
  await fsp.chmod(path.join(work, 'bin/run.sh'), 0o755);
  await fsp.symlink('src/a.ts', path.join(work, 'link'));
  const treeA = await diskTree(scratch, work);
  await cli(f, ['snapshot', '-m', 'A']);
  await cli(f, ['approve', 'Base']);

  // B: edits, additions, a deletion, a file becoming a directory, a mode change, a relinked symlink.
  const b: Record<string, string | Buffer> = { 'src/a.ts': 'export const a = "B";\n', 'big.bin': bytes(random, 256 * 1024) };
  for (let i = 1; i <= 5; i++) b[`src/lib/x${i}.ts`] = `export const x${i} = 'B${i}';\n`;
  for (let i = 1; i <= 3; i++) b[`src/new${i}.ts`] = `export const n${i} = ${i};\n`;
  await fsp.rm(path.join(work, 'src/e.ts'));
  await fsp.rm(path.join(work, 'docs'));
  b['docs/guide.md'] = '# guide\n';
  await writeTree(work, b);
  await fsp.chmod(path.join(work, 'bin/run.sh'), 0o644);
  await fsp.rm(path.join(work, 'link'));
  await fsp.symlink('README.md', path.join(work, 'link'));
  const treeB = await diskTree(scratch, work);
  const bCopy = path.join(sandbox.dir, 'b-state');
  await copyDir(work, bCopy);
  await cli(f, ['snapshot', '-m', 'B']);

  await writeTree(work, { 'README.md': '# fixture, state C\n', 'notes.txt': 'C notes\n', 'src/b.ts': 'export const b = "C";\n' });
  const treeC = await diskTree(scratch, work);
  await cli(f, ['rollback', 'latest~1']);

  // D also has an emptied package.json: a damaged critical file for `recover`.
  await writeTree(work, { 'src/a.ts': 'export const a = "D";\n', 'todo.txt': 'D todo\n', 'src/lib/x9.ts': 'D9\n', 'package.json': '' });
  await fsp.rm(path.join(work, 'src/c.ts'));
  const treeD = await diskTree(scratch, work);

  /** Tree of D after `edit`, worked out in a copy. */
  const variant = async (edit: (dir: string) => Promise<void>) => {
    const dir = path.join(sandbox.dir, 'variant');
    await copyDir(work, dir);
    await edit(dir);
    const tree = await diskTree(scratch, dir);
    await fsp.rm(dir, { recursive: true });
    return tree;
  };
  // What `restore S2 -- src` must leave: D everywhere, B under src/.
  const treeRestored = await variant(async (dir) => {
    await fsp.rm(path.join(dir, 'src'), { recursive: true });
    await execFileAsync('cp', ['-a', path.join(bCopy, 'src'), path.join(dir, 'src')]);
  });
  const treeGuardDamage = await variant((dir) => fsp.writeFile(path.join(dir, GUARD_DAMAGE.file), GUARD_DAMAGE.content));
  const treeRecovered = await variant((dir) => fsp.writeFile(path.join(dir, 'package.json'), PACKAGE_JSON));

  const listed = JSON.parse((await cli(f, ['list', '--json'])).stdout) as Array<{ commit: string; message: string }>;
  const gitdir = JSON.parse((await cli(f, ['status', '--json'])).stdout).repo as string;
  const chain = await snapshotChain(gitdir);
  const expected = { A: treeA, B: treeB, C: treeC };
  const snapshots = chain.map((c, i) => ({ name: listed[i]?.message ?? c.commit, commit: c.commit, tree: c.tree }));
  // The oracle's own tree ids must match what the product recorded, or the comparison is void.
  const byTree = new Set(chain.map((c) => c.tree));
  for (const [name, tree] of Object.entries(expected)) if (!byTree.has(tree)) throw new Error(`fixture: state ${name} (${tree}) was not recorded byte-exact`);
  const tags = new Map([...(await refsOf(gitdir))].filter(([ref]) => ref.startsWith('refs/tags/')));
  const tagTrees = new Map<string, string>();
  for (const ref of tags.keys()) tagTrees.set(ref, (await gitOut(gitdir, ['rev-parse', `${ref}^{tree}`])).trim());
  const saved = path.join(sandbox.dir, 'saved');
  await copyDir(live, saved);
  return {
    sandbox,
    live,
    saved,
    work,
    gitdir,
    scratch,
    env,
    snapshots,
    tags,
    tagTrees,
    trees: { A: treeA, B: treeB, C: treeC, D: treeD, restored: treeRestored, guardDamage: treeGuardDamage, recovered: treeRecovered },
    startBlobs: await treeBlobs(scratch, treeD),
  };
}

/**
 * The command line, the working tree it should leave, and how a pre-crash snapshot is known to
 * survive: by commit, or (prune rewrites the chain) by tree, with `droppable` trees it may remove.
 */
function commandUnderTest(f: Fixture, command: CrashCommand): { args: string[]; newTree: string; exitCode?: number; byTree?: boolean; droppable?: string[] } {
  const s2 = f.snapshots.find((s) => s.tree === f.trees.B)!.commit;
  switch (command) {
    case 'snapshot':
      return { args: ['snapshot', '-m', 'trial', '--json'], newTree: f.trees.D };
    case 'approve':
      return { args: ['approve', 'Trial', '--json'], newTree: f.trees.D };
    case 'rollback':
      return { args: ['rollback', s2, '--json'], newTree: f.trees.B };
    case 'restore':
      return { args: ['restore', s2, '--json', '--', 'src'], newTree: f.trees.restored };
    case 'undo':
      return { args: ['undo', '--json'], newTree: f.trees.C };
    case 'gc':
      return { args: ['gc', '--grace', '0', '--json'], newTree: f.trees.D };
    case 'prune':
      // Keeps S3 (newest; undo needs it) and S1 (approved); only S2 may go.
      return { args: ['prune', '--keep-last', '1', '--grace', '0', '--json'], newTree: f.trees.D, byTree: true, droppable: [f.trees.B] };
    case 'guard':
      // The guarded command damages one file and fails; guard rolls the damage back. Killed
      // after the damage and before the rollback began, the damage stays (it is the new state).
      return { args: ['guard', '--json', '--', 'sh', '-c', `printf '${GUARD_DAMAGE.content}' > ${GUARD_DAMAGE.file}; exit 3`], newTree: f.trees.guardDamage, exitCode: 3 };
    case 'recover':
      return { args: ['recover', '--json'], newTree: f.trees.recovered };
  }
}

export interface Kill {
  /** SHADOWGIT_FAULT value, e.g. "ref:1". */
  fault?: string;
  delayMs?: number;
}

interface TrialOutcome {
  problems: string[];
  snapshotsLost: number;
  bytesLost: number;
  /** False when the command ran to its end (the fault point was never reached that often). */
  crashed: boolean;
  ms: number;
}

/** One trial: reset, run with the kill, then every check of the issue. */
export async function crashTrial(f: Fixture, command: CrashCommand, kill: Kill, index: number, extraChecks: string[] = []): Promise<TrialOutcome> {
  await copyDir(f.saved, f.live);
  const { args, newTree, exitCode = 0, byTree, droppable = [] } = commandUnderTest(f, command);
  const env = kill.fault ? { ...f.env, SHADOWGIT_FAULT: kill.fault } : f.env;
  const what = `${command} ${kill.fault ?? (kill.delayMs === undefined ? 'with no kill' : `killed after ${kill.delayMs}ms`)}`;
  const problems: string[] = [];
  const run = await shadowgit(args, { cwd: f.work, env, killAfterMs: kill.delayMs, timeoutMs: 60000 });
  if (run.hung) problems.push(`${what}: hung`);
  else if (!run.killed && run.code !== exitCode) problems.push(`${what}: exited ${run.code}, not ${exitCode}: ${run.stderr.trim()}`);

  // The next command must succeed (and finishes an interrupted checkout from the journal).
  const next = await shadowgit(['snapshot', '-m', 'after crash', '--json'], { cwd: f.work, env: f.env });
  if (next.code !== 0) problems.push(`${what}: the next snapshot failed: ${next.stderr.trim()}`);
  const now = await diskTree(f.scratch, f.work);
  const allowed = [f.trees.D, newTree];
  if (!allowed.includes(now)) problems.push(`${what}: the working tree is neither the old nor the new state after recovery`);

  const fsck = await fsckStrict(f.gitdir);
  if (!fsck.ok) problems.push(`${what}: git fsck --strict: ${fsck.output.slice(0, 300)}`);
  for (const check of extraChecks) {
    const extra = await shadowgit([check], { cwd: f.work, env: f.env });
    if (extra.code !== 0) problems.push(`${what}: shadowgit ${check} failed: ${extra.stderr.trim()}${extra.stdout.trim().slice(0, 200)}`);
  }

  const chain = await snapshotChain(f.gitdir);
  if (chain.some((c) => c.parents > 1)) problems.push(`${what}: the snapshot chain is not linear`);
  let snapshotsLost = 0;
  for (const s of f.snapshots) {
    if (droppable.includes(s.tree)) continue;
    if (!chain.some((c) => c.tree === s.tree && (byTree || c.commit === s.commit))) snapshotsLost++;
  }
  const refs = await refsOf(f.gitdir);
  for (const [ref, oid] of f.tags) {
    if (byTree ? (await gitRun(f.gitdir, ['rev-parse', `${ref}^{tree}`])).stdout.trim() !== f.tagTrees.get(ref) : refs.get(ref) !== oid) snapshotsLost++;
  }
  if (snapshotsLost > 0) problems.push(`${what}: ${snapshotsLost} snapshot(s) or approvals from before the crash are gone`);
  if (!chain.some((c) => c.tree === f.trees.D)) problems.push(`${what}: the state before the command is in no snapshot`);
  const reachable = await reachableObjects(f.gitdir);
  const bytesLost = f.startBlobs.filter((b) => !reachable.has(b.oid)).reduce((sum, b) => sum + b.size, 0);

  // Byte-exact restore through the product, one snapshot per trial in turn.
  const probe = f.snapshots.filter((s) => !droppable.includes(s.tree))[index % (f.snapshots.length - droppable.length)]!;
  const probeCommit = chain.find((c) => c.tree === probe.tree)?.commit ?? probe.commit;
  const back = await shadowgit(['rollback', probeCommit, '--json'], { cwd: f.work, env: f.env });
  if (back.code !== 0) problems.push(`${what}: rollback to ${probe.name} afterwards failed: ${back.stderr.trim()}`);
  else if ((await diskTree(f.scratch, f.work)) !== probe.tree) problems.push(`${what}: rollback to ${probe.name} afterwards is not byte-exact`);
  return { problems, snapshotsLost, bytesLost, crashed: run.killed, ms: run.ms };
}

export interface CrashOptions {
  /** Total trials: deterministic points first, random-delay kills for the rest. */
  trials: number;
  seed: number;
  /** Run exactly these fault points and nothing else (the quick subset). */
  points?: string[];
  /** Parallel trial slots, each with its own fixture. */
  jobs?: number;
  /** Extra read-only commands that must succeed after each crash (e.g. verify). */
  extraChecks?: string[];
}

/** Fault counts tried per step: every one up to 8, then spaced out, until the step is no longer reached. */
function* countsToTry(): Generator<number> {
  for (let n = 1; n <= 8; n++) yield n;
  for (let n = 12; ; n = Math.ceil(n * 1.5)) yield n;
}

/**
 * The crash row for one command. With `points`, exactly those kills are tried on the given
 * `shared` fixture (the quick subset); otherwise every step is counted up, the rest of `trials`
 * are random-delay kills, spread over the duration of an unkilled control run.
 */
export async function crashScenario(command: CrashCommand, options: CrashOptions, shared?: Fixture): Promise<ScenarioRow> {
  const row = emptyRow(`crash: ${command}`);
  const jobs = Math.max(1, options.jobs ?? 1);
  const fixtures = shared ? [shared] : await Promise.all(Array.from({ length: jobs }, (_, i) => buildFixture(options.seed + i)));
  let index = 0;
  const trial = async (fixture: Fixture, kill: Kill) => {
    const outcome = await crashTrial(fixture, command, kill, index++, options.extraChecks);
    tally(row, outcome.problems, { snapshots: outcome.snapshotsLost, bytes: outcome.bytesLost });
    return outcome;
  };
  try {
    if (options.points) {
      await pool(options.points, fixtures, async (fault, fixture) => void (await trial(fixture, { fault })));
      return row;
    }
    const control = await trial(fixtures[0]!, {});
    // Deterministic points: each step counted up until the command no longer reaches it.
    await pool(FAULT_STEPS, fixtures, async (step, fixture) => {
      for (const n of countsToTry()) {
        if (row.trials >= options.trials || !(await trial(fixture, { fault: `${step}:${n}` })).crashed) return;
      }
    });
    const random = seededRandom(options.seed * 7919 + command.length);
    const delays = Array.from({ length: Math.max(0, options.trials - row.trials) }, () => Math.floor(random() * control.ms * 1.2));
    await pool(delays, fixtures, async (delayMs, fixture) => void (await trial(fixture, { delayMs })));
    return row;
  } finally {
    if (!shared) await Promise.all(fixtures.map((f) => f.sandbox.cleanup()));
  }
}

/** Runs `worker` over `items`, one worker per fixture (a fixture is never shared by two trials). */
async function pool<T>(items: T[], fixtures: Fixture[], worker: (item: T, fixture: Fixture) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    fixtures.map(async (fixture) => {
      while (next < items.length) await worker(items[next++]!, fixture);
    }),
  );
}
