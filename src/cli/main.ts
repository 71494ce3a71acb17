import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { GLOBAL_FLAGS, type DirectCommand } from './command.js';
import { EXIT_USAGE, type GlobalArgs } from './context.js';
import { color } from './output.js';

const require = createRequire(import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<GlobalArgs, any>;

/**
 * The command word and its index, when it comes first after only global options (`-C dir`,
 * `--json`); anything else (help, typos, options before the command) gets -1.
 */
function commandWordIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-C') i++;
    else if (arg === '--json' || arg.startsWith('-C') || arg.startsWith('--C=')) continue;
    else return /^[a-z]+$/.test(arg) ? i : -1;
  }
  return -1;
}

/** The command a run names (`commands/<word>.js` exporting `<word>Command`), loading only that file. */
async function namedCommand(word: string): Promise<AnyCommand | undefined> {
  const module = (await import(`./commands/${word}.js`).catch(() => undefined)) as Record<string, AnyCommand> | undefined;
  const command = module?.[`${word}Command`];
  return [command?.command].flat()[0]?.split(' ')[0] === word ? command : undefined;
}

/**
 * The commands to register. Loading all of them costs more than a no-change snapshot's scan on
 * a mid-sized tree (each pulls its engine modules), so a run that names its command registers
 * only that one; `--version` alone loads none; help, aliases and mistakes load the full list,
 * so yargs can show everything and suggest the closest command.
 */
async function commandsFor(argv: string[], wordAt: number, named: AnyCommand | undefined): Promise<AnyCommand[]> {
  if (named) return [named];
  if (wordAt < 0 && argv.includes('--version') && !argv.includes('--help') && !argv.includes('-h')) return [];
  return (await import('./commands/index.js')).commands;
}

/** yargs set up with everything but the commands: usage, global flags, help, version, errors. */
export function parserFor(argv: string[]): Argv<GlobalArgs> {
  // yargs guesses a version from the package.json nearest to require.main, else to the current
  // directory: the user's, which may be a FIFO (a hang) or /dev/zero. Point it at shadowgit's own.
  process.mainModule ??= { filename: fileURLToPath(import.meta.url) } as NodeJS.Module;
  // yargs 17's CommonJS build loads in a fifth of the time of its ES module build.
  const yargs = require('yargs/yargs') as (args: string[]) => Argv<object>;
  const { version } = require('../../package.json') as { version: string };
  return yargs(argv)
    .scriptName('shadowgit')
    .usage('$0 <command> [options]\n\nSnapshots of your working tree in a shadow git repository, outside the tree.')
    .options(GLOBAL_FLAGS)
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
}

/** Entry point of `bin/shadowgit`. Heavy libraries (ts-morph, prompts) load only in the commands that use them. */
export async function main(argv: string[]): Promise<void> {
  const at = commandWordIndex(argv);
  const named = at >= 0 ? await namedCommand(argv[at]!) : undefined;
  const direct = (named as DirectCommand | undefined)?.readDirectly?.(argv.filter((_, i) => i !== at));
  if (direct) return void (await named!.handler(direct));
  let cli = parserFor(argv);
  for (const command of await commandsFor(argv, at, named)) cli = cli.command(command);
  await cli.parseAsync();
}
