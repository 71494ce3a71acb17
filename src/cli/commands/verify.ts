import type { CheckedRevision, VerifyReport } from '../../engine/maintenance/verify.js';
import type { RemoteVerifyReport } from '../../engine/maintenance/verifyremote.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { color, print, printJson, progress, short, table } from '../output.js';

interface Args extends GlobalArgs {
  quick?: boolean;
  remote?: string;
}

function problemLines(revision: CheckedRevision): string {
  const lines = revision.problems.slice(0, 5).map((p) => `${p.path}: ${short(p.oid)} ${p.problem}`);
  if (revision.problems.length > 5) lines.push(`…and ${revision.problems.length - 5} more (see --json)`);
  return lines.join('\n');
}

const LOCAL_ADVICE = 'Rollback and restore refuse to write from a damaged object: roll back to an intact snapshot, or restore the shadow repository from a backup.';
const REMOTE_ADVICE = 'A push never rewrites what the remote holds: repair or replace the damaged objects on the server (a local shadow repository that has them intact can be pushed to a new remote).';

function render(report: VerifyReport, advice = LOCAL_ADVICE): void {
  const damaged = report.snapshots.filter((s) => !s.ok);
  const damagedApproved = report.approved.filter((a) => !a.ok);
  if (damaged.length + damagedApproved.length > 0) {
    const rows = [...damaged.map((s) => [color.bold(s.id), short(s.commit), '', problemLines(s)]), ...damagedApproved.map((a) => [color.bold(a.id), short(a.commit), a.name ?? '', problemLines(a)])];
    print(table(['snapshot', 'commit', 'approved', 'problems'], rows));
  }
  for (const pack of report.packs.filter((p) => p.problem)) print(color.red(`pack ${pack.name}: ${pack.problem}`));
  for (const note of report.notes) print(color.red(`${note.path}: ${note.problem}`));
  if (report.chainBrokenAt) print(color.red(`The snapshot chain is cut at ${short(report.chainBrokenAt)}: older snapshots cannot be reached.`));
  const intact = report.snapshots.length - damaged.length;
  const scope = report.quick ? 'latest snapshot and approved revisions' : 'all snapshots';
  const summary = `Checked ${report.objectsChecked} objects (${scope}): ${intact} snapshot(s) intact, ${damaged.length} damaged; ${report.approved.length - damagedApproved.length} of ${report.approved.length} approved revision(s) intact.`;
  print(report.ok ? color.green(summary) : color.red(summary));
  const intactIds = report.snapshots.filter((s) => s.ok).map((s) => s.id);
  if (damaged.length > 0 && intactIds.length > 0) print(`Intact: ${intactIds.slice(0, 20).join(', ')}${intactIds.length > 20 ? ` …and ${intactIds.length - 20} more (see --json)` : ''}`);
  if (!report.ok) print(advice);
}

/** Each machine's problems as `verify` shows a repository's, under its name, then one summary of the remote. */
function renderRemote(report: RemoteVerifyReport): void {
  for (const machine of report.machines) {
    if (machine.ok) continue;
    print(color.bold(`Machine ${machine.machine}:`));
    render(machine, REMOTE_ADVICE);
  }
  if (report.otherRefs.length > 0) print(`Not snapshots, so only hashed as they arrived: ${report.otherRefs.join(', ')}.`);
  const damaged = report.machines.filter((m) => !m.ok).map((m) => m.machine);
  const checked = report.machines.reduce((sum, m) => sum + m.objectsChecked, 0);
  const names = report.machines.map((m) => m.machine).join(', ');
  const summary = report.machines.length === 0 ? `${report.url} holds no snapshots; ${report.objectsFetched} object(s) fetched and hashed.` : `${report.url}: fetched ${report.objectsFetched} objects and checked ${checked} for ${report.machines.length} machine(s) (${names}): ${damaged.length === 0 ? 'all intact' : `damaged: ${damaged.join(', ')}`}.`;
  print(report.ok ? color.green(summary) : color.red(summary));
}

export const verifyCommand = defineCommand<Args>({
  name: 'verify',
  describe: 'Re-read and re-hash every object of every snapshot; report damaged snapshots',
  flags: {
    quick: { type: 'boolean', describe: 'Only the latest snapshot and the approved revisions', conflicts: 'remote' },
    remote: { type: 'string', describe: 'Verify a remote instead (a remote name or URL): everything it holds is fetched into a temporary repository and checked there' },
  },
  examples: [
    ['$0 verify', 'check everything; exit 1 if anything is damaged'],
    ['$0 verify --quick --json', 'fast check, machine-readable'],
    ['$0 verify --remote origin', 'check every object the remote holds; exit 1 if anything is damaged'],
  ],
  handler: (args) =>
    runCommand(async () => {
      if (args.remote !== undefined) {
        const { ShadowGit } = await import('../../shadowgit.js');
        const fetched = progress('Fetched', Boolean(args.json), 'objects');
        const checked = progress('Verified', Boolean(args.json), 'objects');
        const report = await ShadowGit.verifyRemote(String(args.remote), () => openRepo(args), { onTransfer: (p) => p.objects !== undefined && fetched.update(p.objects), onProgress: checked.update });
        fetched.done();
        checked.done();
        if (args.json) printJson(report);
        else renderRemote(report);
        return report.ok ? 0 : 1;
      }
      const sg = await openRepo(args);
      const bar = progress('Verified', Boolean(args.json), 'objects');
      const report = await sg.verify({ quick: args.quick, onProgress: bar.update });
      bar.done();
      if (args.json) printJson(report);
      else render(report);
      return report.ok ? 0 : 1;
    }),
});
