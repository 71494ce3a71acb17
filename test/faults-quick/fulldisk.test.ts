import { fullDiskScenario } from '../faults/lib/fulldisk.js';
import { publish } from '../faults/lib/report.js';

test('a full disk: clear error, nothing lost, works again once space is freed (root only: tmpfs)', async () => {
  const row = publish(await fullDiskScenario({ levels: [0] }));
  expect(row.notes).toEqual([]);
  // Not root: no mount, and the reason is printed instead of a pass.
  expect(row.trials).toBe(row.skipped ? 0 : 3);
});
