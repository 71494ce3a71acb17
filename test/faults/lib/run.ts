/** Spawning the real CLI for the fault suite: with a kill timer, a hang guard and fault hooks. */
import { spawn } from 'node:child_process';
import { BIN } from '../../helpers/sandbox.js';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** True when the test (or the fault hook) killed it, not when it exited by itself. */
  killed: boolean;
  /** True when it outlived `timeoutMs` and had to be killed: a hang. */
  hung: boolean;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** SIGKILL the process this many ms after it starts. */
  killAfterMs?: number;
  timeoutMs?: number;
  /** Run as this uid (and gid), through setpriv: lets root test what a normal user meets. */
  asUser?: number;
}

/** The full run points this at a frozen copy of the build (scripts/faults.mjs). */
const bin = process.env.SHADOWGIT_FAULTS_BIN ?? BIN;

export function shadowgit(args: string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const [command, argv] =
      options.asUser === undefined ? [process.execPath, [bin, ...args]] : ['setpriv', [`--reuid=${options.asUser}`, `--regid=${options.asUser}`, '--clear-groups', process.execPath, bin, ...args]];
    const child = spawn(command, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    const guard = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120000);
    child.on('close', (code, signal) => {
      if (killer) clearTimeout(killer);
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, killed: signal === 'SIGKILL' && !hung, hung });
    });
  });
}

/**
 * The standard for a refusal: non-zero exit, one line on stderr naming the problem (no stack
 * trace, no "unexpected error"), nothing on stdout with --json.
 */
export function clearRefusal(run: Run): string | undefined {
  const lines = run.stderr.trim().split('\n').filter(Boolean);
  if (run.code === 0) return 'it succeeded';
  if (run.code === null) return `it died of ${run.signal}`;
  if (lines.length !== 1) return `stderr has ${lines.length} lines: ${run.stderr.trim().slice(0, 300)}`;
  if (/unexpected error|\n\s+at /.test(run.stderr)) return `not a clear message: ${lines[0]}`;
  if (!lines[0]!.startsWith('shadowgit: ')) return `stderr does not start with "shadowgit:": ${lines[0]}`;
  return undefined;
}

/** The bench's seeded PRNG (mulberry32), so every trial of a run can be replayed from its seed. */
export { prng as seededRandom } from '../../../scripts/bench/tree.mjs';
