import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, type Sandbox } from '../helpers/sandbox.js';

/** Polls `probe` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real CLI as a long-running child (watch in the foreground). */
export function startCli(sandbox: Sandbox, args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: sandbox.worktree, env: sandbox.env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

/** Kills (SIGKILL) every child in `running` that has not exited, and empties the list: for afterEach, so a failed test leaves no watcher behind. */
export async function killLeftovers(running: Running[]): Promise<void> {
  for (const one of running.splice(0)) {
    if (one.child.exitCode === null && one.child.signalCode === null) {
      one.child.kill('SIGKILL');
      await one.exited;
    }
  }
}

/** The snapshot ref read straight from the file: cheap enough to poll. */
export function headOf(repo: string): string | undefined {
  try {
    return readFileSync(path.join(repo, 'refs', 'heads', 'snapshots'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The op log records, read straight from the file. */
export function opsOf(repo: string): Array<{ op: string; args: Record<string, unknown>; outcome: string; commits: string[] }> {
  try {
    return readFileSync(path.join(repo, 'shadowgit', 'oplog.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** A file's content in a commit of the shadow repo, read with native git (undefined: absent). */
export function fileAt(repo: string, commit: string, file: string): string | undefined {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const result = spawnSync('git', ['--git-dir', repo, 'cat-file', 'blob', `${commit}:${file}`], { env, encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}
