import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsck, git, repoOf, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { cliInTerminal, redrawnLines } from '../helpers/terminal.js';
import { fileAt as fileAtCommit, headOf, opsOf, startCli, waitFor, type Running } from './helpers.js';

let sb: Sandbox;
let repo: string;
let watcher: Running | undefined;

// Declared before the sandbox's own hooks, so a watcher left by a failed test dies before cleanup.
afterEach(async () => {
  if (watcher && watcher.child.exitCode === null && watcher.child.signalCode === null) {
    watcher.child.kill('SIGKILL');
    await watcher.exited;
  }
  watcher = undefined;
  // A background watcher left by a failed test.
  const state = await fsp.readFile(stateFile(), 'utf8').then(JSON.parse, () => undefined);
  if (state?.pid) {
    try {
      process.kill(state.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
useSandbox('sg-watch-', (s) => (sb = s));
beforeEach(async () => {
  await writeTree(sb.worktree, { '.gitignore': 'dist/\n', 'src/app.ts': 'export const v = 1;\n', 'README.md': 'readme\n', 'dist/out.js': 'built\n', 'node_modules/dep/index.js': 'dep\n', '.git/HEAD': 'ref: refs/heads/main\n' });
  repo = repoOf(sb);
});

const watchOps = () => opsOf(repo).filter((o) => o.op === 'snapshot' && o.args.trigger === 'watch');
const stateFile = () => path.join(repo, 'shadowgit', 'watch.json');
const fileAt = (commit: string, file: string) => fileAtCommit(repo, commit, file);
const triggerOf = (commit: string) => /Shadowgit-Trigger: (\S+)/.exec(git(repo, ['cat-file', 'commit', commit]))?.[1];

test('a foreground watcher snapshots settled edits, ignores ignored paths, and takes a final snapshot on SIGTERM', async () => {
  watcher = startCli(sb, ['watch', '--debounce', '0.2', '--interval', '10']);
  const initial = await waitFor('the initial watch snapshot', () => headOf(repo));
  expect(triggerOf(initial)).toBe('watch');
  expect(fileAt(initial, 'src/app.ts')).toBe('export const v = 1;\n');
  expect(fileAt(initial, 'node_modules/dep/index.js')).toBeUndefined();
  const state = await waitFor('watch.json', () => fsp.readFile(stateFile(), 'utf8').then(JSON.parse, () => undefined));
  expect(state.pid).toBe(watcher.child.pid);
  // Root, src: node_modules, dist (.gitignore) and .git hold no watch.
  expect(state.watchedDirectories).toBe(2);

  // Ignored paths never wake it: no snapshot is even attempted.
  const opsBefore = await waitFor('the initial snapshot in the op log', () => watchOps().length || undefined);
  await writeTree(sb.worktree, { 'node_modules/dep/index.js': 'changed dep\n', 'dist/out.js': 'rebuilt\n', '.git/index': 'x', 'node_modules/new/file.js': 'new\n' });
  const quietUntil = Date.now() + 1500; // 7× the debounce
  await waitFor('the quiet window', () => Date.now() > quietUntil);
  expect(watchOps().length).toBe(opsBefore);

  // A real edit, in a directory created after the watcher started, is recorded.
  await writeTree(sb.worktree, { 'src/new/deep.ts': 'export const deep = 2;\n' });
  await fsp.writeFile(path.join(sb.worktree, 'src/app.ts'), 'export const v = 2;\n');
  const second = await waitFor('the edit snapshot', () => {
    const head = headOf(repo)!;
    return head !== initial && fileAt(head, 'src/app.ts') === 'export const v = 2;\n' && fileAt(head, 'src/new/deep.ts') !== undefined && head;
  });
  expect(triggerOf(second)).toBe('watch');

  // An edited .gitignore applies at once: the newly ignored directory gets no watch.
  await fsp.appendFile(path.join(sb.worktree, '.gitignore'), 'src/gen/\n');
  await waitFor('the .gitignore snapshot', () => fileAt(headOf(repo)!, '.gitignore')?.includes('src/gen/'));
  await writeTree(sb.worktree, { 'src/gen/out.js': 'generated\n', 'src/app.ts': 'export const v = 3;\n' });
  const third = await waitFor('the third edit', () => fileAt(headOf(repo)!, 'src/app.ts') === 'export const v = 3;\n' && headOf(repo));
  expect(fileAt(third, 'src/gen/out.js')).toBeUndefined();
  const watched = await waitFor('watch.json after the snapshot', async () => {
    const s = JSON.parse(await fsp.readFile(stateFile(), 'utf8'));
    return s.lastSnapshot?.commit === third && s;
  });
  expect(watched.watchedDirectories).toBe(3); // root, src, src/new — not src/gen

  // An edit right before SIGTERM is in the final snapshot; the watcher exits 0 and cleans up.
  await fsp.writeFile(path.join(sb.worktree, 'README.md'), 'last words\n');
  watcher.child.kill('SIGTERM');
  const { code } = await watcher.exited;
  expect(code).toBe(0);
  const final = headOf(repo)!;
  expect(triggerOf(final)).toBe('watch');
  expect(fileAt(final, 'README.md')).toBe('last words\n');
  expect(runJson<Array<{ op: string }>>(sb, ['log', '--op', 'snapshot']).every((o) => o.op === 'snapshot')).toBe(true);
  await expect(fsp.access(stateFile())).rejects.toThrow();
  expect(runJson(sb, ['status']).watcher).toBeUndefined();
  fsck(repo);
});

test('--detach runs in the background, status shows it, a stale watcher is cleaned up, --stop stops it', async () => {
  // A watcher that died without cleaning up, its pid since reused by an unrelated process:
  // status reports it stale, the next watch replaces it, and the other process is left alone.
  runCli(sb, ['snapshot']);
  const bystander = spawn('sleep', ['60']);
  await fsp.writeFile(stateFile(), JSON.stringify({ pid: bystander.pid, host: (await import('node:os')).hostname(), since: '2020-01-01T00:00:00.000Z', dirty: { paths: [], overflow: false } }));
  expect(runJson(sb, ['status']).watcher).toMatchObject({ stale: true });
  expect(runCli(sb, ['doctor']).stdout).toMatch(/died without stopping/);

  const started = runCli(sb, ['watch', '--detach', '--debounce', '0.2', '--interval', '10']);
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const pid = Number(/pid (\d+)/.exec(started.stdout)![1]);
  const status = runJson(sb, ['status']);
  expect(status.watcher).toMatchObject({ pid, stale: false });

  // A second watcher on the same tree is refused with one sentence.
  const again = runCli(sb, ['watch', '--detach']);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/already running .*watch --stop/);

  // The background watcher coexists with a manual snapshot through the lock.
  await fsp.writeFile(path.join(sb.worktree, 'src/app.ts'), 'export const v = 3;\n');
  runCli(sb, ['snapshot', '-m', 'manual']);
  await fsp.writeFile(path.join(sb.worktree, 'src/app.ts'), 'export const v = 4;\n');
  await waitFor('the background snapshot', () => fileAt(headOf(repo)!, 'src/app.ts')?.includes('4'));
  expect(triggerOf(headOf(repo)!)).toBe('watch');

  const stopped = runJson(sb, ['watch', '--stop']);
  expect(stopped).toMatchObject({ stopped: true, pid });
  expect(() => process.kill(pid, 0)).toThrow();
  expect(runJson(sb, ['status']).watcher).toBeUndefined();
  expect(runCli(sb, ['watch', '--stop']).stdout).toMatch(/No watcher is running/);
  expect(bystander.exitCode).toBeNull();
  bystander.kill();
  fsck(repo);
});

test('bad --debounce/--interval values are usage errors quoting what was typed; a bad pair in .shadowgit names the keys and the file', async () => {
  for (const [flag, typed] of [['--debounce', '-5'], ['--interval', 'abc']]) {
    const bad = runCli(sb, ['watch', flag!, typed!]);
    expect(bad.stderr).toBe(`shadowgit: ${flag} takes a number of seconds between 0.05 and 86400, not "${typed}".\n`);
    expect(bad.code).toBe(2);
  }
  const pair = runCli(sb, ['watch', '--debounce', '5', '--interval', '2']);
  expect(pair.stderr).toMatch(/--interval \(2 s\) must not be shorter than --debounce \(5 s\)/);
  expect(pair.code).toBe(2);
  expect(existsSync(repo)).toBe(false);

  await writeTree(sb.worktree, { '.shadowgit': '{ "watch": { "debounce": 5, "interval": 2 } }' });
  const configured = runCli(sb, ['watch']);
  // Both from the file: the config reader names the file, the line and both keys.
  expect(configured.stderr).toContain(`${path.join(sb.worktree, '.shadowgit')}:1: watch.interval (2 s) must not be shorter than watch.debounce (5 s)`);
  expect(configured.stderr).not.toContain('--');
  expect(configured.code).toBe(1);
  // One from the file, one typed: the flag makes it a usage error naming both sources.
  await writeTree(sb.worktree, { '.shadowgit': '{ "watch": { "debounce": 5 } }' });
  const mixed = runCli(sb, ['watch', '--interval', '2']);
  expect(mixed.stderr).toContain(`--interval (2 s) must not be shorter than "watch.debounce" in ${path.join(sb.worktree, '.shadowgit')} (5 s)`);
  expect(mixed.code).toBe(2);
  expect(existsSync(repo)).toBe(false);
});

test('in a terminal the status line fits its width and narrows when the terminal does; Ctrl-C stops', async () => {
  runCli(sb, ['snapshot']);
  const terminal = cliInTerminal(sb, ['watch', '--debounce', '0.2'], { columns: 80 });
  await terminal.waitFor(/\x1b\[KWatching .* — idle/);
  execFileSync('stty', ['-F', await terminal.device, 'cols', '50']);
  await terminal.waitFor(/\x1b\[Kidle — /);
  terminal.type('\x03');
  expect(await terminal.exited).toBe(0);
  const lines = redrawnLines(terminal.output());
  const width = (line: string) => [...line].length;
  const resized = lines.findIndex((line) => line.startsWith('idle — '));
  expect(lines[0]).toMatch(/^Watching .*work \(2 dirs\) — .* — idle$/);
  // One column spare, so no terminal wraps it.
  for (const line of lines.slice(0, resized)) expect(width(line)).toBeLessThanOrEqual(79);
  for (const line of lines.slice(resized)) expect(width(line)).toBeLessThanOrEqual(49);
  expect(terminal.output()).toMatch(/Stopped watching/);
});
