/**
 * Files shadowgit reads for itself (ignore files, package.json, tsconfig and what it extends,
 * the modules impact parses) may be FIFOs, devices, symlinks or pathological: every command
 * must finish and name the file. Each command runs as the real CLI with a kill timer, so a
 * hang fails the test instead of hanging jest.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DirRules } from '../../src/engine/worktree/ignore.js';
import { BIN, git, makeSandbox, repoOf, writeTree, type Sandbox } from '../helpers/sandbox.js';

/** Long enough for a loaded machine; a hang (a FIFO opened for reading) never ends. */
const KILL_AFTER_MS = 20_000;

interface Bounded {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed by the timer: the command hung (or was still filling memory). */
  killed: boolean;
}

function run(sb: Sandbox, args: string[], cwd = sb.worktree): Bounded {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env: sb.env, encoding: 'utf8', input: '', timeout: KILL_AFTER_MS, killSignal: 'SIGKILL' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, killed: result.signal === 'SIGKILL' };
}

/**
 * The command finished by itself with `code` and said nothing on stderr but, on a first
 * snapshot, where it created the shadow repository; on failure the message says what happened.
 */
function expectFinished(r: Bounded, code: number): void {
  const stderr = r.stderr.replace(/^Created the shadow repository at .*\n/, '');
  expect({ killed: r.killed, code: r.code, stderr }).toEqual({ killed: false, code, stderr: '' });
}

function runJson<T>(sb: Sandbox, args: string[], code = 0): T {
  const r = run(sb, ['--json', ...args]);
  expectFinished(r, code);
  return JSON.parse(r.stdout) as T;
}

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

let sb: Sandbox;
beforeEach(() => {
  sb = makeSandbox('sg-special-');
});
afterEach(async () => {
  await sb.cleanup();
});

interface SnapshotJson {
  commit: string;
  skipped: Array<{ path: string; reason: string }>;
}

describe('ignore files that are not regular files', () => {
  test('a FIFO named .gitignore (deep in the tree) or .shadowgitignore: snapshot and status finish, the FIFOs are reported as skipped', async () => {
    await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'a.txt': 'a\n', 'deep/er/b.txt': 'b\n' });
    mkfifo(path.join(sb.worktree, 'deep/er/.gitignore'));
    mkfifo(path.join(sb.worktree, '.shadowgitignore'));

    const snapshot = runJson<SnapshotJson>(sb, ['snapshot']);
    expect(snapshot.skipped.map((s) => s.path).sort()).toEqual(['.shadowgitignore', 'deep/er/.gitignore']);
    const recorded = (git(repoOf(sb), ['ls-tree', '-r', '--name-only', snapshot.commit]) as string).trim().split('\n');
    expect(recorded).toEqual(['.shadowgit', 'a.txt', 'deep/er/b.txt']);
    expectFinished(run(sb, ['status']), 0);
  });

  test('a symlinked .gitignore is not followed, as git does not: the same files are ignored as by git', async () => {
    await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'rules.txt': 'secret.txt\n', 'secret.txt': 'not ignored\n' });
    await fsp.symlink('rules.txt', path.join(sb.worktree, '.gitignore'));
    execFileSync('git', ['init', '-q', sb.worktree]);
    const gitSees = execFileSync('git', ['-C', sb.worktree, 'ls-files', '--others', '--exclude-standard'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').sort();

    const snapshot = runJson<SnapshotJson>(sb, ['snapshot']);
    const recorded = (git(repoOf(sb), ['ls-tree', '-r', '--name-only', snapshot.commit]) as string).trim().split('\n');
    expect(recorded).toEqual(gitSees);
    expect(recorded).toContain('secret.txt');
  });

  test('an ignore file that cannot be read ignores nothing and is named with the reason', async () => {
    await writeTree(sb.worktree, { 'd/.gitignore': `x\n${'#'.repeat(4 * 1024 * 1024)}\n`, 'd/x': '' });
    mkfifo(path.join(sb.worktree, '.gitignore'));
    await fsp.symlink('/dev/zero', path.join(sb.worktree, 'd/.shadowgitignore'));
    const unread: string[] = [];
    const onUnread = (rel: string, reason: string) => unread.push(`${rel}: ${reason}`);
    const root = await DirRules.root([]).child(sb.worktree, '', new Set(['.gitignore']), onUnread);
    const d = await root.child(sb.worktree, 'd', new Set(['.gitignore', '.shadowgitignore']), onUnread);
    expect(d.ignores('d/x', false)).toBe(false);
    expect(unread).toEqual(['.gitignore: ignore rules not read: not a regular file', 'd/.gitignore: ignore rules not read: larger than 4 MiB', 'd/.shadowgitignore: ignore rules not read: not a regular file']);
  });
});

interface DoctorJson {
  findings: Array<{ check: string; severity: string; path?: string; message: string; lastHealthy?: { id: string } }>;
}

describe('doctor and the CLI with special critical files', () => {
  test('a FIFO at package.json: doctor reports it (with the snapshot holding a healthy copy) and finishes; so do other commands', async () => {
    await writeTree(sb.worktree, { '.shadowgit': '{}\n', 'package.json': '{"name":"x"}\n', 'src/a.ts': 'export const a = 1;\n' });
    const first = runJson<{ id: string }>(sb, ['snapshot']);
    await fsp.rm(path.join(sb.worktree, 'package.json'));
    mkfifo(path.join(sb.worktree, 'package.json'));

    const report = runJson<DoctorJson>(sb, ['doctor'], 1);
    const finding = report.findings.find((f) => f.path === 'package.json');
    expect(finding).toMatchObject({ severity: 'error', message: expect.stringContaining('not a regular file'), lastHealthy: { id: first.id } });
    // Every command parsed by yargs, from the tree root or below it.
    expectFinished(run(sb, ['list']), 0);
    expectFinished(run(sb, ['--version']), 0);
    expectFinished(run(sb, ['log'], path.join(sb.worktree, 'src')), 0);
  });

  test('critical files too deeply nested to parse (a .ts file, a tsconfig.json) are reported as not checked, not damaged', async () => {
    await writeTree(sb.worktree, { '.shadowgit': JSON.stringify({ critical: ['src/*.ts'] }), 'package.json': '{}\n', 'src/deep.ts': deeplyNested(), 'tsconfig.json': deeplyNestedJson() });
    const report = runJson<DoctorJson>(sb, ['doctor'], 1);
    for (const file of ['src/deep.ts', 'tsconfig.json']) expect(report.findings.find((f) => f.path === file)).toMatchObject({ severity: 'info', message: expect.stringContaining('not checked') });
    expect(report.findings.find((f) => f.path === 'package.json')).toMatchObject({ severity: 'ok' });
  });
});

/** 1000 nested parentheses in 2 KB: enough to overflow the TypeScript parser's recursion. */
function deeplyNested(): string {
  return `export const deep = ${'('.repeat(1000)}1${')'.repeat(1000)};\n`;
}

/** 40 KB of nested arrays: JSON.parse copes, the recursive JSON parsers (TypeScript's, jsonc-parser) do not. */
function deeplyNestedJson(): string {
  return `{ "compilerOptions": { "types": ${'['.repeat(20000)}${']'.repeat(20000)} } }\n`;
}

interface ImpactJson {
  dependents: Array<{ path: string; via: string[] }>;
  errors: Array<{ path: string; message: string }>;
}

describe('impact with special files', () => {
  beforeEach(async () => {
    await writeTree(sb.worktree, {
      '.shadowgit': '{}\n',
      'package.json': '{"name":"fixture"}\n',
      'src/leaf.ts': 'export const leaf = 1;\n',
      'src/mid.ts': "import { leaf } from './leaf.js';\nexport const mid = leaf;\n",
      'src/top.ts': "import { mid } from './mid.js';\nexport const top = mid;\n",
    });
  });

  const chains = (r: ImpactJson) => r.dependents.map((d) => d.via.join(' > '));

  test('tsconfig "extends" leading to a FIFO, through a symlink to /dev/zero, or to /dev/zero itself: impact finishes and names each', async () => {
    const pkg = (dir: string, extendsPath: string) => ({
      [`${dir}/tsconfig.json`]: JSON.stringify({ extends: extendsPath }),
      [`${dir}/leaf.ts`]: 'export const leaf = 1;\n',
      [`${dir}/mid.ts`]: "import { leaf } from './leaf.js';\nexport const mid = leaf;\n",
    });
    await writeTree(sb.worktree, { ...pkg('fifo', './base.json'), ...pkg('link', './base.json'), ...pkg('zero', '/dev/zero') });
    mkfifo(path.join(sb.worktree, 'fifo/base.json'));
    await fsp.symlink('/dev/zero', path.join(sb.worktree, 'link/base.json'));

    const r = runJson<ImpactJson>(sb, ['impact', 'fifo/leaf.ts', 'link/leaf.ts', 'zero/leaf.ts']);
    expect(chains(r)).toEqual(['fifo/mid.ts > fifo/leaf.ts', 'link/mid.ts > link/leaf.ts', 'zero/mid.ts > zero/leaf.ts']);
    const refusals = r.errors.filter((e) => e.message.includes('not a regular file'));
    expect(refusals).toEqual([
      { path: 'fifo/tsconfig.json', message: 'fifo/base.json is not a regular file, so it is not read' },
      { path: 'link/tsconfig.json', message: 'link/base.json is not a regular file, so it is not read' },
      { path: 'zero/tsconfig.json', message: '/dev/zero is not a regular file, so it is not read' },
    ]);
  });

  test('a module or tsconfig nested too deeply for the parser is reported as not analysed, a module over 4 MiB as not parsed; the files after them still count', async () => {
    // "src/a-deep.ts" and "src/a-bundle.js" sort (and are parsed) before the others.
    const bundle = `import { top } from './top.js';\n${'//'.repeat(2 * 1024 * 1024)}\n`;
    await writeTree(sb.worktree, { 'src/a-deep.ts': `import { top } from './top.js';\n${deeplyNested()}`, 'src/a-bundle.js': bundle, 'tsconfig.json': deeplyNestedJson() });
    const r = runJson<ImpactJson>(sb, ['impact', 'src/leaf.ts']);
    expect(chains(r)).toEqual(['src/mid.ts > src/leaf.ts', 'src/top.ts > src/mid.ts > src/leaf.ts']);
    expect(r.errors).toEqual([
      { path: 'src/a-bundle.js', message: 'not parsed: larger than 4 MiB (generated code?), its imports are not followed' },
      { path: 'src/a-deep.ts', message: expect.stringMatching(/^not analysed: Maximum call stack size exceeded/) },
      { path: 'tsconfig.json', message: expect.stringMatching(/^not analysed: Maximum call stack size exceeded/) },
    ]);

    // The text report says so too, also when the answer comes from the cache.
    const text = run(sb, ['impact', 'src/leaf.ts']);
    expectFinished(text, 0);
    expect(text.stdout).toMatch(/src\/a-deep\.ts: not analysed/);
  });
});

describe('state files in the shadow repository that are not regular files', () => {
  // Found once: repoOf runs `status`, which would rebuild the chain index under the test's feet.
  let repo: string;
  const stateFile = (name: string) => path.join(repo, 'shadowgit', name);
  const refusal = (name: string) => `shadowgit: ${stateFile(name)} is not a regular file; move it aside and run the command again.\n`;

  beforeEach(async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a\n' });
    runJson(sb, ['snapshot']);
    repo = repoOf(sb);
  });

  test('a FIFO as the op log: log and snapshot finish and name it (reading it used to wait forever); moved aside, all works again', async () => {
    await fsp.rm(stateFile('oplog.jsonl'));
    mkfifo(stateFile('oplog.jsonl'));
    for (const args of [['log'], ['snapshot']]) {
      await fsp.appendFile(path.join(sb.worktree, 'a.txt'), 'more\n');
      const r = run(sb, args);
      expect({ args, killed: r.killed, code: r.code, stderr: r.stderr }).toEqual({ args, killed: false, code: 1, stderr: refusal('oplog.jsonl') });
    }
    await fsp.rm(stateFile('oplog.jsonl'));
    expect(runJson<Array<{ op: string }>>(sb, ['log'])).toEqual([]);
    runJson(sb, ['snapshot', '-m', 'after']);
    expect(runJson<Array<{ op: string }>>(sb, ['log']).map((o) => o.op)).toEqual(['snapshot']);
    git(repo, ['fsck', '--strict']);
  });

  test('a symlink as the op log is not followed: the file it points to is not appended to', async () => {
    const outside = path.join(sb.dir, 'outside.txt');
    await fsp.writeFile(outside, 'not the op log\n');
    await fsp.rm(stateFile('oplog.jsonl'));
    await fsp.symlink(outside, stateFile('oplog.jsonl'));
    await fsp.appendFile(path.join(sb.worktree, 'a.txt'), 'more\n');
    const r = run(sb, ['snapshot']);
    expect({ killed: r.killed, code: r.code, stderr: r.stderr }).toEqual({ killed: false, code: 1, stderr: refusal('oplog.jsonl') });
    expect(await fsp.readFile(outside, 'utf8')).toBe('not the op log\n');
    expect((await fsp.lstat(stateFile('oplog.jsonl'))).isSymbolicLink()).toBe(true);
  });

  test('FIFOs as the chain index and watch.json: list, status and snapshot finish as if they were missing', async () => {
    for (const name of ['chain-index', 'watch.json']) {
      await fsp.rm(stateFile(name), { force: true });
      mkfifo(stateFile(name));
    }
    expect(runJson<unknown[]>(sb, ['list'])).toHaveLength(1);
    expectFinished(run(sb, ['status']), 0);
    await fsp.appendFile(path.join(sb.worktree, 'a.txt'), 'more\n');
    runJson(sb, ['snapshot']);
    expect(runJson<unknown[]>(sb, ['list'])).toHaveLength(2);
    // The chain index was rebuilt and written in place of the FIFO.
    expect((await fsp.lstat(stateFile('chain-index'))).isFile()).toBe(true);
  });

  test('a FIFO as the background watcher\'s log: watch --detach starts (opening it for writing used to wait forever) and writes a fresh log', async () => {
    mkfifo(stateFile('watch.log'));
    const started = run(sb, ['watch', '--detach']);
    try {
      expect({ killed: started.killed, code: started.code }).toEqual({ killed: false, code: 0 });
      expect((await fsp.lstat(stateFile('watch.log'))).isFile()).toBe(true);
    } finally {
      expectFinished(run(sb, ['watch', '--stop']), 0);
    }
  });
});
