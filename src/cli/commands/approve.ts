import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { announcingCreation } from '../firstrun.js';
import { color, print, printJson, short, warn } from '../output.js';

interface Args extends GlobalArgs {
  name: string;
  message?: string;
  force?: boolean;
}

export const approveCommand = defineCommand<Args>({
  name: 'approve',
  describe: 'Mark the current state as an approved revision (annotated tag)',
  positionals: { name: { describe: 'Display name, spaces allowed ("Feature Complete")', required: true } },
  flags: {
    message: { alias: 'm', type: 'string', describe: 'Description stored with the approval' },
    force: { alias: 'f', type: 'boolean', describe: 'Move the name if it is already in use' },
  },
  examples: [
    ['$0 approve "Feature Complete"', 'snapshot if needed, then tag it'],
    ['$0 approve v2-login -m "login flow reviewed"', 'with a description'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const result = await announcingCreation(sg, () => sg.approve(String(args.name), { description: args.message, force: args.force }));
      // .shadowgit "remote": {"push": "approve"}: the approval goes off-machine now; a failed push leaves it standing.
      const autoPush = sg.config.remote?.push === 'approve';
      const pushError = autoPush ? await sg.push().then(() => undefined, (err: Error) => err.message) : undefined;
      if (pushError) warn(`the approval stands, but pushing it failed: ${pushError}`);
      if (args.json) {
        printJson({ name: result.name, tag: result.tag, commit: result.commit, id: result.id, ...(autoPush ? { pushed: pushError === undefined } : {}) });
        return;
      }
      print(`Approved ${color.green(`"${result.name}"`)} (tag ${result.tag}) on snapshot ${color.bold(result.id)} (${short(result.commit)})${result.snapshotCreated ? ', recorded just now' : ''}.`);
    }),
});
