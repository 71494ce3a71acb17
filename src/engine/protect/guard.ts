import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ShadowGitError } from '../errors.js';
import type { Operation } from '../store/oplog.js';
import type { CheckoutReport, SnapshotReport } from '../reports.js';

export interface GuardSnapshot {
  id: string;
  commit: string;
  created: boolean;
}

export interface GuardReport {
  label: string;
  /** The state before the guarded work (trigger `guard`). */
  before: GuardSnapshot;
  ok: boolean;
  /** Why it counts as failed: exit code, signal or error message. */
  failure?: string;
  /** The result (trigger `guard-ok`) or the failed state (trigger `guard-failed`). */
  after: GuardSnapshot;
  /** Set when the tree was rolled back to `before`. */
  restored?: CheckoutReport;
  kept: boolean;
}

export interface GuardOptions {
  /** What runs, for snapshot messages and the op log (e.g. the command line). */
  label: string;
  /** Leave a failed state in place instead of rolling back (it is recorded either way). */
  keep?: boolean;
  /** What the op log records as the arguments (default: the label). */
  logArgs?: Record<string, unknown>;
}

/**
 * What guard needs of the tree it protects: the facade's snapshot, rollback and op log (each of
 * which takes the lock on its own), so the guarded work itself runs without the lock.
 */
export interface GuardedTree {
  snapshot(options: { trigger: string; message: string }): Promise<SnapshotReport>;
  rollback(rev: string, options: { by: string }): Promise<CheckoutReport>;
  logOperation(op: Operation, args: Record<string, unknown>, started: number, result: { commits: string[]; error?: string }): Promise<void>;
}

const pick = (r: { id: string; commit: string; created: boolean }): GuardSnapshot => ({ id: r.id, commit: r.commit, created: r.created });

/**
 * Guard semantics, shared by `shadowgit guard` and `withSnapshot`: snapshot, run `body`; when it
 * throws or `failureOf` names a failure, record the failed state as its own snapshot and roll
 * back to the first one (unless `keep`); on success record the result.
 */
export async function runGuarded<T>(sg: GuardedTree, options: GuardOptions, body: () => Promise<T>, failureOf: (value: T) => string | undefined = () => undefined): Promise<{ report: GuardReport; value?: T; error?: unknown }> {
  const started = Date.now();
  const before = pick(await sg.snapshot({ trigger: 'guard', message: `before ${options.label}` }));
  let value: T | undefined;
  let error: unknown;
  let failure: string | undefined;
  try {
    value = await body();
    failure = failureOf(value);
  } catch (err) {
    error = err;
    failure = err instanceof Error ? err.message : String(err);
  }
  const kept = Boolean(options.keep);
  const logArgs = { ...(options.logArgs ?? { label: options.label }), keep: kept };
  if (failure === undefined) {
    const after = pick(await sg.snapshot({ trigger: 'guard-ok', message: `after ${options.label}` }));
    await sg.logOperation('guard', logArgs, started, { commits: [before.commit, after.commit] });
    return { report: { label: options.label, before, ok: true, after, kept }, value };
  }
  const after = pick(await sg.snapshot({ trigger: 'guard-failed', message: `failed: ${options.label} (${failure})` }));
  let restored: CheckoutReport | undefined;
  if (!kept && after.commit !== before.commit) {
    try {
      // By id, not hash: a prune while the command ran may have rewritten the commit (ids survive).
      restored = await sg.rollback(before.id, { by: 'guard' });
    } catch (err) {
      await sg.logOperation('guard', logArgs, started, { commits: [before.commit, after.commit], error: `${failure}; rollback failed: ${(err as Error).message}` });
      throw new ShadowGitError(
        `${options.label} failed (${failure}) and its state is snapshot ${after.id}, but rolling back to ${before.id} failed: ${(err as Error).message} — run \`shadowgit rollback ${before.id}\` once that is fixed.`,
        'EGUARD',
      );
    }
  }
  await sg.logOperation('guard', logArgs, started, { commits: [before.commit, after.commit], error: failure });
  return { report: { label: options.label, before, ok: false, failure, after, restored, kept }, value, error };
}

export interface ChildOutcome {
  /** The exit code a shell would report: the command's own, or 128 + signal number. */
  exitCode: number;
  signal?: NodeJS.Signals;
}

/**
 * Runs `argv` with inherited stdio (stdout to `stdoutFd` when given). SIGTERM and SIGHUP sent to
 * us are passed on; SIGINT is not, since a terminal's Ctrl-C already reaches the whole group.
 */
export async function runChild(argv: string[], options: { cwd: string; stdoutFd?: number }): Promise<ChildOutcome> {
  const [command, ...args] = argv;
  if (!command) throw new ShadowGitError('name the command to guard after `--`, e.g. `shadowgit guard -- npm run codemod`.', 'EUSAGE');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['inherit', options.stdoutFd ?? 'inherit', 'inherit'] });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const ignore = () => undefined;
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    process.on('SIGINT', ignore);
    const done = () => {
      process.removeListener('SIGTERM', forward);
      process.removeListener('SIGHUP', forward);
      process.removeListener('SIGINT', ignore);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      done();
      const why = err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new ShadowGitError(`cannot run \`${command}\`: ${why}; check the command name and your PATH.`, 'ENOCOMMAND'));
    });
    child.on('exit', (code, signal) => {
      done();
      if (signal) resolve({ exitCode: 128 + (constants.signals[signal] ?? 0), signal });
      else resolve({ exitCode: code ?? 1 });
    });
  });
}
