import { HOSTILE_CASES, hostileScenario } from '../faults/lib/hostile.js';
import { publish } from '../faults/lib/report.js';

test('hostile trees, symlinks out of the tree and damaged objects are refused before anything outside is touched', async () => {
  const row = publish(await hostileScenario());
  expect(row.notes).toEqual([]);
  expect(row.trials).toBe(HOSTILE_CASES);
  expect(row.bytesLost).toBe(0);
});
