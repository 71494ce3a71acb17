import type { RetentionPolicy } from '../../engine/config.js';
import type { PruneReport } from '../../shadowgit.js';
import { defineCommand, type FlagSpec } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, progress, short, table } from '../output.js';
import { GRACE_FLAG, gcJson, renderGc } from './gc.js';

/** yargs camel-cases --keep-last into keepLast: the flags land as the policy's own fields. */
interface Args extends GlobalArgs, RetentionPolicy {
  dryRun?: boolean;
  gc: boolean;
  grace: string;
}

/** The retention policy's flags (yargs camel-cases them into RetentionPolicy's fields); `remote prune` takes them too. */
export const POLICY_FLAGS = {
  'keep-last': { type: 'number', describe: 'Keep the N newest snapshots' },
  'keep-hourly': { type: 'number', describe: 'Keep the newest snapshot of each of the last N hours that have one' },
  'keep-daily': { type: 'number', describe: 'Keep the newest snapshot of each of the last N days that have one' },
  'keep-weekly': { type: 'number', describe: 'Keep the newest snapshot of each of the last N weeks (ISO) that have one' },
  'keep-monthly': { type: 'number', describe: 'Keep the newest snapshot of each of the last N months that have one' },
  'keep-within': { type: 'string', describe: 'Keep every snapshot within this duration of the newest (2d, 36h, 1y6m)' },
} satisfies Record<string, FlagSpec>;

/** The policy the flags gave (every field undefined: none given). */
export const policyOf = (args: RetentionPolicy): RetentionPolicy => ({ keepLast: args.keepLast, keepHourly: args.keepHourly, keepDaily: args.keepDaily, keepWeekly: args.keepWeekly, keepMonthly: args.keepMonthly, keepWithin: args.keepWithin });

function policyWithSource(report: PruneReport): string {
  const source = { options: 'command line', config: '.shadowgit', default: 'default policy' }[report.policySource];
  return `${report.policyText} (${source})`;
}

export const pruneCommand = defineCommand<Args>({
  name: 'prune',
  describe: 'Remove old snapshots by a retention policy, then reclaim their space (gc)',
  flags: {
    ...POLICY_FLAGS,
    'dry-run': { alias: 'n', type: 'boolean', describe: 'Only show what would be removed and why each snapshot is kept' },
    gc: { type: 'boolean', default: true, describe: 'Run gc afterwards (--no-gc to skip)' },
    grace: { ...GRACE_FLAG, describe: 'gc keeps unreachable objects younger than this (0, 90s, 15m, 2h)' },
  },
  examples: [
    ['$0 prune --dry-run', 'preview the policy from .shadowgit (or the default)'],
    ['$0 prune --keep-last 20 --keep-daily 7', 'keep the 20 newest and one a day for a week'],
    ['$0 prune --keep-within 36h --no-gc', 'keep the last 36 hours; reclaim space later'],
  ],
  epilog: 'Approved revisions and the snapshots undo needs are always kept. Default policy: last 50, hourly 24, daily 7, weekly 4.',
  handler: (args) =>
    runCommand(async () => {
      const policy = policyOf(args);
      const sg = await openRepo(args);
      const bar = progress('Packed', Boolean(args.json), 'objects');
      const report = await sg.prune({ policy, dryRun: args.dryRun, gc: args.gc, grace: args.grace, onProgress: bar.update });
      bar.done();
      if (args.json) {
        const { decisions, gc, ...rest } = report;
        const snapshots = decisions.map((d) => ({ id: d.snapshot.id, commit: d.snapshot.commit, date: d.snapshot.date.toISOString(), message: d.snapshot.message, keep: d.keep, reasons: d.reasons }));
        printJson({ ...rest, snapshots, ...(gc ? { gc: gcJson(gc) } : {}) });
        return;
      }
      if (report.dryRun) {
        const rows = report.decisions.map((d) => [
          color.bold(d.snapshot.id),
          short(d.snapshot.commit),
          absoluteTime(d.snapshot.date),
          d.snapshot.message,
          d.keep ? color.green('keep') : color.red('remove'),
          d.reasons.join('\n'),
        ]);
        if (rows.length > 0) print(table(['id', 'commit', 'date', 'message', 'action', 'why kept'], rows));
        print(`Would remove ${report.removed} of ${report.decisions.length} snapshots; policy: ${policyWithSource(report)}.`);
        return;
      }
      const rewritten = report.rewritten > 0 ? `; ${report.rewritten} kept snapshot(s) got new commit hashes (their ids are unchanged, and their old hashes still resolve)` : '';
      print(`Removed ${report.removed} of ${report.decisions.length} snapshots, kept ${report.kept}${rewritten}; policy: ${policyWithSource(report)}.`);
      if (report.gc) renderGc(report.gc);
    }),
});
