import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { print, printJson, progress } from '../output.js';

interface Args extends GlobalArgs {
  name?: string;
}

export const fetchCommand = defineCommand<Args>({
  name: 'fetch',
  describe: "Bring every machine's snapshots, approvals and notes from a remote (list --remote NAME shows them)",
  positionals: { name: { describe: 'The remote (default: .shadowgit "remote": {"name"}, else the only one)' } },
  examples: [
    ['$0 fetch', 'fetch from the only remote'],
    ['$0 fetch origin && $0 list --remote origin', 'then see what every machine pushed'],
    ['$0 diff origin/laptop-3f2a/latest', 'compare the tree with the newest snapshot machine laptop-3f2a pushed'],
  ],
  epilog:
    "Fetched chains are kept under refs/remotes/NAME/MACHINE; their snapshots resolve as NAME/MACHINE/ID (or NAME/MACHINE/latest~N), and a plain id that only a fetched chain holds resolves too, for diff, show, restore, rollback and export. See docs/remote.md.",
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const bar = progress('Received', Boolean(args.json), 'objects');
      const report = await sg.fetch(args.name, { onProgress: (p) => p.objects !== undefined && bar.update(p.objects) });
      bar.done();
      if (args.json) {
        printJson(report);
        return;
      }
      if (report.machines.length === 0) {
        print(`${report.remote} (${report.url}) holds no snapshots yet.`);
        return;
      }
      const machines = report.machines.map((m) => `${m.machine}${m.approvals ? ` (${m.approvals} approved)` : ''}`).join(', ');
      print(`Fetched ${report.remote}: ${report.machines.length} machine(s) — ${machines}; ${report.updated.length} ref(s) updated, ${report.objects} objects received. \`shadowgit list --remote ${report.remote}\` shows them.`);
    }),
});
