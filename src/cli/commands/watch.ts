import type { Argv, CommandModule } from 'yargs';
import { spawnDetached, stopWatcher, WatchSession, type WatchStatus } from '../../engine/watch.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { color, print, printJson, relativeTime, short, warn } from '../output.js';

interface Args extends GlobalArgs {
  debounce?: number;
  interval?: number;
  detach?: boolean;
  stop?: boolean;
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const s = value ?? fallback;
  if (!Number.isFinite(s) || s < 0.05 || s > 86400) throw new UsageError(`--${name} must be a number of seconds between 0.05 and 86400, not ${value}.`);
  return s;
}

function statusLine(worktree: string, s: WatchStatus): string {
  const last = s.lastSnapshot ? `last snapshot ${color.bold(s.lastSnapshot.id)} ${relativeTime(s.lastSnapshot.at)}` : 'no snapshot yet';
  const pending = s.busy ? 'recording…' : s.pending > 0 ? `${s.pending} changed path(s) pending` : 'idle';
  return `Watching ${worktree} (${s.watchedDirectories} dirs) — ${last}, ${s.snapshots} recorded — ${pending}  (Ctrl-C stops)`;
}

export const watchCommand: CommandModule<GlobalArgs, Args> = {
  command: 'watch',
  describe: 'Snapshot the working tree automatically whenever changes settle',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('debounce', { type: 'number', describe: 'Seconds without changes before a snapshot (default 2, or "watch.debounce" in .shadowgit)' })
      .option('interval', { type: 'number', describe: 'Longest gap in seconds between snapshots while changes keep coming (default 30)' })
      .option('detach', { type: 'boolean', describe: 'Run in the background (output goes to watch.log in the shadow repo state)' })
      .option('stop', { type: 'boolean', describe: 'Stop the background watcher of this tree (it takes a final snapshot first)' })
      .conflicts('stop', ['detach', 'debounce', 'interval'])
      .example('$0 watch', 'watch in the foreground with a live status line; Ctrl-C stops')
      .example('$0 watch --detach', 'watch in the background; `shadowgit status` shows it')
      .example('$0 watch --stop', 'stop the background watcher')
      .example('$0 watch --debounce 5 --interval 120', 'fewer, larger snapshots') as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const sg = await openRepo(args);
      if (args.stop) {
        const result = await stopWatcher(sg.repository);
        const last = (await sg.list({ limit: 1 }))[0];
        if (args.json) printJson({ stopped: Boolean(result.state) && !result.stale, stale: result.stale, pid: result.state?.pid, lastSnapshot: last ? { id: last.id, commit: last.commit, date: last.date } : undefined });
        else if (!result.state) print('No watcher is running for this tree.');
        else if (result.stale) print(`The watcher (pid ${result.state.pid}) had died; removed its leftover state.`);
        else print(`Stopped the watcher (pid ${result.state.pid}).${last ? ` Latest snapshot: ${color.bold(last.id)} (${short(last.commit)}).` : ''}`);
        return;
      }
      const watchConfig = sg.repository.config.watch ?? {};
      const debounce = seconds(args.debounce, watchConfig.debounce ?? 2, 'debounce');
      const interval = seconds(args.interval, watchConfig.interval ?? 30, 'interval');
      if (interval < debounce) throw new UsageError(`--interval (${interval} s) must not be shorter than --debounce (${debounce} s).`);

      if (args.detach) {
        const state = await spawnDetached(sg, ['watch', '-C', sg.worktree, '--debounce', String(debounce), '--interval', String(interval)]);
        if (args.json) printJson({ detached: true, pid: state.pid, since: state.since, debounceMs: state.debounceMs, intervalMs: state.intervalMs });
        else print(`Watching ${sg.worktree} in the background (pid ${state.pid}); \`shadowgit status\` shows it, \`shadowgit watch --stop\` stops it.`);
        return;
      }

      const live = !args.json && Boolean(process.stderr.isTTY);
      let session: WatchSession | undefined;
      const draw = () => {
        if (live && session) process.stderr.write(`\r\x1b[K${statusLine(sg.worktree, session.status())}`);
      };
      const clearLine = () => {
        if (live) process.stderr.write('\r\x1b[K');
      };
      session = new WatchSession(sg, {
        debounceMs: debounce * 1000,
        intervalMs: interval * 1000,
        onSnapshot: (r) => {
          if (live || args.json) return;
          print(`${new Date().toISOString()} recorded snapshot ${r.id} (${short(r.commit)}): +${r.changes.added} ~${r.changes.modified} -${r.changes.deleted}`);
        },
        onWarning: (message) => {
          clearLine();
          warn(message);
          draw();
        },
        onStatus: draw,
      });
      if (!live && !args.json) print(`Watching ${sg.worktree} (debounce ${debounce} s, interval ${interval} s); SIGINT or SIGTERM stops after a final snapshot.`);
      // Listening before the start: a signal during the first snapshot (`watch --stop` right
      // after `--detach`) stops cleanly once it is taken, instead of killing the process.
      const stopRequested = new Promise<void>((resolve) => {
        const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
        const onSignal = () => {
          for (const signal of signals) process.removeListener(signal, onSignal);
          // A second signal while the final snapshot runs means "now": the repo stays consistent.
          const hurry = () => process.exit(130);
          process.once('SIGINT', hurry);
          process.once('SIGTERM', hurry);
          resolve();
        };
        for (const signal of signals) process.on(signal, onSignal);
      });
      const { staleCleared } = await session.start();
      if (staleCleared) warn(`removed the state of a watcher that had died (pid ${staleCleared.pid}).`);
      const refresh = live ? setInterval(draw, 1000) : undefined;
      draw();

      await stopRequested;
      clearInterval(refresh);
      await session.stop().catch((err: Error) => warn(`stopping the watcher: ${err.message}`));
      clearLine();
      const recorded = session.recorded;
      if (args.json) printJson({ worktree: sg.worktree, stoppedAt: new Date().toISOString(), snapshots: recorded });
      else print(`Stopped watching; ${recorded.length} snapshot(s) recorded${recorded.length ? `, the last ${recorded[recorded.length - 1]!.id}` : ''}.`);
    }),
};
