import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, formatBytes, print, printJson, short } from '../output.js';

interface Args extends GlobalArgs {
  rev: string;
  out: string;
  force?: boolean;
}

export const exportCommand = defineCommand<Args>({
  name: 'export',
  describe: 'Write a snapshot as a clean copy: a directory, or a .tar / .tar.gz archive',
  positionals: {
    rev: { required: true, describe: 'Snapshot id, commit hash, approved name, latest~N, or prompt:N@SESSION' },
    out: { required: true, describe: 'Directory, or a file name ending in .tar, .tar.gz or .tgz' },
  },
  flags: { force: { alias: 'f', type: 'boolean', describe: 'Replace OUT if it is a previous export (a directory holding .shadowgit-export, or an archive export wrote)' } },
  examples: [
    ['$0 export "Feature Complete" ../release', 'the approved revision as a directory'],
    ['$0 export latest ../snapshot.tar.gz', 'the latest snapshot as a gzipped tarball'],
    ['$0 export qzkmtvrw out --force', 'replace an existing export'],
  ],
  handler: (args) =>
    runCommand(async () => {
      // An unset shell variable ("$OUT") would otherwise mean the current directory.
      if (String(args.out) === '') throw new UsageError('OUT is empty (an unset shell variable?); name the directory or .tar/.tar.gz file to write, e.g. `shadowgit export latest ../snapshot.tar.gz`.');
      const sg = await openRepo(args);
      const info = await sg.resolve(String(args.rev));
      const result = await sg.export(info.commit, String(args.out), { force: args.force, cwd: process.cwd() });
      if (args.json) {
        printJson({ id: info.id, commit: info.commit, ...result });
        return;
      }
      const what = result.format === 'directory' ? 'directory' : `${result.format} archive`;
      print(`Exported snapshot ${color.bold(info.id)} (${short(info.commit)}) to ${what} ${result.out}: ${result.files} file(s), ${result.symlinks} symlink(s), ${formatBytes(result.bytes)}.`);
    }),
});
