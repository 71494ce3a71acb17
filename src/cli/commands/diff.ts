import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { ChangeStat, FileChange } from '../../engine/snapshot/diff.js';
import { ShadowGitError } from '../../engine/errors.js';
import type { ShadowGit } from '../../shadowgit.js';
import { changeLine } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson } from '../output.js';

interface Args extends GlobalArgs {
  from?: string;
  to?: string;
  paths?: string[];
  patch?: boolean;
  stat?: boolean;
  '--'?: string[];
}

const existsHere = (word: string) => lstatSync(path.resolve(process.cwd(), word), { throwIfNoEntry: false }) !== undefined;

/**
 * Splits `diff`'s words before any `--` as git does: revisions first (at most two), and from the
 * first word that names no revision but an existing file or directory, paths. A word that is both
 * is refused as ambiguous; one that is neither gets the revision's error.
 */
async function revisionsAndPaths(sg: ShadowGit, words: string[]): Promise<{ revisions: string[]; paths: string[] }> {
  const revisions: string[] = [];
  for (const [i, word] of words.entries()) {
    const isPath = existsHere(word);
    const notRevision = revisions.length >= 2 ? undefined : await sg.resolve(word).then(() => undefined, (err: unknown) => err);
    if (notRevision === undefined && revisions.length < 2) {
      if (isPath) throw new UsageError(`"${word}" is both a revision and a path; write \`shadowgit diff ${word} --\` for the revision or \`shadowgit diff -- ${word}\` for the path.`);
      revisions.push(word);
      continue;
    }
    if (notRevision !== undefined && !(notRevision instanceof ShadowGitError && notRevision.code === 'EBADREV')) throw notRevision;
    if (!isPath) {
      if (notRevision) throw notRevision;
      throw new UsageError(`"${word}" is no file or directory here and diff compares at most two revisions; a path that no longer exists goes after \`--\`.`);
    }
    const missing = words.slice(i).find((p) => !existsHere(p));
    if (missing !== undefined) throw new UsageError(`"${missing}" is no file or directory here; a path that no longer exists goes after \`--\`, e.g. \`shadowgit diff -- ${missing}\`.`);
    return { revisions, paths: words.slice(i) };
  }
  return { revisions, paths: [] };
}

/** The words of the command line: revisions, then paths (after `--`, or recognised as paths). */
async function diffRequest(sg: ShadowGit, args: Args): Promise<{ from?: string; to?: string; paths?: string[] }> {
  // yargs fills from, to, paths in order: they are only the words as typed, sorted out here.
  const words = [args.from, args.to, ...(args.paths ?? [])].filter((w): w is string => w !== undefined).map(String);
  // yargs leaves `--` out when nothing follows it, and `diff REV --` must still mean "REV is a revision".
  const afterDashes = args['--']?.map(String) ?? (process.argv.includes('--') ? [] : undefined);
  if (afterDashes && words.length > 2) throw new UsageError(`diff compares at most two revisions, and ${words.length} come before \`--\`; name paths after it.`);
  const { revisions, paths } = afterDashes ? { revisions: words, paths: afterDashes } : await revisionsAndPaths(sg, words);
  return { from: revisions[0], to: revisions[1], paths: paths.length > 0 ? paths : undefined };
}

/** git's scale_linear: 0 stays 0, anything else gets at least one column. */
const scaled = (n: number, width: number, max: number) => (n === 0 ? 0 : 1 + Math.floor((n * (width - 1)) / max));

/** Columns of the terminal, as git's term_columns finds them: $COLUMNS, else the tty's, else 80. */
function terminalColumns(): number {
  const fromEnv = Number(process.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return (process.stdout.isTTY && process.stdout.columns) || 80;
}

/** `git diff --stat`'s lines: name | count and a +/- graph (or Bin old -> new bytes) per file, then the summary. */
export function statLines(entries: Array<{ path: string; stat: ChangeStat }>, columns = terminalColumns()): string[] {
  let maxChange = 0;
  let binWidth = 0;
  let numberWidth = 0;
  for (const { stat } of entries) {
    if ('binary' in stat) {
      binWidth = Math.max(binWidth, 14 + String(stat.newBytes).length + String(stat.oldBytes).length);
      numberWidth = 3;
    } else maxChange = Math.max(maxChange, stat.insertions + stat.deletions);
  }
  numberWidth = Math.max(numberWidth, String(maxChange).length);
  const width = Math.max(columns, 16 + 6 + numberWidth);
  let graphWidth = maxChange + 4 > binWidth ? maxChange : binWidth - 4;
  let nameWidth = Math.max(0, ...entries.map((e) => e.path.length));
  if (nameWidth + numberWidth + 6 + graphWidth > width) {
    if (graphWidth > Math.floor((width * 3) / 8) - numberWidth - 6) graphWidth = Math.max(6, Math.floor((width * 3) / 8) - numberWidth - 6);
    if (nameWidth > width - numberWidth - 6 - graphWidth) nameWidth = width - numberWidth - 6 - graphWidth;
    else graphWidth = width - numberWidth - 6 - nameWidth;
  }
  const lines: string[] = [];
  const totals = { insertions: 0, deletions: 0 };
  for (const { path: name, stat } of entries) {
    let shown = name;
    if (name.length > nameWidth) {
      const tail = name.slice(name.length - (nameWidth - 3));
      const slash = tail.indexOf('/');
      shown = `...${slash >= 0 ? tail.slice(slash) : tail}`;
    }
    const label = ` ${shown.padEnd(nameWidth)} | `;
    if ('binary' in stat) {
      lines.push(`${label}${'Bin'.padStart(numberWidth)} ${color.red(String(stat.oldBytes))} -> ${color.green(String(stat.newBytes))} bytes`);
      continue;
    }
    const { insertions, deletions } = stat;
    totals.insertions += insertions;
    totals.deletions += deletions;
    let [plus, minus] = [insertions, deletions];
    if (graphWidth <= maxChange) {
      let total = scaled(plus + minus, graphWidth, maxChange);
      if (total < 2 && plus && minus) total = 2;
      if (plus < minus) {
        plus = scaled(plus, graphWidth, maxChange);
        minus = total - plus;
      } else {
        minus = scaled(minus, graphWidth, maxChange);
        plus = total - minus;
      }
    }
    const count = String(insertions + deletions).padStart(numberWidth);
    lines.push(`${label}${count}${insertions + deletions ? ' ' : ''}${color.green('+'.repeat(plus))}${color.red('-'.repeat(minus))}`);
  }
  lines.push(statSummary(entries.length, totals.insertions, totals.deletions));
  return lines;
}

/** " 2 files changed, 3 insertions(+), 1 deletion(-)", worded as git words it. */
function statSummary(files: number, insertions: number, deletions: number): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  let summary = ` ${plural(files, 'file changed', 'files changed')}`;
  if (insertions || !deletions) summary += `, ${plural(insertions, 'insertion(+)', 'insertions(+)')}`;
  if (deletions || !insertions) summary += `, ${plural(deletions, 'deletion(-)', 'deletions(-)')}`;
  return summary;
}

/** A stat as --json gives it: the line counts, or `binary` with the sizes. */
const statFields = (stat: ChangeStat) => ('binary' in stat ? { binary: true, oldBytes: stat.oldBytes, newBytes: stat.newBytes } : stat);

export const diffCommand = defineCommand<Args>({
  name: 'diff',
  describe: 'Show what changed between snapshots, or between a snapshot and the working tree',
  positionals: {
    from: { describe: 'Revision to compare from (default: what `status` compares with: the snapshot a rollback, undo or guard last checked out, until a snapshot is recorded after it; else the latest)' },
    to: { describe: 'Revision to compare to (default: the working tree)' },
    paths: { variadic: true, describe: 'Files or directories to limit the diff to, relative to the current directory; after `--` they are never taken for revisions' },
  },
  flags: {
    patch: { alias: 'p', type: 'boolean', describe: 'Show unified diffs' },
    stat: { type: 'boolean', describe: 'Lines added and removed per file, and a summary, as git diff --stat' },
  },
  examples: [
    ['$0 diff', 'what changed since the snapshot status compares with, names only'],
    ['$0 diff "Feature Complete" --patch', 'approved revision → working tree, with patches'],
    ['$0 diff qzkmtvrw latest --stat', 'between two snapshots, with line counts'],
    ['$0 diff --patch -- src/ package.json', 'only these paths (relative to the current directory)'],
    ['$0 diff latest~1 README.md', 'a word that is no revision but an existing path starts the paths'],
  ],
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      const request = await diffRequest(sg, args);
      const result = await sg.diff(request.from, request.to, { paths: request.paths, cwd: process.cwd() });
      const worktree = request.to === undefined;
      const stats = args.stat ? await statsOf(sg, result.changes, worktree) : undefined;
      if (args.json) {
        const changes = [];
        for (const [i, c] of result.changes.entries()) changes.push({ path: c.path, status: c.status, ...(stats ? statFields(stats[i]!) : {}), ...(args.patch ? { patch: await sg.patch(c, worktree) } : {}) });
        const stat = stats && { files: stats.length, insertions: sumOf(stats, 'insertions'), deletions: sumOf(stats, 'deletions') };
        printJson({ from: { id: result.from.id, commit: result.from.commit }, to: result.to ? { id: result.to.id, commit: result.to.commit } : 'worktree', changes, ...(stat ? { stat } : {}) });
        return;
      }
      if (result.changes.length === 0) {
        print('No differences.');
        return;
      }
      if (stats) for (const line of statLines(result.changes.map((c, i) => ({ path: c.path, stat: stats[i]! })))) print(line);
      for (const c of result.changes) {
        if (!args.patch) {
          if (!stats) print(changeLine(c));
          continue;
        }
        for (const line of (await sg.patch(c, worktree)).trimEnd().split('\n')) {
          print(line.startsWith('+') && !line.startsWith('+++') ? color.green(line) : line.startsWith('-') && !line.startsWith('---') ? color.red(line) : line.startsWith('@@') ? color.cyan(line) : line);
        }
      }
    }),
});

async function statsOf(sg: ShadowGit, changes: FileChange[], worktree: boolean): Promise<ChangeStat[]> {
  const stats: ChangeStat[] = [];
  for (const change of changes) stats.push(await sg.stat(change, worktree));
  return stats;
}

const sumOf = (stats: ChangeStat[], key: 'insertions' | 'deletions') => stats.reduce((sum, stat) => sum + ('binary' in stat ? 0 : stat[key]), 0);
