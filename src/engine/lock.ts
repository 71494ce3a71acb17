import { promises as fsp, constants as fsc } from 'node:fs';
import os from 'node:os';
import { LockBusyError } from './errors.js';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** How long a command waits for the repository lock ($SHADOWGIT_LOCK_TIMEOUT ms, default 30 s). */
export function lockTimeoutMs(): number {
  return Number(process.env.SHADOWGIT_LOCK_TIMEOUT ?? 30000);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A cross-process lock: a file created with O_EXCL holding the owner's pid. A lock whose owner
 * process is gone (same host) is taken over; the takeover itself is serialised through a second
 * O_EXCL file so two waiters never both remove the same stale lock.
 */
export class RepoLock {
  private held = false;

  constructor(
    readonly file: string,
    private readonly command: string,
  ) {}

  async acquire(timeoutMs = lockTimeoutMs()): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), command: this.command, since: new Date().toISOString() };
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
      const current = await readOwner(this.file);
      if (await this.removeIfStale(current)) continue;
      if (Date.now() >= deadline) {
        const who = current ? `pid ${current.pid}, \`${current.command}\` since ${current.since}` : 'a process that is starting up';
        throw new LockBusyError(`another shadowgit is writing to this repository (${who}); try again when it finishes.`);
      }
      await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 250));
    }
  }

  /** True when the lock was stale and is now gone. */
  private async removeIfStale(current: LockOwner | undefined): Promise<boolean> {
    if (current === undefined) {
      // Unreadable or half-written: stale only if it has been like that for a while.
      const stat = await fsp.stat(this.file).catch(() => undefined);
      if (!stat) return true;
      if (Date.now() - stat.mtimeMs < 5000) return false;
    } else if (current.host !== os.hostname() || processAlive(current.pid)) {
      return false;
    }
    const takeover = `${this.file}.takeover`;
    try {
      await fsp.writeFile(takeover, String(process.pid), { flag: 'wx' });
    } catch {
      const stat = await fsp.stat(takeover).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > 10000) await fsp.rm(takeover, { force: true });
      return false;
    }
    try {
      const again = await readOwner(this.file);
      if (JSON.stringify(again) === JSON.stringify(current)) await fsp.rm(this.file, { force: true });
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
    const owner = await readOwner(file);
    if (!owner) return undefined;
    return { ...owner, stale: owner.host === os.hostname() && !processAlive(owner.pid) };
  }
}
