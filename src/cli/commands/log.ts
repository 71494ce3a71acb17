import type { Argv, CommandModule } from 'yargs';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, short, table } from '../output.js';

interface Args extends GlobalArgs {
  limit: number;
  op?: string[];
}

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(' ') : String(v)}`)
    .join(', ');
}

export const logCommand: CommandModule<GlobalArgs, Args> = {
  command: 'log',
  describe: 'Show the operation log: every command that changed the shadow repo or the working tree',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('limit', { alias: 'n', type: 'number', default: 20, describe: 'Show the newest N operations' })
      .option('op', { type: 'string', array: true, describe: 'Only these operations (snapshot, rollback, restore, undo, approve, guard, safe-edit, …)' })
      .example('$0 log', 'the last 20 operations, newest first')
      .example('$0 log --op guard --op rollback -n 50', 'only guards and rollbacks')
      .example('$0 log --json', 'machine-readable, oldest first') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      if (!Number.isInteger(args.limit) || args.limit < 1) throw new UsageError(`--limit must be a positive whole number, not ${args.limit}.`);
      const sg = await openRepo(args);
      const ops = await sg.operations({ limit: args.limit, ops: args.op?.map(String) });
      if (args.json) {
        printJson(ops);
        return;
      }
      if (ops.length === 0) {
        print(args.op ? `No ${args.op.join('/')} operations logged.` : 'No operations logged yet.');
        return;
      }
      const rows = [...ops].reverse().map((o) => [
        absoluteTime(o.time),
        o.op,
        o.outcome === 'ok' ? color.green('ok') : color.red(`error: ${o.error ?? ''}`),
        o.commits.map(short).join(' '),
        `${(o.durationMs / 1000).toFixed(1)} s`,
        describeArgs(o.args),
      ]);
      print(table(['Time', 'Operation', 'Outcome', 'Commits', 'Took', 'Arguments'], rows));
    }),
};
