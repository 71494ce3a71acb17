import { awkwardCases, awkwardScenario } from './lib/awkward.js';
import { publish } from './lib/report.js';

const SIZES = { manyFiles: 100_000, sparseBytes: 2 * 2 ** 30, churnSnapshots: 5 };

test('awkward working trees (100,000 files in one directory, a sparse 2 GiB file, …)', async () => {
  const row = publish(await awkwardScenario(SIZES));
  expect(row.trials).toBe(awkwardCases(SIZES).length);
  expect(row.notes).toEqual([]);
});
