// `fetch`, `list --remote` and fetched snapshots as REV, through the real CLI: two shadow
// repositories of two trees (SHADOWGIT_HOME apart, as two machines) and one real server.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startGitServer, type GitServer } from '../helpers/gitserver.js';
import { git, makeSandbox, repoOf, runCli, runCliAsync, writeTree, type CliResult, type Sandbox } from '../helpers/sandbox.js';

const SECRET = 'tok-51d0aa-fetch-sekrit';
const USER = 'bob';

let laptop: Sandbox;
let desktop: Sandbox;
let server: GitServer;
let remoteUrl: string;

function cli(sb: Sandbox, args: string[]): Promise<CliResult> {
  return runCliAsync(sb, args, { env: { SHADOWGIT_REMOTE_TOKEN: SECRET } });
}

async function json<T = any>(sb: Sandbox, args: string[]): Promise<T> {
  const result = await cli(sb, ['--json', ...args]);
  if (result.code !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function ok(result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(result.stderr);
  return result;
}

beforeAll(async () => {
  laptop = makeSandbox('sg-fetch-a-');
  desktop = makeSandbox('sg-fetch-b-');
  server = await startGitServer({ auth: { username: USER, password: SECRET } });
  server.createRepo('shared.git', { appendOnly: true });
  remoteUrl = server.url('shared.git').replace('http://', `http://${USER}@`);
  await writeTree(laptop.worktree, { 'app.ts': 'laptop one\n', 'docs/readme.md': 'from the laptop\n' });
  ok(runCli(laptop, ['snapshot', '-m', 'laptop first', '--note', 'written on the laptop']));
  await writeTree(laptop.worktree, { 'app.ts': 'laptop two\n' });
  ok(runCli(laptop, ['snapshot', '-m', 'laptop second']));
  ok(runCli(laptop, ['approve', 'Laptop Ready', '-m', 'the laptop build']));
  await writeTree(desktop.worktree, { 'app.ts': 'desktop one\n' });
  ok(runCli(desktop, ['snapshot', '-m', 'desktop first']));
  for (const sb of [laptop, desktop]) ok(await cli(sb, ['remote', 'add', 'origin', remoteUrl]));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await laptop?.cleanup();
  await desktop?.cleanup();
});

describe('fetch from a remote two machines push to', () => {
  let laptopMachine: string;
  let laptopIds: string[];

  test("fetch brings the other machine's chain, approvals and notes; list --remote shows them with the machine", async () => {
    laptopMachine = (await json(laptop, ['push'])).machine;
    const desktopMachine = (await json(desktop, ['push'])).machine;
    expect(desktopMachine).not.toBe(laptopMachine);
    laptopIds = (await json<Array<{ id: string }>>(laptop, ['list'])).map((s) => s.id);

    const report = await json(desktop, ['fetch']);
    expect(report.machines.map((m: { machine: string }) => m.machine).sort()).toEqual([desktopMachine, laptopMachine].sort());
    expect(report.machines.find((m: { machine: string }) => m.machine === laptopMachine)).toMatchObject({ approvals: 1, notes: true });
    const repo = repoOf(desktop);
    // Native git reads what was fetched: the chain, the tag with its description, the note.
    expect((git(repo, ['log', '--format=%s', `refs/remotes/origin/${laptopMachine}`]) as string).trim().split('\n')).toEqual(['laptop second', 'laptop first']);
    expect(git(repo, ['cat-file', 'tag', `refs/remotes/origin/tags/${laptopMachine}/laptop-ready`])).toContain('Laptop Ready: the laptop build');
    const first = (git(repo, ['rev-parse', `refs/remotes/origin/${laptopMachine}~1`]) as string).trim();
    expect(git(repo, ['cat-file', '-p', `refs/remotes/origin/notes/${laptopMachine}:${first}`])).toContain('written on the laptop');

    const listed = await json<Array<{ id: string; machine: string; tags: string[] }>>(desktop, ['list', '--remote', 'origin', '--machine', laptopMachine]);
    expect(listed.map((s) => s.id)).toEqual(laptopIds);
    expect(listed.every((s) => s.machine === laptopMachine)).toBe(true);
    expect(listed[0]!.tags).toEqual(['Laptop Ready']);
    const all = await json<Array<{ machine: string }>>(desktop, ['list', '--remote', 'origin']);
    expect(new Set(all.map((s) => s.machine))).toEqual(new Set([laptopMachine, desktopMachine]));
    const table = ok(await cli(desktop, ['list', '--remote', 'origin']));
    expect(table.stdout).toContain(laptopMachine);
    expect(table.stdout).toContain('laptop second');
    // The local list is unchanged.
    expect((await json<unknown[]>(desktop, ['list'])).length).toBe(1);
  });

  test('a fetched snapshot resolves as NAME/MACHINE/ID, NAME/MACHINE/latest~N and as a plain id for diff, show and rollback', async () => {
    const [newest, oldest] = laptopIds as [string, string];
    const diff = ok(await cli(desktop, ['diff', `origin/${laptopMachine}/${oldest}`, '--stat']));
    expect(diff.stdout).toContain('docs/readme.md');
    const show = await json(desktop, ['show', `origin/${laptopMachine}/latest~1`]);
    expect(show.id).toBe(oldest);
    expect((await json(desktop, ['show', newest])).id).toBe(newest);
    const unknown = await cli(desktop, ['show', `origin/${laptopMachine}/zzzzzzzz`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);

    ok(await cli(desktop, ['rollback', newest, '--yes']));
    expect(await fsp.readFile(path.join(desktop.worktree, 'app.ts'), 'utf8')).toBe('laptop two\n');
    expect(await fsp.readFile(path.join(desktop.worktree, 'docs/readme.md'), 'utf8')).toBe('from the laptop\n');
    // The state before the rollback was recorded locally, so it can be undone.
    ok(await cli(desktop, ['undo']));
    expect(await fsp.readFile(path.join(desktop.worktree, 'app.ts'), 'utf8')).toBe('desktop one\n');
  });
});
