import { defineCommand } from '../command.js';
import { reportFailuresAsJson, runCommand, type GlobalArgs } from '../context.js';

export const mcpCommand = defineCommand<GlobalArgs>({
  name: 'mcp',
  describe: 'Serve the snapshots to an AI agent over the Model Context Protocol (stdio)',
  examples: [
    ['claude mcp add shadowgit -- $0 mcp', 'give Claude Code the tools for the current project'],
    ['$0 -C ~/project mcp', 'serve another tree'],
  ],
  epilog: 'Tools: status, list_snapshots, diff, show_file, impact, snapshot, restore (two steps: a plan, then that plan carried out), and approve when .shadowgit sets "mcp": { "allowApprove": true }. stdout carries only JSON-RPC. Setup for each agent: docs/agents.md.',
  handler: () =>
    runCommand(async () => {
      // stdout is the protocol's: a failure to start is one sentence on stderr, never JSON there.
      reportFailuresAsJson(false);
      // The SDK loads only here: no other command pays for it.
      const { serveMcp } = await import('../../mcp/server.js');
      await serveMcp({ cwd: process.cwd() });
    }),
});
