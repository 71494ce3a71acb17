import { createRequire } from 'node:module';
import { ShadowGitError } from '../../engine/errors.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { print } from '../output.js';

interface Args extends GlobalArgs {
  port?: number;
  idleTimeout: string;
  open: boolean;
}

/** --port as typed: a whole number a user may listen on (0 lets the system pick). */
function portOf(port: number | undefined): number {
  if (port === undefined) return 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number from 1 to 65535, not ${port}.`, 'ui');
  return port;
}

export const uiCommand = defineCommand<Args>({
  name: 'ui',
  describe: 'Show the snapshots in a browser: timeline, compare, file history, impact, health, and undo',
  flags: {
    port: { type: 'number', describe: 'Listen on this port of 127.0.0.1 (default: a free one)' },
    'idle-timeout': { type: 'string', default: '30m', describe: 'Stop after this long with no page open and no request (90s, 30m, 2h)' },
    open: { type: 'boolean', default: true, describe: 'Open the URL in a browser when run in a terminal (--no-open: only print it)' },
  },
  examples: [
    ['$0 ui', 'serve this tree on a free port of 127.0.0.1 and open it in the browser'],
    ['$0 ui --no-open --port 8765', 'print the URL only, on a fixed port'],
    ['$0 ui --json --idle-timeout 2h', 'print {"url", "port"} as one JSON line; stop after two idle hours'],
    ['curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:PORT/api/health', 'what a monitor polls (TOKEN is in the printed URL)'],
  ],
  epilog: 'The URL carries a one-off token that the page exchanges for a session cookie; only 127.0.0.1 and localhost are answered. Ctrl-C stops the server. Docs: docs/ui.md.',
  handler: (args) =>
    runCommand(async () => {
      const port = portOf(args.port);
      const sg = await openRepo(args);
      const { periodOf } = await import('../../shadowgit.js');
      const idleTimeoutMs = await periodOf(args.idleTimeout).catch((err: unknown) => {
        throw err instanceof ShadowGitError ? new UsageError(`--idle-timeout takes a duration like 90s, 30m or 2h, not "${args.idleTimeout}".`, 'ui') : err;
      });
      if (idleTimeoutMs === 0) throw new UsageError('--idle-timeout must be longer than 0; write a duration like 90s, 30m or 2h.', 'ui');
      // The server and its routes load only here: no other command pays for them.
      const { startUiServer } = await import('../../ui/server.js');
      const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };
      const server = await startUiServer({ sg, port, idleTimeoutMs, version });
      const stopOnSignal = () => void server.stop();
      process.once('SIGINT', stopOnSignal);
      process.once('SIGTERM', stopOnSignal);
      if (args.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
      else print(`Serving ${sg.worktree} at ${server.url}\n(Ctrl-C stops; it stops by itself after ${args.idleTimeout} with no page open.)`);
      if (args.open && !args.json && process.stdout.isTTY) {
        const { default: open } = await import('open');
        // No browser here (a server, a container): the printed URL is the way in.
        await open(server.url).catch(() => undefined);
      }
      const why = await server.stopped;
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
      if (!args.json) process.stderr.write(why === 'idle' ? `shadowgit ui: stopped after ${args.idleTimeout} with no page open.\n` : 'shadowgit ui: stopped.\n');
    }),
});
