import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fsck, gitTreeFiles, repoOf, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { headOf, opsOf } from './helpers.js';

let sb: Sandbox;
let repo: string;

/** A script that rewrites, deletes, creates and chmods files, then fails. */
const VANDAL = `
const fs = require('fs');
fs.writeFileSync('src/app.ts', 'garbage');
fs.rmSync('README.md');
fs.rmSync('docs', { recursive: true });
fs.writeFileSync('stray.txt', 'left behind');
fs.mkdirSync('pkg');
fs.writeFileSync('pkg/package.json', '{}');
fs.mkdirSync('newdir/inner', { recursive: true });
fs.writeFileSync('newdir/inner/x.txt', 'x');
fs.chmodSync('bin/run.sh', 0o644);
process.exit(Number(process.argv[2]));
`;

useSandbox('sg-guard-', (s) => (sb = s));
beforeEach(async () => {
  await writeTree(sb.worktree, { 'src/app.ts': 'export const app = 1;\n', 'README.md': '# readme\n', 'docs/guide.md': 'guide\n', 'bin/run.sh': '#!/bin/sh\n', 'node_modules/dep/index.js': 'dep\n' });
  await fsp.chmod(path.join(sb.worktree, 'bin/run.sh'), 0o755);
  await fsp.writeFile(path.join(sb.dir, 'vandal.cjs'), VANDAL);
  repo = repoOf(sb);
});

test('a failing command is rolled back byte for byte, its state recorded, its exit code passed on', async () => {
  const before = await diskFiles(sb.worktree);
  const result = runCli(sb, ['guard', '--', process.execPath, path.join(sb.dir, 'vandal.cjs'), '3']);
  expect(result.code).toBe(3);
  expectSameFiles(await diskFiles(sb.worktree), before);

  const failedId = /Its state is snapshot (\w+)/.exec(result.stderr)![1]!;
  expect(result.stderr).toMatch(/restored the tree to snapshot \w+: \d+ file\(s\) written, \d+ deleted/);
  const [failed, pre] = runJson<Array<{ id: string; commit: string; trigger: string }>>(sb, ['list']);
  expect(failed).toMatchObject({ id: failedId, trigger: 'guard-failed' });
  expect(pre!.trigger).toBe('guard');
  // The failed state, read with native git: what the script left, exactly.
  const failedFiles = gitTreeFiles(repo, failed!.commit);
  expect(failedFiles.get('src/app.ts')!.content.toString()).toBe('garbage');
  expect(failedFiles.get('stray.txt')!.content.toString()).toBe('left behind');
  expect(failedFiles.get('bin/run.sh')!.mode).toBe('100644');
  expect(failedFiles.has('README.md')).toBe(false);
  expect(failedFiles.has('docs/guide.md')).toBe(false);

  // Critical files the failed command created and the rollback removed are not "missing".
  const doctor = (JSON.parse(runCli(sb, ['doctor', '--json']).stdout) as { findings: Array<{ check: string; severity: string }> }).findings.filter((f) => f.check === 'critical-file');
  expect(failedFiles.has('pkg/package.json')).toBe(true);
  expect(doctor).toEqual([]);

  const log = runJson<Array<{ op: string; outcome: string; error?: string; commits: string[] }>>(sb, ['log', '--op', 'guard']);
  expect(log).toHaveLength(1);
  expect(log[0]).toMatchObject({ op: 'guard', outcome: 'error', error: 'exit 3', commits: [pre!.commit, failed!.commit] });
  fsck(repo);
});

test('--keep leaves the failed state; success records the result; a kill exits 128+signal', async () => {
  const kept = runCli(sb, ['guard', '--keep', '--json', '--', process.execPath, path.join(sb.dir, 'vandal.cjs'), '1']);
  expect(kept.code).toBe(1);
  const keptReport = JSON.parse(kept.stdout);
  expect(keptReport).toMatchObject({ ok: false, kept: true, failure: 'exit 1', after: { created: true } });
  expect(keptReport.restored).toBeUndefined();
  expect(headOf(repo)).toBe(keptReport.after.commit);
  const afterKeep = await diskFiles(sb.worktree);
  expect(afterKeep.get('src/app.ts')!.content.toString()).toBe('garbage');
  expect(afterKeep.has('README.md')).toBe(false);

  const ok = runCli(sb, ['guard', '--json', '--', 'sh', '-c', 'echo from-the-command; echo fixed > src/app.ts']);
  expect(ok.code).toBe(0);
  const report = JSON.parse(ok.stdout);
  expect(ok.stderr).toMatch(/from-the-command/); // the command's stdout is moved aside under --json
  expect(report).toMatchObject({ ok: true, exitCode: 0, after: { created: true } });
  expect(gitTreeFiles(repo, headOf(repo)!).get('src/app.ts')!.content.toString()).toBe('fixed\n');

  const killed = runCli(sb, ['guard', '--', 'sh', '-c', 'echo doomed > src/app.ts; kill -TERM $$']);
  expect({ code: killed.code, stderr: killed.stderr }).toMatchObject({ code: 128 + 15, stderr: expect.stringMatching(/killed by SIGTERM/) });
  expect(await fsp.readFile(path.join(sb.worktree, 'src/app.ts'), 'utf8')).toBe('fixed\n');

  const missing = runCli(sb, ['guard', '--', 'no-such-command-xyz']);
  expect(missing.code).toBe(127);
  expect(missing.stderr).toMatch(/cannot run `no-such-command-xyz`: command not found/);
  expect(runCli(sb, ['guard']).code).toBe(2);

  expect(opsOf(repo).filter((o) => o.op === 'guard').map((o) => o.outcome)).toEqual(['error', 'ok', 'error', 'error']);
});
