import type { WatchSession, WatchStatus } from '../../engine/protect/watch.js';
import { ShadowGitError } from '../../engine/errors.js';
import { changeCounts } from '../changes.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { announceCreated, confirmFirstSnapshot } from '../firstrun.js';
import { cancellable } from '../prompt.js';
import { displayWidth, outputWidth, truncateEnd, truncateStart } from '../fit.js';
import { color, print, printJson, relativeTime, short, visible, warn } from '../output.js';

interface Args extends GlobalArgs {
  debounce?: string;
  interval?: string;
  detach?: boolean;
  stop?: boolean;
  yes?: boolean;
}

const MIN_SECONDS = 0.05;
const MAX_SECONDS = 86400;

/** A period typed after --NAME, as typed: "-5" and "abc" are quoted back, not reported as NaN. */
function flagSeconds(typed: string, name: string): number {
  const seconds = typed.trim() === '' ? NaN : Number(typed);
  if (!Number.isFinite(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) throw new UsageError(`--${name} takes a number of seconds between ${MIN_SECONDS} and ${MAX_SECONDS}, not "${typed}".`);
  return seconds;
}

/** A watch period and where it came from, to name that in messages. */
interface Period {
  seconds: number;
  /** How a message names it: `--debounce` or `"watch.debounce" in /tree/.shadowgit`. */
  source: string;
  typed: boolean;
}

/** The flag's value, else `.shadowgit`'s (checked when the file was read), else the default. */
function period(flag: number | undefined, configured: number | undefined, fallback: number, name: 'debounce' | 'interval', configFile: string): Period {
  if (flag !== undefined) return { seconds: flag, source: `--${name}`, typed: true };
  if (configured !== undefined) return { seconds: configured, source: `"watch.${name}" in ${configFile}`, typed: false };
  return { seconds: fallback, source: `the default ${name}`, typed: false };
}

function checkPeriods(debounce: Period, interval: Period): void {
  if (interval.seconds >= debounce.seconds) return;
  const message = `${interval.source} (${interval.seconds} s) must not be shorter than ${debounce.source} (${debounce.seconds} s).`;
  if (debounce.typed || interval.typed) throw new UsageError(message);
  throw new ShadowGitError(message, 'ECONFIG');
}

/**
 * The live status line, at most `width` columns: the state comes first to survive, then the
 * hint, the path (cut from its start) and the directory count go as the terminal narrows.
 */
function statusLine(worktree: string, s: WatchStatus, width: number): string {
  const last = s.lastSnapshot ? `last snapshot ${s.lastSnapshot.id} ${relativeTime(s.lastSnapshot.at)}` : 'no snapshot yet';
  const pending = s.busy ? 'recording…' : s.pending > 0 ? `${s.pending} changed path(s) pending` : 'idle';
  const summary = `${last}, ${s.snapshots} recorded — ${pending}`;
  const where = visible(worktree);
  const dirs = `(${s.watchedDirectories} dirs)`;
  const full = `Watching ${where} ${dirs} — ${summary}  (Ctrl-C stops)`;
  if (displayWidth(full) <= width) return full;
  const withoutPath = `Watching  ${dirs} — ${summary}`;
  const room = width - displayWidth(withoutPath);
  if (room >= 12) return `Watching ${truncateStart(where, room)} ${dirs} — ${summary}`;
  return truncateEnd(`${pending} — ${last}, ${s.snapshots} recorded`, width);
}

export const watchCommand = defineCommand<Args>({
  name: 'watch',
  describe: 'Snapshot the working tree automatically whenever changes settle',
  flags: {
    debounce: { type: 'string', describe: 'Seconds without changes before a snapshot (default 2, or "watch.debounce" in .shadowgit)' },
    interval: { type: 'string', describe: 'Longest gap in seconds between snapshots while changes keep coming (default 30)' },
    detach: { type: 'boolean', describe: 'Run in the background (output goes to watch.log in the shadow repo state)' },
    stop: { type: 'boolean', describe: 'Stop the background watcher of this tree (it takes a final snapshot first)', conflicts: ['detach', 'debounce', 'interval'] },
    yes: { alias: 'y', type: 'boolean', describe: 'Watch the home directory without asking (its first snapshot is usually a mistake)' },
  },
  examples: [
    ['$0 watch', 'watch in the foreground with a live status line; Ctrl-C stops'],
    ['$0 watch --detach', 'watch in the background; `shadowgit status` shows it'],
    ['$0 watch --stop', 'stop the background watcher'],
    ['$0 watch --debounce 5 --interval 120', 'fewer, larger snapshots'],
  ],
  handler: (args) =>
    runCommand(cancellable(async () => {
      const sg = await openRepo(args);
      if (args.stop) {
        const result = await sg.stopWatcher();
        const last = (await sg.list({ limit: 1 }))[0];
        if (args.json) printJson({ stopped: Boolean(result.state) && !result.stale, stale: result.stale, pid: result.state?.pid, lastSnapshot: last ? { id: last.id, commit: last.commit, date: last.date } : undefined });
        else if (!result.state) print('No watcher is running for this tree.');
        else if (result.stale) print(`The watcher (pid ${result.state.pid}) had died; removed its leftover state.`);
        else print(`Stopped the watcher (pid ${result.state.pid}).${last ? ` Latest snapshot: ${color.bold(last.id)} (${short(last.commit)}).` : ''}`);
        return;
      }
      // Flags are checked before anything is opened or asked; `.shadowgit` was checked when read.
      const flags = { debounce: args.debounce === undefined ? undefined : flagSeconds(args.debounce, 'debounce'), interval: args.interval === undefined ? undefined : flagSeconds(args.interval, 'interval') };
      const first = await confirmFirstSnapshot(sg, args);
      const watched = first.sg;
      const watchConfig = sg.config.watch ?? {};
      const inFile = sg.configFile;
      const debouncePeriod = period(flags.debounce, watchConfig.debounce, 2, 'debounce', inFile);
      // An interval nobody set stretches to a longer debounce rather than contradicting it.
      const intervalPeriod = period(flags.interval, watchConfig.interval, Math.max(30, debouncePeriod.seconds), 'interval', inFile);
      checkPeriods(debouncePeriod, intervalPeriod);
      const debounce = debouncePeriod.seconds;
      const interval = intervalPeriod.seconds;

      if (args.detach) {
        const state = await watched.watchInBackground(['watch', '-C', sg.worktree, '--debounce', String(debounce), '--interval', String(interval)]);
        if (first.fresh) announceCreated(watched.repoPath);
        if (args.json) printJson({ detached: true, pid: state.pid, since: state.since, debounceMs: state.debounceMs, intervalMs: state.intervalMs });
        else print(`Watching ${sg.worktree} in the background (pid ${state.pid}); \`shadowgit status\` shows it, \`shadowgit watch --stop\` stops it.`);
        return;
      }

      const live = !args.json && Boolean(process.stderr.isTTY);
      let session: WatchSession | undefined;
      const draw = () => {
        // One column spare: a line that fills the last one wraps at once on some terminals.
        if (live && session) process.stderr.write(`\r\x1b[K${statusLine(sg.worktree, session.status(), outputWidth(process.stderr, 80) - 1)}`);
      };
      const clearLine = () => {
        if (live) process.stderr.write('\r\x1b[K');
      };
      session = await watched.watcher({
        debounceMs: debounce * 1000,
        intervalMs: interval * 1000,
        onSnapshot: (r) => {
          if (live || args.json) return;
          print(`${new Date().toISOString()} recorded snapshot ${r.id} (${short(r.commit)}): ${changeCounts(r.changes)}`);
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
      clearLine();
      if (staleCleared) warn(`removed the state of a watcher that had died (pid ${staleCleared.pid}).`);
      if (first.fresh) announceCreated(watched.repoPath);
      const refresh = live ? setInterval(draw, 1000) : undefined;
      if (live) process.stderr.on('resize', draw);
      draw();

      await stopRequested;
      clearInterval(refresh);
      process.stderr.removeListener('resize', draw);
      await session.stop().catch((err: Error) => warn(`stopping the watcher: ${err.message}`));
      clearLine();
      const recorded = session.recorded;
      if (args.json) printJson({ worktree: sg.worktree, stoppedAt: new Date().toISOString(), snapshots: recorded });
      else print(`Stopped watching; ${recorded.length} snapshot(s) recorded${recorded.length ? `, the last ${recorded[recorded.length - 1]!.id}` : ''}.`);
    })),
});
