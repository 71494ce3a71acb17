import { crashScenario, type CrashCommand } from './lib/crash.js';
import { publish } from './lib/report.js';
import { FULL } from './lib/settings.js';
import { availableCommands } from './lib/commands.js';

const COMMANDS: CrashCommand[] = ['snapshot', 'approve', 'rollback', 'restore', 'undo', 'prune', 'gc', 'guard', 'recover'];

describe('crash anywhere (full run)', () => {
  for (const command of COMMANDS) {
    test(`${command}: ${FULL.trials} kills (every write step, then random delays), nothing is lost`, async () => {
      const extraChecks = (await availableCommands()).has('verify') ? ['verify'] : [];
      const row = publish(await crashScenario(command, { trials: FULL.trials, seed: FULL.seed, jobs: FULL.jobs, extraChecks }));
      expect(row.trials).toBe(FULL.trials);
      expect(row.notes).toEqual([]);
    });
  }
});
