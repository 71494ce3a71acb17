import { ShadowGitError } from '../engine/errors.js';
import type { ShadowGit } from '../shadowgit.js';
import { color } from './output.js';

export interface GlobalArgs {
  C?: string;
  json?: boolean;
}

/** Exit code for errors the user caused by how the command was called. */
export const EXIT_USAGE = 2;

export class UsageError extends ShadowGitError {
  constructor(message: string) {
    super(message, 'EUSAGE');
  }
}

export async function openRepo(args: GlobalArgs): Promise<ShadowGit> {
  // Loaded here, not at the top: `--version` and `--help` need no engine.
  const { ShadowGit } = await import('../shadowgit.js');
  return ShadowGit.open({ worktree: args.C, cwd: process.cwd() });
}

export function isInteractive(args: GlobalArgs): boolean {
  return !args.json && Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/**
 * Runs a command body and turns failures into one line on stderr and an exit code: 2 for usage,
 * 1 for everything else. Unexpected errors keep their stack behind SHADOWGIT_DEBUG=1.
 */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? 0;
  } catch (err) {
    const known = err instanceof ShadowGitError;
    const message = known ? err.message : `unexpected error: ${(err as Error).message} (run again with SHADOWGIT_DEBUG=1 for details, and please report it)`;
    process.stderr.write(`${color.red('shadowgit:')} ${message}\n`);
    if (process.env.SHADOWGIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    // A usage mistake the engine found (an empty path, a bad duration) exits like one yargs found.
    process.exitCode = known && err.code === 'EUSAGE' ? EXIT_USAGE : 1;
  }
}
