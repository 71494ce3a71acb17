/** Which commands this build of the CLI has: the suite covers each one that exists. */
import { shadowgit } from './run.js';

let known: Promise<Set<string>> | undefined;

export function availableCommands(): Promise<Set<string>> {
  known ??= shadowgit(['--help'], { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' } }).then((run) => {
    const names = [...run.stdout.matchAll(/^\s+shadowgit ([a-z-]+)/gm)].map((m) => m[1]!);
    return new Set(names);
  });
  return known;
}
