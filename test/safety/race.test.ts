/**
 * The race harness, bounded (fixed seed, a few trials): a second process swaps directories for
 * symlinks and files for hard links to a victim while rollback, restore, undo and guard run.
 * The long run is test/faults/race.test.ts.
 */
import { publish } from '../faults/lib/report.js';
import { RACE_COMMANDS, raceScenarios } from './race-harness.js';

test('rollback, restore, undo and guard under directory↔symlink and hard-link swaps: the victim is untouched, the tree old or new or journalled', async () => {
  const rows = await raceScenarios(RACE_COMMANDS, { trials: 1, seed: 17 });
  for (const row of rows.map(publish)) {
    expect(row.trials).toBe(1);
    expect(row.notes).toEqual([]);
  }
}, 600000);
