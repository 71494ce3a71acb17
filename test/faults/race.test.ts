/**
 * The race harness, long run (`npm run test:faults`): RACE_TRIALS races per command (default 50;
 * half of them swapping as the checkout's writes begin), seeded by FAULT_SEED. The bounded run is
 * test/safety/race.test.ts; the harness is test/safety/race-harness.ts.
 */
import { RACE_COMMANDS, raceScenarios } from '../safety/race-harness.js';
import { publish } from './lib/report.js';
import { FULL } from './lib/settings.js';

const TRIALS = Number(process.env.RACE_TRIALS ?? 50);

test(`race (full run): ${TRIALS} trials per command of rollback, restore, undo and guard against a process swapping directories for symlinks and files for hard links`, async () => {
  const rows = await raceScenarios(RACE_COMMANDS, { trials: TRIALS, seed: FULL.seed });
  for (const row of rows.map(publish)) {
    expect(row.trials).toBe(TRIALS);
    expect(row.notes).toEqual([]);
  }
});
