import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * How the hooks call shadowgit: `shadowgit` when that name is on PATH (the configuration then
 * survives an upgrade or a move of the install), else the absolute path of the running binary,
 * quoted for the shell that agents run hook commands in.
 */
export function shadowgitInvocation(env: NodeJS.ProcessEnv, runningBinary: string): { program: string; onPath: boolean } {
  const names = process.platform === 'win32' ? ['shadowgit.cmd', 'shadowgit.exe', 'shadowgit'] : ['shadowgit'];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        return { program: 'shadowgit', onPath: true };
      } catch {
        // not here
      }
    }
  }
  return { program: shellQuote(path.resolve(runningBinary)), onPath: false };
}

function shellQuote(word: string): string {
  if (/^[\w@%+=:,./\\-]+$/.test(word)) return word;
  return process.platform === 'win32' ? `"${word}"` : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command an agent's hook runs for an event. */
export const hookCommandLine = (program: string, agent: string, event: string, guard: boolean) => `${program} hook ${agent} ${event}${guard ? ' --guard' : ''}`;

/**
 * Whether a hook command is one shadowgit wrote: `shadowgit hook …`, or a path to a shadowgit
 * binary (quoted or not, from this install or an earlier one) followed by ` hook `.
 */
export function isShadowgitHook(command: unknown): boolean {
  if (typeof command !== 'string') return false;
  return /^(?:shadowgit|[^\s'"]*[\\/]shadowgit(?:\.cmd|\.exe)?|'[^']*[\\/]shadowgit(?:\.cmd|\.exe)?'|"[^"]*[\\/]shadowgit(?:\.cmd|\.exe)?") hook /.test(command);
}
