import { createRequire } from 'node:module';
import type { Argv, CommandModule } from 'yargs';
import { EXIT_USAGE, type GlobalArgs } from './context.js';
import { color } from './output.js';

const require = createRequire(import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<GlobalArgs, any>;

/**
 * The command word, when it comes first after only global options (`-C dir`, `--json`);
 * anything else (help, typos, options before the command) gets undefined.
 */
function leadingCommandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-C') i++;
    else if (arg === '--json' || arg.startsWith('-C') || arg.startsWith('--C=')) continue;
    else return /^[a-z]+$/.test(arg) ? arg : undefined;
  }
  return undefined;
}

/**
 * The commands to register. Loading all of them costs more than a no-change snapshot's scan on
 * a mid-sized tree (each pulls its engine modules), so a run that names its command loads only
 * `commands/<word>.js` and its `<word>Command`; `--version` alone loads none; help, aliases and
 * mistakes load the full list, so yargs can show everything and suggest the closest command.
 */
async function commandsFor(argv: string[]): Promise<AnyCommand[]> {
  const word = leadingCommandWord(argv);
  if (word) {
    const module = (await import(`./commands/${word}.js`).catch(() => undefined)) as Record<string, AnyCommand> | undefined;
    const command = module?.[`${word}Command`];
    const name = [command?.command].flat()[0]?.split(' ')[0];
    if (command && name === word) return [command];
  } else if (argv.includes('--version') && !argv.includes('--help') && !argv.includes('-h')) return [];
  return (await import('./commands/index.js')).commands;
}

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
  for (const command of await commandsFor(argv)) cli = cli.command(command);
  await cli.parseAsync();
}
