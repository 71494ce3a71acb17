import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { allowingHome } from '../firstrun.js';
import { print, printJson } from '../output.js';

export const initCommand = defineCommand<GlobalArgs>({
  name: 'init',
  describe: 'Create the shadow repository now (the first snapshot does this too; or first, to protect the home directory)',
  examples: [['$0 init', 'create the shadow repo for this tree']],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      // Asking for it by name is the deliberate way to protect the home directory, which a
      // first snapshot refuses to do without --yes.
      await (await allowingHome(sg)).init();
      if (args.json) printJson({ worktree: sg.worktree, repo: sg.repoPath });
      else print(`Shadow repository for ${sg.worktree}: ${sg.repoPath}`);
    }),
});
