import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { git, makeSandbox, runCli, writeTree, type Sandbox } from '../helpers/sandbox.js';

/**
 * The repository lock records its owner's pid with the process's start time and the boot it
 * ran in, so a pid reused by another process after a crash (or a reboot) is recognised as
 * stale; content that is no owner record is a broken lock; a busy lock names its file.
 */

/** The refusal the fault suite's concurrency scenario expects of a busy lock (test/faults/lib/concurrency.ts). */
const LOCKED = /^shadowgit: another shadowgit is writing to this repository \(.+\); try again when it finishes\.$/;

let sb: Sandbox;
let lockFile: string;
let repo: string;
let sleeper: ChildProcess;

// One repository for the file: every test writes the lock it needs and leaves none behind.
beforeAll(async () => {
  sb = makeSandbox('sg-lock-');
  sb.env.SHADOWGIT_LOCK_TIMEOUT = '400';
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  expect(runCli(sb, ['snapshot']).code).toBe(0);
  repo = JSON.parse(runCli(sb, ['status', '--json']).stdout).repo;
  lockFile = path.join(repo, 'shadowgit', 'lock');
  // A live process that is not shadowgit: what a reused pid points at.
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
});
afterEach(() => fsp.rm(lockFile, { force: true }));
afterAll(async () => {
  sleeper.kill('SIGKILL');
  await sb.cleanup();
});

/** Field 22 of /proc/PID/stat, read here independently of shadowgit. */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}
/** The pid of a process that has already exited. */
const exitedPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const snapshotCount = () => (git(repo, ['rev-list', '--count', 'refs/heads/snapshots']) as string).trim();

/** A snapshot with `content` in the lock file: taken over (the lock is gone afterwards) or refused as busy. */
async function snapshotOver(content: string): Promise<{ code: number; stderr: string; lockLeft: string | undefined }> {
  await writeTree(sb.worktree, { 'a.txt': `changed to hold ${content}\n` });
  await fsp.writeFile(lockFile, content);
  const before = snapshotCount();
  const result = runCli(sb, ['snapshot']);
  const lockLeft = await fsp.readFile(lockFile, 'utf8').catch(() => undefined);
  expect(snapshotCount()).toBe(result.code === 0 ? String(Number(before) + 1) : before);
  return { code: result.code, stderr: result.stderr.trim(), lockLeft };
}

const owner = (fields: Record<string, unknown>) => JSON.stringify({ pid: sleeper.pid, started: startTimeOf(sleeper.pid!), boot: bootId(), host: os.hostname(), command: 'rollback', since: new Date().toISOString(), ...fields });

test.each([
  ['held by a live process (its pid, start time and boot match)', () => owner({})],
  // Without a start time nothing tells a reused pid from the owner: the user is told which file to delete.
  ['from an older shadowgit (no start time, no boot) naming a live process', () => JSON.stringify({ pid: sleeper.pid, host: os.hostname(), command: 'rollback', since: new Date().toISOString() })],
])('a lock %s is busy, and the message names the lock file to delete if no shadowgit runs', async (_what, content) => {
  const written = content();
  const result = await snapshotOver(written);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(LOCKED);
  expect(result.stderr).toContain(`pid ${sleeper.pid}, \`rollback\``);
  expect(result.stderr).toContain(`if no shadowgit is running, delete ${lockFile})`);
  expect(result.lockLeft).toBe(written);
});

test.each([
  ['whose pid was reused (the live process started at another time)', () => owner({ started: String(Number(startTimeOf(sleeper.pid!)) + 1) })],
  ['written in another boot', () => owner({ boot: '00000000-0000-4000-8000-000000000000' })],
  ['from an older shadowgit (no start time, no boot) naming a process that has exited', () => JSON.stringify({ pid: exitedPid(), host: os.hostname(), command: 'snapshot', since: new Date().toISOString() })],
  ['naming pid 0', () => owner({ pid: 0, started: undefined })],
  ['naming pid -1', () => owner({ pid: -1, started: undefined })],
])('a lock %s is stale: taken over, the snapshot recorded, the lock released', async (_what, content) => {
  const result = await snapshotOver(content());
  expect(result).toEqual({ code: 0, stderr: '', lockLeft: undefined });
});

describe('a lock file that holds no owner record', () => {
  test.each(['null', 'garbage', '{}', '[1]', '{"pid":"12"}', ''])('%j, just written: busy (an owner may be writing it), named, no unexpected error', async (content) => {
    const result = await snapshotOver(content);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(LOCKED);
    expect(result.stderr).toContain(lockFile);
    expect(result.lockLeft).toBe(content);
  });

  test.each(['null', 'garbage', '{}', '{"pid":"12"}', ''])('%j, unchanged for 10 s: a broken lock, taken over', async (content) => {
    await fsp.writeFile(lockFile, content);
    const old = new Date(Date.now() - 10_000);
    await fsp.utimes(lockFile, old, old);
    const before = snapshotCount();
    await writeTree(sb.worktree, { 'a.txt': `changed over a broken lock holding ${content}\n` });
    const result = runCli(sb, ['snapshot']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(snapshotCount()).toBe(String(Number(before) + 1));
    await expect(fsp.access(lockFile)).rejects.toThrow(/ENOENT/);
  });
});

test('status reports a lock whose pid was reused as stale', async () => {
  await fsp.writeFile(lockFile, owner({ started: '1' }));
  const status = JSON.parse(runCli(sb, ['status', '--json']).stdout);
  expect(status.lock).toMatchObject({ pid: sleeper.pid, stale: true });
});
