import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

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
});
