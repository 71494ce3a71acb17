import { publish } from '../faults/lib/report.js';
import { SAFETY_CASES, safetyScenario } from '../faults/lib/safety.js';

test('shadow repo is 0700; unsafe repos and bad config are refused with the reason, line and key', async () => {
  const row = publish(await safetyScenario());
  expect(row.notes).toEqual([]);
  expect(row.trials + (row.skipped?.length ?? 0)).toBe(SAFETY_CASES);
});
