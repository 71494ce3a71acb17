import { explainFilesystemError, ShadowGitError } from '../engine/errors.js';
import type { ShadowGit } from '../shadowgit.js';
import { color, printJson } from './output.js';

export interface GlobalArgs {
  /** Directories to start in, as with `cd` (several -C: each relative to the one before). */
  C?: string | string[];
  json?: boolean;
}

/** Exit code for errors the user caused by how the command was called. */
export const EXIT_USAGE = 2;

export class UsageError extends ShadowGitError {
  /** `command`: a mistake in how that command was called (its arguments), which the report then names. */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message, 'EUSAGE');
  }
}

/** The repository of the tree found from the current directory; `-C` has already been entered (see main). */
export async function openRepo(_args: GlobalArgs): Promise<ShadowGit> {
  // Loaded here, not at the top: `--version` and `--help` need no engine.
  const { ShadowGit } = await import('../shadowgit.js');
  return ShadowGit.open({ cwd: process.cwd() });
}

export function isInteractive(args: GlobalArgs): boolean {
  return !args.json && Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** Whether failures are also reported as JSON on stdout: main sets it from the raw arguments, then from the parsed ones. */
let failuresAsJson = false;

export function reportFailuresAsJson(json: boolean): void {
  failuresAsJson = json;
}

/**
 * Reports a failure: one sentence on stderr (a mistake in a command's arguments names the command), with --json
 * also `{"error": {"code", "message"}}` on stdout so a script can always parse stdout, and the
 * exit code: 2 for usage, 1 for everything else. Unexpected errors keep their stack behind
 * SHADOWGIT_DEBUG=1.
 */
export function reportFailure(failure: unknown): void {
  const err = explainFilesystemError(failure);
  const known = err instanceof ShadowGitError;
  // A usage mistake the engine found (an empty path, a bad duration) exits like one yargs found.
  const usage = known && err.code === 'EUSAGE';
  const message = known ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)} (run again with SHADOWGIT_DEBUG=1 for details, and please report it)`;
  process.stderr.write(`${color.red(err instanceof UsageError && err.command ? `shadowgit ${err.command}:` : 'shadowgit:')} ${message}\n`);
  if (process.env.SHADOWGIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (failuresAsJson) printJson({ error: { code: known ? err.code : 'EUNEXPECTED', message } });
  process.exitCode = usage ? EXIT_USAGE : 1;
}

/** Runs a command body: its return value is the exit code; a failure is reported (reportFailure). */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? 0;
  } catch (err) {
    reportFailure(err);
  }
}
