import { AGENTS, runHook } from '../../agents/hook.js';
import { defineCommand } from '../command.js';
import type { GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  agent?: string;
  event?: string;
  guard?: boolean;
}

export const hookCommand = defineCommand<Args>({
  name: 'hook',
  describe: "Snapshot for an AI agent's hook (reads the agent's JSON on stdin)",
  // Both optional: a hook must never fail the agent, and yargs would exit 2 (a block in Claude Code) for a missing one.
  positionals: {
    agent: { describe: `The agent whose hook calls: ${AGENTS.join(', ')}` },
    event: { describe: "The agent's event (UserPromptSubmit, PreToolUse, beforeShellExecution, …); default: the one its JSON names" },
  },
  flags: {
    guard: { type: 'boolean', describe: 'Before a shell command matching the destructive list (.shadowgit "hooks.destructive"), snapshot, then have the person confirm' },
  },
  examples: [
    ['$0 hook claude UserPromptSubmit', 'in .claude/settings.json: a snapshot before each prompt, the prompt as its note'],
    ['$0 hook cursor beforeShellExecution --guard', 'in .cursor/hooks.json: snapshot before each shell command, and ask before `rm -rf`, `git reset --hard`, …'],
  ],
  epilog: 'stdout carries only what the agent reads; a failure is one line on stderr and the agent goes on (exit 0). `shadowgit hooks install` writes the agent settings; docs/agents.md lists what each event records.',
  handler: async (args) => {
    const answer = await runHook(args.agent, args.event, process.stdin, { guard: args.guard });
    if (answer.stdout) process.stdout.write(`${answer.stdout}\n`);
    if (answer.problem) process.stderr.write(`shadowgit: ${answer.problem}\n`);
    process.exitCode = 0;
  },
});
