import { changeLine } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { absoluteTime, color, print, printJson } from '../output.js';

interface Args extends GlobalArgs {
  rev: string;
}

export const showCommand = defineCommand<Args>({
  name: 'show',
  describe: "Show a snapshot's message, trailers, note and changed files",
  positionals: { rev: { default: 'latest', describe: 'Snapshot id, commit hash, approved name, latest~N, or prompt:N@SESSION' } },
  examples: [
    ['$0 show', 'the latest snapshot'],
    ['$0 show "Feature Complete" --json', 'an approved revision, machine-readable'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const { snapshot: s, approved, trailers, note, changes } = await sg.show(String(args.rev));
      if (args.json) {
        printJson({ id: s.id, commit: s.commit, parent: s.parent ?? null, tree: s.tree, date: s.date.toISOString(), message: s.message, trigger: s.trigger, approved, trailers, note: note ?? null, changes: changes.map((c) => ({ path: c.path, status: c.status })) });
        return;
      }
      print(`${color.yellow(`snapshot ${s.id}`)} (commit ${s.commit})${approved.length ? ` ${color.green(`[${approved.join(', ')}]`)}` : ''}`);
      print(`Date:    ${absoluteTime(s.date)} (${s.date.toISOString()})`);
      print(`Trigger: ${s.trigger}`);
      print();
      for (const line of s.message.split('\n')) print(`    ${line}`);
      print();
      for (const [key, value] of Object.entries(trailers)) print(`    ${color.dim(`${key}: ${value}`)}`);
      if (note !== undefined) {
        print();
        print(color.cyan('Note:'));
        for (const line of note.trimEnd().split('\n')) print(`    ${line}`);
      }
      print();
      if (changes.length === 0) print('No files changed.');
      for (const c of changes) print(changeLine(c));
    }),
});
