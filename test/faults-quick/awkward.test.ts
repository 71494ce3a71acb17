import { awkwardCases, awkwardScenario } from '../faults/lib/awkward.js';
import { publish } from '../faults/lib/report.js';

const SIZES = { manyFiles: 500, sparseBytes: 12 * 2 ** 20, churnSnapshots: 2 };

test('awkward working trees are recorded byte-exact, or skipped, reported and left alone', async () => {
  const row = publish(await awkwardScenario(SIZES));
  expect(row.notes).toEqual([]);
  expect(row.trials).toBe(awkwardCases(SIZES).length);
});
