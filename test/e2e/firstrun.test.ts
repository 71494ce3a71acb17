import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';
import { cliInTerminal } from '../helpers/terminal.js';

let sb: Sandbox;
useSandbox('sg-first-', (s) => (sb = s));

/** The shadow repositories under the sandbox's SHADOWGIT_HOME. */
const repos = () => (existsSync(path.join(sb.home, 'repos')) ? readdirSync(path.join(sb.home, 'repos')) : []);
/** Display width of the widest line (the output here is ASCII, box drawing, "—" and "…": one column each). */
const widest = (text: string) => Math.max(...text.split(/\r?\n/).map((line) => [...line].length));

describe('the first snapshot', () => {
  test('of $HOME is refused without a terminal, asked in one, and taken with --yes or after init; elsewhere it says once where the repository went', async () => {
    const home = path.join(sb.dir, 'user');
    await writeTree(home, { '.bashrc': 'alias x=y\n', 'notes.txt': 'n\n' });
    const asUser = { cwd: home, env: { HOME: home } };

    for (const command of [['snapshot'], ['watch'], ['approve', 'Everything']]) {
      const refused = runCli(sb, command, asUser);
      expect(refused.stderr).toBe(`shadowgit: ${home} is your home directory, and snapshotting all of it is almost certainly a mistake; run shadowgit in a project directory (or pass -C DIR), or if you mean it, run \`shadowgit init\` here first (or \`shadowgit snapshot --yes\`).\n`);
      expect(refused.stdout).toBe('');
      expect(refused.code).toBe(2);
    }
    expect(repos()).toEqual([]);

    // In a terminal it asks; no (the default) writes nothing.
    const declined = cliInTerminal(sb, ['snapshot'], { columns: 100, ...asUser });
    await declined.waitFor(/Snapshot all of it into a new shadow repository\?/);
    declined.type('\r');
    expect(await declined.exited).toBe(1);
    expect(declined.output()).toContain('Cancelled; nothing changed.');
    expect(repos()).toEqual([]);

    const accepted = cliInTerminal(sb, ['snapshot'], { columns: 100, ...asUser });
    await accepted.waitFor(/Snapshot all of it into a new shadow repository\?/);
    accepted.type('y\r');
    expect(await accepted.exited).toBe(0);
    expect(accepted.output()).toMatch(/Created the shadow repository at .*; `shadowgit status` shows it\.[\s\S]*Recorded snapshot/);
    expect(repos()).toHaveLength(1);
    // Once there, it is like any other tree.
    await fsp.writeFile(path.join(home, 'notes.txt'), 'more\n');
    expect(runCli(sb, ['snapshot'], asUser)).toMatchObject({ code: 0, stderr: '' });

    // --yes, or init, instead of the question.
    const other = path.join(sb.dir, 'other');
    await writeTree(other, { 'a.txt': 'a\n' });
    const withYes = runCli(sb, ['snapshot', '--yes'], { cwd: other, env: { HOME: other } });
    expect(withYes.code).toBe(0);
    expect(withYes.stderr).toMatch(/^Created the shadow repository at /);
    const third = path.join(sb.dir, 'third');
    await writeTree(third, { 'b.txt': 'b\n' });
    expect(runCli(sb, ['init'], { cwd: third, env: { HOME: third } }).code).toBe(0);
    // init writes the shadow repository as every writer does: under the lock, into the op log.
    expect(runJson<Array<{ op: string; commits: string[] }>>(sb, ['log', '--op', 'init'], { cwd: third, env: { HOME: third } })).toMatchObject([{ op: 'init', commits: [] }]);
    expect(runCli(sb, ['snapshot'], { cwd: third, env: { HOME: third } })).toMatchObject({ code: 0, stderr: '' });

    // `/` cannot hold its own shadow repository anywhere: refused by name.
    const root = runCli(sb, ['-C', '/', 'snapshot', '--yes']);
    expect(root.stderr).toBe('shadowgit: / is the filesystem root; run shadowgit in a project directory (or pass -C DIR).\n');
    expect(root.code).toBe(2);

    // Anywhere else: no question, one line on stderr the first time (with --json too: stdout keeps its shape).
    await writeTree(sb.worktree, { 'src/app.ts': 'x\n' });
    const first = runCli(sb, ['snapshot']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(`Created the shadow repository at ${path.join(sb.home, 'repos', repos().find((r) => r.startsWith('work-'))!)}; \`shadowgit status\` shows it.\n`);
    await fsp.writeFile(path.join(sb.worktree, 'src/app.ts'), 'y\n');
    expect(runCli(sb, ['snapshot']).stderr).toBe('');
    const json = path.join(sb.dir, 'json');
    await writeTree(json, { 'c.txt': 'c\n' });
    const result = runCli(sb, ['--json', 'snapshot'], { cwd: json });
    expect(result.stderr).toMatch(/^Created the shadow repository at .*\/json-[0-9a-f]{16}\.git; /);
    expect(JSON.parse(result.stdout).created).toBe(true);
    // approve and guard take the first snapshot too, and say so the same way.
    for (const [name, args] of [['approve', ['approve', 'first']], ['guard', ['guard', '--', 'true']]] as const) {
      const tree = path.join(sb.dir, name);
      await writeTree(tree, { 'd.txt': 'd\n' });
      const made = runCli(sb, [...args], { cwd: tree });
      expect({ name, code: made.code }).toEqual({ name, code: 0 });
      expect(made.stderr).toMatch(new RegExp(`Created the shadow repository at .*/${name}-[0-9a-f]{16}\\.git; `));
      expect(runCli(sb, [...args], { cwd: tree }).stderr).not.toMatch(/Created the shadow repository/);
    }
  });
});

describe('list', () => {
  test('fits an 80-column terminal and a 50-column one, and is at most 100 columns when piped', async () => {
    await writeTree(sb.worktree, { 'a.txt': '1\n' });
    const long = 'a message long enough that a table with every column would run past eighty columns on its own';
    const first = runJson(sb, ['snapshot', '-m', long]);
    await writeTree(sb.worktree, { 'a.txt': '2\n' });
    const approved = runJson(sb, ['approve', 'Feature Complete']);

    for (const columns of [80, 50]) {
      const terminal = cliInTerminal(sb, ['list'], { columns });
      expect(await terminal.exited).toBe(0);
      const shown = terminal.output().replace(/^.*\/dev\/pts\/\d+\r?\n/, '');
      expect(widest(shown)).toBeLessThanOrEqual(columns);
      for (const id of [first.id, approved.id]) expect(shown).toContain(id);
      expect(shown).toContain('Feature Complete');
    }

    const piped = runCli(sb, ['list']);
    expect(widest(piped.stdout)).toBeLessThanOrEqual(100);
    expect(piped.stdout).toContain(first.commit.slice(0, 10));
    expect(piped.stdout.replace(/[│\s]+/g, ' ')).toContain(long.split(' ').slice(0, 3).join(' '));
  });
});
