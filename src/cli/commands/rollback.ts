import { defineCommand } from '../command.js';
import type { CheckoutReport, ShadowGit } from '../../shadowgit.js';
import { isInteractive, openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, progress, relativeTime, short } from '../output.js';

interface Args extends GlobalArgs {
  rev?: string;
  yes?: boolean;
}

/** The interactive picker: approved revisions first, then recent snapshots. */
async function pickRevision(sg: ShadowGit): Promise<string | undefined> {
  const { select } = await import('@inquirer/prompts');
  const [snapshots, approved] = await Promise.all([sg.list({ limit: 30 }), sg.approved()]);
  if (snapshots.length === 0) throw new UsageError('there are no snapshots to roll back to; `shadowgit snapshot` records one.');
  const byCommit = new Map(snapshots.map((s) => [s.commit, s]));
  const describe = (commit: string, fallbackDate: Date) => {
    const s = byCommit.get(commit);
    const date = s ? new Date(s.date) : fallbackDate;
    return `${relativeTime(date)} (${absoluteTime(date)})${s ? `  +${s.changes.added} ~${s.changes.modified} -${s.changes.deleted}` : ''}`;
  };
  const choices = [
    ...approved.map((a) => ({ name: `★ ${a.name}  ${color.dim(describe(a.commit, a.date))}`, value: a.commit, description: a.description || undefined })),
    ...snapshots.map((s) => ({ name: `${s.id}  ${s.message}  ${color.dim(describe(s.commit, new Date(s.date)))}`, value: s.commit, description: `trigger: ${s.trigger}` })),
  ];
  return select({ message: 'Roll back to which revision?', choices, pageSize: 15 });
}

export function renderCheckout(verb: string, result: CheckoutReport): void {
  const back = result.preRollback.created ? `recorded the previous state as ${color.bold(result.preRollback.id)}` : `the previous state is snapshot ${color.bold(result.preRollback.id)}`;
  print(`${verb} to ${color.bold(result.target.id)} (${short(result.target.commit)}): ${result.written} written, ${result.deleted} deleted; ${back} — \`shadowgit undo\` returns to it.`);
}

export function checkoutJson(result: CheckoutReport): unknown {
  return {
    target: result.target,
    preRollback: result.preRollback,
    written: result.written,
    deleted: result.deleted,
    writtenPaths: result.writtenPaths,
    deletedPaths: result.deletedPaths,
  };
}

export const rollbackCommand = defineCommand<Args>({
  name: 'rollback',
  describe: 'Return the working tree to a snapshot (records the current state first)',
  positionals: { rev: { describe: 'Snapshot id, commit hash (4+ hex), approved name, or latest~N' } },
  flags: { yes: { alias: 'y', type: 'boolean', describe: 'Do not ask for confirmation' } },
  builder: (y) =>
    y
      .example('$0 rollback', 'pick a revision interactively (in a terminal)')
      .example('$0 rollback "Feature Complete" --yes', 'return to an approved revision')
      .example('$0 rollback latest~1', 'the snapshot before the latest'),
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const interactive = isInteractive(args);
      let rev = args.rev;
      if (!rev) {
        if (!interactive) throw new UsageError('name the revision to roll back to (a snapshot id, hash or approved name); `shadowgit list` shows them.');
        rev = await pickRevision(sg);
        if (!rev) return 1;
      }
      if (interactive && !args.yes) {
        const plan = await sg.planRollback(rev);
        const { confirm } = await import('@inquirer/prompts');
        const ok = await confirm({
          message: `Roll back to ${plan.target.id} (${short(plan.target.commit)})? ${plan.write.length} file(s) will be written and ${plan.delete.length} deleted; the current state is snapshotted first.`,
          default: false,
        });
        if (!ok) {
          print('Nothing changed.');
          return 1;
        }
      }
      const bar = progress('Scanning', Boolean(args.json));
      const result = await sg.rollback(rev, { onProgress: bar.update });
      bar.done();
      if (args.json) printJson(checkoutJson(result));
      else renderCheckout('Rolled back', result);
    }),
});
