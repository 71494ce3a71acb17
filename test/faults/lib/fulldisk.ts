/**
 * Full disk: the shadow repo (and, separately, the working tree) on a small tmpfs that is filled
 * up. A snapshot must fail with a clear error, leave earlier snapshots and the working tree
 * intact, and succeed once space is freed. Needs root (to mount); otherwise skipped, with the
 * reason printed and shown in the table (0 trials).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeSandbox, writeTree } from '../../helpers/sandbox.js';
import { diskTree, fsckStrict, makeScratch, reachableObjects, snapshotChain, treeBlobs } from './native.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { clearRefusal, shadowgit, type Run } from './run.js';

const execFileAsync = promisify(execFile);
const NO_SPACE = /disk is full/;

async function mountTmpfs(dir: string, size: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
}

/** Fills the filesystem of `dir` with a filler file, then frees `leave` bytes of it. */
async function fill(filler: string, leave: number): Promise<void> {
  const chunk = randomBytes(64 * 1024);
  const handle = await fsp.open(filler, 'w');
  try {
    for (;;) await handle.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await handle.close();
  }
  const { size } = await fsp.stat(filler);
  await fsp.truncate(filler, Math.max(0, size - leave));
}

function refusedForSpace(what: string, run: Run): string[] {
  const refusal = clearRefusal(run);
  if (refusal) return [`${what}: not refused clearly (${refusal})`];
  return NO_SPACE.test(run.stderr) ? [] : [`${what}: the message does not say the disk is full: ${run.stderr.trim()}`];
}

export async function fullDiskScenario(options: { levels: number[] }): Promise<ScenarioRow> {
  const row = emptyRow('full disk (tmpfs)');
  if (process.getuid?.() !== 0) {
    row.skipped = ['not running as root, so no tmpfs can be mounted'];
    return row;
  }
  const sandbox = makeSandbox('sg-fulldisk-');
  const mounts: string[] = [];
  try {
    const scratch = await makeScratch(path.join(sandbox.dir, 'scratch.git'));
    await shadowRepoFull(sandbox.dir, sandbox.env, scratch, mounts, options.levels, row);
    await worktreeFull(sandbox.dir, sandbox.env, scratch, mounts, row);
  } finally {
    for (const dir of mounts.reverse()) await execFileAsync('umount', ['-l', dir]).catch(() => undefined);
    await sandbox.cleanup();
  }
  return row;
}

/** The shadow repo's disk fills up: snapshots at several amounts of free space, then a rollback. */
async function shadowRepoFull(base: string, baseEnv: NodeJS.ProcessEnv, scratch: string, mounts: string[], levels: number[], row: ScenarioRow): Promise<void> {
  const disk = path.join(base, 'repo-disk');
  await mountTmpfs(disk, '8m');
  mounts.push(disk);
  const work = path.join(base, 'work');
  const env = { ...baseEnv, SHADOWGIT_HOME: path.join(disk, 'home') };
  const filler = path.join(disk, 'filler');
  const run = (args: string[]) => shadowgit(args, { cwd: work, env });
  await writeTree(work, { 'README.md': 'full disk\n', 'src/app.ts': 'export {};\n' });
  if ((await run(['snapshot'])).code !== 0) throw new Error('the first snapshot failed');
  const gitdir = JSON.parse((await run(['status', '--json'])).stdout).repo as string;

  for (const leave of levels) {
    const problems: string[] = [];
    const what = `snapshot with ${leave} bytes free`;
    await writeTree(work, { [`data/${leave}.bin`]: randomBytes(300 * 1024), 'README.md': `full disk, ${leave}\n` });
    const tree = await diskTree(scratch, work);
    const before = await snapshotChain(gitdir);
    await fill(filler, leave);
    const attempt = await run(['snapshot', '--json']);
    if (attempt.code !== 0) problems.push(...refusedForSpace(what, attempt));
    const during = await snapshotChain(gitdir);
    if (!before.every((b) => during.some((d) => d.commit === b.commit && d.tree === b.tree))) problems.push(`${what}: an earlier snapshot is gone`);
    if (attempt.code === 0 && during[0]?.tree !== tree) problems.push(`${what}: it succeeded but recorded the wrong tree`);
    if ((await diskTree(scratch, work)) !== tree) problems.push(`${what}: the working tree changed`);
    const fsck = await fsckStrict(gitdir);
    if (!fsck.ok) problems.push(`${what}: git fsck --strict: ${fsck.output.slice(0, 300)}`);
    await fsp.rm(filler);
    const retry = await run(['snapshot', '--json']);
    if (retry.code !== 0) problems.push(`${what}: after freeing space the snapshot still fails: ${retry.stderr.trim()}`);
    else if ((await snapshotChain(gitdir))[0]?.tree !== tree) problems.push(`${what}: after freeing space the snapshot is not the working tree`);
    const reachable = await reachableObjects(gitdir);
    const bytesLost = (await treeBlobs(scratch, tree)).filter((b) => !reachable.has(b.oid)).reduce((s, b) => s + b.size, 0);
    tally(row, problems, { snapshots: before.filter((b) => !during.some((d) => d.commit === b.commit)).length, bytes: bytesLost });
  }

  // A rollback cannot record the state it would replace: it must refuse and change nothing.
  const problems: string[] = [];
  await writeTree(work, { 'README.md': 'unrecorded edit before a rollback\n', 'new.bin': randomBytes(200 * 1024) });
  const tree = await diskTree(scratch, work);
  const first = (await snapshotChain(gitdir)).at(-1)!.commit;
  await fill(filler, 0);
  const rollback = await run(['rollback', first, '--json']);
  problems.push(...refusedForSpace('rollback on a full disk', rollback));
  if ((await diskTree(scratch, work)) !== tree) problems.push('rollback on a full disk: the working tree changed although the pre-rollback snapshot could not be written');
  await fsp.rm(filler);
  const retry = await run(['rollback', first, '--json']);
  if (retry.code !== 0) problems.push(`rollback after freeing space failed: ${retry.stderr.trim()}`);
  if (!(await snapshotChain(gitdir)).some((c) => c.tree === tree)) problems.push('rollback after freeing space: the state before it is in no snapshot');
  tally(row, problems);
}

/** The working tree's disk fills up in the middle of a rollback: the next command finishes it. */
async function worktreeFull(base: string, baseEnv: NodeJS.ProcessEnv, scratch: string, mounts: string[], row: ScenarioRow): Promise<void> {
  const disk = path.join(base, 'tree-disk');
  await mountTmpfs(disk, '4m');
  mounts.push(disk);
  const work = path.join(disk, 'work');
  const filler = path.join(disk, 'filler');
  const env = { ...baseEnv, SHADOWGIT_HOME: path.join(base, 'home-2') };
  const run = (args: string[]) => shadowgit(args, { cwd: work, env });
  const problems: string[] = [];
  await writeTree(work, { 'small.txt': 'small\n' });
  await run(['snapshot']);
  await writeTree(work, { 'big1.bin': randomBytes(700 * 1024), 'big2.bin': randomBytes(700 * 1024) });
  const bigTree = await diskTree(scratch, work);
  await run(['snapshot']);
  await fsp.rm(path.join(work, 'big1.bin'));
  await fsp.rm(path.join(work, 'big2.bin'));
  await writeTree(work, { 'small.txt': 'small, edited\n' });
  const smallTree = await diskTree(scratch, work);
  await fill(filler, 900 * 1024);
  const rollback = await run(['rollback', 'latest', '--json']);
  if (rollback.code !== 0) problems.push(...refusedForSpace('rollback into a full working tree', rollback));
  const now = await diskTree(scratch, work);
  await fsp.rm(filler);
  const next = await run(['snapshot', '--json']);
  if (next.code !== 0) problems.push(`after freeing space the next command failed: ${next.stderr.trim()}`);
  const after = await diskTree(scratch, work);
  if (after !== bigTree && after !== smallTree) problems.push(`after freeing space the working tree is neither the old nor the new state (it was ${now === smallTree ? 'old' : 'partial'} before)`);
  const gitdir = JSON.parse((await run(['status', '--json'])).stdout).repo as string;
  if (!(await snapshotChain(gitdir)).some((c) => c.tree === smallTree)) problems.push('the state before the rollback is in no snapshot');
  const fsck = await fsckStrict(gitdir);
  if (!fsck.ok) problems.push(`git fsck --strict: ${fsck.output.slice(0, 300)}`);
  tally(row, problems);
}
