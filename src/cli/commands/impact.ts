import type { ImpactResult } from '../../impact/index.js';
import { defineCommand, type FlagSpec } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson } from '../output.js';

export type ImpactFormat = 'text' | 'json' | 'dot' | 'mermaid';

interface Args extends GlobalArgs {
  paths?: string[];
  since?: string;
  depth?: number;
  format?: ImpactFormat;
  types?: boolean;
  testsOnly?: boolean;
}

/** `--types`, which precheck takes too. */
export const TYPES_FLAG: FlagSpec = { type: 'boolean', default: true, describe: 'Count `import type`/`export type` edges (--no-types leaves them out)' };

/** The documented JSON shape (plus errors, deleted and stats): no edges, those are for pictures. */
export function impactJson(result: ImpactResult): Record<string, unknown> {
  return { targets: result.targets, dependents: result.dependents, tests: result.tests, unresolved: result.unresolved, errors: result.errors, deleted: result.deleted, stats: result.stats };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function chain(via: string[]): string {
  return via.map((p, i) => (i === 0 ? color.bold(p) : p)).join(color.dim(' → '));
}

/** The human-readable report; `limit` caps each list (precheck keeps to one screen). */
export function printImpactText(result: ImpactResult, options: { limit?: number; heading?: string } = {}): void {
  const limit = options.limit ?? Infinity;
  const capped = <T>(list: T[], show: (item: T) => void, max = limit) => {
    for (const item of list.slice(0, max)) show(item);
    if (list.length > max) print(color.dim(`  …and ${list.length - max} more (see --json)`));
  };
  // Gaps and parse errors concern the whole tree, not only this change: a few lines are enough.
  const problems = Math.min(limit, 20);
  if (options.heading !== undefined) print(options.heading);
  print(color.bold(`Changed (${result.targets.length}):`));
  capped(result.targets, (t) => print(`  ${t}`));
  if (result.deleted.length > 0) {
    print(color.bold(`Deleted (${result.deleted.length}):`));
    capped(result.deleted, (t) => print(color.red(`  ${t}`)));
  }
  print('');
  if (result.dependents.length === 0) print(result.targets.length === 0 ? 'No modules changed.' : 'No dependents: nothing in the tree imports these files.');
  else {
    print(color.bold(`Dependents (${result.dependents.length}):`));
    let shown = 0;
    let depth = 0;
    for (const d of result.dependents) {
      if (shown >= limit) break;
      if (d.depth !== depth) {
        depth = d.depth;
        const count = result.dependents.filter((x) => x.depth === depth).length;
        print(color.cyan(`  depth ${depth} (${count}${depth === 1 ? ' direct' : ''})`));
      }
      print(`    ${chain(d.via)}`);
      shown++;
    }
    if (result.dependents.length > shown) print(color.dim(`    …and ${result.dependents.length - shown} more (see --json)`));
  }
  print('');
  if (result.tests.length === 0) print('Tests: none of the affected files is a test.');
  else {
    print(color.bold(`Tests (${result.tests.length}):`));
    capped(result.tests, (t) => print(color.green(`  ${t}`)));
  }
  if (result.unresolved.length > 0) {
    print('');
    print(color.yellow(`Unresolved (${result.unresolved.length}) — imports of this tree that lead nowhere, so dependents may be missing:`));
    capped(result.unresolved, (u) => print(`  ${u.from}: '${u.specifier}'`), problems);
  }
  if (result.errors.length > 0) {
    print('');
    print(color.yellow(`Problems (${result.errors.length}) — syntax errors (the imports around them still count), unparsed or unreadable files, bad tsconfig files:`));
    capped(result.errors, (e) => print(`  ${e.path}${/^\d/.test(e.message) ? ':' : ': '}${e.message}`), problems);
  }
  print('');
  const direct = result.dependents.filter((d) => d.depth === 1).length;
  const s = result.stats;
  print(
    color.dim(
      `${plural(result.dependents.length, 'dependent')} (${direct} direct), ${plural(result.tests.length, 'test')}; ${plural(s.files, 'file')} in the graph, ${s.parsed} parsed, ${s.reused} from cache; ${(s.ms / 1000).toFixed(2)} s`,
    ),
  );
}

export const impactCommand = defineCommand<Args>({
  name: 'impact',
  describe: 'Show what imports these files, directly or transitively, and which tests cover them',
  positionals: { paths: { variadic: true, describe: 'Files (or directories) about to change' } },
  flags: {
    since: { type: 'string', describe: 'Analyse every module changed between REV (snapshot id, hash or approved name) and the working tree' },
    depth: { type: 'number', describe: 'Follow importers at most N steps' },
    format: { type: 'string', choices: ['text', 'json', 'dot', 'mermaid'], describe: 'Output format (--json is --format json)' },
    types: TYPES_FLAG,
    'tests-only': { type: 'boolean', describe: 'Print only the affected test files, one per line' },
  },
  examples: [
    ['$0 impact src/engine/store/objects.ts', 'dependents with chains, tests, counts'],
    ['$0 impact --since "Feature Complete"', 'everything changed since an approved revision'],
    ['$0 impact src/a.ts --format mermaid', 'the affected subgraph as a Mermaid chart'],
    ['npx jest $($0 impact src/a.ts --tests-only)', 'run only the tests a change reaches'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const format: ImpactFormat = args.json ? 'json' : (args.format ?? 'text');
      if (args.json && args.format && args.format !== 'json') throw new UsageError('--json and --format ' + args.format + ' disagree; pass one of them.');
      const paths = args.paths ?? [];
      if (paths.length === 0 && args.since === undefined) throw new UsageError('name the files about to change, e.g. `shadowgit impact src/app.ts`, or pass --since REV.');
      if (paths.length > 0 && args.since !== undefined) throw new UsageError('pass files or --since REV, not both.');
      if (args.depth !== undefined && (!Number.isInteger(args.depth) || args.depth < 1)) throw new UsageError('--depth must be a whole number of at least 1.');
      const sg = await openRepo(args);
      const { impact } = await import('../../impact/index.js');
      const result = await impact(sg, { paths, since: args.since, cwd: process.cwd(), depth: args.depth, types: args.types });
      if (args.testsOnly) {
        if (format === 'json') printJson({ tests: result.tests });
        else for (const t of result.tests) print(t);
        return;
      }
      if (format === 'json') printJson(impactJson(result));
      else if (format === 'dot' || format === 'mermaid') {
        const { toDot, toMermaid } = await import('../../impact/format.js');
        process.stdout.write(format === 'dot' ? toDot(result) : toMermaid(result));
      } else printImpactText(result);
    }),
});
