import fc from 'fast-check';
import { makeSandbox } from '../helpers/sandbox.js';
import { caseArb, Refusal, roundTrip, type Driver } from '../property/roundtrip-harness.js';
import { emptyRow, publish } from './lib/report.js';
import { clearRefusal, shadowgit } from './lib/run.js';
import { FULL } from './lib/settings.js';

/**
 * The long property-based round trip (test/property/roundtrip-harness.ts) through the real CLI:
 * ROUNDTRIP_RUNS generated cases (default 400) from FAULT_SEED. A failure is shrunk to a
 * minimal case, printed with the seed and path that replay it.
 */

const RUNS = Number(process.env.ROUNDTRIP_RUNS ?? 400);

function cliDriver(worktree: string, env: NodeJS.ProcessEnv): Driver {
  const cli = async (args: string[]) => {
    const run = await shadowgit(args, { cwd: worktree, env });
    if (run.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${run.code}: ${run.stderr.trim()}`);
    return JSON.parse(run.stdout);
  };
  return {
    snapshot: async () => {
      const report = await cli(['snapshot', '--json']);
      return { commit: report.commit, skipped: report.skipped.map((s: { path: string }) => s.path) };
    },
    rollback: async (commit) => {
      const run = await shadowgit(['rollback', commit, '--yes'], { cwd: worktree, env });
      if (run.code === 0) return;
      const unclear = clearRefusal(run);
      if (unclear) throw new Error(`the rollback failed without a clear refusal (${unclear})`);
      throw new Refusal(run.stderr.trim());
    },
    gitdir: async () => (await cli(['status', '--json'])).repo,
  };
}

test(`generated trees round-trip byte for byte through the CLI (${RUNS} runs from seed ${FULL.seed})`, async () => {
  const row = emptyRow('Property round trip (generated names, kinds, swaps)');
  const result = await fc.check(
    fc.asyncProperty(caseArb, async (c) => {
      const sb = makeSandbox('sg-roundtrip-');
      try {
        await roundTrip(sb.worktree, cliDriver(sb.worktree, sb.env), c);
      } finally {
        await sb.cleanup();
      }
    }),
    { seed: FULL.seed, numRuns: RUNS },
  );
  row.trials = result.numRuns;
  if (result.failed) {
    row.failures = 1;
    row.notes.push(`${fc.defaultReportMessage(result)}\n${(result.errorInstance as Error)?.message ?? result.errorInstance}`);
  }
  publish(row);
  expect(row.notes).toEqual([]);
});
