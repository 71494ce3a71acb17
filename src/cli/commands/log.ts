import { OPERATIONS } from '../../engine/store/oplog.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, short, table } from '../output.js';

interface Args extends GlobalArgs {
  limit: number;
  op?: string[];
}

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(' ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** A logged commit as it is named now: rewritten by a prune, it shows the new hash (and the old one it was logged as). */
function describeCommit(logged: string, current: string | null | undefined): string {
  if (current === null) return `${short(logged)} ${color.dim('(pruned)')}`;
  if (current === undefined || current === logged) return short(logged);
  return `${short(current)} ${color.dim(`(was ${short(logged)})`)}`;
}

export const logCommand = defineCommand<Args>({
  name: 'log',
  describe: 'Show the operation log: every command that changed the shadow repo or the working tree',
  flags: {
    limit: { alias: 'n', type: 'number', default: 20, describe: 'Show the newest N operations' },
    op: { type: 'string', array: true, describe: `Only these operations (${OPERATIONS.join(', ')})` },
  },
  examples: [
    ['$0 log', 'the last 20 operations, newest first'],
    ['$0 log --op guard --op rollback -n 50', 'only guards and rollbacks'],
    ['$0 log --json', 'machine-readable, oldest first'],
  ],
  handler: (args) =>
    runCommand(async () => {
      if (!Number.isInteger(args.limit) || args.limit < 1) throw new UsageError(`--limit must be a positive whole number, not ${args.limit}.`);
      const unknown = args.op?.map(String).find((op) => !(OPERATIONS as readonly string[]).includes(op));
      if (unknown !== undefined) throw new UsageError(`--op "${unknown}" is not an operation; the log records ${OPERATIONS.join(', ')}.`);
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
        o.commits.map((logged, i) => describeCommit(logged, o.currentCommits[i])).join(' '),
        `${(o.durationMs / 1000).toFixed(1)} s`,
        describeArgs(o.args),
      ]);
      print(table(['Time', 'Operation', 'Outcome', 'Commits', 'Took', 'Arguments'], rows));
    }),
});
