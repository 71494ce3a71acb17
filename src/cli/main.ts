import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { commands } from './commands/index.js';
import { EXIT_USAGE, type GlobalArgs } from './context.js';
import { color } from './output.js';

const require = createRequire(import.meta.url);

/** Entry point of `bin/shadowgit`. Heavy libraries (ts-morph, prompts) load only in the commands that use them. */
export async function main(argv: string[]): Promise<void> {
  // yargs 17's CommonJS build loads in a fifth of the time of its ES module build.
  const yargs = require('yargs/yargs') as (args: string[]) => Argv<object>;
  const { version } = require('../../package.json') as { version: string };
  let cli = yargs(argv)
    .scriptName('shadowgit')
    .usage('$0 <command> [options]\n\nSnapshots of your working tree in a shadow git repository, outside the tree.')
    .option('C', { type: 'string', describe: 'Operate on this working tree', requiresArg: true, global: true })
    .option('json', { type: 'boolean', describe: 'Print one JSON document on stdout', global: true })
    .parserConfiguration({ 'populate--': true })
    .version(version)
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command; `shadowgit --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog('Docs: README.md. Every command takes --help.')
    // Command bodies report their own errors (runCommand); what reaches here is a usage mistake.
    .fail((message, err) => {
      process.stderr.write(`${color.red('shadowgit:')} ${message || err?.message} Run \`shadowgit --help\` for usage.\n`);
      process.exit(EXIT_USAGE);
    }) as Argv<GlobalArgs>;
  for (const command of commands) cli = cli.command(command);
  await cli.parseAsync();
}
