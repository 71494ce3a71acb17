import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'jsonc-parser';
import { AGENTS } from '../../src/agents/install/index.js';
import { mergeJsonHooks, type WantedHook } from '../../src/agents/install/jsonhooks.js';
import type { JsonAgent } from '../../src/agents/install/types.js';
import { BIN, makeSandbox, runCli, writeTree, type Sandbox } from '../helpers/sandbox.js';

/**
 * `shadowgit hooks install|uninstall|status` through the real CLI, with HOME in the sandbox; then
 * the merge itself on random settings objects.
 */

/** Parsed as the agents read them: JSON, comments allowed. */
const readJson = (file: string) => parse(readFileSync(file, 'utf8'));

/** Another tool's hooks and settings that every run must leave as they are. */
const CLAUDE_SETTINGS = `{
  // kept: a comment
  "model": "opus",
  "permissions": { "allow": ["Bash(npm test)"] },
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [{ "type": "command", "command": "other-tool check" }] }
    ],
    "Stop": [{ "hooks": [{ "type": "command", "command": "other-tool done" }] }]
  }
}
`;

describe('shadowgit hooks', () => {
  let sb: Sandbox;
  let home: string;
  let binDir: string;
  /** PATH without shadowgit on it, and with it (a link to this checkout's binary). */
  let withoutShadowgit: NodeJS.ProcessEnv;
  let withShadowgit: NodeJS.ProcessEnv;

  beforeAll(async () => {
    sb = makeSandbox('sg-hooks-');
    home = path.join(sb.dir, 'user');
    binDir = path.join(sb.dir, 'bin');
    await fsp.mkdir(home);
    await fsp.mkdir(binDir);
    await fsp.symlink(BIN, path.join(binDir, 'shadowgit'));
    await fsp.mkdir(path.join(sb.worktree, '.git'));
    const systemPath = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);
    withoutShadowgit = { HOME: home, PATH: systemPath, CODEX_HOME: '', COLUMNS: '200' };
    withShadowgit = { HOME: home, PATH: [binDir, systemPath].join(path.delimiter), CODEX_HOME: '', COLUMNS: '200' };
  });
  afterAll(async () => sb.cleanup());

  const hooks = (args: string[], env = withShadowgit, cwd = sb.worktree) => runCli(sb, ['hooks', ...args], { env, cwd });

  test('install merges into Claude Code settings and keeps everything else; a second install changes nothing; status shows it; uninstall gives the file back', async () => {
    const file = path.join(sb.worktree, '.claude', 'settings.json');
    await writeTree(sb.worktree, { '.claude/settings.json': CLAUDE_SETTINGS });
    await fsp.chmod(file, 0o600);
    const before = readJson(file);

    const dry = hooks(['install', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('would add SessionStart');
    expect(readFileSync(file, 'utf8')).toBe(CLAUDE_SETTINGS);

    const first = hooks(['install']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('found Claude Code in');
    const installed = readJson(file);
    // Every other key and the other tool's hooks are still there, as they were.
    expect({ ...installed, hooks: undefined }).toEqual({ ...before, hooks: undefined });
    expect(installed.hooks.PreToolUse[0]).toEqual(before.hooks.PreToolUse[0]);
    expect(installed.hooks.Stop[0]).toEqual(before.hooks.Stop[0]);
    expect(installed.hooks.PreToolUse.slice(1)).toEqual([
      { matcher: 'Edit|Write|MultiEdit|NotebookEdit', hooks: [{ type: 'command', command: 'shadowgit hook claude PreToolUse', timeout: 30 }] },
      { matcher: 'Bash|PowerShell', hooks: [{ type: 'command', command: 'shadowgit hook claude PreToolUse', timeout: 30 }] },
    ]);
    for (const event of ['SessionStart', 'UserPromptSubmit', 'Stop']) expect(installed.hooks[event].at(-1)).toEqual({ hooks: [{ type: 'command', command: `shadowgit hook claude ${event}`, timeout: 30 }] });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('// kept: a comment');
    expect((await fsp.stat(file)).mode & 0o777).toBe(0o600);

    // From a subdirectory: the tree's root is found as for every command.
    await fsp.mkdir(path.join(sb.worktree, 'src'), { recursive: true });
    const second = hooks(['install'], withShadowgit, path.join(sb.worktree, 'src'));
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('already installed, nothing changed');
    expect(readFileSync(file, 'utf8')).toBe(text);

    const status = hooks(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Claude Code │ project │ \.claude\/settings\.json +│ PreToolUse.*│ up to date/);
    const rows = JSON.parse(hooks(['status', '--json']).stdout).hooks;
    expect(rows.find((r: { agent: string; scope: string }) => r.agent === 'claude' && r.scope === 'project')).toMatchObject({ current: true, installed: expect.arrayContaining(['SessionStart', 'PreToolUse (Bash|PowerShell)']) });
    expect(rows.find((r: { agent: string; scope: string }) => r.agent === 'cursor' && r.scope === 'user')).toMatchObject({ current: false, installed: [] });

    const dryUninstall = hooks(['uninstall', '--dry-run']);
    expect(dryUninstall.stderr).toContain('would remove');
    expect(readFileSync(file, 'utf8')).toBe(text);

    const uninstall = hooks(['uninstall', '--json']);
    expect(uninstall.code).toBe(0);
    const report = JSON.parse(uninstall.stdout);
    expect(report.changes.find((c: { agent: string }) => c.agent === 'claude').removed).toHaveLength(5);
    expect(readJson(file)).toEqual(before);
    expect(readFileSync(file, 'utf8')).toContain('// kept: a comment');
    expect(hooks(['uninstall']).stderr).toContain('no shadowgit hooks found; nothing changed');
  });

  test('the full path of the binary when shadowgit is not on PATH; --guard on the shell entries only; a symlinked file written through to its target', async () => {
    const target = path.join(sb.dir, 'dotfiles', 'cursor-hooks.json');
    await writeTree(sb.dir, { 'dotfiles/cursor-hooks.json': '{"version": 1, "hooks": {"stop": [{"command": "other-tool stop"}]}}\n' });
    await fsp.mkdir(path.join(sb.worktree, '.cursor'));
    await fsp.symlink(target, path.join(sb.worktree, '.cursor', 'hooks.json'));

    const result = hooks(['install', '--agent', 'cursor', '--guard'], withoutShadowgit);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('not on PATH');
    expect((await fsp.lstat(path.join(sb.worktree, '.cursor', 'hooks.json'))).isSymbolicLink()).toBe(true);
    const written = readJson(target);
    expect(written.version).toBe(1);
    expect(written.hooks.stop).toEqual([{ command: 'other-tool stop' }, { command: `${BIN} hook cursor stop`, timeout: 30 }]);
    expect(written.hooks.beforeShellExecution).toEqual([{ command: `${BIN} hook cursor beforeShellExecution --guard`, timeout: 30 }]);
    expect(written.hooks.afterFileEdit).toEqual([{ command: `${BIN} hook cursor afterFileEdit`, timeout: 30 }]);

    // Installed through the full path, recognised as ours from PATH too: replaced, not doubled.
    const onPath = hooks(['install', '--agent', 'cursor'], withShadowgit);
    expect(onPath.stderr).toMatch(/remove .*beforeShellExecution/);
    expect(readJson(target).hooks.beforeShellExecution).toEqual([{ command: 'shadowgit hook cursor beforeShellExecution', timeout: 30 }]);
    expect(hooks(['uninstall', '--agent', 'cursor']).code).toBe(0);
    expect(readJson(target)).toEqual({ version: 1, hooks: { stop: [{ command: 'other-tool stop' }] } });
  });

  test('a file that is not valid JSON is refused with its line, and nothing at all is written; --dry-run writes nothing; no agent found is a usage error', async () => {
    const gemini = path.join(sb.worktree, '.gemini', 'settings.json');
    const broken = '{\n  "theme": "dark",\n  "hooks": {\n}\n';
    await writeTree(sb.worktree, { '.gemini/settings.json': broken, '.codex/.keep': '' });
    const refused = hooks(['install']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\.gemini\/settings\.json is not valid JSON \(\w+ at line 5\)/);
    expect(readFileSync(gemini, 'utf8')).toBe(broken);
    // The whole request is checked first: Codex, found beside it, got nothing either.
    await expect(fsp.stat(path.join(sb.worktree, '.codex', 'hooks.json'))).rejects.toThrow();
    // A broken file that names no shadowgit hook does not stop uninstalling from every agent.
    expect(hooks(['uninstall']).code).toBe(0);
    expect(readFileSync(gemini, 'utf8')).toBe(broken);

    const dry = hooks(['install', '--agent', 'codex', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).changes[0]).toMatchObject({ agent: 'codex', changed: true, added: expect.arrayContaining(['PreToolUse (apply_patch)', 'PreToolUse (Bash)']) });
    await expect(fsp.stat(path.join(sb.worktree, '.codex', 'hooks.json'))).rejects.toThrow();

    const empty = path.join(sb.dir, 'empty');
    await fsp.mkdir(path.join(empty, '.git'), { recursive: true });
    const none = hooks(['install'], withShadowgit, empty);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--agent claude|cursor|codex|gemini|cline');
    expect(hooks(['status', '--guard']).code).toBe(2);
    expect(hooks([])).toMatchObject({ code: 2, stderr: expect.stringContaining('name what to do: install, uninstall or status') });
  });

  test('user scope writes under HOME; Cline gets executable scripts, and a script of another tool is left alone', async () => {
    const user = hooks(['install', '--agent', 'codex', '--scope', 'user']);
    expect(user.code).toBe(0);
    expect(user.stderr).toContain('/hooks');
    expect(readJson(path.join(home, '.codex', 'hooks.json')).hooks.PreToolUse).toEqual([
      { matcher: 'apply_patch', hooks: [{ type: 'command', command: 'shadowgit hook codex PreToolUse', timeout: 30 }] },
      { matcher: 'Bash', hooks: [{ type: 'command', command: 'shadowgit hook codex PreToolUse', timeout: 30 }] },
    ]);

    const hooksDir = path.join(sb.worktree, '.clinerules', 'hooks');
    await writeTree(hooksDir, { TaskComplete: '#!/bin/sh\necho other tool\n' });
    const cline = hooks(['install', '--agent', 'cline', '--guard']);
    expect(cline.code).toBe(0);
    expect(cline.stderr).toContain('skipped TaskComplete');
    expect(readFileSync(path.join(hooksDir, 'PreToolUse'), 'utf8')).toMatch(/^exec shadowgit hook cline PreToolUse --guard$/m);
    expect(readFileSync(path.join(hooksDir, 'TaskStart'), 'utf8')).toMatch(/^exec shadowgit hook cline TaskStart$/m);
    expect((await fsp.stat(path.join(hooksDir, 'TaskStart'))).mode & 0o111).toBe(0o111);
    const row = JSON.parse(hooks(['status', '--json']).stdout).hooks.find((r: { agent: string; scope: string }) => r.agent === 'cline' && r.scope === 'project');
    expect(row).toMatchObject({ current: false, installed: expect.arrayContaining(['PreToolUse', 'TaskStart']) });

    expect(hooks(['uninstall', '--scope', 'user']).code).toBe(0);
    await expect(fsp.stat(path.join(home, '.codex', 'hooks.json'))).rejects.toThrow();
    expect(hooks(['uninstall', '--agent', 'cline']).code).toBe(0);
    expect((await fsp.readdir(hooksDir)).sort()).toEqual(['TaskComplete']);
  });
});

describe('merging hook entries into settings (property)', () => {
  const ourCommand = (agent: JsonAgent, event: string) => `shadowgit hook ${agent.name} ${event}`;
  const wanted = (agent: JsonAgent): WantedHook[] => agent.events.map((e) => ({ event: e.event, matcher: e.matcher, hook: agent.hook(ourCommand(agent, e.event)) }));

  /** Another tool's command: never one that reads as ours. */
  const otherCommand = fc.string({ minLength: 1 }).filter((c) => !/^\S*shadowgit\S* hook /.test(c) && !/^['"]/.test(c));
  /** Settings keys besides hooks, with any JSON under them. */
  const otherKeys = fc.dictionary(fc.string().filter((k) => k !== 'hooks' && k !== '__proto__'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  /** Events of ours and others', each with a non-empty list (an empty one left empty by us is removed, by design). */
  const eventNames = (agent: JsonAgent) => fc.constantFrom(...agent.events.map((e) => e.event), 'PostToolUse', 'Notification');

  const groupedHooks = (agent: JsonAgent) =>
    fc.dictionary(eventNames(agent), fc.array(fc.record({ matcher: fc.option(fc.constantFrom('Bash', 'Edit|Write', '*', ''), { nil: undefined }), hooks: fc.array(fc.record({ type: fc.constant('command'), command: otherCommand }), { minLength: 1, maxLength: 2 }) }, { requiredKeys: ['hooks'] }), { minLength: 1, maxLength: 3 }), { maxKeys: 4 });
  const flatHooks = (agent: JsonAgent) => fc.dictionary(eventNames(agent), fc.array(fc.record({ command: otherCommand, timeout: fc.option(fc.nat(100), { nil: undefined }) }, { requiredKeys: ['command'] }), { minLength: 1, maxLength: 3 }), { maxKeys: 4 });

  /** Settings as a file holds them, `hooks` left out when there are none (an empty `hooks` left empty by us is removed). */
  const settings = (agent: JsonAgent) =>
    fc.tuple(otherKeys, agent.shape === 'flat' ? flatHooks(agent) : groupedHooks(agent)).map(([keys, hooks]) => ({ ...agent.skeleton, ...keys, ...(Object.keys(hooks).length > 0 ? { hooks } : {}) }));

  for (const name of ['claude', 'cursor', 'gemini'] as const) {
    const agent = AGENTS[name] as JsonAgent;
    test(`${agent.title}: install then uninstall gives the same settings back; installing again changes nothing`, () => {
      fc.assert(
        fc.property(settings(agent), fc.integer({ min: 0, max: 4 }), (value, indent) => {
          const text = `${JSON.stringify(value, null, indent || undefined)}\n`;
          const installed = mergeJsonHooks(agent, text, 'settings.json', wanted(agent));
          expect(installed.added).toHaveLength(agent.events.length);
          const again = mergeJsonHooks(agent, installed.text!, 'settings.json', wanted(agent));
          expect(again.text).toBe(installed.text);
          expect(again.added).toEqual([]);
          const removed = mergeJsonHooks(agent, installed.text!, 'settings.json', []);
          expect(removed.removed).toHaveLength(agent.events.length);
          // A file that held only the skeleton is removed (null); everything else comes back equal.
          expect(removed.text === null ? agent.skeleton : parse(removed.text)).toEqual(JSON.parse(text));
        }),
        { numRuns: 80 },
      );
    });
  }
});
