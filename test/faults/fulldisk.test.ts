import { fullDiskScenario } from './lib/fulldisk.js';
import { publish } from './lib/report.js';

/** Free space left before each snapshot: from nothing to enough for part of the new objects. */
const LEVELS = [0, 1024, 4096, 16 * 1024, 64 * 1024, 128 * 1024, 200 * 1024, 280 * 1024, 320 * 1024, 400 * 1024];

test('full disk: clear error, nothing lost, works again once space is freed', async () => {
  const row = publish(await fullDiskScenario({ levels: LEVELS }));
  expect(row.trials).toBe(row.skipped ? 0 : LEVELS.length + 2);
  expect(row.notes).toEqual([]);
});
