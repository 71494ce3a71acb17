import type { RecoverReport } from '../../engine/protect/recover.js';
import type { AbandonReport } from '../../shadowgit.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson, short, table } from '../output.js';

interface Args extends GlobalArgs {
  paths?: string[];
  'abandon-interrupted'?: boolean;
  '--'?: string[];
}

export function renderRecover(report: RecoverReport): void {
  if (report.restored.length > 0) {
    print(table(['Restored', 'Was', 'From snapshot'], report.restored.map((r) => [r.path, r.problem, `${r.from.id} (${short(r.from.commit)})`])));
    // Every restore of a damaged file writes it, so each has its pre-restore snapshot.
    const before = report.restores[0]!.preRollback!.id;
    print(`The state before recovery is snapshot ${color.bold(before)}; \`shadowgit rollback ${before}\` returns to it.`);
  }
  for (const u of report.unrecoverable) print(color.red(`Cannot recover ${u.path} (${u.problem}): no snapshot holds a healthy copy.`));
  for (const p of report.healthy) print(`${p} is healthy; left alone.`);
  if (report.restored.length === 0 && report.unrecoverable.length === 0 && report.healthy.length === 0) print('Nothing to recover: every critical file is healthy.');
}

function renderAbandoned(report: AbandonReport): void {
  const left = report.left.created ? `recorded the tree as it was left as snapshot ${color.bold(report.left.id)}` : `the tree as it was left is snapshot ${color.bold(report.left.id)}`;
  print(`Gave up the interrupted ${report.op} to ${short(report.target)}: ${left}; \`shadowgit undo\` returns to the state before it (${short(report.before)}).`);
}

export const recoverCommand = defineCommand<Args>({
  name: 'recover',
  describe: 'Restore damaged critical files (or the named files) from the newest snapshot where they were healthy',
  positionals: { paths: { variadic: true, describe: 'Files to check and restore (default: every damaged critical file)' } },
  flags: { 'abandon-interrupted': { type: 'boolean', describe: 'Give up an interrupted rollback, restore or undo that cannot be finished: record the tree as it was left, then drop the journal' } },
  examples: [
    ['$0 recover', 'restore every critical file `shadowgit doctor` reports as damaged'],
    ['$0 recover -- src/main.ts config/app.json', 'check and restore these files'],
    ['$0 recover --abandon-interrupted', 'when every command says an interrupted rollback could not be finished'],
  ],
  epilog: 'A file is damaged when it is missing, empty, all NUL bytes, or does not parse (JSON, TypeScript/JavaScript). A snapshot of the current state is taken first.',
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const named = [...(args.paths ?? []), ...(args['--'] ?? [])].map(String);
      if (args['abandon-interrupted']) {
        if (named.length > 0) throw new UsageError('--abandon-interrupted takes no paths; run it alone, then `shadowgit recover -- PATH…` if you still need to.');
        const abandoned = await sg.abandonInterrupted();
        if (args.json) printJson(abandoned);
        else renderAbandoned(abandoned);
        return 0;
      }
      const report = await sg.recover(named.length > 0 ? named.map((p) => sg.toWorktreePath(p, process.cwd())) : undefined);
      if (args.json) printJson(report);
      else renderRecover(report);
      return report.unrecoverable.length > 0 ? 1 : 0;
    }),
});
