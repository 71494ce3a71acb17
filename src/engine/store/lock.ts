import { promises as fsp, constants as fsc, readFileSync } from 'node:fs';
import os from 'node:os';
import { LockBusyError } from '../errors.js';
import { readRegularFile } from '../fsutil.js';

export interface LockOwner {
  pid: number;
  /**
   * The owner's start time in clock ticks since boot (Linux: field 22 of /proc/PID/stat) and the
   * boot's id: a pid is reused after a crash or a reboot, this pair is not.
   */
  started?: string;
  boot?: string;
  host: string;
  command: string;
  since: string;
}

/** What the lock file holds: its owner, or undefined when the content is not an owner record. */
interface LockState {
  text: string;
  owner: LockOwner | undefined;
  mtimeMs: number;
}

/** How long a lock file whose content is not an owner record counts as being written by a process starting up. */
const BROKEN_LOCK_GRACE_MS = 5000;

/** How long a command waits for the repository lock ($SHADOWGIT_LOCK_TIMEOUT ms, default 30 s). */
export function lockTimeoutMs(): number {
  return Number(process.env.SHADOWGIT_LOCK_TIMEOUT ?? 30000);
}

/** Whether a process with this pid exists. 0 and negative numbers name process groups, never one process. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const currentBoot = readProc('/proc/sys/kernel/random/boot_id')?.trim() || undefined;

/** Linux: when `pid` started, in clock ticks since boot; undefined when it is gone or elsewhere. */
function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[22 - 3];
}

function isOwner(value: unknown): value is LockOwner {
  const owner = value as LockOwner | null;
  return (
    typeof owner === 'object' &&
    owner !== null &&
    typeof owner.pid === 'number' &&
    typeof owner.host === 'string' &&
    typeof owner.command === 'string' &&
    typeof owner.since === 'string' &&
    (owner.started === undefined || typeof owner.started === 'string') &&
    (owner.boot === undefined || typeof owner.boot === 'string')
  );
}

/**
 * Whether the process a lock names may still hold it. Only exact evidence makes a lock stale —
 * a wall clock can jump, so times are never compared: on this host, the lock is from another
 * boot, its pid is not running, or that pid now belongs to a process that started at another
 * time (a reused pid). Where the boot id and start times are unknown (not Linux, or a lock from
 * an older shadowgit), a live pid keeps the lock; the busy message names the file to delete.
 */
function ownerMayBeAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  if (owner.boot !== undefined && currentBoot !== undefined && owner.boot !== currentBoot) return false;
  if (!processAlive(owner.pid)) return false;
  const started = owner.started === undefined ? undefined : processStartTime(owner.pid);
  return started === undefined || started === owner.started;
}

async function readLock(file: string): Promise<LockState | undefined> {
  let data: Buffer | undefined;
  let mtimeMs: number;
  try {
    data = await readRegularFile(file, { maxBytes: 64 * 1024 });
    mtimeMs = (await fsp.lstat(file)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Not a regular file, or too large: a broken lock, as old as its inode says.
    const stat = await fsp.lstat(file).catch(() => undefined);
    return stat && { text: '', owner: undefined, mtimeMs: stat.mtimeMs };
  }
  if (data === undefined) return undefined;
  const text = data.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { text, owner: isOwner(parsed) ? parsed : undefined, mtimeMs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Told once, when a wait for the lock passes LOCK_WAIT_NOTICE_MS: who holds it (undefined while its record is unreadable). */
export type LockWaitListener = (owner: LockOwner | undefined, file: string) => void;

/** A wait shorter than this goes unmentioned: most locks are held for a fraction of it. */
export const LOCK_WAIT_NOTICE_MS = 1000;

let defaultLockWaitListener: LockWaitListener | undefined;

/**
 * Sets the listener every lock acquisition in this process tells when it has to wait (the CLI
 * says whom it waits for in a terminal); the engine itself never writes to the terminal.
 */
export function onLockWait(listener: LockWaitListener | undefined): void {
  defaultLockWaitListener = listener;
}

/**
 * A cross-process lock: a file created with O_EXCL holding the owner's pid, start time and boot.
 * A lock whose owner is gone is taken over; so is one whose content is not an owner record
 * (null, garbage, cut short by a crash) once it has stayed so for BROKEN_LOCK_GRACE_MS, since a
 * live owner writes its record right after creating the file. The takeover itself is serialised
 * through a second O_EXCL file so two waiters never both remove the same stale lock.
 */
export class RepoLock {
  private held = false;

  constructor(
    readonly file: string,
    private readonly command: string,
  ) {}

  async acquire(timeoutMs = lockTimeoutMs(), onWait = defaultLockWaitListener): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const noticeAt = Date.now() + LOCK_WAIT_NOTICE_MS;
    let told = false;
    const owner: LockOwner = { pid: process.pid, started: processStartTime(process.pid), boot: currentBoot, host: os.hostname(), command: this.command, since: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fsp.open(this.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
        await handle.writeFile(JSON.stringify(owner));
        await handle.close();
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await readLock(this.file);
      if (await this.removeIfStale(current)) continue;
      if (Date.now() >= deadline) throw new LockBusyError(`another shadowgit is writing to this repository (${this.describe(current!)}); try again when it finishes.`);
      if (!told && onWait && Date.now() >= noticeAt) {
        told = true;
        onWait(current?.owner, this.file);
      }
      await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 250));
    }
  }

  private describe(current: LockState): string {
    const { owner } = current;
    if (!owner) return `its lock file ${this.file} is being written or is damaged; it is taken over once it is ${BROKEN_LOCK_GRACE_MS / 1000} s old`;
    const where = owner.host === os.hostname() ? '' : ` on host ${owner.host}`;
    return `pid ${owner.pid}${where}, \`${owner.command}\` since ${owner.since}; if no shadowgit is running, delete ${this.file}`;
  }

  /** True when the lock was stale and is now gone. */
  private async removeIfStale(current: LockState | undefined): Promise<boolean> {
    if (current === undefined) return true;
    if (current.owner ? ownerMayBeAlive(current.owner) : Date.now() - current.mtimeMs < BROKEN_LOCK_GRACE_MS) return false;
    const takeover = `${this.file}.takeover`;
    try {
      await fsp.writeFile(takeover, String(process.pid), { flag: 'wx' });
    } catch {
      const stat = await fsp.stat(takeover).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > 10000) await fsp.rm(takeover, { force: true });
      return false;
    }
    try {
      const again = await readLock(this.file);
      if (again?.text === current.text && again.mtimeMs === current.mtimeMs) await fsp.rm(this.file, { force: true });
      return true;
    } finally {
      await fsp.rm(takeover, { force: true });
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await fsp.rm(this.file, { force: true });
  }

  /** Who holds the lock now, if anyone (for status and doctor). */
  static async inspect(file: string): Promise<(LockOwner & { stale: boolean }) | undefined> {
    const owner = (await readLock(file))?.owner;
    if (!owner) return undefined;
    return { ...owner, stale: !ownerMayBeAlive(owner) };
  }
}
