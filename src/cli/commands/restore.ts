import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { printJson } from '../output.js';
import { checkoutJson, renderCheckout } from './rollback.js';

interface Args extends GlobalArgs {
  rev: string;
  paths?: string[];
  '--'?: string[];
}

export const restoreCommand = defineCommand<Args>({
  name: 'restore',
  describe: 'Restore single files or directories from a snapshot (records the current state first)',
  positionals: {
    rev: { required: true, describe: 'Snapshot id, commit hash, approved name, latest~N, or prompt:N@SESSION' },
    paths: { variadic: true, describe: 'Files or directories, after --' },
  },
  examples: [
    ['$0 restore latest -- src/app.ts', 'bring back one file as it was in the latest snapshot'],
    ['$0 restore "Feature Complete" -- src/ docs/', 'restore two directories'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const paths = [...(args.paths ?? []), ...(args['--'] ?? [])].map(String);
      if (paths.length === 0) throw new UsageError('name the files or directories to restore after `--`, e.g. `shadowgit restore latest -- src/app.ts`.');
      const sg = await openRepo(args);
      const result = await sg.restore(String(args.rev), paths, { cwd: process.cwd() });
      if (args.json) printJson(checkoutJson(result));
      else renderCheckout('Restored', result, 'The paths named already match');
    }),
});
