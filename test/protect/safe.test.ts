import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, diskFiles, expectSameFiles, fsck, repoOf, ROOT, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { fileAt, headOf, opsOf, waitFor } from './helpers.js';

let sb: Sandbox;
let repo: string;
let script: string;

const ORIGINAL = '#!/bin/sh\necho version 1\n';

/** A program using the library, as a user's would: one mode per scenario. */
const PROGRAM = (library: string) => `
import { safeModifyFile, safeWriteFile, withSnapshot } from ${JSON.stringify(library)};
import { writeFileSync, rmSync } from 'node:fs';
const [mode, file] = process.argv.slice(2);
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
try {
  if (mode === 'modify') out(await safeModifyFile(file, (text) => text.replace('version 1', 'version 2')));
  if (mode === 'throw') await safeModifyFile(file, () => { throw new Error('the edit went wrong'); });
  if (mode === 'hang') await safeModifyFile(file, async () => { out('computing'); setInterval(() => {}, 1000); await new Promise(() => {}); });
  if (mode === 'write') out(await safeWriteFile(file, 'x'.repeat(4 * 1024 * 1024)));
  if (mode === 'guarded-ok') out(await withSnapshot(async () => { writeFileSync(file, 'improved'); return 'the value'; }));
  if (mode === 'guarded') await withSnapshot(async () => { writeFileSync(file, 'clobbered'); rmSync('keep.txt'); writeFileSync('junk.txt', 'junk'); throw new Error('task failed'); }, { label: 'risky task' });
} catch (err) {
  out({ error: err.message });
}
`;

useSandbox('sg-safe-', (s) => (sb = s));
beforeEach(async () => {
  await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'tool.sh': ORIGINAL, 'keep.txt': 'keep\n' });
  await fsp.chmod(path.join(sb.worktree, 'tool.sh'), 0o755);
  script = path.join(sb.dir, 'program.mjs');
  await fsp.writeFile(script, PROGRAM(pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href));
  repo = repoOf(sb);
});

function runProgram(mode: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [script, mode, 'tool.sh'], { cwd: sb.worktree, env: { ...sb.env, ...env }, encoding: 'utf8' });
  return { ...result, json: result.stdout.trim() ? JSON.parse(result.stdout.trim().split('\n').pop()!) : undefined };
}

const toolSh = () => fsp.readFile(path.join(sb.worktree, 'tool.sh'), 'utf8');
const leftovers = async () => (await fsp.readdir(sb.worktree)).filter((n) => n.endsWith('.tmp'));

test('safeModifyFile snapshots first, writes atomically and keeps the mode; a throwing edit changes nothing', async () => {
  const edited = runProgram('modify');
  expect(edited.stderr).toBe('');
  expect(edited.json.snapshot.created).toBe(true);
  expect(await toolSh()).toBe('#!/bin/sh\necho version 2\n');
  expect((await fsp.stat(path.join(sb.worktree, 'tool.sh'))).mode & 0o777).toBe(0o755);
  // The snapshot taken before the edit holds the original, read with native git.
  expect(headOf(repo)).toBe(edited.json.snapshot.commit);
  expect(fileAt(repo, edited.json.snapshot.commit, 'tool.sh')).toBe(ORIGINAL);

  const failed = runProgram('throw');
  expect(failed.json).toEqual({ error: 'the edit went wrong' });
  expect(await toolSh()).toBe('#!/bin/sh\necho version 2\n');
  expect(await leftovers()).toEqual([]);
  expect(opsOf(repo).filter((o) => o.op === 'safe-edit').map((o) => o.outcome)).toEqual(['ok', 'error']);
  fsck(repo);
});

test('a process killed while computing or between temp file and rename leaves the original intact', async () => {
  const child = spawn(process.execPath, [script, 'hang', 'tool.sh'], { cwd: sb.worktree, env: sb.env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await waitFor('the edit to be computing', () => out.includes('computing'));
  child.kill('SIGKILL');
  await exited;
  expect(await toolSh()).toBe(ORIGINAL);
  expect(await leftovers()).toEqual([]);

  // Killed after the new content is durable in the temp file, before the rename.
  const crashed = runProgram('write', { SHADOWGIT_FAULT: 'safe-write:1' });
  expect(crashed.signal).toBe('SIGKILL');
  expect(await toolSh()).toBe(ORIGINAL);
  expect((await fsp.stat(path.join(sb.worktree, 'tool.sh'))).mode & 0o777).toBe(0o755);
  const [stray] = await leftovers(); // the new content, never under the real name
  expect((await fsp.stat(path.join(sb.worktree, stray!))).size).toBe(4 * 1024 * 1024);
  const doctor = spawnSync(process.execPath, [BIN, 'doctor', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' });
  expect(JSON.parse(doctor.stdout).findings).toContainEqual(expect.objectContaining({ check: 'temp-files', severity: 'warn', message: expect.stringContaining(stray!) }));

  const written = runProgram('write');
  expect((await toolSh()).length).toBe(4 * 1024 * 1024);
  expect(fileAt(repo, written.json.snapshot.commit, 'tool.sh')).toBe(ORIGINAL);
});

test('withSnapshot rolls back what a failing function did and rethrows, and records a success', async () => {
  const before = await diskFiles(sb.worktree);
  const result = runProgram('guarded');
  expect(result.json).toEqual({ error: 'task failed' });
  expectSameFiles(await diskFiles(sb.worktree), before);
  const failed = headOf(repo)!;
  expect(fileAt(repo, failed, 'tool.sh')).toBe('clobbered');
  expect(fileAt(repo, failed, 'junk.txt')).toBe('junk');
  expect(opsOf(repo).find((o) => o.op === 'guard')).toMatchObject({ outcome: 'error', args: { label: 'risky task' } });

  const succeeded = runProgram('guarded-ok');
  expect(succeeded.json).toBe('the value');
  expect(await toolSh()).toBe('improved');
  expect(fileAt(repo, headOf(repo)!, 'tool.sh')).toBe('improved');
  expect(opsOf(repo).filter((o) => o.op === 'guard').map((o) => o.outcome)).toEqual(['error', 'ok']);
});
