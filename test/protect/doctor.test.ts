import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsck, git, repoOf, runCli, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { fileAt, headOf } from './helpers.js';

let sb: Sandbox;
let repo: string;

const HEALTHY = {
  '.shadowgit': '{ "critical": ["src/**/*.ts"] }\n',
  'package.json': '{ "name": "demo", "secret": "MARKER-FILE-CONTENT-42" }\n',
  'tsconfig.json': '{\n  // comments are fine here\n  "compilerOptions": { "strict": true, },\n}\n',
  'src/main.ts': 'export function main(): number {\n  return 42;\n}\n',
  'src/util.ts': 'export const util = 1;\n',
};

interface Finding {
  check: string;
  severity: string;
  path?: string;
  message: string;
  lastHealthy?: { id: string; commit: string };
}

useSandbox('sg-doctor-', (s) => (sb = s));
beforeEach(async () => {
  await writeTree(sb.worktree, HEALTHY);
  repo = repoOf(sb);
});

const doctor = () => {
  const result = runCli(sb, ['doctor', '--json']);
  return { code: result.code, report: JSON.parse(result.stdout) as { healthy: boolean; findings: Finding[] } };
};
const fileFinding = (findings: Finding[], p: string) => findings.find((f) => f.check === 'critical-file' && f.path === p)!;

test('doctor reports corrupted JSON and TypeScript with their last healthy snapshot; recover repairs them', async () => {
  runCli(sb, ['snapshot', '-m', 'good']);
  const good = headOf(repo)!;
  const healthy = doctor();
  expect(healthy.code).toBe(0);
  expect(healthy.report.healthy).toBe(true);
  expect(healthy.report.findings.filter((f) => f.check === 'critical-file').map((f) => f.path)).toEqual(['package.json', 'src/main.ts', 'src/util.ts', 'tsconfig.json']);
  expect(healthy.report.findings.find((f) => f.check === 'integrity')!.severity).toBe('ok');

  // Damage: truncated JSON, broken TS, a zeroed file, a deleted one; a snapshot records the damage.
  await fsp.writeFile(path.join(sb.worktree, 'package.json'), '{ "name": "dem');
  await fsp.writeFile(path.join(sb.worktree, 'src/main.ts'), 'export function main(): number {\n  return 42 +;\n');
  await fsp.writeFile(path.join(sb.worktree, 'tsconfig.json'), Buffer.alloc(64));
  runCli(sb, ['snapshot', '-m', 'damaged']);
  await fsp.rm(path.join(sb.worktree, 'src/util.ts'));

  const sick = doctor();
  expect(sick.code).toBe(1);
  expect(sick.report.healthy).toBe(false);
  const pkg = fileFinding(sick.report.findings, 'package.json');
  expect(pkg).toMatchObject({ severity: 'error', lastHealthy: { commit: good } });
  expect(pkg.message).toMatch(/invalid JSON/);
  expect(fileFinding(sick.report.findings, 'src/main.ts')).toMatchObject({ severity: 'error', message: expect.stringMatching(/syntax error at line 2/), lastHealthy: { commit: good } });
  expect(fileFinding(sick.report.findings, 'tsconfig.json').message).toMatch(/only NUL bytes/);
  expect(fileFinding(sick.report.findings, 'src/util.ts').message).toMatch(/^missing/);

  const human = runCli(sb, ['doctor']);
  expect(human.code).toBe(1);
  expect(human.stdout).toMatch(/^4 problems: checked 4 critical files, /m);

  const damagedHead = headOf(repo)!;
  const recover = runCli(sb, ['recover', '--json']);
  expect(recover.code).toBe(0);
  const report = JSON.parse(recover.stdout);
  expect(report.restored.map((r: { path: string }) => r.path).sort()).toEqual(['package.json', 'src/main.ts', 'src/util.ts', 'tsconfig.json']);
  for (const [file, content] of Object.entries(HEALTHY)) expect(await fsp.readFile(path.join(sb.worktree, file), 'utf8')).toBe(content);
  // The pre-restore snapshot keeps the damaged state (deleted util.ts included), read with native git.
  const preRestore = report.restores[0].preRollback.commit as string;
  expect(preRestore).not.toBe(damagedHead);
  expect(fileAt(repo, preRestore, 'src/main.ts')).toContain('42 +;');
  expect(fileAt(repo, preRestore, 'src/util.ts')).toBeUndefined();

  fsck(repo);
});

test('recover of named files, doctor --fix, unrecoverable files, and a bundle without file contents', async () => {
  // Damaged from the very first snapshot on: nothing healthy to go back to.
  await fsp.writeFile(path.join(sb.worktree, 'src/broken.ts'), 'let = ;\n');
  runCli(sb, ['snapshot']);
  await fsp.writeFile(path.join(sb.worktree, 'src/util.ts'), '');

  const named = runCli(sb, ['recover', '--json', '--', 'src/util.ts', 'package.json']);
  expect(named.code).toBe(0);
  expect(JSON.parse(named.stdout)).toMatchObject({ restored: [{ path: 'src/util.ts', problem: 'empty (0 bytes)' }], healthy: ['package.json'] });
  expect(await fsp.readFile(path.join(sb.worktree, 'src/util.ts'), 'utf8')).toBe(HEALTHY['src/util.ts']);

  await fsp.writeFile(path.join(sb.worktree, 'package.json'), '{');
  const fixed = runCli(sb, ['doctor', '--fix', '--json', '--bundle', path.join(sb.dir, 'diag.tar.gz')]);
  const fixReport = JSON.parse(fixed.stdout);
  expect(fixReport.recovery.restored.map((r: { path: string }) => r.path)).toEqual(['package.json']);
  expect(fixReport.recovery.unrecoverable).toEqual([{ path: 'src/broken.ts', problem: expect.stringMatching(/syntax error/) }]);
  expect(fixed.code).toBe(1); // broken.ts cannot be repaired
  expect(await fsp.readFile(path.join(sb.worktree, 'package.json'), 'utf8')).toBe(HEALTHY['package.json']);

  const listing = execFileSync('tar', ['tzf', path.join(sb.dir, 'diag.tar.gz')], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  expect(listing).toEqual(['config.json', 'doctor.json', 'manifest.json', 'oplog.jsonl', 'status.json']);
  const unpacked = path.join(sb.dir, 'unpacked');
  await fsp.mkdir(unpacked);
  execFileSync('tar', ['xzf', path.join(sb.dir, 'diag.tar.gz'), '-C', unpacked]);
  const everything = (await Promise.all(listing.map((f) => fsp.readFile(path.join(unpacked, f), 'utf8')))).join('\n');
  expect(everything).not.toContain('MARKER-FILE-CONTENT-42');
  expect(JSON.parse(await fsp.readFile(path.join(unpacked, 'config.json'), 'utf8')).critical).toEqual(['src/**/*.ts']);
  expect(JSON.parse(await fsp.readFile(path.join(unpacked, 'manifest.json'), 'utf8'))).toMatchObject({ platform: process.platform, node: process.version });
  expect(everything).toContain('"op":"restore"');

  // An existing bundle is replaced only with --force, and the refusal comes before --fix changes anything.
  const bundle = path.join(sb.dir, 'diag.tar.gz');
  const bundleBefore = await fsp.readFile(bundle);
  await fsp.writeFile(path.join(sb.worktree, 'package.json'), '{');
  const refused = runCli(sb, ['doctor', '--fix', '--bundle', bundle]);
  expect(refused).toMatchObject({ code: 1, stdout: '' });
  expect(refused.stderr).toMatch(/diag\.tar\.gz already exists; choose another name, or pass --force to replace it\.\n$/);
  expect(await fsp.readFile(path.join(sb.worktree, 'package.json'), 'utf8')).toBe('{');
  expect(await fsp.readFile(bundle)).toEqual(bundleBefore);
  const zip = runCli(sb, ['doctor', '--bundle', path.join(sb.dir, 'diag.zip')]);
  expect(zip.code).toBe(2);
  expect(zip.stderr).toMatch(/a diagnostics bundle is a gzipped tarball; give a name ending in \.tar\.gz or \.tgz\./);
  await fsp.writeFile(path.join(sb.worktree, 'package.json'), HEALTHY['package.json']);
  expect(runCli(sb, ['doctor', '--bundle', bundle, '--force']).stdout).toMatch(/Wrote .*diag\.tar\.gz/);
  expect(await fsp.readFile(bundle)).not.toEqual(bundleBefore);

  const unrecoverable = runCli(sb, ['recover', 'src/broken.ts']);
  expect(unrecoverable.code).toBe(1);
  expect(unrecoverable.stdout).toMatch(/Cannot recover src\/broken.ts .*no snapshot holds a healthy copy/);
  expect(runCli(sb, ['recover', '/etc/passwd']).code).toBe(2);

  // A damaged object of the latest snapshot is an integrity error.
  const oid = git(repo, ['rev-parse', `${headOf(repo)}:src/util.ts`]).trim();
  const object = path.join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
  await fsp.chmod(object, 0o644);
  await fsp.writeFile(object, 'not zlib');
  const integrity = doctor().report.findings.find((f) => f.check === 'integrity')!;
  expect(integrity.severity).toBe('error');
  expect(integrity.message).toContain(oid);
});

test('on a monorepo: problems only with one summary line, fitted to the width, escaped; "!" patterns leave fixtures out; --verbose lists all', async () => {
  const packages = Object.fromEntries(
    ['app', 'core', 'utils'].flatMap((name) => [
      [`packages/${name}/package.json`, `{ "name": "${name}" }\n`],
      [`packages/${name}/tsconfig.json`, '{ "extends": "../../tsconfig.json" }\n'],
    ]),
  );
  await writeTree(sb.worktree, {
    ...packages,
    // Broken on purpose, as test fixtures are; a BOM (which node and npm skip) is no damage.
    'packages/core/test/fixtures/bad-manifest/package.json': '{\n  "name": "bad"\n  "version": "1.0.0"\n}\n',
    'packages/utils/package.json': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{ "name": "utils" }\n')]),
    'playground/demo/.gitkeep': '',
    'playground/demo/weird\u001b[2J\nname/package.json': '{',
  });
  runCli(sb, ['snapshot']);
  const fixture = fileFinding(doctor().report.findings, 'packages/core/test/fixtures/bad-manifest/package.json');
  expect(fixture.message).toBe('invalid JSON at line 3, column 3: a comma is missing before "version"; no snapshot holds a healthy copy.');
  const columns = 80;
  const human = runCli(sb, ['doctor'], { env: { COLUMNS: String(columns) } });
  expect(human.code).toBe(1);
  const lines = human.stdout.trimEnd().split('\n');
  const tableLines = lines.filter((line) => /^[┌│├└]/.test(line));
  expect(tableLines.length).toBeGreaterThan(4);
  expect(Math.max(...tableLines.map((line) => line.length))).toBeLessThanOrEqual(columns);
  // Escaped visibly: no raw ESC, carriage return, BOM, or a newline inside a row.
  expect(human.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\ufeff]/);
  expect(human.stdout).toContain('weird\\e[2J\\nname/');
  expect(human.stdout).toMatch(/fixtures\/\s*│.*\n.*bad-manifest\//);
  expect(human.stdout).toMatch(/a comma is missing/);
  expect(human.stdout).not.toMatch(/packages\/app\/|healthy\.|│ disk/);
  expect(lines.filter((line) => /^2 problems: checked 12 critical files, the shadow repository, the lock, the watcher and disk space\.$/.test(line))).toHaveLength(1);
  expect(human.stdout).toMatch(/Leave it out with a "!" pattern in "critical"/);

  // Negated patterns subtract from the defaults and from earlier patterns, in order, like a .gitignore.
  await writeTree(sb.worktree, { '.shadowgit': '{ "critical": ["src/**/*.ts", "playground/**", "!playground", "!**/fixtures/**"] }\n' });
  const clean = runCli(sb, ['doctor']);
  expect(clean.code).toBe(0);
  expect(clean.stdout).toBe('Healthy: checked 10 critical files, the shadow repository, the lock, the watcher and disk space.\n');
  const paths = doctor().report.findings.filter((f) => f.check === 'critical-file').map((f) => f.path);
  expect(paths).toEqual(['package.json', ...Object.keys(packages).sort(), 'src/main.ts', 'src/util.ts', 'tsconfig.json']);

  const verbose = runCli(sb, ['doctor', '--verbose']);
  expect(verbose.code).toBe(0);
  expect(verbose.stdout).toMatch(/packages\/app\/package\.json\s*│ ok/);
  expect(verbose.stdout).toMatch(/│ disk\s*│ ok/);
});
