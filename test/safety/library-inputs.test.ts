import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fingerprint, ROOT, runCli, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;

/** A program using the library as a user's would; prints the result or the error as JSON. */
const PROGRAM = (library: string) => `
import { safeModifyFile, ShadowGit } from ${JSON.stringify(library)};
const [mode, arg] = process.argv.slice(2);
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
try {
  if (mode === 'modify') out(await safeModifyFile(arg, (text) => text + 'more'));
  if (mode === 'export') out(await (await ShadowGit.open({})).export('latest', arg, { force: true }));
} catch (err) {
  out({ error: err.message, code: err.code });
}
`;

useSandbox('sg-libinput-', (s) => (sb = s));

async function runProgram(mode: string, arg: string) {
  const script = path.join(sb.dir, 'program.mjs');
  await fsp.writeFile(script, PROGRAM(pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href));
  // A hang (the old code on a FIFO) is killed by the timer and fails the test instead of jest.
  const result = spawnSync(process.execPath, [script, mode, arg], { cwd: sb.worktree, env: sb.env, encoding: 'utf8', timeout: 20000 });
  expect(result.signal).toBeNull();
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

test('safeModifyFile on a FIFO says it is not a regular file instead of blocking, and changes nothing', async () => {
  await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'a.txt': 'a\n' });
  expect(spawnSync('mkfifo', [path.join(sb.worktree, 'pipe')]).status).toBe(0);
  const before = await fingerprint(sb.worktree);
  const result = await runProgram('modify', 'pipe');
  expect(result).toEqual({ error: 'pipe is not a regular file; only regular files can be modified.', code: 'ENOTFILE' });
  expect(await fingerprint(sb.worktree)).toBe(before);
});

test('the library refuses an empty export destination instead of exporting over the current directory', async () => {
  await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'a.txt': 'a\n' });
  expect(runCli(sb, ['snapshot']).code).toBe(0);
  const before = await fingerprint(sb.worktree);
  const result = await runProgram('export', '');
  expect(result.code).toBe('EUSAGE');
  expect(result.error).toMatch(/export destination is empty/);
  expect(await fingerprint(sb.worktree)).toBe(before);
});
