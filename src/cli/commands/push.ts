import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { color, print, printJson, progress } from '../output.js';

interface Args extends GlobalArgs {
  name?: string;
}

const say = (line: string) => process.stderr.write(`${color.cyan('shadowgit:')} ${line}\n`);

export const pushCommand = defineCommand<Args>({
  name: 'push',
  describe: 'Send the snapshots, approvals and notes not yet on a remote there, in one atomic push',
  positionals: { name: { describe: 'The remote (default: .shadowgit "remote": {"name"}, else the only one)' } },
  examples: [
    ['$0 push', 'push to the only remote'],
    ['$0 push backup --json', 'push to remote backup; machine-readable report'],
  ],
  epilog:
    "Every ref is under this machine's name on the remote (refs/heads/MACHINE, refs/tags/MACHINE/NAME, refs/notes/MACHINE); a push only ever adds to them, so it works against an append-only server, also after a local prune. An interrupted push leaves the remote as it was: run it again. See docs/remote.md.",
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const bar = progress('Sent', Boolean(args.json), 'objects');
      const report = await sg.push(args.name, { onProgress: (p) => p.objects !== undefined && bar.update(p.objects) });
      bar.done();
      if (args.json) {
        printJson(report);
        return;
      }
      for (const warning of report.warnings) say(color.yellow(warning));
      if (report.refs.length === 0) {
        print(`${report.remote} is up to date (machine ${report.machine}).`);
        return;
      }
      const chunks = report.requests > 1 ? ` in ${report.requests} requests (the server refused one that large)` : '';
      const extras = report.refs.length - (report.pushed.length > 0 ? report.requests : 0);
      print(`Pushed ${report.pushed.length} snapshot(s)${extras > 0 ? ` and ${extras} approval/notes ref(s)` : ''} to ${report.remote} (${report.url}) as machine ${report.machine}${chunks}; ${report.objects} objects sent.`);
    }),
});
