import type { Argv, CommandModule } from 'yargs';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, relativeTime, short, table } from '../output.js';

interface Args extends GlobalArgs {
  limit?: number;
  approved?: boolean;
}

export const listCommand: CommandModule<GlobalArgs, Args> = {
  command: ['list', 'ls'],
  describe: 'List snapshots, newest first',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('limit', { alias: 'n', type: 'number', requiresArg: true, describe: 'Show at most N snapshots' })
      .check((argv) => {
        if (argv.limit !== undefined && !(Number.isInteger(argv.limit) && argv.limit > 0)) throw new Error('--limit takes a whole number greater than 0.');
        return true;
      })
      .option('approved', { type: 'boolean', describe: 'Only approved revisions' })
      .example('$0 list', 'all snapshots')
      .example('$0 list -n 10 --approved', 'the ten newest approved revisions')
      .example('$0 list --json', 'machine-readable list') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const snapshots = await sg.list({ limit: args.limit, approved: args.approved });
      if (args.json) {
        printJson(snapshots.map(({ id, commit, date, message, trigger, tags, changes }) => ({ id, commit, date, message, trigger, tags, changes })));
        return;
      }
      if (snapshots.length === 0) {
        print(args.approved ? 'No approved revisions yet; `shadowgit approve NAME` makes one.' : 'No snapshots yet; `shadowgit snapshot` records the first.');
        return;
      }
      const rows = snapshots.map((s) => [
        color.bold(s.id),
        short(s.commit),
        `${relativeTime(s.date)}\n${color.dim(absoluteTime(s.date))}`,
        s.trigger,
        s.message,
        s.tags.map((t) => color.green(t)).join('\n'),
        `+${s.changes.added} ~${s.changes.modified} -${s.changes.deleted}`,
      ]);
      print(table(['id', 'commit', 'when', 'trigger', 'message', 'approved', 'changes'], rows));
    }),
};
