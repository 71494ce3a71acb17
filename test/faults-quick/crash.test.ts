import { buildFixture, crashScenario, type Fixture } from '../faults/lib/crash.js';
import { publish } from '../faults/lib/report.js';

/**
 * Fixed-seed subset of the crash suite (the full one is `npm run test:faults`): two kill points
 * per command, at the steps where a crash does the most harm, on one shared fixture.
 */
const POINTS = {
  snapshot: ['object:1', 'ref:1'],
  approve: ['commit:1', 'ref:2'],
  rollback: ['journal:1', 'worktree-file:3'],
  restore: ['worktree-file:1', 'statcache:2'],
  undo: ['worktree-file:2', 'ref:1'],
  prune: ['prune-journal:1', 'prune-ref:1'],
  gc: ['pack:1', 'gc-delete:5'],
  guard: ['journal:1', 'worktree-file:1'],
  recover: ['journal:1', 'worktree-file:1'],
} as const;

describe('crash anywhere (quick, fixed seed)', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await buildFixture(6);
  });
  afterAll(() => fixture?.sandbox.cleanup());

  for (const [command, points] of Object.entries(POINTS)) {
    test(`${command}: killed at ${points.join(', ')}, nothing is lost`, async () => {
      const row = publish(await crashScenario(command as keyof typeof POINTS, { trials: points.length, seed: 6, points: [...points] }, fixture));
      expect(row.notes).toEqual([]);
      expect(row.failures).toBe(0);
      expect(row.trials).toBe(points.length);
    });
  }
});
