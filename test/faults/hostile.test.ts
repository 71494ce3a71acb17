import { HOSTILE_CASES, hostileScenario } from './lib/hostile.js';
import { publish } from './lib/report.js';
import { SAFETY_CASES, safetyScenario } from './lib/safety.js';

test('hostile repo and tree content is refused before anything outside the tree is touched', async () => {
  const row = publish(await hostileScenario());
  expect(row.trials).toBe(HOSTILE_CASES);
  expect(row.notes).toEqual([]);
});

test('shadow repo safety and bad config', async () => {
  const row = publish(await safetyScenario());
  expect(row.trials + (row.skipped?.length ?? 0)).toBe(SAFETY_CASES);
  expect(row.notes).toEqual([]);
});
