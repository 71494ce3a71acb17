import { spawn } from 'node:child_process';
import { BIN, type Sandbox } from './sandbox.js';

export interface Terminal {
  /** Everything the terminal showed so far, escape sequences included. */
  output(): string;
  /** Types `keys` (a "\x03" is Ctrl-C). */
  type(keys: string): void;
  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The pseudo-terminal's device, to resize it with `stty -F`. */
  device: Promise<string>;
  exited: Promise<number>;
}

/**
 * Runs the CLI with `args` in a pseudo-terminal (util-linux `script`) of `columns` columns, in
 * `cwd` with `env`.
 */
export function cliInTerminal(sandbox: Sandbox, args: string[], options: { columns: number; cwd?: string; env?: NodeJS.ProcessEnv }): Terminal {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', `tty; stty cols ${options.columns} rows 24; exec ${quoted}`, '/dev/null'], { cwd: options.cwd ?? sandbox.worktree, env: { ...sandbox.env, ...options.env } });
  let output = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk) => {
    output += chunk;
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const waitFor = (pattern: RegExp, timeoutMs = 30000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        child.kill('SIGKILL');
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output: ${JSON.stringify(output)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const device = waitFor(/\/dev\/pts\/\d+/).then(() => /\/dev\/pts\/\d+/.exec(output)![0]);
  return { output: () => output, type: (keys) => child.stdin.write(keys), waitFor, device, exited };
}

/** The lines a program drew over each other with "\r\x1b[K" (a live status line), in order. */
export function redrawnLines(output: string): string[] {
  return output
    .split(/\r\x1b\[K/)
    .slice(1)
    .map((segment) => segment.split(/\r?\n/)[0]!)
    .filter((line) => line !== '');
}
