import os from 'node:os';
import path from 'node:path';
import { AGENT_NAMES, AGENTS, applyPlan, detectAgents, hooksStatus, markerNames, planHooks, SCOPES, shadowgitInvocation, type AgentName, type HookPlan, type HookStatus, type Places, type Scope } from '../../agents/install/index.js';
import { defineCommand } from '../command.js';
import { openRepo, runCommand, UsageError, type GlobalArgs } from '../context.js';
import { outputWidth } from '../fit.js';
import { color, print, printJson, table } from '../output.js';

const ACTIONS = ['install', 'uninstall', 'status'] as const;
type Action = (typeof ACTIONS)[number];

interface Args extends GlobalArgs {
  action: string;
  agent?: AgentName;
  scope: Scope;
  dryRun?: boolean;
  guard?: boolean;
}

const say = (line: string) => process.stderr.write(`${color.cyan('shadowgit:')} ${line}\n`);

/** A path as the user knows it: relative to the tree, or under `~`. */
function shown(file: string, places: Places): string {
  if (places.root && (file === places.root || file.startsWith(places.root + path.sep))) return path.relative(places.root, file);
  if (file.startsWith(places.home + path.sep)) return `~${path.sep}${path.relative(places.home, file)}`;
  return file;
}

async function placesFor(args: Args, scopes: readonly Scope[]): Promise<Places> {
  const places: Places = { home: os.homedir(), env: process.env };
  if (scopes.includes('project')) places.root = (await openRepo(args)).worktree;
  return places;
}

/** The agents a run is for: the one named, else (install) those found at the scope, else (uninstall) all. */
async function chosenAgents(args: Args, action: Action, places: Places): Promise<AgentName[]> {
  if (args.agent) return [args.agent];
  if (action === 'uninstall') return [...AGENT_NAMES];
  const found = await detectAgents(args.scope, places);
  const where = args.scope === 'user' ? places.home : places.root!;
  if (found.length === 0) {
    throw new UsageError(`found no agent's configuration directory (${markerNames(args.scope, places).join(', ')}) in ${where}; name the agent with --agent ${AGENT_NAMES.join('|')}.`, 'hooks');
  }
  if (!args.json) say(`found ${found.map((a) => a.title).join(', ')} in ${where}.`);
  return found.map((a) => a.name);
}

function reportPlans(plans: HookPlan[], action: Action, dryRun: boolean, places: Places): void {
  const would = dryRun ? 'would ' : '';
  for (const { change, writes, note } of plans) {
    const agent = AGENTS[change.agent];
    const where = `${agent.title} (${change.scope}, ${shown(change.file, places)})`;
    if (writes.length === 0 && change.skipped.length === 0) {
      if (action === 'install') say(`${where}: already installed, nothing changed.`);
      continue;
    }
    say(`${where}:`);
    if (change.removed.length > 0) say(`  ${would}remove ${change.removed.join(', ')}`);
    if (change.added.length > 0) say(`  ${would}add ${change.added.join(', ')}`);
    if (change.unchanged.length > 0) say(`  kept ${change.unchanged.join(', ')}`);
    if (change.skipped.length > 0) say(`  ${color.yellow('skipped')} ${change.skipped.join(', ')}: a hook file that shadowgit did not write is there; merge it by hand (it should run \`shadowgit hook ${change.agent} EVENT\`).`);
    if (note && !dryRun) say(`  ${note}`);
  }
}

async function installOrUninstall(args: Args, action: 'install' | 'uninstall'): Promise<number> {
  const places = await placesFor(args, [args.scope]);
  const agents = await chosenAgents(args, action, places);
  const invocation = shadowgitInvocation(process.env, process.argv[1] ?? 'shadowgit');
  const program = action === 'install' ? invocation.program : undefined;
  // Every file is read and merged before the first one is written: one that cannot be changes nothing.
  const plans: HookPlan[] = [];
  for (const name of agents) plans.push(await planHooks(AGENTS[name], args.scope, places, program, Boolean(args.guard)));
  if (!args.dryRun) for (const plan of plans) await applyPlan(plan);
  const touched = plans.filter((p) => p.writes.length > 0);
  if (args.json) {
    printJson({ action, dryRun: Boolean(args.dryRun), ...(program ? { command: program } : {}), changes: plans.map((p) => ({ ...p.change, changed: p.writes.length > 0 })) });
    return 0;
  }
  if (action === 'install' && !invocation.onPath && touched.length > 0) say(`shadowgit is not on PATH, so the hooks run it by its full path, ${invocation.program}.`);
  reportPlans(plans, action, Boolean(args.dryRun), places);
  if (action === 'uninstall' && touched.length === 0) say('no shadowgit hooks found; nothing changed.');
  if (args.dryRun && touched.length > 0) say('dry run: nothing was written.');
  return 0;
}

async function status(args: Args): Promise<number> {
  const places = await placesFor(args, SCOPES);
  const { program } = shadowgitInvocation(process.env, process.argv[1] ?? 'shadowgit');
  const rows: HookStatus[] = [];
  for (const agent of Object.values(AGENTS)) for (const scope of SCOPES) rows.push(await hooksStatus(agent, scope, places, program));
  if (args.json) {
    printJson({ hooks: rows.map(({ title: _title, ...row }) => row) });
    return 0;
  }
  const state = (r: HookStatus) => (r.problem ? color.red('unreadable') : r.installed.length === 0 ? 'not installed' : r.current ? color.green('up to date') : color.yellow('outdated'));
  print(table(['agent', 'scope', 'file', 'events installed', 'state'], rows.map((r) => [r.title, r.scope, shown(r.file, places), r.installed.join('\n') || '—', state(r)]), { width: outputWidth(process.stdout) }));
  for (const r of rows) if (r.problem) say(r.problem);
  if (rows.some((r) => r.installed.length > 0 && !r.current && !r.problem)) say('run `shadowgit hooks install --agent NAME` to bring an outdated one up to date.');
  return 0;
}

export const hooksCommand = defineCommand<Args>({
  name: 'hooks',
  describe: "Install, remove or show the hooks that make AI coding agents snapshot the tree (`shadowgit hook AGENT EVENT`)",
  positionals: { action: { required: true, describe: `What to do: ${ACTIONS.join(', ')}` } },
  flags: {
    agent: { type: 'string', choices: AGENT_NAMES, describe: 'Only this agent (default: install for the agents whose configuration directory exists; uninstall from all)' },
    scope: { type: 'string', choices: SCOPES, default: 'project', describe: "project: the tree's own settings; user: the home directory's, for every project" },
    'dry-run': { type: 'boolean', describe: 'Print what would change and write nothing' },
    guard: { type: 'boolean', describe: 'Also ask before destructive shell commands (rm -rf, git reset --hard, …) the agent runs' },
  },
  check: (args) => {
    if (!(ACTIONS as readonly string[]).includes(args.action)) return `unknown action "${args.action}"; use one of ${ACTIONS.join(', ')}.`;
    if (args.guard && args.action !== 'install') return '--guard goes with `hooks install`.';
    if (args.dryRun && args.action === 'status') return '--dry-run goes with `hooks install` and `hooks uninstall`.';
    return undefined;
  },
  examples: [
    ['$0 hooks install', 'hook every agent configured in this project (.claude, .cursor, .codex, .gemini, .clinerules)'],
    ['$0 hooks install --agent claude --scope user', 'hook Claude Code for every project of this user'],
    ['$0 hooks install --agent claude --guard', 'also ask before destructive shell commands'],
    ['$0 hooks uninstall --dry-run', 'show which entries uninstall would remove'],
    ['$0 hooks status', 'what is installed where'],
  ],
  epilog: `Merges into the agent's own settings: other keys and other tools' hooks are kept; a second install changes nothing; uninstall removes only shadowgit's entries. Formats: ${Object.values(AGENTS).map((a) => `${a.title} ${a.docs}`).join(', ')}. See docs/agents.md.`,
  handler: (args) =>
    runCommand(async () => {
      const action = args.action as Action;
      if (action === 'status') return status(args);
      return installOrUninstall(args, action);
    }),
});
