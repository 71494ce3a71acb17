import { buildFixture, crashScenario, type Fixture } from '../faults/lib/crash.js';
import { publish } from '../faults/lib/report.js';

/**
 * Fixed-seed subset of the crash suite (the full one is `npm run test:faults`): a kill point or
 * two per command, at the steps where a crash does the most harm, on one shared fixture.
 */
const POINTS = {
  snapshot: ['object:1'],
  approve: ['ref:2'],
  rollback: ['journal:1', 'worktree-file:3'],
  restore: ['worktree-file:1'],
  undo: ['worktree-file:2'],
  prune: ['prune-ref:1'],
  gc: ['gc-delete:5'],
  guard: ['worktree-file:1'],
  // The restore of one path that used to leave its temp file behind.
  recover: ['worktree-file:1'],
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
