import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { printJson } from '../output.js';
import { checkoutJson, renderCheckout } from './rollback.js';

export const undoCommand = defineCommand<GlobalArgs>({
  name: 'undo',
  describe: 'Return to the state before the last rollback, restore or undo',
  examples: [['$0 undo', 'take back the last rollback (undo again to redo it)']],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const result = await sg.undo();
      if (args.json) printJson(checkoutJson(result));
      else renderCheckout('Undone: back', result);
    }),
});
