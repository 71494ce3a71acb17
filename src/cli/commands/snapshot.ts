import { promises as fsp } from 'node:fs';
import type { SnapshotReport } from '../../shadowgit.js';
import { changeCounts } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { announceCreated, confirmFirstSnapshot } from '../firstrun.js';
import { cancellable } from '../prompt.js';
import { color, print, printJson, progress, short, warn, warnSkipped } from '../output.js';

interface Args extends GlobalArgs {
  message?: string;
  note?: string;
  noteFile?: string;
  yes?: boolean;
}

/** The note text from FILE, or from stdin for "-". */
async function readNoteFile(file: string): Promise<string> {
  try {
    // Loaded only here: every snapshot would pay for it otherwise.
    return file === '-' ? await (await import('node:stream/consumers')).text(process.stdin) : await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the note file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path.`);
  }
}

export const snapshotCommand = defineCommand<Args>({
  name: 'snapshot',
  describe: 'Record the whole working tree as a snapshot',
  flags: {
    message: { alias: 'm', type: 'string', describe: 'What this snapshot is for' },
    note: { type: 'string', describe: 'Free text kept as a git note (a prompt, a chat log); `shadowgit show` prints it' },
    'note-file': { type: 'string', nargs: 1, describe: 'Read the note from a file (- for stdin)', conflicts: 'note' },
    yes: { alias: 'y', type: 'boolean', describe: 'Take the first snapshot of the home directory without asking (usually a mistake, so refused otherwise)' },
  },
  examples: [
    ['$0 snapshot -m "before refactor" --note-file prompt.txt', 'keep the assistant prompt with the snapshot'],
    ['$0 snapshot', 'record the working tree'],
    ['$0 snapshot -m "before codemod"', 'record it with a message'],
    ['$0 snapshot --json', 'machine-readable result'],
  ],
  epilog: 'While `shadowgit watch` runs on the tree, the watcher takes the snapshot (it knows what changed); `byWatcher` in --json says so.',
  handler: (args) =>
    runCommand(cancellable(async () => {
      const bar = progress('Scanning', Boolean(args.json));
      const note = args.noteFile !== undefined ? await readNoteFile(args.noteFile) : args.note;
      // A running watcher knows what changed and keeps the stat cache in memory: it records
      // the snapshot in a fraction of this process's time. The engine only loads without one.
      const { snapshotViaWatcher } = await import('../../engine/worktree/watchclient.js');
      const byWatcher = (await snapshotViaWatcher({ cwd: process.cwd() }, { message: args.message, note }, bar.update)) as SnapshotReport | undefined;
      let result: SnapshotReport;
      let createdRepository: string | undefined;
      if (byWatcher) result = byWatcher;
      else {
        const first = await confirmFirstSnapshot(await openRepo(args), args);
        result = await first.sg.snapshot({ message: args.message, note, onProgress: bar.update });
        if (first.fresh) createdRepository = first.sg.repoPath;
      }
      bar.done();
      // On stderr even with --json: said once, it should reach a person, and stdout keeps its shape.
      if (createdRepository) announceCreated(createdRepository);
      if (args.json) {
        printJson({ id: result.id, commit: result.commit, created: result.created, changes: result.changes, skipped: result.skipped, byWatcher: byWatcher !== undefined, ...(note !== undefined ? { noted: true } : {}), ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}) });
        return;
      }
      warnSkipped(result.skipped);
      for (const warning of result.warnings) warn(warning);
      const by = byWatcher ? ' by the running watcher' : '';
      if (result.created) print(`Recorded snapshot ${color.bold(result.id)} (${short(result.commit)})${by}: ${changeCounts(result.changes, true)}`);
      else print(`No changes since snapshot ${color.bold(result.id)} (${short(result.commit)}); nothing recorded.`);
      if (note !== undefined) print(`Note attached to ${color.bold(result.id)}; \`shadowgit show ${result.id}\` prints it.`);
    })),
});
