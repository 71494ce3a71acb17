import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from '../../engine/errors.js';
import { changeLine, type ChangeStatus } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson, relativeTime, short } from '../output.js';
import { impactJson, printImpactText, TYPES_FLAG } from './impact.js';

interface Args extends GlobalArgs {
  paths?: string[];
  types?: boolean;
}

/** Lines per list in the text report, so the checklist stays one screen. */
const LIST_LIMIT = 12;

export const precheckCommand = defineCommand<Args>({
  name: 'precheck',
  describe: 'Pre-change checklist: record a pre-change snapshot, then show impact, tests and changes since the last approval',
  positionals: { paths: { required: true, variadic: true, describe: 'Files (or directories) about to change' } },
  flags: { types: TYPES_FLAG },
  examples: [['$0 precheck src/engine/store/objects.ts', 'snapshot first, then what the change reaches']],
  handler: (args) =>
    runCommand(async () => {
      const paths = args.paths ?? [];
      if (paths.length === 0) throw new UsageError('name the files about to change, e.g. `shadowgit precheck src/app.ts`.');
      const sg = await openRepo(args);
      // Fail on a missing path before recording anything.
      for (const p of paths) {
        const rel = sg.toWorktreePath(p, process.cwd());
        if (!(await fsp.stat(path.join(sg.worktree, rel)).catch(() => undefined))) throw new ShadowGitError(`${p} does not exist; name a file of the working tree (e.g. src/app.ts).`, 'ENOPATH');
      }
      const relPaths = paths.map((p) => sg.toWorktreePath(p, process.cwd()));
      const snapshot = await sg.snapshot({ trigger: 'pre-change', message: `pre-change: ${relPaths.join(' ')}`.slice(0, 200) });
      const { impact } = await import('../../impact/index.js');
      const result = await impact(sg, { paths, cwd: process.cwd(), types: args.types });

      const approvedList = await sg.approved();
      const last = [...approvedList].sort((a, b) => b.date.getTime() - a.date.getTime())[0];
      let sinceApproved: { name: string; tag: string; commit: string; date: string; changes: Array<{ path: string; status: ChangeStatus }> } | null = null;
      if (last) {
        const diff = await sg.diff(last.commit);
        sinceApproved = { name: last.name, tag: last.tag, commit: last.commit, date: last.date.toISOString(), changes: diff.changes.map((c) => ({ path: c.path, status: c.status })) };
      }

      if (args.json) {
        printJson({
          snapshot: { id: snapshot.id, commit: snapshot.commit, created: snapshot.created, trigger: snapshot.trigger, message: snapshot.message },
          impact: impactJson(result),
          approved: sinceApproved,
        });
        return;
      }

      print(color.bold(`Pre-change checklist for ${relPaths.join(', ')}`));
      print('');
      print(
        `${color.green('✓')} Snapshot ${color.bold(snapshot.id)} (${short(snapshot.commit)}) ${snapshot.created ? 'recorded' : 'already matches the tree'} — undo the change with \`shadowgit rollback ${snapshot.id}\`.`,
      );
      if (!sinceApproved) print(`${color.yellow('!')} No approved revision yet: \`shadowgit approve "NAME"\` marks a known-good state.`);
      else if (sinceApproved.changes.length === 0) print(`${color.green('✓')} No changes since the approved revision "${sinceApproved.name}" (${relativeTime(sinceApproved.date)}).`);
      else {
        const n = sinceApproved.changes.length;
        print(`${color.yellow('!')} ${n} file${n === 1 ? '' : 's'} changed since the approved revision "${sinceApproved.name}" (${relativeTime(sinceApproved.date)}):`);
        for (const c of sinceApproved.changes.slice(0, LIST_LIMIT)) print(`    ${changeLine(c)}`);
        if (n > LIST_LIMIT) print(color.dim(`    …and ${n - LIST_LIMIT} more (\`shadowgit diff "${sinceApproved.name}"\`)`));
      }
      print('');
      printImpactText(result, { limit: LIST_LIMIT });
      if (result.tests.length > 0) {
        print('');
        print(`Run the affected tests before and after the change: \`shadowgit impact ${relPaths.join(' ')} --tests-only\` lists them.`);
      }
    }),
});
