import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, git, ROOT, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-lazy-', (s) => (sb = s));

/** The modules a command resolves, traced by an import hook. */
function modulesLoadedBy(args: string[]): string[] {
  const trace = path.join(sb.dir, `trace-${args[0]}.txt`);
  const result = spawnSync(process.execPath, ['--import', path.join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], { cwd: sb.worktree, env: { ...sb.env, SG_TRACE_FILE: trace }, encoding: 'utf8' });
  expect(result.status).toBe(0);
  return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

describe('commands load only what they need', () => {
  test('snapshot, status, list and --version load neither ts-morph nor the prompt library', async () => {
    await writeTree(sb.worktree, { 'a.ts': 'export const a = 1;\n' });
    for (const args of [['snapshot'], ['status'], ['list'], ['--version']]) {
      const loaded = modulesLoadedBy(args);
      expect(loaded.some((url) => url.includes('/dist/cli/main.js'))).toBe(true);
      expect(loaded.filter((url) => /ts-morph|typescript|@inquirer/.test(url))).toEqual([]);
    }
  });

  test('the MCP SDK and zod load for `mcp` alone', async () => {
    await writeTree(sb.worktree, { 'a.ts': 'export const a = 1;\n' });
    const sdk = (url: string) => /@modelcontextprotocol|\/zod\//.test(url);
    for (const args of [['snapshot'], ['status'], ['list'], ['--version']]) expect(modulesLoadedBy(args).filter(sdk)).toEqual([]);
    // With stdin closed at once, the server starts and ends.
    expect(modulesLoadedBy(['mcp']).some(sdk)).toBe(true);
  });

  test('nothing of the browser UI (src/ui/, open) loads for other commands, nor for the full --help', async () => {
    await writeTree(sb.worktree, { 'a.ts': 'export const a = 1;\n' });
    const ui = (url: string) => /\/dist\/ui\/|\/node_modules\/open\//.test(url);
    for (const args of [['snapshot'], ['status'], ['list'], ['--help'], ['ui', '--help']]) expect(modulesLoadedBy(args).filter(ui)).toEqual([]);
  });

  test('rollback from a gc-packed shadow repository reads the packs without isomorphic-git', async () => {
    await writeTree(sb.worktree, { 'a.ts': 'export const a = 1;\n', 'lib/b.ts': 'export const b = 1;\n' });
    const first = runJson(sb, ['snapshot', '-m', 'first']);
    await writeTree(sb.worktree, { 'a.ts': 'export const a = 2;\n', 'lib/b.ts': 'export const b = 2;\n' });
    runJson(sb, ['snapshot', '-m', 'second']);
    const { repo } = runJson(sb, ['status']);
    runJson(sb, ['gc', '--grace', '0']);
    expect(git(repo, ['count-objects', '-v'])).toMatch(/^count: 0$/m);
    const loaded = modulesLoadedBy(['rollback', first.id, '--yes']);
    expect(loaded.some((url) => url.includes('/dist/engine/store/packread.js'))).toBe(true);
    expect(loaded.filter((url) => url.includes('isomorphic-git'))).toEqual([]);
    expect(readFileSync(path.join(sb.worktree, 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(readFileSync(path.join(sb.worktree, 'lib/b.ts'), 'utf8')).toBe('export const b = 1;\n');
  });
});
