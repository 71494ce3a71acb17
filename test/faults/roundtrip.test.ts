import fc from 'fast-check';
import { makeSandbox } from '../helpers/sandbox.js';
import { caseArb, cliDriver, roundTrip } from '../property/roundtrip-harness.js';
import { emptyRow, publish } from './lib/report.js';
import { FULL } from './lib/settings.js';

/**
 * The long property-based round trip (test/property/roundtrip-harness.ts) through the real CLI:
 * ROUNDTRIP_RUNS generated cases (default 400) from FAULT_SEED. A failure is shrunk to a
 * minimal case, printed with the seed and path that replay it.
 */

const RUNS = Number(process.env.ROUNDTRIP_RUNS ?? 400);

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
    // A counterexample can hold 4 KiB symlink targets: the note keeps its start, seed and path.
    row.notes.push(`${(fc.defaultReportMessage(result) ?? '').slice(0, 4000)}\n${(result.errorInstance as Error)?.message ?? result.errorInstance}`);
  }
  publish(row);
  expect(row.notes).toEqual([]);
});
