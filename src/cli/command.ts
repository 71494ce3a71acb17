import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ArgumentsCamelCase, Argv, CommandModule, Options, PositionalOptions } from 'yargs';
import type { GlobalArgs } from './context.js';

/** A flag of a command: the part of yargs' option settings that node's util.parseArgs can be made to read the same way. */
export interface FlagSpec {
  type: 'string' | 'boolean' | 'number';
  alias?: string;
  describe: string;
  /** Take the next argument whatever it looks like (`--note-file -`). */
  nargs?: 1;
  /** May be repeated, each value kept (`--op guard --op rollback`). */
  array?: true;
  default?: string | number | boolean;
  /** The only values it takes (help lists them instead of the type). */
  choices?: readonly string[];
  /** Flags that cannot be given with this one. */
  conflicts?: string | string[];
}

/** A positional of a command; all are strings. */
export interface PositionalSpec {
  describe: string;
  required?: true;
  /** Takes every remaining word (`restore <rev> [paths..]`); only the last positional may. */
  variadic?: true;
  default?: string;
}

/** The options every command takes; yargs registers them as global ones. */
export const GLOBAL_FLAGS = {
  C: { type: 'string', describe: 'Run as if started in this directory (like git -C)', requiresArg: true, global: true },
  json: { type: 'boolean', describe: 'Print one JSON document on stdout', global: true },
} as const satisfies Record<string, FlagSpec & Options>;

export interface CommandSpec<A extends GlobalArgs> {
  /** The command word. */
  name: string;
  /** Other words for it (`ls` for `list`). */
  aliases?: string[];
  describe: string;
  /** Its positionals in order, the required ones first (yargs' `approve <name>`, `rollback [rev]`, `restore <rev> [paths..]`). */
  positionals?: Record<string, PositionalSpec>;
  flags?: Record<string, FlagSpec>;
  /** A check of the parsed arguments that yargs reports as a usage mistake: what is wrong, or undefined. */
  check?: (args: A) => string | undefined;
  /** Command lines (`$0` for shadowgit) and what each does, for --help. */
  examples?: Array<[string, string]>;
  epilog?: string;
  handler: (args: A) => Promise<void>;
}

/** A command whose arguments can also be read without yargs (see readDirectly). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface DirectCommand extends CommandModule<GlobalArgs, any> {
  readDirectly(argv: string[]): ArgumentsCamelCase<GlobalArgs> | undefined;
}

/**
 * The flag as yargs' option: a flag that takes a value always takes one (`snapshot -m` alone is
 * a mistake, not an empty message); one with choices shows them in place of its type.
 */
function yargsOption(flag: FlagSpec): Options {
  const { type, conflicts: _registeredApart, ...rest } = flag;
  return { ...(flag.choices ? {} : { type }), ...rest, ...(type !== 'boolean' && !flag.nargs ? { requiresArg: true } : {}) };
}

const camelCase = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** A number as yargs reads it, when it reads it the plain way: digits only, no sign, no leading zero. */
const plainNumber = (text: string) => (/^(0|[1-9]\d{0,14})$/.test(text) ? Number(text) : undefined);

/**
 * Declares a command once for both parsers: yargs (help, suggestions, every error message) and
 * a direct reading of simple argument lists (see readDirectly).
 */
export function defineCommand<A extends GlobalArgs>(spec: CommandSpec<A>): DirectCommand {
  const positionals = Object.entries(spec.positionals ?? {});
  const required = positionals.filter(([, positional]) => positional.required).length;
  const variadic = positionals.at(-1)?.[1].variadic ? positionals.at(-1)![0] : undefined;
  const flags: Record<string, FlagSpec> = { ...GLOBAL_FLAGS, ...spec.flags };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = { type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.alias ? { short: flag.alias } : {}), ...(flag.array ? { multiple: true } : {}) };
  }
  const check = spec.check;
  return {
    command: [spec.name, ...positionals.map(([name, p]) => (p.required ? `<${name}${p.variadic ? '..' : ''}>` : `[${name}${p.variadic ? '..' : ''}]`))].join(' '),
    ...(spec.aliases ? { aliases: spec.aliases } : {}),
    describe: spec.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let withArgs = y as unknown as Argv<A>;
      for (const [name, p] of positionals) {
        // yargs demands a required variadic itself; demanding it again would change its help.
        const settings: PositionalOptions = { type: 'string', describe: p.describe, ...(p.variadic ? { array: true } : {}), ...(p.required && !p.variadic ? { demandOption: true } : {}), ...(p.default !== undefined ? { default: p.default } : {}) };
        withArgs = withArgs.positional(name, settings);
      }
      for (const [name, flag] of Object.entries(spec.flags ?? {})) {
        withArgs = withArgs.option(name, yargsOption(flag)) as unknown as Argv<A>;
        if (flag.conflicts) withArgs = withArgs.conflicts(name, flag.conflicts);
      }
      if (check) {
        withArgs = withArgs.check((args) => {
          const mistake = check(args as unknown as A);
          if (mistake) throw new Error(mistake);
          return true;
        });
      }
      for (const [line, what] of spec.examples ?? []) withArgs = withArgs.example(line, what);
      return spec.epilog ? withArgs.epilog(spec.epilog) : withArgs;
    },
    handler: (args) => spec.handler(args as unknown as A),
    /**
     * yargs costs ~55 ms a run (loading it, and rendering the command's help to keep it), which
     * is a fifth of a snapshot that runs before every edit. An argument list made only of this
     * command's positionals and flags, in a form both parsers read alike, is read here with
     * node's built-in parseArgs; anything else (help, a typo, a repeated flag, `-mtext`,
     * `--no-gc`, a number written other than in plain digits, conflicting flags, a failed
     * check) returns undefined and goes to yargs, which also reports every mistake.
     */
    readDirectly(argv: string[]) {
      // parseArgs takes a word of three or more dashes (`approve ---`) for an option, and yargs
      // blanks it when it fills in a positional: marked, it reads as the value it is.
      const marked = argv.map((arg) => (/^-{3,}$/.test(arg) ? `\0${arg}` : arg));
      let parsed: ReturnType<typeof parseArgs>;
      try {
        parsed = parseArgs({ args: marked, options, strict: true, allowPositionals: true, tokens: true });
      } catch {
        return undefined;
      }
      const seen = new Set<string>();
      const words: string[] = [];
      let afterDashes: string[] | undefined;
      const tokens = parsed.tokens!;
      for (const [i, token] of tokens.entries()) {
        if (token.kind === 'option-terminator') {
          // Only a command that takes any number of words reads words after `--` (into args['--']).
          if (variadic === undefined) return undefined;
          afterDashes = [];
          continue;
        }
        if (token.kind === 'positional') {
          // yargs blanks a word of dashes only (`export latest -`) when it fills in a positional.
          if (!afterDashes && /^-+$/.test(token.value)) return undefined;
          (afterDashes ?? words).push(token.value.replace(/^\0/, ''));
          continue;
        }
        if (token.value?.startsWith('\0')) return undefined;
        // yargs reads `-mtext` as the flags -m -t -e -x -t; parseArgs as -m "text".
        if (token.inlineValue && !token.rawName.startsWith('--')) return undefined;
        const flag = flags[token.name]!;
        const next = tokens[i + 1];
        // yargs takes a `true`/`false` after a boolean flag as its value; parseArgs as a positional.
        if (flag.type === 'boolean' && next?.kind === 'positional' && /^(true|false)$/.test(next.value)) return undefined;
        // yargs' array flags take every word up to the next option (`--op a b`).
        if (flag.array && next?.kind === 'positional') return undefined;
        if (seen.has(token.name) && !flag.array) return undefined;
        if (flag.type === 'number' && plainNumber(token.value!) === undefined) return undefined;
        if (flag.choices && !flag.choices.includes(token.value!)) return undefined;
        seen.add(token.name);
      }
      for (const [name, flag] of Object.entries(flags)) if (flag.conflicts && seen.has(name) && [flag.conflicts].flat().some((other) => seen.has(other))) return undefined;
      if (words.length < required || (variadic === undefined && words.length > positionals.length)) return undefined;
      const args: Record<string, unknown> = { _: [spec.name], $0: 'shadowgit' };
      for (const [i, [name, positional]] of positionals.entries()) {
        if (name === variadic) args[name] = words.slice(i);
        else if (i < words.length) args[name] = words[i];
        else if (positional.default !== undefined) args[name] = positional.default;
      }
      if (afterDashes && afterDashes.length > 0) args['--'] = afterDashes;
      for (const [name, flag] of Object.entries(flags)) {
        const given = parsed.values[name];
        const value = given === undefined ? flag.default : flag.type === 'number' ? plainNumber(String(given)) : given;
        if (value === undefined) continue;
        args[name] = value;
        args[camelCase(name)] = value;
        if (flag.alias) args[flag.alias] = value;
      }
      if (check?.(args as unknown as A)) return undefined;
      return args as ArgumentsCamelCase<GlobalArgs>;
    },
  };
}
