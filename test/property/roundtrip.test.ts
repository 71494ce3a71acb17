import fc from 'fast-check';
import { makeSandbox } from '../helpers/sandbox.js';
import { caseArb, libraryDriver, roundTrip } from './roundtrip-harness.js';

/**
 * The property-based round trip, bounded and with a fixed seed so `npm test` is repeatable:
 * in process through the library API (the CLI costs a process start per command). The long
 * run in test/faults/roundtrip.test.ts drives the real CLI with fresh seeds.
 */

const RUNS = 25;

test(`generated trees round-trip byte for byte through snapshot and rollback (${RUNS} runs, fixed seed)`, async () => {
  const previousHome = process.env.SHADOWGIT_HOME;
  try {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const sb = makeSandbox('sg-prop-');
        process.env.SHADOWGIT_HOME = sb.home;
        try {
          await roundTrip(sb.worktree, libraryDriver(sb.worktree), c);
        } finally {
          await sb.cleanup();
        }
      }),
      { seed: 1717, numRuns: RUNS, endOnFailure: false },
    );
  } finally {
    if (previousHome === undefined) delete process.env.SHADOWGIT_HOME;
    else process.env.SHADOWGIT_HOME = previousHome;
  }
}, 120_000);
