import type { RemoteSummary } from '../../shadowgit.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { outputWidth } from '../fit.js';
import { absoluteTime, color, print, printJson, relativeTime, table } from '../output.js';
import type { RetentionPolicy } from '../../engine/config.js';
import { POLICY_FLAGS, policyOf } from './prune.js';

const ACTIONS = ['add', 'list', 'remove', 'prune'] as const;
type Action = (typeof ACTIONS)[number];

interface Args extends GlobalArgs, RetentionPolicy {
  dryRun?: boolean;
  action: string;
  name?: string;
  url?: string;
}

const say = (line: string) => process.stderr.write(`${color.cyan('shadowgit:')} ${line}\n`);

/** "3 hours ago (2026-12-07 01:02)", or "never". */
export function lastPushText(remote: RemoteSummary): string {
  return remote.lastPush ? `${relativeTime(remote.lastPush)} (${absoluteTime(remote.lastPush)})` : 'never';
}

async function list(args: Args): Promise<void> {
  const remotes = await (await openRepo(args)).remotes();
  if (args.json) {
    printJson({ remotes });
    return;
  }
  if (remotes.length === 0) {
    say('no remotes yet; `shadowgit remote add origin https://host/path` adds one.');
    return;
  }
  const rows = remotes.map((r) => [color.bold(r.name), r.url, lastPushText(r), String(r.unpushed), r.lastError ? color.red(r.lastError.message) : '']);
  print(table(['name', 'url', 'last push', 'not pushed', 'last error'], rows, { width: outputWidth(process.stdout) }));
}

async function prune(args: Args): Promise<void> {
  const report = await (await openRepo(args)).pruneRemote(args.name!, { policy: policyOf(args), dryRun: args.dryRun });
  if (args.json) {
    const { decisions, ...rest } = report;
    printJson({ ...rest, snapshots: decisions.map((d) => ({ id: d.snapshot.id, commit: d.snapshot.commit, date: d.snapshot.date.toISOString(), message: d.snapshot.message, keep: d.keep, reasons: d.reasons })) });
    return;
  }
  if (report.dryRun) {
    const rows = report.decisions.map((d) => [color.bold(d.snapshot.id), absoluteTime(d.snapshot.date), d.snapshot.message, d.keep ? color.green('keep') : color.red('remove'), d.reasons.join('\n')]);
    print(table(['id', 'date', 'message', 'action', 'why kept'], rows, { width: outputWidth(process.stdout) }));
    print(`Would remove ${report.removed} of ${report.decisions.length} snapshots of machine ${report.machine} on ${report.remote}; policy: ${report.policyText}.`);
    return;
  }
  print(`Removed ${report.removed} of ${report.decisions.length} snapshots of machine ${report.machine} from ${report.remote}'s chain, kept ${report.kept}; policy: ${report.policyText}. The server frees their space at its own gc.`);
}

export const remoteCommand = defineCommand<Args>({
  name: 'remote',
  describe: 'Add, list or remove the git servers that hold off-machine copies, or apply retention on one (docs/remote.md)',
  positionals: {
    action: { required: true, describe: `What to do: ${ACTIONS.join(', ')}` },
    name: { describe: 'The remote (add, remove, prune)' },
    url: { describe: 'Its http(s) URL, without a password (add)' },
  },
  flags: {
    ...POLICY_FLAGS,
    'dry-run': { alias: 'n', type: 'boolean', describe: 'remote prune: only show what would be removed and why each snapshot is kept' },
  },
  check: (args) => {
    if (!(ACTIONS as readonly string[]).includes(args.action)) return `unknown action "${args.action}"; use one of ${ACTIONS.join(', ')}.`;
    if (args.action === 'add' && (!args.name || !args.url)) return '`remote add` takes a name and a URL: shadowgit remote add origin https://host/path.';
    if ((args.action === 'remove' || args.action === 'prune') && !args.name) return `\`remote ${args.action}\` takes the name of the remote.`;
    const policyGiven = Object.values(policyOf(args)).some((v) => v !== undefined) || args.dryRun;
    if (policyGiven && args.action !== 'prune') return '--keep-* and --dry-run go with `remote prune`.';
    if (args.action === 'list' && args.name) return '`remote list` takes no name.';
    if (args.action !== 'add' && args.url) return `\`remote ${args.action}\` takes no URL.`;
    return undefined;
  },
  examples: [
    ['$0 remote add origin https://github.com/me/tree-backup.git', 'a private repository on a git host; the token goes in SHADOWGIT_REMOTE_TOKEN or the credential file'],
    ['$0 remote list', 'each remote, its last push and how many snapshots are not pushed yet'],
    ['$0 remote remove origin', 'forget it here (nothing on the server changes)'],
    ['$0 remote prune origin --keep-daily 30 --dry-run', "which of this machine's snapshots on origin a retention policy would remove"],
  ],
  epilog:
    "Remotes live in the shadow repository's git config (remote.NAME.url); a URL with a password is refused — credentials come from SHADOWGIT_REMOTE_TOKEN or the 0600 credential file ($SHADOWGIT_HOME/credentials or ~/.config/shadowgit/credentials). `shadowgit push` sends the snapshots. See docs/remote.md.",
  handler: (args) =>
    runCommand(async () => {
      const action = args.action as Action;
      if (action === 'list') return list(args);
      const sg = await openRepo(args);
      if (action === 'add') {
        const remote = await sg.addRemote(args.name!, args.url!);
        if (args.json) printJson({ added: remote });
        else say(`added remote ${remote.name} (${remote.url}); \`shadowgit push\` sends the snapshots there.`);
        return;
      }
      if (action === 'prune') return prune(args);
      const remote = await sg.removeRemote(args.name!);
      if (args.json) printJson({ removed: remote });
      else say(`removed remote ${remote.name} here; nothing on ${remote.url} was changed.`);
    }),
});
