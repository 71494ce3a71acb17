import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { announcingCreation } from '../firstrun.js';
import { color, printJson, short } from '../output.js';

interface Args extends GlobalArgs {
  keep?: boolean;
  command?: string[];
  '--'?: string[];
}

/** Exit code when the command could not be started at all, as in a shell. */
const EXIT_NOT_RUN = 127;

const say = (line: string) => process.stderr.write(`${color.cyan('shadowgit:')} ${line}\n`);

export const guardCommand = defineCommand<Args>({
  name: 'guard',
  describe: 'Run a command; if it fails, record what it left and roll the tree back',
  positionals: { command: { variadic: true, describe: 'The command and its arguments, after --' } },
  flags: { keep: { type: 'boolean', describe: 'On failure leave the failed state in place (it is still recorded)' } },
  examples: [
    ['$0 guard -- npx eslint --fix .', 'undo everything eslint wrote if it exits non-zero'],
    ['$0 guard -- npm run codemod', 'the same for a codemod'],
    ['$0 guard --keep -- ./migrate.sh', 'record a failed state but leave it in place'],
  ],
  epilog: "Exits with the command's exit code (128 + signal number when it was killed). Files the snapshot ignores (node_modules, build output) are neither recorded nor restored.",
  handler: (args) =>
    runCommand(async () => {
      const argv = [...(args.command ?? []), ...(args['--'] ?? [])].map(String);
      if (argv.length === 0) throw new UsageError('name the command to guard after `--`, e.g. `shadowgit guard -- npm run codemod`.');
      const sg = await openRepo(args);
      const label = `\`${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}\``;
      // With --json the command's stdout goes to stderr, so stdout holds one JSON document.
      const { report, value, error } = await announcingCreation(sg, () => sg.guardCommand(argv, { label, keep: args.keep, cwd: process.cwd(), stdoutFd: args.json ? 2 : undefined }));
      const exitCode = error ? EXIT_NOT_RUN : (value?.exitCode ?? 1);
      if (args.json) {
        printJson({ command: argv, exitCode, ...report });
        return exitCode;
      }
      if (error) {
        say(report.failure ?? 'the command could not be run.');
        return exitCode;
      }
      const { before, after } = report;
      if (report.ok) {
        say(after.created ? `${label} succeeded; recorded the result as snapshot ${color.bold(after.id)} (${short(after.commit)}).` : `${label} succeeded and changed nothing.`);
      } else if (!after.created || after.commit === before.commit) {
        say(`${label} failed (${report.failure}) and changed nothing.`);
      } else if (report.restored) {
        const r = report.restored;
        say(`${label} failed (${report.failure}). Its state is snapshot ${color.bold(after.id)} (${short(after.commit)}); restored the tree to snapshot ${color.bold(before.id)}: ${r.written} file(s) written, ${r.deleted} deleted.`);
        for (const p of r.writtenPaths.slice(0, 20)) say(`  restored ${p}`);
        for (const p of r.deletedPaths.slice(0, 20)) say(`  removed  ${p}`);
        if (r.written + r.deleted > 40) say('  … (see --json for every path)');
        say(`Inspect what it did: \`shadowgit diff ${before.id} ${after.id}\`.`);
      } else {
        say(`${label} failed (${report.failure}); its state is left in place and recorded as snapshot ${color.bold(after.id)}; \`shadowgit rollback ${before.id}\` returns to the state before it.`);
      }
      return exitCode;
    }),
});
