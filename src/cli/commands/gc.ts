import type { GcReport } from '../../engine/maintenance/gc.js';
import { defineCommand, type FlagSpec } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, progress } from '../output.js';

interface Args extends GlobalArgs {
  grace: string;
}

/** `--grace`, which prune passes on to its gc. */
export const GRACE_FLAG: FlagSpec = { type: 'string', default: '15m', describe: 'Keep unreachable objects younger than this (0, 90s, 15m, 2h)' };

export function gcJson(report: GcReport): unknown {
  return { ...report, bytesFreed: Math.max(0, report.bytesBefore - report.bytesAfter) };
}

export function renderGc(report: GcReport): void {
  const recent = report.keptRecent > 0 ? `, kept ${report.keptRecent} recent unreachable object(s) for now` : '';
  print(
    `gc: ${formatBytes(report.bytesBefore)} → ${formatBytes(report.bytesAfter)} of objects; deleted ${report.deletedObjects} unreachable object(s)${recent}; ${report.reachableObjects} reachable object(s) in ${report.packs.length} pack(s).`,
  );
}

export const gcCommand = defineCommand<Args>({
  name: 'gc',
  describe: 'Delete objects no snapshot or approved revision needs, and pack the rest',
  flags: { grace: GRACE_FLAG },
  examples: [
    ['$0 gc', 'reclaim space, keeping objects from the last 15 minutes'],
    ['$0 gc --grace 0 --json', 'delete every unreachable object now; machine-readable report'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const bar = progress('Packed', Boolean(args.json), 'objects');
      const report = await sg.gc({ grace: args.grace, onProgress: bar.update });
      bar.done();
      if (args.json) printJson(gcJson(report));
      else renderGc(report);
    }),
});
