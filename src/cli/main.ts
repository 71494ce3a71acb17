import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, MiddlewareFunction } from 'yargs';
import type { LockOwner } from '../engine/store/lock.js';
import { ShadowGitError } from '../engine/errors.js';
import { GLOBAL_FLAGS, type DirectCommand } from './command.js';
import { EXIT_USAGE, reportFailure, reportFailuresAsJson, UsageError, type GlobalArgs } from './context.js';
import { clockTime, color, print, stopQuietlyOnClosedPipe } from './output.js';
import { HELP_TOPICS } from './topics.js';
import { closest, explainParserFailure, jsonAmong, refuseNonNumbers, suggestion, unknownCommand } from './usage.js';

const require = createRequire(import.meta.url);

const HELP_HINT = '`shadowgit help COMMAND` shows a command\'s options and examples; `shadowgit help config` the .shadowgit settings.';

/** How many arguments at the start are global options (`-C dir`, `--json`, `--no-json`), which may come before the command. */
function leadingGlobalOptions(argv: string[]): number {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if ((arg === '-C' || arg === '--C') && i + 1 < argv.length) i += 2;
    else if (/^(-C.|--C=|--json(=|$)|--no-json$)/.test(arg)) i++;
    else break;
  }
  return i;
}

/** The index of the command word when it comes first after only global options; -1 when an option comes first or nothing does. */
function commandWordIndex(argv: string[]): number {
  const at = leadingGlobalOptions(argv);
  return at < argv.length && !argv[at]!.startsWith('-') ? at : -1;
}

/** The command a run names (`commands/<word>.js` exporting `<word>Command`), loading only that file. */
async function namedCommand(word: string): Promise<DirectCommand | undefined> {
  if (!/^[a-z]+$/.test(word)) return undefined;
  const module = (await import(`./commands/${word}.js`).catch(() => undefined)) as Record<string, DirectCommand> | undefined;
  const command = module?.[`${word}Command`];
  return [command?.command].flat()[0]?.split(' ')[0] === word ? command : undefined;
}

async function allCommands(): Promise<DirectCommand[]> {
  return (await import('./commands/index.js')).commands;
}

/**
 * The commands to register. Loading all of them costs more than a no-change snapshot's scan on
 * a mid-sized tree (each pulls its engine modules), so a run that names its command registers
 * only that one; `--version` alone loads none; help, aliases and mistakes load the full list,
 * so yargs can show everything.
 */
async function commandsFor(argv: string[], wordAt: number, named: DirectCommand | undefined): Promise<DirectCommand[]> {
  if (named) return [named];
  if (wordAt < 0 && argv.includes('--version') && !argv.includes('--help') && !argv.includes('-h')) return [];
  return allCommands();
}

/** Every spelling of the commands' names (aliases too), each mapped to the command's name. */
function commandNames(commands: DirectCommand[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const command of commands) {
    const [name, ...aliases] = [command.command, command.aliases].flat().filter((n): n is string => typeof n === 'string').map((n) => n.split(' ')[0]!);
    for (const spelling of [name!, ...aliases]) names[spelling] = name!;
  }
  return names;
}

/**
 * yargs set up with everything but the commands: usage, global flags, help, version, and usage
 * mistakes thrown as one UsageError sentence each (see usage.ts). `commands` names the
 * registered commands, for suggestions.
 */
export function parserFor(argv: string[], commands: Record<string, string> = {}): Argv<GlobalArgs> {
  // yargs guesses a version from the package.json nearest to require.main, else to the current
  // directory: the user's, which may be a FIFO (a hang) or /dev/zero. Point it at shadowgit's own.
  process.mainModule ??= { filename: fileURLToPath(import.meta.url) } as NodeJS.Module;
  // yargs 17's CommonJS build loads in a fifth of the time of its ES module build.
  const yargs = require('yargs/yargs') as (args: string[]) => Argv<object>;
  const { version } = require('../../package.json') as { version: string };
  const at = commandWordIndex(argv);
  const command = at >= 0 ? argv[at] : undefined;
  let optionNames: string[] = [];
  return (
    yargs(argv)
      .scriptName('shadowgit')
      // Its messages are translated into ours (usage.ts), so they must not follow the user's locale.
      .locale('en')
      .usage('$0 <command> [options]\n\nSnapshots of your working tree in a shadow git repository, outside the tree.')
      .options(GLOBAL_FLAGS)
      // Words after `--` are passed on as typed: `guard -- printf 0x10` must not run `printf 16`.
      .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
      .version(version)
      .alias('h', 'help')
      .strict()
      .demandCommand(1, 'name a command')
      // yargs passes its instance as a middleware's second argument; its types leave it out.
      .middleware(((args: Record<string, unknown>, y: { getOptions(): Parameters<typeof refuseNonNumbers>[3] }) => {
        const options = y.getOptions();
        optionNames = Object.keys(options.key);
        refuseNonNumbers(argv, command, args, options);
      }) as unknown as MiddlewareFunction, true)
      .wrap(Math.min(110, process.stdout.columns || 100))
      .epilog(`${HELP_HINT} Docs: README.md.`)
      .fail((message, err) => {
        // A command body's own failure (no message) is reported by main, not taken for a usage mistake.
        if (!message) throw err;
        throw explainParserFailure(argv, message, command, commands, optionNames);
      }) as Argv<GlobalArgs>
  );
}

/** Says, in a terminal, whom a command waits for when the repository lock is busy. */
function tellLockWait(owner: LockOwner | undefined, file: string): void {
  const who = owner
    ? `pid ${owner.pid}${owner.host === os.hostname() ? '' : ` on ${owner.host}`} (\`${owner.command}\`, since ${clockTime(owner.since)})`
    : `the lock file ${file}, which is being written`;
  process.stderr.write(`${color.cyan('shadowgit:')} waiting for ${who}…\n`);
}

/** Enters a -C directory, as `cd` would: relative to the current directory (the previous -C). */
function enterDirectory(dir: string): void {
  if (dir === '') throw new UsageError('-C needs a directory, not an empty string.');
  try {
    process.chdir(dir);
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    const where = path.resolve(dir);
    if (code === 'ENOENT') throw new UsageError(`-C names ${where}, which does not exist; name the working tree or a directory in it.`);
    if (code === 'ENOTDIR') throw new UsageError(`-C names ${where}, which is not a directory; name the working tree or a directory in it.`);
    throw new ShadowGitError(`cannot enter -C ${dir} (${code ?? (err as Error).message}); check its permissions.`);
  }
}

/**
 * What every command does before its body: start in -C's directory, so the tree is found from
 * there and every path argument and guarded command is taken from there (git's `-C`); note
 * --json for failure reports; in a terminal, say whom a wait for the lock is for.
 */
async function enter(args: GlobalArgs): Promise<void> {
  reportFailuresAsJson(Boolean(args.json));
  for (const dir of [args.C ?? []].flat()) enterDirectory(String(dir));
  if (process.stderr.isTTY && !args.json) (await import('../engine/store/lock.js')).onLockWait(tellLockWait);
}

/** Bare `shadowgit`: what it is for and the commands, once. */
async function shortUsage(argv: string[]): Promise<void> {
  if (jsonAmong(argv)) throw new UsageError('name a command; `shadowgit --help` lists them.');
  const rows = (await allCommands()).map((command) => [[command.command].flat()[0]!.split(' ')[0]!, String(command.describe)]);
  const width = Math.max(...rows.map(([name]) => name!.length));
  const lines = rows.map(([name, describe]) => `  ${name!.padEnd(width)}  ${describe}`);
  process.stderr.write(`usage: shadowgit [-C DIR] [--json] COMMAND [options]\n\n${lines.join('\n')}\n\n${HELP_HINT}\n`);
  process.exitCode = EXIT_USAGE;
}

/** `shadowgit help [COMMAND | TOPIC]`: a command's --help, a topic's text, or the full help. */
async function help(argv: string[], at: number): Promise<void> {
  const globals = argv.slice(0, at);
  const [topic, ...more] = argv.slice(at + 1).filter((arg) => !arg.startsWith('-'));
  if (more.length > 0) throw new UsageError(`name one command or topic, not ${more.length + 1}; \`shadowgit --help\` lists the commands.`, 'help');
  if (topic === undefined || topic === 'help') return dispatch([...globals, '--help']);
  if (Object.hasOwn(HELP_TOPICS, topic)) return print(HELP_TOPICS[topic]!.trimEnd());
  const names = commandNames(await allCommands());
  if (Object.hasOwn(names, topic)) return dispatch([...globals, topic, '--help']);
  const topics = Object.fromEntries(Object.keys(HELP_TOPICS).map((name) => [name, name]));
  throw new UsageError(`there is no command or help topic \`${topic}\`${suggestion(closest(topic, { ...names, ...topics }))}; \`shadowgit --help\` lists the commands, \`shadowgit help config\` the settings.`, 'help');
}

async function dispatch(argv: string[]): Promise<void> {
  if (leadingGlobalOptions(argv) === argv.length) return shortUsage(argv);
  const at = commandWordIndex(argv);
  const word = at >= 0 ? argv[at]! : undefined;
  if (word === 'help') return help(argv, at);
  const named = word === undefined ? undefined : await namedCommand(word);
  const run = (command: DirectCommand) => async (args: ArgumentsCamelCase<GlobalArgs>) => {
    await enter(args);
    await command.handler(args);
  };
  const direct = named?.readDirectly(argv.filter((_, i) => i !== at));
  if (direct) return run(named!)(direct);
  const commands = await commandsFor(argv, at, named);
  const names = commandNames(commands);
  if (word !== undefined && !Object.hasOwn(names, word)) throw unknownCommand(word, names);
  let cli = parserFor(argv, names);
  for (const command of commands) cli = cli.command({ ...command, handler: run(command) });
  await cli.parseAsync();
}

/** Entry point of `bin/shadowgit`. Heavy libraries (ts-morph, prompts) load only in the commands that use them. */
export async function main(argv: string[]): Promise<void> {
  stopQuietlyOnClosedPipe();
  reportFailuresAsJson(jsonAmong(argv));
  try {
    await dispatch(argv);
  } catch (err) {
    reportFailure(err);
    // An agent's hook never blocks the agent (Claude Code reads exit 2 as "block this tool call"):
    // any failure of `hook`, a mistyped flag included, is its one stderr line and exit 0.
    if (argv[commandWordIndex(argv)] === 'hook') process.exitCode = 0;
  }
}
