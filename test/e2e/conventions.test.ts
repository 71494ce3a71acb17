import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { MISSING_ARGUMENTS } from '../../src/cli/usage.js';
import { RepoLock } from '../../src/engine/store/lock.js';
import { onLockWait, ShadowGit, type LockOwner } from '../../src/index.js';
import { BIN, ROOT, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

// The conventions a git user brings: -C, pipes that close early, usage mistakes, --json on
// failure, and a word when a command has to wait. Each through the real CLI.

let sb: Sandbox;
useSandbox('sg-conv-', (s) => (sb = s));

const read = (file: string) => fsp.readFile(file, 'utf8');

describe('-C DIR is "as if started in DIR"', () => {
  test('from an unrelated directory, the tree is found from DIR and every path argument and guarded command is taken from DIR', async () => {
    const src = path.join(sb.worktree, 'src');
    await writeTree(sb.worktree, {
      '.shadowgit': '{}',
      'package.json': '{"name":"x"}\n',
      'src/a.ts': 'export const a = 1;\n',
      'src/b.ts': "import { a } from './a';\nexport const b = a;\n",
      'src/note.txt': 'the note in src\n',
    });
    // Files of the same names where the shell is: a path taken from there would find these.
    const elsewhere = path.join(sb.dir, 'elsewhere');
    await writeTree(elsewhere, { 'a.ts': 'decoy\n', 'b.ts': 'decoy\n', 'note.txt': 'the decoy note\n', 'package.json': '{"decoy":true}\n' });
    const inShell = { cwd: elsewhere };

    const first = runJson(sb, ['-C', '../work/src', 'snapshot', '-m', 'first', '--note-file', 'note.txt'], inShell);
    expect(runJson(sb, ['-C', sb.worktree, 'show', first.id], inShell).note).toBe('the note in src\n');

    await writeTree(src, { 'a.ts': 'broken\n' });
    runJson(sb, ['-C', '../work/src', 'restore', first.id, '--', 'a.ts'], inShell);
    expect(await read(path.join(src, 'a.ts'))).toBe('export const a = 1;\n');

    const impact = runJson(sb, ['-C', src, 'impact', 'a.ts'], inShell);
    expect(impact.targets).toEqual(['src/a.ts']);
    expect(impact.dependents.map((d: { path: string }) => d.path)).toEqual(['src/b.ts']);
    expect(runJson(sb, ['-C', src, 'precheck', 'b.ts'], inShell).impact.targets).toEqual(['src/b.ts']);

    await writeTree(sb.worktree, { 'package.json': '{broken' });
    runJson(sb, ['-C', sb.worktree, 'recover', 'package.json'], inShell);
    expect(await read(path.join(sb.worktree, 'package.json'))).toBe('{"name":"x"}\n');

    const exported = runJson(sb, ['-C', sb.worktree, 'export', first.id, '../exported'], inShell);
    expect(exported.out).toBe(path.join(sb.dir, 'exported'));
    expect(await read(path.join(sb.dir, 'exported/src/a.ts'))).toBe('export const a = 1;\n');

    const guarded = runCli(sb, ['-C', src, 'guard', '--', 'sh', '-c', 'pwd > ran-in.txt'], inShell);
    expect(guarded.code).toBe(0);
    expect((await read(path.join(src, 'ran-in.txt'))).trim()).toBe(src);

    // Several -C: each relative to the one before, as in git; the tree is found walking up.
    expect(runJson(sb, ['-C', '..', '-C', 'work/src', 'status'], inShell).worktree).toBe(sb.worktree);
    expect(await fsp.readdir(elsewhere)).toEqual(['a.ts', 'b.ts', 'note.txt', 'package.json']);
    expect(await read(path.join(elsewhere, 'a.ts'))).toBe('decoy\n');

    const file = runCli(sb, ['-C', 'note.txt', 'status'], inShell);
    expect(file).toEqual({ code: 2, stdout: '', stderr: `shadowgit: -C names ${path.join(elsewhere, 'note.txt')}, which is not a directory; name the working tree or a directory in it.\n` });
  });
});

describe('output into a pipe that closes early', () => {
  test('the run stops quietly with 141, as git does (no EPIPE stack trace)', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n' });
    runJson(sb, ['snapshot']);
    await writeTree(sb.worktree, { 'big.txt': Array.from({ length: 100000 }, (_, i) => `line ${i}`).join('\n') });
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'diff', '--patch'], { cwd: sb.worktree, env: sb.env });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      // `| head -1`: the reader goes away after the first chunk, far before the patch's end.
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (exit) => resolve({ code: exit, stderr: err }));
    });
    expect({ code, stderr }).toEqual({ code: 141, stderr: '' });
  });
});

describe('usage mistakes in one voice', () => {
  test('each is one sentence naming the command, quoting what was typed, pointing to help; exit 2; nothing recorded', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n' });
    runJson(sb, ['snapshot']);
    const see = (command: string) => `; see \`shadowgit ${command} --help\`.\n`;
    for (const [args, sentence] of [
      [['roll'], 'shadowgit: there is no command `roll` (did you mean `rollback`?); `shadowgit --help` lists the commands.\n'],
      [['stauts'], 'shadowgit: there is no command `stauts` (did you mean `status`?); `shadowgit --help` lists the commands.\n'],
      [['approve'], `shadowgit approve: name the revision to approve, e.g. \`shadowgit approve "Feature Complete"\`${see('approve')}`],
      [['export', 'latest'], `shadowgit export: name where to write the export (a directory, or a file ending in .tar, .tar.gz or .tgz), e.g. \`shadowgit export latest ../backup.tar.gz\`${see('export')}`],
      [['list', '--limit', 'abc'], `shadowgit list: --limit takes a number, not "abc"${see('list')}`],
      [['log', '-n=12x'], `shadowgit log: --limit takes a number, not "12x"${see('log')}`],
      [['list', '--limt', '3'], `shadowgit list: there is no option --limt (did you mean \`--limit\`?)${see('list')}`],
      [['status', 'extra', '-x'], `shadowgit status: there is no option -x, and unexpected argument "extra"${see('status')}`],
      [['snapshot', '-m'], `shadowgit snapshot: -m needs a value${see('snapshot')}`],
      [['snapshot', '--message'], `shadowgit snapshot: --message needs a value${see('snapshot')}`],
      [['help', 'rolback'], 'shadowgit help: there is no command or help topic `rolback` (did you mean `rollback`?); `shadowgit --help` lists the commands, `shadowgit help config` the settings.\n'],
    ] as const) {
      expect({ args, ...runCli(sb, [...args]) }).toEqual({ args, code: 2, stdout: '', stderr: sentence });
    }
    expect(runJson(sb, ['list'])).toHaveLength(1);
    // Every command's required arguments, as --help lists them, have a sentence saying what to name.
    for (const [, word, args] of runCli(sb, ['--help']).stdout.matchAll(/^ {2}shadowgit (\w+)((?: [<[][\w.]+[>\]])*)/gm)) {
      expect({ word, hints: MISSING_ARGUMENTS[word!]?.length ?? 0 }).toEqual({ word, hints: args!.split(' ').filter((a) => a.startsWith('<')).length });
    }

    const bare = runCli(sb, []);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr.match(/usage: shadowgit/g)).toHaveLength(1);
    expect(bare.stderr).toMatch(/^ {2}rollback {2}Return the working tree to a snapshot/m);
    expect(bare.stderr).not.toMatch(/shadowgit:/);

    const helpRollback = runCli(sb, ['help', 'rollback']);
    expect(helpRollback).toEqual({ ...runCli(sb, ['rollback', '--help']), code: 0 });
    expect(helpRollback.stdout).toMatch(/^shadowgit rollback \[rev\]/);
    const config = runCli(sb, ['help', 'config']);
    expect(config.code).toBe(0);
    for (const key of ['"repo"', '"exclude"', '"critical"', '"retention"', '"tests"', '"watch"', 'keepWithin']) expect(config.stdout).toContain(key);
    // Every key the config loader accepts is explained (and the example in the topic is one it accepts).
    const example = config.stdout.slice(config.stdout.indexOf('Example:'));
    await writeTree(sb.worktree, { '.shadowgit': example.slice(example.indexOf('{')).replace('/data/shadow/my-project.git', path.join(sb.dir, 'elsewhere.git')) });
    expect(runJson(sb, ['status']).repo).toBe(path.join(sb.dir, 'elsewhere.git'));
  });
});

describe('--json on failure', () => {
  test('stdout holds one {"error": {code, message}} object beside the sentence on stderr, for every kind of failure', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n' });
    runJson(sb, ['snapshot']);
    const cases = [
      [['--json', 'rollback', 'nosuch', '--yes'], 1, 'EBADREV', /^no snapshot, commit or approved revision matches "nosuch"/],
      [['approve', '--json'], 2, 'EUSAGE', /^name the revision to approve/],
      [['--json', 'roll'], 2, 'EUSAGE', /^there is no command `roll`/],
      [['--json', '-C', 'nope', 'list'], 2, 'EUSAGE', /^-C names .*nope, which does not exist/],
      [['--json'], 2, 'EUSAGE', /^name a command/],
    ] as const;
    for (const [args, exit, code, message] of cases) {
      const result = runCli(sb, [...args]);
      expect({ args, exit: result.code }).toEqual({ args, exit });
      const { error } = JSON.parse(result.stdout);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(error.message);
    }
    // A bug's error (not one shadowgit explains) gets the same shape, with its own code.
    const script = `import('${path.join(ROOT, 'dist/cli/context.js')}').then((m) => { m.reportFailuresAsJson(true); m.reportFailure(new TypeError('x is undefined')); })`;
    const bug = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: sb.env });
    expect(bug.status).toBe(1);
    expect(JSON.parse(bug.stdout).error).toEqual({ code: 'EUNEXPECTED', message: expect.stringMatching(/^unexpected error: x is undefined/) });
  });
});

describe('waiting for the lock', () => {
  test('in a terminal it says whom it waits for; without one it stays silent', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n' });
    const { repo } = runJson(sb, ['init']);
    await fsp.mkdir(path.join(repo, 'shadowgit'), { recursive: true });
    const lock = new RepoLock(path.join(repo, 'shadowgit', 'lock'), 'rollback');
    await lock.acquire();
    try {
      const piped = runCli(sb, ['snapshot'], { env: { SHADOWGIT_LOCK_TIMEOUT: '1500' } });
      expect(piped.code).toBe(1);
      expect(piped.stderr).toMatch(/another shadowgit is writing to this repository \(pid \d+, `rollback`/);
      expect(piped.stderr).not.toMatch(/waiting/);
      expect(runCli(sb, ['init'], { env: { SHADOWGIT_LOCK_TIMEOUT: '500' } })).toMatchObject({ code: 1, stderr: expect.stringMatching(/another shadowgit is writing to this repository/) });

      // In a pseudo-terminal (util-linux `script`): the notice comes, then the lock is released and the snapshot goes on.
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} snapshot`, '/dev/null'], { cwd: sb.worktree, env: sb.env });
        let out = '';
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`no notice within 30 s: ${out}`));
        }, 30000);
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('waiting for')) void lock.release();
        });
        child.on('close', (exit) => {
          clearTimeout(timer);
          resolve({ code: exit, output: out });
        });
      });
      expect(output).toMatch(new RegExp(`shadowgit: waiting for pid ${process.pid} \\(\`rollback\`, since \\d\\d:\\d\\d:\\d\\d\\)…`));
      expect(output).toMatch(/Recorded snapshot/);
      expect(code).toBe(0);
    } finally {
      await lock.release();
    }
  });

  test('a program using the library is told too (onLockWait), once per wait', async () => {
    await writeTree(sb.worktree, { 'b.txt': 'two\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.init();
    const lock = new RepoLock(path.join(sg.repoPath, 'shadowgit', 'lock'), 'prune');
    await lock.acquire();
    const told: Array<LockOwner | undefined> = [];
    onLockWait((owner) => {
      told.push(owner);
      void lock.release();
    });
    try {
      expect((await sg.snapshot()).created).toBe(true);
      expect(told).toEqual([expect.objectContaining({ pid: process.pid, command: 'prune' })]);
    } finally {
      onLockWait(undefined);
      await lock.release();
    }
  });
});
