import type { Argv, CommandModule } from 'yargs';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { color, print, printJson } from '../output.js';

interface Args extends GlobalArgs {
  from?: string;
  to?: string;
  patch?: boolean;
}

const LETTER = { added: 'A', modified: 'M', deleted: 'D', mode: 'T' } as const;

/** "M src/app.ts", coloured by status (also used by `show`). */
export function changeLine(change: { path: string; status: keyof typeof LETTER }): string {
  const paint = { added: color.green, modified: color.yellow, deleted: color.red, mode: color.cyan };
  return paint[change.status](`${LETTER[change.status]} ${change.path}`);
}

export const diffCommand: CommandModule<GlobalArgs, Args> = {
  command: 'diff [from] [to]',
  describe: 'Show what changed between snapshots, or between a snapshot and the working tree',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('from', { type: 'string', describe: 'Revision to compare from (default: latest snapshot)' })
      .positional('to', { type: 'string', describe: 'Revision to compare to (default: the working tree)' })
      .option('patch', { alias: 'p', type: 'boolean', describe: 'Show unified diffs' })
      .example('$0 diff', 'latest snapshot → working tree, names only')
      .example('$0 diff "Feature Complete" --patch', 'approved revision → working tree, with patches')
      .example('$0 diff qzkmtvrw latest', 'between two snapshots') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const result = await sg.diff(args.from, args.to);
      const worktree = args.to === undefined;
      if (args.json) {
        const changes = [];
        for (const c of result.changes) changes.push({ path: c.path, status: c.status, ...(args.patch ? { patch: await sg.patch(c, worktree) } : {}) });
        printJson({ from: { id: result.from.id, commit: result.from.commit }, to: result.to ? { id: result.to.id, commit: result.to.commit } : 'worktree', changes });
        return;
      }
      if (result.changes.length === 0) {
        print('No differences.');
        return;
      }
      for (const c of result.changes) {
        if (!args.patch) {
          print(changeLine(c));
          continue;
        }
        for (const line of (await sg.patch(c, worktree)).trimEnd().split('\n')) {
          print(line.startsWith('+') && !line.startsWith('+++') ? color.green(line) : line.startsWith('-') && !line.startsWith('---') ? color.red(line) : line.startsWith('@@') ? color.cyan(line) : line);
        }
      }
    }),
};
