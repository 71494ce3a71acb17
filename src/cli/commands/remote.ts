import type { RemoteSummary } from '../../shadowgit.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, type GlobalArgs } from '../context.js';
import { outputWidth } from '../fit.js';
import { absoluteTime, color, print, printJson, relativeTime, table } from '../output.js';

const ACTIONS = ['add', 'list', 'remove'] as const;
type Action = (typeof ACTIONS)[number];

interface Args extends GlobalArgs {
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

export const remoteCommand = defineCommand<Args>({
  name: 'remote',
  describe: 'Add, list or remove the git servers that hold off-machine copies (docs/remote.md)',
  positionals: {
    action: { required: true, describe: `What to do: ${ACTIONS.join(', ')}` },
    name: { describe: 'The remote (add, remove)' },
    url: { describe: 'Its http(s) URL, without a password (add)' },
  },
  check: (args) => {
    if (!(ACTIONS as readonly string[]).includes(args.action)) return `unknown action "${args.action}"; use one of ${ACTIONS.join(', ')}.`;
    if (args.action === 'add' && (!args.name || !args.url)) return '`remote add` takes a name and a URL: shadowgit remote add origin https://host/path.';
    if (args.action === 'remove' && !args.name) return '`remote remove` takes the name of the remote.';
    if (args.action === 'list' && args.name) return '`remote list` takes no name.';
    if (args.action !== 'add' && args.url) return `\`remote ${args.action}\` takes no URL.`;
    return undefined;
  },
  examples: [
    ['$0 remote add origin https://github.com/me/tree-backup.git', 'a private repository on a git host; the token goes in SHADOWGIT_REMOTE_TOKEN or the credential file'],
    ['$0 remote list', 'each remote, its last push and how many snapshots are not pushed yet'],
    ['$0 remote remove origin', 'forget it here (nothing on the server changes)'],
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
      const remote = await sg.removeRemote(args.name!);
      if (args.json) printJson({ removed: remote });
      else say(`removed remote ${remote.name} here; nothing on ${remote.url} was changed.`);
    }),
});
