import type { DoctorReport, Finding, Severity } from '../../engine/protect/doctor.js';
import type { RecoverReport } from '../../engine/protect/recover.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { outputWidth } from '../fit.js';
import { color, print, printJson, relativeTime, table, visible } from '../output.js';
import { renderRecover } from './recover.js';

interface Args extends GlobalArgs {
  fix?: boolean;
  bundle?: string;
  force?: boolean;
  verbose?: boolean;
}

const LABEL: Record<Severity, (s: string) => string> = { ok: color.green, info: color.dim, warn: color.yellow, error: color.red };
const isProblem = (f: Finding) => f.severity === 'warn' || f.severity === 'error';
/** What each kind of check looked at, for the summary line (critical files are counted apart). */
const CHECKED: Partial<Record<Finding['check'], string>> = { repo: 'the shadow repository', lock: 'the lock', watcher: 'the watcher', disk: 'disk space' };
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The problems (every finding with --verbose) as a table fitted to the terminal, then one line
 * saying what was checked and how it went, and what to do about damaged critical files.
 */
function renderDoctor(report: DoctorReport, verbose: boolean): void {
  const shown = verbose ? report.findings : report.findings.filter(isProblem);
  if (shown.length > 0) {
    const withHealthy = shown.some((f) => f.lastHealthy);
    const head = ['Check', 'Status', 'Details', ...(withHealthy ? ['Last healthy'] : [])];
    const rows = shown.map((f) => [visible(f.path ?? f.check), LABEL[f.severity](f.severity), visible(f.message), ...(withHealthy ? [f.lastHealthy ? `${f.lastHealthy.id} ${relativeTime(f.lastHealthy.date)}` : ''] : [])]);
    print(table(head, rows, { width: outputWidth(process.stdout) }));
  }
  const critical = report.findings.filter((f) => f.check === 'critical-file' && f.path !== undefined);
  const notChecked = critical.filter((f) => f.severity === 'info').length;
  const others = [...new Set(report.findings.map((f) => CHECKED[f.check]).filter((what) => what !== undefined))];
  const parts = [`${plural(critical.length, 'critical file')}${notChecked ? ` (${notChecked} too large or too deeply nested to judge${verbose ? '' : '; --verbose lists them'})` : ''}`, ...others];
  const checked = `checked ${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]}`;
  const problems = report.findings.filter(isProblem).length;
  print(problems === 0 ? color.green(`Healthy: ${checked}.`) : color.red(`${plural(problems, 'problem')}: ${checked}.`));
  const damaged = critical.filter((f) => f.severity === 'error');
  if (damaged.some((f) => f.lastHealthy)) print('`shadowgit doctor --fix` (or `shadowgit recover`) restores the damaged files from their last healthy snapshot.');
  if (damaged.length > 0) print('Broken on purpose (a test fixture)? Leave it out with a "!" pattern in "critical" in .shadowgit (`shadowgit help config`).');
}

export const doctorCommand = defineCommand<Args>({
  name: 'doctor',
  describe: 'Check critical files, the shadow repo, lock, watcher and disk space',
  flags: {
    fix: { type: 'boolean', describe: 'Restore damaged critical files (same as `shadowgit recover`), then check again' },
    bundle: { type: 'string', describe: 'Also write a diagnostics bundle (.tar.gz) for a bug report: no file contents' },
    force: { alias: 'f', type: 'boolean', describe: 'Replace the --bundle file if it exists' },
    verbose: { alias: 'v', type: 'boolean', describe: 'List every check and every critical file, not only the problems' },
  },
  examples: [
    ['$0 doctor', 'check everything; exit 1 if a problem is found'],
    ['$0 doctor --fix', 'restore damaged critical files from their newest healthy snapshot'],
    ['$0 doctor --bundle shadowgit-diag.tar.gz', 'write diagnostics to attach to a bug report'],
    ['$0 doctor --verbose', 'also list the healthy files and the checks that passed'],
  ],
  epilog: 'Critical files: package.json, tsconfig*.json, lockfiles, plus the "critical" globs in .shadowgit; a "!" glob there leaves files out (see `shadowgit help config`). --json always lists every finding.',
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      if (args.bundle !== undefined) await sg.checkBundleTarget(args.bundle, Boolean(args.force));
      let report = await sg.doctor();
      let recovery: RecoverReport | undefined;
      if (args.fix && report.findings.some((f) => f.check === 'critical-file' && f.severity === 'error') && (await sg.initialized())) {
        recovery = await sg.recover();
        report = await sg.doctor();
      }
      const bundle = args.bundle ? { file: args.bundle, contents: await sg.bundle(args.bundle, report, { force: Boolean(args.force) }) } : undefined;
      if (args.json) {
        printJson({ ...report, recovery, bundle });
      } else {
        if (recovery) renderRecover(recovery);
        renderDoctor(report, Boolean(args.verbose));
        if (bundle) print(`Wrote ${bundle.file} (${bundle.contents.join(', ')}).`);
      }
      return report.healthy ? 0 : 1;
    }),
});
