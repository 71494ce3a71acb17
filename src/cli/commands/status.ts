import type { StatusReport } from '../../shadowgit.js';
import { changeLine } from '../changes.js';
import { lastPushText } from './remote.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { absoluteTime, color, formatBytes, print, printJson, relativeTime, short, visible } from '../output.js';

export const statusCommand = defineCommand<GlobalArgs>({
  name: 'status',
  describe: 'Show the working tree, its shadow repo and what changed since the last snapshot',
  examples: [
    ['$0 status', 'human-readable summary'],
    ['$0 status --json', 'machine-readable summary'],
  ],
  epilog: 'While `shadowgit watch` runs on the tree, the watcher answers (it knows what changed); `byWatcher` in --json says so.',
  handler: (args) =>
    runCommand(async () => {
      // A running watcher answers from what it knows; the engine only loads without one.
      const { statusViaWatcher } = await import('../../engine/worktree/watchclient.js');
      const byWatcher = (await statusViaWatcher({ cwd: process.cwd() })) as StatusReport | undefined;
      const status = byWatcher ?? (await (await openRepo(args)).status());
      if (args.json) {
        printJson({ ...status, byWatcher: byWatcher !== undefined });
        return;
      }
      print(`Working tree:  ${status.worktree}`);
      print(`Shadow repo:   ${status.repo}${status.initialized ? ` (${formatBytes(status.repoBytes)})` : ' (not created yet)'}`);
      if (!status.lastSnapshot) {
        print('Last snapshot: none — `shadowgit snapshot` records the first.');
      } else {
        const s = status.lastSnapshot;
        print(`Last snapshot: ${color.bold(s.id)} (${short(s.commit)}) ${relativeTime(s.date)}, ${absoluteTime(s.date)} — ${s.message}`);
        // Enough of the session id to type back (`list --session`, `prompt:N@…`); `sessions` gives the shortest.
        if (s.agent) print(`Recorded by:   ${visible(`${s.agent.agent}, session ${s.agent.session.slice(0, 8) || '(no id)'}, at ${[s.agent.event, s.agent.tool].filter(Boolean).join(' ')}`)}`);
        if (status.lastSnapshotDamage) {
          const damaged = status.base ?? s;
          print(color.red(`Damaged:       snapshot ${damaged.id} (commit ${short(damaged.commit)}): ${status.lastSnapshotDamage}; the changes below count its unreadable files as added — run \`shadowgit verify\` and roll back to an intact snapshot, or \`shadowgit snapshot\` to record the working tree in full.`));
        }
      }
      print(`Snapshots:     ${status.snapshots}, approved: ${status.approved}`);
      if (status.lock) print(`Lock:          held by pid ${status.lock.pid} (${status.lock.command})${status.lock.stale ? ' — stale, will be recovered' : ''}`);
      if (status.watcher) {
        const w = status.watcher;
        if (w.stale) print(color.yellow(`Watcher:       pid ${w.pid} died without stopping; the next \`shadowgit watch\` cleans it up.`));
        else print(`Watcher:       running (pid ${w.pid}) since ${absoluteTime(w.since)}${w.lastSnapshot ? `, last snapshot ${w.lastSnapshot.id} ${relativeTime(w.lastSnapshot.at)}` : ''}`);
      } else if (status.initialized) print('Watcher:       not running (`shadowgit watch --detach` starts one)');
      for (const remote of status.remotes ?? []) {
        const pending = remote.unpushed === 0 ? 'everything pushed' : `${remote.unpushed} snapshot(s) not pushed yet`;
        print(`Remote:        ${remote.name} — last push ${lastPushText(remote)}, ${pending}`);
        if (remote.lastError) print(color.red(`               the last push failed ${relativeTime(remote.lastError.time)}: ${remote.lastError.message}`));
      }
      if (status.interruptedOperation) print(color.yellow(`Interrupted ${status.interruptedOperation}: the next command finishes it.`));
      const { added, modified, deleted } = status.changes;
      const total = added.length + modified.length + deleted.length;
      // After a rollback, undo or guard, the tree is compared with what it was made to match, not with the state it replaced.
      const base = status.base && `snapshot ${color.bold(status.base.id)} (${short(status.base.commit)}), checked out by ${status.base.by} ${relativeTime(status.base.at)}`;
      if (total === 0) {
        print(!status.initialized ? '' : base ? `Working tree matches ${base}.` : 'No changes since the last snapshot.');
        return;
      }
      print(base ? `Changes since ${base} (${total}):` : `Changes since the last snapshot (${total}):`);
      const lines = (['added', 'modified', 'deleted'] as const).flatMap((kind) => status.changes[kind].map((path) => `  ${changeLine({ path, status: kind })}`));
      for (const line of lines.slice(0, 50)) print(line);
      if (lines.length > 50) print(`  …and ${lines.length - 50} more; \`shadowgit diff\` lists them all.`);
    }),
});
