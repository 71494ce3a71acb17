/** Shared by the checkout safety tests and the race harness: a CLI run that can be paused, and a victim to protect. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, type CliResult, type Sandbox } from '../helpers/sandbox.js';

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** The real CLI as a child process whose pid the test can signal (SIGSTOP'ed by a fault point with `:stop`). */
export function startCli(sandbox: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: sandbox.worktree, env: { ...sandbox.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { child, done };
}

/** Polls /proc until `pid` is stopped (true) or has exited, or `timeoutMs` passed (false). */
export async function waitStopped(pid: number, timeoutMs = 20000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return true;
    if (state === 'Z') return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** Every name, type, mode, size, link target and byte under `dir`, hashed: equal means untouched. */
export async function victimPrint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await fsp.readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const child = path.join(rel, name);
      const full = path.join(dir, child);
      const stat = await fsp.lstat(full);
      hash.update(`${child}\0${stat.mode}\0${stat.size}\0`);
      if (stat.isDirectory()) await walk(child);
      else if (stat.isSymbolicLink()) hash.update(await fsp.readlink(full));
      else if (stat.isFile()) hash.update(await fsp.readFile(full));
    }
  };
  await walk('');
  return hash.digest('hex');
}

/** The journal of an interrupted checkout, if any (read as the lead would: from the shadow repo's state directory). */
export async function journalOf(repo: string): Promise<unknown> {
  const raw = await fsp.readFile(path.join(repo, 'shadowgit', 'journal.json'), 'utf8').catch(() => undefined);
  return raw === undefined ? undefined : JSON.parse(raw);
}
