import type { Argv, CommandModule } from 'yargs';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { color, print, printJson, progress, short, warnSkipped } from '../output.js';

interface Args extends GlobalArgs {
  message?: string;
}

export const snapshotCommand: CommandModule<GlobalArgs, Args> = {
  command: 'snapshot',
  describe: 'Record the whole working tree as a snapshot',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('message', { alias: 'm', type: 'string', describe: 'What this snapshot is for' })
      .example('$0 snapshot', 'record the working tree')
      .example('$0 snapshot -m "before codemod"', 'record it with a message')
      .example('$0 snapshot --json', 'machine-readable result') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const bar = progress('Scanning', Boolean(args.json));
      const result = await sg.snapshot({ message: args.message, onProgress: bar.update });
      bar.done();
      if (args.json) {
        printJson({ id: result.id, commit: result.commit, created: result.created, changes: result.changes, skipped: result.skipped });
        return;
      }
      warnSkipped(result.skipped);
      const { added, modified, deleted } = result.changes;
      if (result.created) print(`Recorded snapshot ${color.bold(result.id)} (${short(result.commit)}): ${color.green(`+${added}`)} ${color.yellow(`~${modified}`)} ${color.red(`-${deleted}`)}`);
      else print(`No changes since snapshot ${color.bold(result.id)} (${short(result.commit)}); nothing recorded.`);
    }),
};
