import { defineCommand } from '../command.js';
import type { CheckoutReport, RollbackPlan, ShadowGit } from '../../shadowgit.js';
import { ask, cancellable, EXIT_DECLINED, PromptCancelled } from '../prompt.js';
import { isInteractive, openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson, progress, relativeTime, short, warn } from '../output.js';

interface Args extends GlobalArgs {
  rev?: string;
  yes?: boolean;
}

/** What a rollback would do to the tree as it is now, in a few words. */
function effect(plan: RollbackPlan | Error): string {
  if (plan instanceof Error) return 'cannot be read (`shadowgit verify`)';
  if (plan.write.length === 0 && plan.delete.length === 0) return 'matches the tree now';
  return `${plan.write.length} to write, ${plan.delete.length} to delete`;
}

/** `text` cut with an ellipsis to at most `width` characters (at least one is kept). */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(width - 1, 1))}…`;
}

/**
 * The interactive picker: approved revisions first (with their snapshot ids), then recent
 * snapshots, each with what rolling back to it would write and delete in the tree as it is now
 * (one scan, then only the trees that differ are read). Typing filters the list; the line under
 * it gives the highlighted entry's date and trigger or description.
 */
async function pickRevision(sg: ShadowGit): Promise<string> {
  const [snapshots, approved] = await Promise.all([sg.list({ limit: 30 }), sg.approved()]);
  if (snapshots.length === 0) throw new UsageError('there are no snapshots to roll back to; `shadowgit snapshot` records one.');
  const commits = [...new Set([...approved.map((a) => a.commit), ...snapshots.map((s) => s.commit)])];
  const plans = await sg.planRollbacks(commits);
  const planOf = new Map(commits.map((commit, i) => [commit, plans[i]!]));
  // The cursor column and a margin: a line as wide as the terminal wraps in some of them.
  const width = (process.stdout.columns || 80) - 3;
  /** One line: the free text (a name, a message) cut so that the whole fits the terminal. */
  const line = (before: string, text: string, after: string) => {
    const tail = `  ${after}`;
    return `${before}${fit(text, width - before.length - tail.length)}${color.dim(tail)}`;
  };
  const choices = [
    ...approved.map((a) => {
      const plan = planOf.get(a.commit)!;
      const id = plan instanceof Error ? short(a.commit) : plan.target.id;
      return {
        name: line('★ ', a.name, `${id}  ${relativeTime(a.date)}  ${effect(plan)}`),
        value: a.commit,
        description: `approved ${absoluteTime(a.date)}${a.description ? ` · ${a.description}` : ''}`,
        filter: `${a.name} ${id} ${a.commit}`,
      };
    }),
    ...snapshots.map((s) => ({
      name: line(`${s.id}  `, s.message, `${relativeTime(s.date)}  ${effect(planOf.get(s.commit)!)}`),
      value: s.commit,
      description: `${absoluteTime(s.date)} · trigger: ${s.trigger}${s.tags.length > 0 ? ` · approved as ${s.tags.join(', ')}` : ''}`,
      filter: `${s.id} ${s.message} ${s.commit} ${s.tags.join(' ')}`,
    })),
  ];
  const { search } = await import('@inquirer/prompts');
  return ask(search<string>, {
    message: 'Roll back to which revision? (type to filter, Esc to cancel)',
    pageSize: 15,
    source: async (term: string | undefined) => {
      const words = (term ?? '').toLowerCase().split(/\s+/).filter(Boolean);
      return choices.filter((c) => words.every((w) => c.filter.toLowerCase().includes(w)));
    },
  });
}

/** How many paths the confirmation lists before it counts the rest. */
const LISTED_PATHS = 10;

/** Asks before rolling back, listing what would be written and deleted; a "no" cancels. */
async function confirmRollback(plan: RollbackPlan): Promise<void> {
  const changes = [...plan.write.map((p) => ({ p, verb: 'write ' })), ...plan.delete.map((p) => ({ p, verb: 'delete' }))].sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  const listed = changes.slice(0, LISTED_PATHS).map(({ p, verb }) => `    ${verb}  ${p}`);
  if (changes.length > LISTED_PATHS) listed.push(`    …and ${changes.length - LISTED_PATHS} more`);
  const { confirm } = await import('@inquirer/prompts');
  const ok = await ask(confirm, {
    message: [`Roll back to ${plan.target.id} (${short(plan.target.commit)}), writing ${plan.write.length} file(s) and deleting ${plan.delete.length}?`, ...listed, '  The current state is snapshotted first.'].join('\n'),
    default: false,
  });
  if (!ok) throw new PromptCancelled(EXIT_DECLINED);
}

export function renderCheckout(verb: string, result: CheckoutReport, unchanged = 'Already at'): void {
  const target = `${color.bold(result.target.id)} (${short(result.target.commit)})`;
  if (!result.preRollback) return print(`${unchanged} ${target}; nothing to do.`);
  const back = result.preRollback.created ? `recorded the previous state as ${color.bold(result.preRollback.id)}` : `the previous state is snapshot ${color.bold(result.preRollback.id)}`;
  print(`${verb} to ${target}: ${result.written} written, ${result.deleted} deleted; ${back} — \`shadowgit undo\` returns to it.`);
  for (const warning of result.warnings) warn(warning);
}

export function checkoutJson(result: CheckoutReport): unknown {
  return {
    target: result.target,
    preRollback: result.preRollback,
    written: result.written,
    deleted: result.deleted,
    writtenPaths: result.writtenPaths,
    deletedPaths: result.deletedPaths,
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
  };
}

export const rollbackCommand = defineCommand<Args>({
  name: 'rollback',
  describe: 'Return the working tree to a snapshot (records the current state first)',
  positionals: { rev: { describe: "Snapshot id, commit hash (4+ hex), approved name, latest~N, or prompt:N@SESSION (before an agent's prompt N)" } },
  flags: { yes: { alias: 'y', type: 'boolean', describe: 'Do not ask for confirmation' } },
  examples: [
    ['$0 rollback', 'pick a revision interactively (in a terminal)'],
    ['$0 rollback "Feature Complete" --yes', 'return to an approved revision'],
    ['$0 rollback latest~1', 'the snapshot before the latest'],
    ['$0 rollback prompt:2@3f2a', 'the tree right before prompt 2 of agent session 3f2a… (`shadowgit sessions`)'],
  ],
  handler: (args) =>
    runCommand(
      cancellable(async () => {
        const sg = await openRepo(args);
        const interactive = isInteractive(args);
        let rev = args.rev;
        if (!rev) {
          if (!interactive) throw new UsageError('name the revision to roll back to (a snapshot id, hash or approved name); `shadowgit list` shows them.');
          rev = await pickRevision(sg);
        }
        if (interactive && !args.yes) {
          const plan = await sg.planRollback(rev);
          if (plan.write.length === 0 && plan.delete.length === 0) {
            renderCheckout('Rolled back', { target: plan.target, written: 0, deleted: 0, writtenPaths: [], deletedPaths: [], warnings: [] });
            return 0;
          }
          await confirmRollback(plan);
        }
        const bar = progress('Scanning', Boolean(args.json));
        const result = await sg.rollback(rev, { onProgress: bar.update });
        bar.done();
        if (args.json) printJson(checkoutJson(result));
        else renderCheckout('Rolled back', result);
      }),
    ),
});
