import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ArgumentsCamelCase, Argv, CommandModule, Options } from 'yargs';
import type { GlobalArgs } from './context.js';

/** A flag of a command: the part of yargs' option settings that node's util.parseArgs reads the same way. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  alias?: string;
  describe: string;
  /** Take the next argument whatever it looks like (`--note-file -`). */
  nargs?: 1;
  conflicts?: string;
}

/** The options every command takes; yargs registers them as global ones. */
export const GLOBAL_FLAGS = {
  C: { type: 'string', describe: 'Run as if started in this directory (like git -C)', requiresArg: true, global: true },
  json: { type: 'boolean', describe: 'Print one JSON document on stdout', global: true },
} as const satisfies Record<string, FlagSpec & Options>;

export interface CommandSpec<A extends GlobalArgs> {
  /** The command word. */
  name: string;
  describe: string;
  /** Its positionals, all strings, in order, the required ones first (yargs' `approve <name>`, `rollback [rev]`). */
  positionals?: Record<string, { describe: string; required?: true }>;
  flags?: Record<string, FlagSpec>;
  /** Examples and epilog. */
  builder?: (y: Argv<A>) => Argv<A>;
  handler: (args: A) => Promise<void>;
}

/** A command whose arguments can also be read without yargs (see readDirectly). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface DirectCommand extends CommandModule<GlobalArgs, any> {
  readDirectly(argv: string[]): ArgumentsCamelCase<GlobalArgs> | undefined;
}

/** A string flag always takes a value: `snapshot -m` alone is a mistake, not an empty message. */
function valueRequired(flags: Record<string, FlagSpec>): Record<string, FlagSpec & Options> {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flag.type === 'string' && !flag.nargs ? { ...flag, requiresArg: true } : flag]));
}

const camelCase = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * Declares a command once for both parsers: yargs (help, suggestions, every error message) and
 * a direct reading of simple argument lists (see readDirectly).
 */
export function defineCommand<A extends GlobalArgs>(spec: CommandSpec<A>): DirectCommand {
  const positionals = Object.entries(spec.positionals ?? {});
  const required = positionals.filter(([, positional]) => positional.required).length;
  const flags: Record<string, FlagSpec> = { ...GLOBAL_FLAGS, ...spec.flags };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, flag] of Object.entries(flags)) options[name] = { type: flag.type, ...(flag.alias ? { short: flag.alias } : {}) };
  return {
    command: [spec.name, ...positionals.map(([name, positional]) => (positional.required ? `<${name}>` : `[${name}]`))].join(' '),
    describe: spec.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let withArgs = y as unknown as Argv<A>;
      for (const [name, positional] of positionals) {
        withArgs = withArgs.positional(name, { type: 'string', describe: positional.describe, ...(positional.required ? { demandOption: true } : {}) });
      }
      if (spec.flags) withArgs = withArgs.options(valueRequired(spec.flags)) as unknown as Argv<A>;
      return spec.builder ? spec.builder(withArgs) : withArgs;
    },
    handler: (args) => spec.handler(args as unknown as A),
    /**
     * yargs costs ~55 ms a run (loading it, and rendering the command's help to keep it), which
     * is a fifth of a snapshot that runs before every edit. An argument list made only of this
     * command's positionals and flags, each given once, in a form both parsers read alike, is
     * read here with node's built-in parseArgs; anything else (help, a typo, a repeated flag,
     * `-mtext`, `--`, conflicting flags) returns undefined and goes to yargs, which also
     * reports every mistake.
     */
    readDirectly(argv: string[]) {
      // yargs' tokenizer takes an argument of dashes only (`approve ---`) for a value, then blanks
      // it when it fills in the positional; parseArgs takes it for an option. Marked, it reads as a value.
      const marked = argv.map((arg) => (/^-{3,}$/.test(arg) ? `\0${arg}` : arg));
      let parsed: ReturnType<typeof parseArgs>;
      try {
        parsed = parseArgs({ args: marked, options, strict: true, allowPositionals: true, tokens: true });
      } catch {
        return undefined;
      }
      const seen = new Set<string>();
      const tokens = parsed.tokens!;
      for (const [i, token] of tokens.entries()) {
        if (token.kind === 'option-terminator') return undefined;
        if (token.kind !== 'option') continue;
        if (token.value?.startsWith('\0')) return undefined;
        // yargs reads `-mtext` as the flags -m -t -e -x -t; parseArgs as -m "text".
        if (token.inlineValue && !token.rawName.startsWith('--')) return undefined;
        // yargs takes a `true`/`false` after a boolean flag as its value; parseArgs as a positional.
        const next = tokens[i + 1];
        if (flags[token.name]!.type === 'boolean' && next?.kind === 'positional' && /^(true|false)$/.test(next.value)) return undefined;
        if (seen.has(token.name)) return undefined;
        seen.add(token.name);
      }
      for (const [name, flag] of Object.entries(flags)) if (flag.conflicts && seen.has(name) && seen.has(flag.conflicts)) return undefined;
      if (parsed.positionals.length < required || parsed.positionals.length > positionals.length) return undefined;
      const args: Record<string, unknown> = { _: [spec.name], $0: 'shadowgit' };
      parsed.positionals.forEach((value, i) => (args[positionals[i]![0]] = value.replace(/^\0/, '')));
      for (const [name, value] of Object.entries(parsed.values)) {
        args[name] = value;
        args[camelCase(name)] = value;
        const alias = flags[name]?.alias;
        if (alias) args[alias] = value;
      }
      return args as ArgumentsCamelCase<GlobalArgs>;
    },
  };
}
