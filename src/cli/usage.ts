import { UsageError } from './context.js';

/**
 * Usage mistakes in one voice: every one is a sentence naming what is wrong, quoting what was
 * typed, and pointing to the command's help. yargs finds most of them; its messages are
 * translated here (its locale is fixed to English so they can be).
 */

/** What to say when a command's required arguments are missing, by how many were given. */
export const MISSING_ARGUMENTS: Record<string, string[]> = {
  approve: ['name the revision to approve, e.g. `shadowgit approve "Feature Complete"`'],
  restore: ['name the snapshot to restore from and the paths, e.g. `shadowgit restore latest -- src/app.ts`'],
  export: [
    'name the snapshot to export and where to write it, e.g. `shadowgit export latest ../backup.tar.gz`',
    'name where to write the export (a directory, or a file ending in .tar, .tar.gz or .tgz), e.g. `shadowgit export latest ../backup.tar.gz`',
  ],
  precheck: ['name the files about to change, e.g. `shadowgit precheck src/app.ts`'],
  clone: [
    'name the remote to clone and a new or empty directory, e.g. `shadowgit clone https://git.example.com/backups/app.git ~/src/app`',
    'name a new or empty directory to restore the tree into, e.g. `shadowgit clone https://git.example.com/backups/app.git ~/src/app`',
  ],
  hooks: ['name what to do: install, uninstall or status, e.g. `shadowgit hooks install --agent claude`'],
  remote: ['name what to do: add, list, remove or prune, e.g. `shadowgit remote add origin https://host/path`'],
};

/** Edit distance with transpositions (`lgo` is one step from `log`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * What a mistyped name most likely meant: the names it begins (`roll` → rollback), else the
 * nearest by edit distance, within one edit for short words and two for longer ones.
 * `names` maps every accepted spelling (aliases too) to the name to suggest.
 */
export function closest(typed: string, names: Record<string, string>): string[] {
  const word = typed.toLowerCase();
  const unique = (spellings: string[]) => [...new Set(spellings.map((s) => names[s]!))].sort();
  const spellings = Object.keys(names);
  const prefixed = spellings.filter((name) => name.startsWith(word));
  if (word.length >= 2 && prefixed.length > 0) return unique(prefixed);
  // One or two letters are one edit from too much (`-x` is not a typo of `-C`).
  if (word.length < 3) return [];
  const scored = spellings.map((name) => [name, distance(word, name)] as const);
  const best = Math.min(...scored.map(([, d]) => d));
  return best <= (word.length <= 4 ? 1 : 2) ? unique(scored.filter(([, d]) => d === best).map(([name]) => name)) : [];
}

/** ` (did you mean `a` or `b`?)`, or nothing. */
export function suggestion(candidates: string[], quote = (s: string) => `\`${s}\``): string {
  if (candidates.length === 0) return '';
  const quoted = candidates.map(quote);
  return ` (did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`}?)`;
}

function noSuchCommand(word: string, names: Record<string, string>): string {
  return `there is no command \`${word}\`${suggestion(closest(word, names))}`;
}

export function unknownCommand(word: string, names: Record<string, string>): UsageError {
  return new UsageError(`${noSuchCommand(word, names)}; \`shadowgit --help\` lists the commands.`);
}

/** A usage mistake of `command` (as typed; none when the run named no command): what is wrong, then where help is. */
export function usageMistake(command: string | undefined, what: string): UsageError {
  return new UsageError(`${what.replace(/\.$/, '')}; see \`shadowgit ${command ? `${command} ` : ''}--help\`.`, command);
}

/** An option's value that does not fit, quoted as typed: `--limit takes a whole number greater than 0, not "abc"`. */
export function badValue(option: string, expected: string, typed: string): string {
  return `${option} takes ${expected}, not ${JSON.stringify(typed)}`;
}

/** An option name as it is typed: `-n`, `--limit`. */
export function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** The arguments before `--`: after it nothing is an option. */
function optionPart(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/** Whether the run asks for --json (the last of --json, --json=BOOL, --no-json wins), read before any parser has run. */
export function jsonAmong(argv: string[]): boolean {
  let json = false;
  for (const arg of optionPart(argv)) {
    if (arg === '--json' || arg === '--json=true') json = true;
    else if (arg === '--no-json' || arg === '--json=false') json = false;
  }
  return json;
}

/** The text typed as the value of an option known by any of `names` (its last occurrence), if it can be found. */
export function typedValue(argv: string[], names: string[]): string | undefined {
  const args = optionPart(argv);
  let typed: string | undefined;
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      const spelled = flag(name);
      if (args[i] === spelled && i + 1 < args.length) typed = args[i + 1];
      else if (args[i]!.startsWith(`${spelled}=`)) typed = args[i]!.slice(spelled.length + 1);
      else if (name.length === 1 && args[i]!.startsWith(spelled) && args[i]!.length > 2) typed = args[i]!.slice(2);
    }
  }
  return typed;
}

interface ParserOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  number: string[];
}

/**
 * yargs turns a number option's `abc` into NaN, and a command's check could then only say
 * "not NaN": refuse it first, quoting what was typed. (Range checks stay with each command.)
 */
export function refuseNonNumbers(argv: string[], command: string | undefined, args: Record<string, unknown>, options: ParserOptions): void {
  for (const key of options.number) {
    if (!Number.isNaN(args[key])) continue;
    const typed = typedValue(argv, [key, ...(options.alias[key] ?? [])]);
    throw usageMistake(command, typed === undefined ? `${flag(key)} takes a number` : badValue(flag(key), 'a number', typed));
  }
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The arguments yargs found unknown (named without dashes): options that do not exist, stray words, or a command that does not exist. */
function unknownArguments(argv: string[], names: string[], command: string | undefined, commandNames: Record<string, string>, optionNames: string[]): string {
  const args = optionPart(argv);
  const typedAsOption = (name: string) => args.some((arg) => arg.startsWith('-') && arg.replace(/^-+/, '').split('=')[0] === name);
  const words = names.filter((name) => !typedAsOption(name) && args.includes(name));
  const options = names.filter((name) => !words.includes(name));
  if (!command && words.length > 0) return noSuchCommand(words[0]!, commandNames);
  const parts: string[] = [];
  if (options.length === 1) {
    const maybe = closest(options[0]!, Object.fromEntries(optionNames.map((o) => [o, o]))).map(flag);
    parts.push(`there is no option ${flag(options[0]!)}${suggestion(maybe)}`);
  } else if (options.length > 1) parts.push(`there are no options ${listed(options.map(flag))}`);
  if (words.length > 0) parts.push(`unexpected argument${words.length > 1 ? 's' : ''} ${listed(words.map((w) => JSON.stringify(w)))}`);
  return parts.join(', and ');
}

/** A yargs failure message as one sentence of ours (see usageMistake for the frame). */
export function explainParserFailure(argv: string[], message: string, command: string | undefined, commandNames: Record<string, string>, optionNames: string[]): UsageError {
  const say = (what: string) => usageMistake(command, what);
  let m: RegExpMatchArray | null;
  if ((m = message.match(/^Not enough non-option arguments: got (\d+), need at least (\d+)$/))) {
    const got = Number(m[1]);
    return say(MISSING_ARGUMENTS[command ?? '']?.[got] ?? `${Number(m[2]) - got} more argument(s) needed`);
  }
  if ((m = message.match(/^Too many non-option arguments: got (\d+), maximum of (\d+)$/))) return say(`at most ${m[2]} argument(s) allowed, ${m[1]} given`);
  if ((m = message.match(/^Unknown arguments?: (.*)$/s))) {
    return say(unknownArguments(argv, m[1]!.split(', '), command, commandNames, optionNames));
  }
  if ((m = message.match(/^Not enough arguments following: (.+)$/))) return say(`${flag(m[1]!)} needs a value`);
  if ((m = message.match(/^Missing required arguments?: (.+)$/))) return say(`${m[1]!.split(', ').map(flag).join(' and ')} must be given`);
  if ((m = message.match(/^Arguments (\S+) and (\S+) are mutually exclusive$/))) return say(`${flag(m[1]!)} and ${flag(m[2]!)} cannot be used together`);
  if ((m = message.match(/^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s))) return say(`${flag(m[1]!)} takes one of ${m[3]}, not ${m[2]}`);
  return say(message.replace(/\s*\n\s*/g, ' ').trim());
}
