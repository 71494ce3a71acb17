import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../protect/helpers.js';
import { BIN, diskFiles, expectSameFiles, fsck, git, gitTreeFiles, makeSandbox, repoOf, ROOT, runCli, runCliAsync, useSandbox, writeTree, type CliResult, type Sandbox } from '../helpers/sandbox.js';

// `shadowgit hook AGENT EVENT`: every fixture in test/fixtures/agents/<agent>/<event>[.<tool>].json
// (payloads shaped as each agent's documentation shows them) is replayed through the real CLI,
// the answer parsed as the agent would, and the snapshot read back with native git.

let sb: Sandbox;
useSandbox('sg-hook-', (s) => (sb = s));

const FIXTURES = path.join(ROOT, 'test/fixtures/agents');
/** The prompt every prompt fixture carries. */
const PROMPT = 'Refactor the config loader into its own module\n\nKeep the public API unchanged and update the tests.';

/** A fixture's JSON for a tree at `cwd` (its placeholders filled in). */
function payload(agent: string, file: string, cwd: string, box = sb): string {
  return readFileSync(path.join(FIXTURES, agent, file), 'utf8').replaceAll('__CWD__', cwd).replaceAll('__TRANSCRIPT_DIR__', path.join(box.dir, 'transcripts'));
}

/** `shadowgit hook ARGS` with `input` on stdin, as an agent runs it (from outside the tree: the JSON names it). */
function runHook(args: string[], input: string | Buffer, options: { env?: NodeJS.ProcessEnv; box?: Sandbox } = {}): Promise<CliResult> {
  const box = options.box ?? sb;
  return runCliAsync(box, ['hook', ...args], { cwd: box.dir, input, env: options.env });
}

/** Replays `agent`'s fixture `file` (its event is the name before the first dot) on `box`'s tree. */
function replay(agent: string, file: string, flags: string[] = [], box = sb): Promise<CliResult> {
  return runHook([agent, file.split('.')[0]!, ...flags], payload(agent, file, box.worktree, box), { box });
}

/** Replays a Claude Code fixture with every module the hook loads traced (test/helpers/trace-imports.mjs). */
function traced(file: string): { result: CliResult; loaded: string[] } {
  const trace = path.join(sb.dir, `trace-${file}.txt`);
  const run = spawnSync(process.execPath, ['--import', path.join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, 'hook', 'claude', file.split('.')[0]!], { input: payload('claude', file, sb.worktree), env: { ...sb.env, SG_TRACE_FILE: trace }, encoding: 'utf8' });
  return { result: { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }, loaded: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

/** The newest snapshot: its commit, subject and trailers, read with native git. */
function head(repo: string): { commit: string; subject: string; trailers: Record<string, string> } {
  const [commit, subject, ...lines] = (git(repo, ['log', '-1', '--format=%H%n%s%n%(trailers:only,unfold)']) as string).trim().split('\n');
  return { commit: commit!, subject: subject!, trailers: Object.fromEntries(lines.filter(Boolean).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])) };
}

/** A snapshot an event records: its trigger, message and the provenance trailers beyond agent, session and event. */
interface Recorded {
  trigger: 'agent-prompt' | 'agent-tool' | 'agent-turn';
  message: string;
  extra?: Record<string, string>;
}

/** What each fixture must do: `start` answers with context, `quiet` records nothing, else the snapshot. */
type Expected = 'start' | 'quiet' | Recorded;

const prompted = (): Recorded => ({ trigger: 'agent-prompt', message: 'before: Refactor the config loader into its own module' });

const AGENTS: Record<string, { session: string; promptId?: string; quiet: string; events: Array<[string, Expected]>; context: (answer: any) => string; guard: [string, (answer: any) => string] }> = {
  claude: {
    session: '0b6c5f7e-3d4a-4c2b-9e1f-8a7d6c5b4a31',
    promptId: 'b8f0c2d4-1e3a-4f5b-8c6d-7e9f0a1b2c3d',
    quiet: '',
    events: [
      ['SessionStart.json', 'start'],
      ['UserPromptSubmit.json', prompted()],
      ['PreToolUse.Read.json', 'quiet'],
      ['PreToolUse.Edit.json', { trigger: 'agent-tool', message: 'before: Edit src/app.ts', extra: { 'Shadowgit-Tool': 'Edit', 'Shadowgit-Tool-Use': 'toolu_01Hk3vQmZ8pX2cR7yL5nW9aT' } }],
      ['PreToolUse.Bash.json', { trigger: 'agent-tool', message: 'before: Bash rm -rf src/lib', extra: { 'Shadowgit-Tool': 'Bash', 'Shadowgit-Tool-Use': 'toolu_01Xb8nR4tK6mP1qS3vD7fG2h' } }],
      ['Stop.json', { trigger: 'agent-turn', message: 'end of turn' }],
    ],
    context: (answer) => (expect(answer.hookSpecificOutput.hookEventName).toBe('SessionStart'), answer.hookSpecificOutput.additionalContext),
    guard: ['PreToolUse.Bash.json', (answer) => (expect(answer.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'ask' }), answer.hookSpecificOutput.permissionDecisionReason)],
  },
  codex: {
    session: '019a7c2e-5b3d-7f10-8c4e-2d9b6a1f0e53',
    // Codex's turn_id.
    promptId: '019a7c2e-9d41-7a22-b3c5-6e7f8091a2b4',
    quiet: '',
    events: [
      ['SessionStart.json', 'start'],
      ['UserPromptSubmit.json', prompted()],
      ['PreToolUse.apply_patch.json', { trigger: 'agent-tool', message: 'before: apply_patch src/app.ts (+1 more)', extra: { 'Shadowgit-Tool': 'apply_patch', 'Shadowgit-Tool-Use': 'call_Jq8mT2vX4bN6cR1p' } }],
      ['PreToolUse.Bash.json', { trigger: 'agent-tool', message: 'before: Bash git reset --hard HEAD~1', extra: { 'Shadowgit-Tool': 'Bash', 'Shadowgit-Tool-Use': 'call_Zp3kW9sL5dF7gH2j' } }],
      ['Stop.json', { trigger: 'agent-turn', message: 'end of turn' }],
    ],
    context: (answer) => (expect(answer.hookSpecificOutput.hookEventName).toBe('SessionStart'), answer.hookSpecificOutput.additionalContext),
    // Codex rejects "ask" and runs the command anyway: deny is the one answer it honours.
    guard: ['PreToolUse.Bash.json', (answer) => (expect(answer.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' }), answer.hookSpecificOutput.permissionDecisionReason)],
  },
  cursor: {
    session: 'c6b1e0d2-4f3a-4e8b-9c7d-1a2b3c4d5e6f',
    // Cursor's generation_id.
    promptId: '7d9e1f20-3a4b-4c5d-8e6f-9a0b1c2d3e4f',
    quiet: '',
    events: [
      ['sessionStart.json', 'start'],
      ['beforeSubmitPrompt.json', prompted()],
      ['beforeReadFile.json', 'quiet'],
      ['afterFileEdit.json', { trigger: 'agent-tool', message: 'after: Edit src/app.ts', extra: { 'Shadowgit-Tool': 'Edit' } }],
      ['beforeShellExecution.json', { trigger: 'agent-tool', message: 'before: Shell git clean -fdx', extra: { 'Shadowgit-Tool': 'Shell' } }],
      ['stop.json', { trigger: 'agent-turn', message: 'end of turn' }],
    ],
    context: (answer) => answer.additional_context,
    guard: ['beforeShellExecution.json', (answer) => (expect(answer).toMatchObject({ permission: 'ask' }), expect(answer.agent_message).toBe(answer.user_message), answer.user_message)],
  },
  gemini: {
    session: 'f3e2d1c0-b9a8-4765-8432-10fedcba9876',
    // An empty stdout would make Gemini read stderr as the hook's answer.
    quiet: '{}',
    events: [
      ['SessionStart.json', 'start'],
      ['BeforeAgent.json', prompted()],
      ['BeforeTool.read_file.json', 'quiet'],
      ['BeforeTool.write_file.json', { trigger: 'agent-tool', message: 'before: write_file src/config.ts', extra: { 'Shadowgit-Tool': 'write_file' } }],
      ['BeforeTool.run_shell_command.json', { trigger: 'agent-tool', message: "before: run_shell_command find . -name '*.orig' -delete", extra: { 'Shadowgit-Tool': 'run_shell_command' } }],
      ['AfterAgent.json', { trigger: 'agent-turn', message: 'end of turn' }],
    ],
    context: (answer) => (expect(answer.hookSpecificOutput.hookEventName).toBe('SessionStart'), answer.hookSpecificOutput.additionalContext),
    guard: ['BeforeTool.run_shell_command.json', (answer) => (expect(answer.decision).toBe('ask'), expect(answer.systemMessage).toBe(answer.reason), answer.reason)],
  },
  cline: {
    session: '1765068123456',
    quiet: '',
    events: [
      ['TaskStart.json', 'start'],
      ['UserPromptSubmit.json', prompted()],
      ['PreToolUse.read_file.json', 'quiet'],
      ['PreToolUse.write_to_file.json', { trigger: 'agent-tool', message: 'before: write_to_file src/config.ts', extra: { 'Shadowgit-Tool': 'write_to_file' } }],
      ['PreToolUse.execute_command.json', { trigger: 'agent-tool', message: 'before: execute_command git checkout -- .', extra: { 'Shadowgit-Tool': 'execute_command' } }],
      ['TaskComplete.json', { trigger: 'agent-turn', message: 'end of turn' }],
    ],
    context: (answer) => (expect(answer.cancel).toBe(false), answer.contextModification),
    // Cline's hooks cannot ask: cancel, with the reason shown to the person.
    guard: ['PreToolUse.execute_command.json', (answer) => (expect(answer.cancel).toBe(true), answer.errorMessage)],
  },
};

describe('shadowgit hook: every fixture through the real CLI', () => {
  test('every fixture file is replayed below', () => {
    for (const agent of readdirSync(FIXTURES)) {
      const replayed = [...AGENTS[agent]!.events.map(([file]) => file), AGENTS[agent]!.guard[0]];
      for (const file of readdirSync(path.join(FIXTURES, agent))) expect(replayed).toContain(file);
    }
  });

  test('each agent\'s events answer as the agent expects and record what they should, with provenance (the agents side by side, a tree each)', async () => {
    const boxes = Object.keys(AGENTS).map(() => makeSandbox('sg-hook-agent-'));
    try {
      await Promise.all(Object.keys(AGENTS).map((agent, i) => exercise(agent, boxes[i]!)));
    } finally {
      await Promise.all(boxes.map((box) => box.cleanup()));
    }
  });
});

/** Replays every fixture of `agent` in order on `box`'s tree, then its shell command with --guard. */
async function exercise(agent: string, box: Sandbox): Promise<void> {
  const { session, promptId, quiet, events, context, guard } = AGENTS[agent]!;
  await writeTree(box.worktree, { 'src/app.ts': 'export const version = 1;\n', 'src/lib/util.ts': 'export {};\n' });
  expect((await runCliAsync(box, ['snapshot', '-m', 'baseline'])).code).toBe(0);
  const repo = JSON.parse((await runCliAsync(box, ['--json', 'status'])).stdout).repo as string;
  for (const [i, [file, expected]] of events.entries()) {
    // A change before each event, so a tool's or turn's snapshot has something to record.
    await writeTree(box.worktree, { 'progress.txt': `step ${i}\n` });
    const before = head(repo);
    const result = await replay(agent, file, [], box);
    expect({ agent, file, code: result.code, stderr: result.stderr }).toEqual({ agent, file, code: 0, stderr: '' });
    const after = head(repo);
    if (expected === 'start') {
      const text = context(JSON.parse(result.stdout));
      expect(text).toContain(`Latest snapshot: ${before.trailers['Shadowgit-Id']}`);
      expect(text).toContain(`shadowgit list --session ${session}`);
      expect(text).toContain('shadowgit rollback ID --yes');
    } else expect({ file, stdout: result.stdout }).toEqual({ file, stdout: quiet ? `${quiet}\n` : '' });
    if (expected === 'start' || expected === 'quiet') {
      expect({ file, commit: after.commit }).toEqual({ file, commit: before.commit });
      continue;
    }
    expect(after.commit).not.toBe(before.commit);
    expect({ file, subject: after.subject, ...after.trailers }).toMatchObject({
      file,
      subject: expected.message,
      'Shadowgit-Trigger': expected.trigger,
      'Shadowgit-Agent': agent,
      'Shadowgit-Session': session,
      'Shadowgit-Event': file.split('.')[0],
      ...(promptId ? { 'Shadowgit-Prompt': promptId } : {}),
      ...expected.extra,
    });
    for (const name of ['Shadowgit-Tool', 'Shadowgit-Tool-Use', 'Shadowgit-Prompt']) if (!expected.extra?.[name] && !(name === 'Shadowgit-Prompt' && promptId)) expect({ file, [name]: after.trailers[name] }).toEqual({ file });
    if (expected.trigger === 'agent-prompt') expect(git(repo, ['notes', 'show', after.commit])).toBe(`${PROMPT}\n`);
  }

  // --guard: a destructive command is snapshotted first, then put to the person.
  await writeTree(box.worktree, { 'progress.txt': 'before the guarded command\n' });
  const guarded = await replay(agent, guard[0], ['--guard'], box);
  expect({ agent, code: guarded.code, stderr: guarded.stderr }).toEqual({ agent, code: 0, stderr: '' });
  const reason = guard[1](JSON.parse(guarded.stdout));
  const { trailers } = head(repo);
  expect(trailers['Shadowgit-Trigger']).toBe('agent-tool');
  expect(reason).toContain(`shadowgit rollback ${trailers['Shadowgit-Id']} --yes`);
  fsck(repo);
}

describe('shadowgit hook: the contract with the agent', () => {
  test('a bad input, a missing tree or an unknown agent is one line on stderr, exit 0, and nothing recorded', async () => {
    const claudePrompt = (fields: Record<string, unknown>) => JSON.stringify({ session_id: 's', hook_event_name: 'UserPromptSubmit', prompt: 'p', ...fields });
    const cases: Array<[string[], string | Buffer, string]> = [
      [['claude', 'UserPromptSubmit'], 'not json {', 'is not JSON'],
      [['claude', 'UserPromptSubmit'], Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'is not UTF-8'],
      [['claude', 'UserPromptSubmit'], '[1, 2]', 'not an object'],
      [['claude', 'UserPromptSubmit'], '', 'got nothing on stdin'],
      [['claude', 'UserPromptSubmit'], `{"prompt": "${'x'.repeat(8 * 1024 * 1024)}"}`, 'larger than 8 MiB'],
      [['claude', 'UserPromptSubmit'], claudePrompt({}), 'names no working directory'],
      [['claude', 'UserPromptSubmit'], claudePrompt({ cwd: 'work' }), '"work" is not an absolute path'],
      [['claude', 'UserPromptSubmit'], claudePrompt({ cwd: path.join(sb.dir, 'gone') }), `${path.join(sb.dir, 'gone')} does not exist`],
      [['claude'], JSON.stringify({ session_id: 's', cwd: sb.worktree }), 'names the event'],
      [['zed', 'UserPromptSubmit'], claudePrompt({ cwd: sb.worktree }), 'there is no agent "zed"'],
      [[], '', 'no agent was named'],
      // A mistyped flag is a usage mistake, which any other command answers with exit 2 — which
      // Claude Code reads as "block this tool call".
      [['claude', 'PreToolUse', '--gaurd'], claudePrompt({ cwd: sb.worktree }), 'gaurd'],
    ];
    const results = await Promise.all(cases.map(([args, input]) => runHook(args, input)));
    for (const [i, [args, , words]] of cases.entries()) {
      const result = results[i]!;
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 0, stdout: '' });
      expect(result.stderr).toMatch(/^shadowgit( hook)?: [^\n]+\n$/);
      expect(result.stderr).toContain(words);
    }
    // Gemini reads an empty stdout as "look at stderr": its failures still answer a JSON object.
    const gemini = await runHook(['gemini', 'BeforeAgent'], 'not json');
    expect({ code: gemini.code, stdout: gemini.stdout }).toEqual({ code: 0, stdout: '{}\n' });
    expect(existsSync(path.join(sb.home, 'repos'))).toBe(false);
  });

  test('in a home directory without a shadow repository, a hook records nothing and says to run `shadowgit init` there', async () => {
    const home = path.join(sb.dir, 'person');
    await writeTree(home, { 'notes.txt': 'mine\n' });
    for (const file of ['UserPromptSubmit.json', 'SessionStart.json']) {
      const result = await runHook(['claude', file.split('.')[0]!], payload('claude', file, home), { env: { HOME: home } });
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' });
      expect(result.stderr).toBe(`shadowgit: ${home} is your home directory and has no shadow repository, so nothing was recorded; run \`shadowgit init\` there if you mean to protect all of it, or start the agent in a project directory.\n`);
    }
    expect(existsSync(path.join(sb.home, 'repos'))).toBe(false);
  });

  test('--guard follows .shadowgit "hooks.destructive", and asks even when the snapshot fails', async () => {
    await writeTree(sb.worktree, { '.shadowgit': '{ "hooks": { "destructive": ["\\\\bmake\\\\s+clean\\\\b"] } }\n', 'src/lib/util.ts': 'export {};\n' });
    // rm -rf is not on this tree's list: snapshot, and no question.
    const allowed = await replay('claude', 'PreToolUse.Bash.json', ['--guard']);
    expect({ code: allowed.code, stdout: allowed.stdout, stderr: allowed.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(head(repoOf(sb)).trailers['Shadowgit-Trigger']).toBe('agent-tool');
    // Settings that cannot be read stop the snapshot: the person is asked, and told why.
    await writeTree(sb.worktree, { '.shadowgit': '{ "hooks": \n' });
    const failed = await replay('claude', 'PreToolUse.Bash.json', ['--guard']);
    expect(failed.code).toBe(0);
    expect(failed.stderr).toMatch(/^shadowgit: [^\n]*\.shadowgit:2:1: [^\n]+\n$/);
    const answer = JSON.parse(failed.stdout).hookSpecificOutput;
    expect(answer.permissionDecision).toBe('ask');
    expect(answer.permissionDecisionReason).toContain('could not record a snapshot first');
  });

  test('hooks fired in parallel wait for each other on the lock: every one exits 0 and records its own snapshot', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    const run = (i: number) => runHook(['claude', 'UserPromptSubmit'], payload('claude', 'UserPromptSubmit.json', sb.worktree).replace('b8f0c2d4-1e3a-4f5b-8c6d-7e9f0a1b2c3d', `prompt-${i}`));
    const results = await Promise.all([0, 1, 2, 3].map(run));
    expect(results).toEqual(results.map(() => ({ code: 0, stdout: '', stderr: '' })));
    const repo = repoOf(sb);
    const prompts = (git(repo, ['log', '--format=%(trailers:key=Shadowgit-Prompt,valueonly)']) as string).split('\n').filter(Boolean).sort();
    expect(prompts).toEqual(['prompt-0', 'prompt-1', 'prompt-2', 'prompt-3']);
    fsck(repo);
  });

  test('with `shadowgit watch` running, the watcher records the hook\'s snapshot: the hook loads no facade, and the note and provenance are kept', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    expect(runCli(sb, ['snapshot']).code).toBe(0);
    const repo = repoOf(sb);
    // Hour-long quiet periods: the watcher records nothing on its own while the test runs.
    expect(runCli(sb, ['watch', '--detach', '--debounce', '3600', '--interval', '3600']).code).toBe(0);
    try {
      await waitFor("the watcher's socket", async () => JSON.parse(await fsp.readFile(path.join(repo, 'shadowgit', 'watch.json'), 'utf8').catch(() => '{}')).socket);
      const { result, loaded } = traced('UserPromptSubmit.json');
      expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(loaded.filter((url) => url.endsWith('/dist/shadowgit.js'))).toEqual([]);
      const { commit, trailers } = head(repo);
      expect(trailers).toMatchObject({ 'Shadowgit-Trigger': 'agent-prompt', 'Shadowgit-Agent': 'claude', 'Shadowgit-Prompt': AGENTS.claude!.promptId });
      expect(git(repo, ['notes', 'show', commit])).toBe(`${PROMPT}\n`);
    } finally {
      runCli(sb, ['watch', '--stop']);
    }
  });

  test('a read-only tool call answers without loading the engine', async () => {
    const { result, loaded } = traced('PreToolUse.Read.json');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(loaded.some((url) => url.endsWith('/dist/agents/hook.js'))).toBe(true);
    expect(loaded.filter((url) => /\/dist\/(shadowgit\.js|engine\/(worktree|snapshot|store\/repo))/.test(url))).toEqual([]);
  });
});

describe('the acceptance test of issue #20', () => {
  test('a recorded Claude Code session replayed through `shadowgit hook`; `shadowgit rollback` to the prompt\'s snapshot returns the tree exactly to before the prompt', async () => {
    await writeTree(sb.worktree, {
      'README.md': '# demo\n',
      'src/app.ts': 'export const version = 1;\n',
      'src/lib/parse.ts': 'export function parse(s: string) { return s.split(","); }\n',
      'src/lib/format.ts': 'export const format = (xs: string[]) => xs.join(", ");\n',
    });
    const beforePrompt = await diskFiles(sb.worktree);

    const start = await replay('claude', 'SessionStart.json');
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(start.stdout).hookSpecificOutput.additionalContext).toContain('protected by shadowgit');

    expect(await replay('claude', 'UserPromptSubmit.json')).toEqual({ code: 0, stdout: '', stderr: '' });
    const repo = repoOf(sb);
    const prompt = head(repo);
    expect(prompt.trailers['Shadowgit-Trigger']).toBe('agent-prompt');

    expect(await replay('claude', 'PreToolUse.Edit.json')).toEqual({ code: 0, stdout: '', stderr: '' });
    await fsp.writeFile(path.join(sb.worktree, 'src/app.ts'), 'export const version = 2;\n');
    expect(await replay('claude', 'PreToolUse.Bash.json')).toEqual({ code: 0, stdout: '', stderr: '' });
    await fsp.rm(path.join(sb.worktree, 'src/lib'), { recursive: true });
    expect(await replay('claude', 'Stop.json')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(head(repo).trailers['Shadowgit-Trigger']).toBe('agent-turn');

    const rollback = runCli(sb, ['rollback', prompt.trailers['Shadowgit-Id']!, '--yes']);
    expect(rollback.code).toBe(0);
    const now = await diskFiles(sb.worktree);
    expectSameFiles(now, gitTreeFiles(repo, prompt.commit));
    expectSameFiles(now, beforePrompt);
    expect(git(repo, ['notes', 'show', prompt.commit])).toBe(`${PROMPT}\n`);
    const sessions = (git(repo, ['log', '--format=%(trailers:key=Shadowgit-Session,valueonly)']) as string).split('\n').filter(Boolean);
    expect(new Set(sessions)).toEqual(new Set([AGENTS.claude!.session]));
    fsck(repo);
  });
});
