import { concurrencyScenario } from '../faults/lib/concurrency.js';
import { publish } from '../faults/lib/report.js';

test('four concurrent shadowgit processes and an editor: no lost snapshot, linear chain, clear refusals', async () => {
  const row = publish(await concurrencyScenario({ rounds: 4, seed: 6 }));
  expect(row.notes).toEqual([]);
  expect(row.trials).toBe(4 * 4 + 1);
  expect(row.snapshotsLost).toBe(0);
});
