import type { Argv, CommandModule } from 'yargs';
import { writeBundle } from '../../engine/bundle.js';
import { diagnose, type DoctorReport, type Severity } from '../../engine/doctor.js';
import { recoverFiles, type RecoverReport } from '../../engine/recover.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { color, print, printJson, relativeTime, table } from '../output.js';
import { renderRecover } from './recover.js';

interface Args extends GlobalArgs {
  fix?: boolean;
  bundle?: string;
}

const LABEL: Record<Severity, (s: string) => string> = { ok: color.green, info: color.dim, warn: color.yellow, error: color.red };

function renderDoctor(report: DoctorReport): void {
  const rows = report.findings.map((f) => [f.path ?? f.check, LABEL[f.severity](f.severity), f.message, f.lastHealthy ? `${f.lastHealthy.id} ${relativeTime(f.lastHealthy.date)}` : '']);
  print(table(['Check', 'Status', 'Details', 'Last healthy'], rows));
  const problems = report.findings.filter((f) => f.severity === 'warn' || f.severity === 'error').length;
  print(report.healthy ? color.green('Healthy.') : color.red(`${problems} problem(s) found.${report.findings.some((f) => f.check === 'critical-file' && f.severity === 'error' && f.lastHealthy) ? ' `shadowgit doctor --fix` (or `shadowgit recover`) restores the damaged files.' : ''}`));
}

export const doctorCommand: CommandModule<GlobalArgs, Args> = {
  command: 'doctor',
  describe: 'Check critical files, the shadow repo, lock, watcher and disk space',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('fix', { type: 'boolean', describe: 'Restore damaged critical files (same as `shadowgit recover`), then check again' })
      .option('bundle', { type: 'string', requiresArg: true, describe: 'Also write a diagnostics bundle (.tar.gz) for a bug report: no file contents' })
      .example('$0 doctor', 'check everything; exit 1 if a problem is found')
      .example('$0 doctor --fix', 'restore damaged critical files from their newest healthy snapshot')
      .example('$0 doctor --bundle shadowgit-diag.tar.gz', 'write diagnostics to attach to a bug report')
      .epilog('Critical files: package.json, tsconfig*.json, lockfiles, plus the "critical" globs in .shadowgit.') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      let report = await diagnose(sg.repository);
      let recovery: RecoverReport | undefined;
      if (args.fix && report.findings.some((f) => f.check === 'critical-file' && f.severity === 'error') && (await sg.repository.exists())) {
        recovery = await recoverFiles(sg);
        report = await diagnose(sg.repository);
      }
      const bundle = args.bundle ? { file: args.bundle, contents: await writeBundle(sg, args.bundle, report) } : undefined;
      if (args.json) {
        printJson({ ...report, recovery, bundle });
      } else {
        if (recovery) renderRecover(recovery);
        renderDoctor(report);
        if (bundle) print(`Wrote ${bundle.file} (${bundle.contents.join(', ')}).`);
      }
      return report.healthy ? 0 : 1;
    }),
};
