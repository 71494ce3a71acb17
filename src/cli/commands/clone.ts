import { defineCommand } from '../command.js';
import { runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson, progress, short, warn } from '../output.js';

interface Args extends GlobalArgs {
  url: string;
  dir: string;
  rev?: string;
  machine?: string;
  name?: string;
}

export const cloneCommand = defineCommand<Args>({
  name: 'clone',
  describe: 'Restore a tree on a new machine: set up its shadow repository from a remote and check a snapshot out into DIR',
  positionals: {
    url: { required: true, describe: 'The remote the snapshots were pushed to (https://host/path)' },
    dir: { required: true, describe: 'A new or empty directory to restore the tree into' },
  },
  flags: {
    rev: { type: 'string', describe: 'The snapshot to check out: id, approved name, latest~N… (default: the latest)' },
    machine: { type: 'string', describe: "Take this machine's backups (default: the machine that pushed last)" },
    name: { type: 'string', describe: 'Record the remote under this name (default: origin)' },
  },
  examples: [
    ['$0 clone https://git.example.com/backups/app.git ~/src/app', 'the latest snapshot, from the machine that pushed last'],
    ['$0 clone URL app --rev "Feature Complete"', 'an approved revision'],
    ['$0 clone URL app --machine laptop-3f2a', "another machine's backups"],
  ],
  handler: (args) =>
    runCommand(async () => {
      // An unset shell variable ("$DIR") would otherwise mean the current directory.
      if (String(args.dir) === '') throw new UsageError('DIR is empty (an unset shell variable?); name a new or empty directory to restore into.', 'clone');
      const { ShadowGit } = await import('../../shadowgit.js');
      const fetched = progress('Fetched', Boolean(args.json), 'objects');
      const written = progress('Checked out', Boolean(args.json));
      const report = await ShadowGit.clone(String(args.url), String(args.dir), {
        rev: args.rev,
        machine: args.machine,
        name: args.name,
        onTransfer: (p) => p.objects !== undefined && fetched.update(p.objects),
        onProgress: written.update,
      });
      fetched.done();
      written.done();
      if (report.otherMachines.length > 0) {
        const how = args.machine === undefined ? 'the one that pushed last' : 'as asked';
        process.stderr.write(`note: the remote holds the backups of ${report.otherMachines.length + 1} machines; took ${report.machine} (${how}). Others: ${report.otherMachines.join(', ')} (\`--machine NAME\` takes one of them).\n`);
      }
      for (const warning of report.warnings) warn(warning);
      if (args.json) {
        printJson(report);
        return;
      }
      const at = report.checkedOut;
      print(`Cloned ${report.snapshots} snapshot(s) and ${report.approved} approved revision(s) of machine ${color.bold(report.machine)} from ${report.url} (remote "${report.remote}").`);
      print(`Checked out snapshot ${color.bold(at.id)} (${short(at.commit)}, ${at.date}) into ${report.worktree}: ${report.written} file(s).`);
    }),
});
