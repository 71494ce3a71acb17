import { concurrencyScenario } from './lib/concurrency.js';
import { publish } from './lib/report.js';
import { FULL } from './lib/settings.js';

test(`concurrent writers: 4 processes × ${FULL.rounds} rounds and an editor`, async () => {
  const row = publish(await concurrencyScenario({ rounds: FULL.rounds, seed: FULL.seed }));
  expect(row.trials).toBe(4 * FULL.rounds + 1);
  expect(row.notes).toEqual([]);
});
