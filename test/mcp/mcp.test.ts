import { spawn } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { PLAN_LIFETIME_MS, PlanStore } from '../../src/frontend/plans.js';
import { ShadowGit } from '../../src/shadowgit.js';
import { BIN, diskFiles, expectSameFiles, git, gitTreeFiles, makeSandbox, ROOT, writeTree, type Sandbox } from '../helpers/sandbox.js';

/**
 * The tools as an agent sees them: names, annotations, input property names. After a deliberate
 * change to the tools, rewrite it with
 *   MCP_TOOLS_FIXTURE=write NODE_OPTIONS=--experimental-vm-modules npx jest test/mcp/mcp.test.ts
 * and review the diff: every definition costs the agent context.
 */
const FIXTURE = path.join(ROOT, 'test/fixtures/mcp-tools.json');

let sb: Sandbox;
let client: Client;
let stderr = '';

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text: string }>;
  structuredContent?: Record<string, any>;
}

async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

/** A tool call that must succeed: its structured content. */
async function ok(name: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${result.content[0]?.text}`);
  expect(JSON.parse(result.content[0]!.text)).toEqual(result.structuredContent);
  return result.structuredContent!;
}

/** A tool call that must be refused: its one sentence. */
async function refused(name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(name, args);
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  const text = result.content[0]!.text;
  expect(text.trim().split('\n')).toHaveLength(1);
  return text;
}

let repoPath: string;
let previousHome: string | undefined;

/** The shadow repository of `s`, found by the library as the CLI would find it. */
async function repoOf(s: Sandbox): Promise<string> {
  const home = process.env.SHADOWGIT_HOME;
  process.env.SHADOWGIT_HOME = s.home;
  try {
    return (await ShadowGit.open({ worktree: s.worktree })).repoPath;
  } finally {
    process.env.SHADOWGIT_HOME = home;
  }
}
const gitdir = () => repoPath;
const commits = () => (git(gitdir(), ['rev-list', 'refs/heads/snapshots']) as string).trim().split('\n');

beforeAll(async () => {
  sb = makeSandbox('sg-mcp-');
  await writeTree(sb.worktree, {
    'src/a.ts': 'export const a = 1;\n',
    'src/b.ts': "import { a } from './a.js';\nexport const b = a + 1;\n",
    'src/b.test.ts': "import { b } from './b.js';\nconsole.log(b);\n",
    'README.md': '# demo\n',
    'logo.bin': Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]),
  });
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: sb.worktree, env: sb.env as Record<string, string>, stderr: 'pipe' });
  transport.stderr?.on('data', (d) => (stderr += d));
  // The library calls of the last tests work on the same tree as the server.
  previousHome = process.env.SHADOWGIT_HOME;
  process.env.SHADOWGIT_HOME = sb.home;
  repoPath = await repoOf(sb);
  client = new Client({ name: 'shadowgit-test', version: '1.0.0' });
  await client.connect(transport);
});

afterAll(async () => {
  process.env.SHADOWGIT_HOME = previousHome;
  await client?.close();
  await sb?.cleanup();
});

describe('shadowgit mcp over stdio, with the SDK client', () => {
  let first: Record<string, any>;

  test('initialize: the server names itself and says when to use which tool', () => {
    expect(client.getServerVersion()?.name).toBe('shadowgit');
    const instructions = client.getInstructions() ?? '';
    for (const word of ['status', 'list_snapshots', 'diff', 'snapshot', 'restore', 'plan_id']) expect(instructions).toContain(word);
  });

  test('tools/list matches the stored list; every tool has an output schema; approve is not offered by default', async () => {
    const { tools } = await client.listTools();
    const seen = tools.map((t) => ({ name: t.name, annotations: t.annotations, input: Object.keys(t.inputSchema.properties ?? {}) }));
    if (process.env.MCP_TOOLS_FIXTURE === 'write') writeFileSync(FIXTURE, `${JSON.stringify(seen, null, 2)}\n`);
    expect(seen).toEqual(JSON.parse(readFileSync(FIXTURE, 'utf8')));
    for (const t of tools) expect(t.outputSchema?.type).toBe('object');
    expect(JSON.stringify(tools)).not.toContain('$ref');
  });

  test('snapshot records a commit in the shadow repository (native git reads it)', async () => {
    first = await ok('snapshot', { message: 'before the refactor' });
    expect(first).toMatchObject({ created: true, changes: { added: 5, modified: 0, deleted: 0 } });
    expect(commits()).toEqual([first.commit]);
    const body = git(gitdir(), ['cat-file', 'commit', first.commit]) as string;
    expect(body).toContain('before the refactor');
    expect(body).toContain('Shadowgit-Trigger: mcp');
    expect((await ok('snapshot')).created).toBe(false);
  });

  test('status, diff and show_file see an edit; impact names the dependents and tests', async () => {
    await fsp.writeFile(path.join(sb.worktree, 'src/a.ts'), 'export const a = 2;\n');
    const status = await ok('status');
    expect(status).toMatchObject({ initialized: true, counts: { added: 0, modified: 1, deleted: 0 }, changes: { modified: ['src/a.ts'] }, lastSnapshot: { id: first.id } });

    const diff = await ok('diff');
    expect(diff.to).toBe('worktree');
    expect(diff.changes).toEqual([{ path: 'src/a.ts', status: 'modified' }]);
    expect(diff.patch).toContain('-export const a = 1;\n+export const a = 2;');
    expect(diff.truncated).toBe(false);
    expect((await ok('diff', { stat: true, paths: ['src'] })).changes).toEqual([{ path: 'src/a.ts', status: 'modified', insertions: 1, deletions: 1 }]);

    expect(await ok('show_file', { path: 'src/a.ts', revision: first.id })).toMatchObject({ path: 'src/a.ts', kind: 'file', content: 'export const a = 1;\n' });
    const binary = await ok('show_file', { path: 'logo.bin' });
    expect(binary.content).toBeUndefined();
    expect(binary.note).toMatch(/binary \(5 bytes\)/);
    expect(await refused('show_file', { path: 'src' })).toMatch(/is a directory/);

    const impact = await ok('impact', { paths: ['src/a.ts'] });
    expect(impact.dependents.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['src/b.ts', 'src/b.test.ts']));
    expect(impact.tests).toEqual(['src/b.test.ts']);
  });

  test('diff output is capped with a note saying how to narrow it', async () => {
    await fsp.writeFile(path.join(sb.worktree, 'big.txt'), `${'a line of text that goes on\n'.repeat(2000)}`);
    const diff = await ok('diff');
    expect(diff.truncated).toBe(true);
    expect(diff.patch.length).toBeLessThanOrEqual(30_100);
    expect(diff.note).toMatch(/cut at 30000 characters, in the patch of big.txt \(file 1 of 2\); narrow it with paths, or pass stat: true/);
    await fsp.rm(path.join(sb.worktree, 'big.txt'));
  });

  test('list_snapshots filters by since and by path', async () => {
    const second = await ok('snapshot', { message: 'a is 2' });
    await fsp.writeFile(path.join(sb.worktree, 'README.md'), '# demo, edited\n');
    const third = await ok('snapshot', { message: 'readme' });
    expect((await ok('list_snapshots')).snapshots.map((s: { id: string }) => s.id)).toEqual([third.id, second.id, first.id]);
    expect((await ok('list_snapshots', { path: 'src/a.ts' })).snapshots.map((s: { id: string }) => s.id)).toEqual([second.id, first.id]);
    expect(await ok('list_snapshots', { limit: 1 })).toMatchObject({ snapshots: [{ id: third.id, message: 'readme', trigger: 'mcp' }], more: true });
    expect((await ok('list_snapshots', { since: '1h' })).snapshots).toHaveLength(3);
    expect((await ok('list_snapshots', { since: '2999-01-01' })).snapshots).toEqual([]);
    expect(await refused('list_snapshots', { since: 'yesterday' })).toMatch(/neither a date .* nor a duration/);
    // A hook's snapshot: session filter and the agent in the result.
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const prompt = await sg.snapshot({ trigger: 'agent-prompt', message: 'before: tidy up', provenance: { agent: 'claude', session: 'sess-abc123', event: 'UserPromptSubmit' }, recordUnchanged: true });
    expect(await ok('list_snapshots', { session: 'sess-abc' })).toMatchObject({ snapshots: [{ id: prompt.id, agent: { name: 'claude', session: 'sess-abc123', event: 'UserPromptSubmit', prompt: 1 } }], more: false });
    expect((await ok('list_snapshots', { limit: 2 })).snapshots[1]).not.toHaveProperty('agent');
    expect(await refused('list_snapshots', { session: 'nope' })).toMatch(/session/);
    expect(await refused('list_snapshots', { session: '-x' })).toMatch(/session/);
  });

  test('restore: the plan changes nothing; carried out, the tree equals the snapshot and the state before is a snapshot; a plan id works once', async () => {
    await fsp.writeFile(path.join(sb.worktree, 'new.txt'), 'not in the first snapshot\n');
    const before = await diskFiles(sb.worktree);
    const snapshotsBefore = commits();
    const plan = await ok('restore', { revision: first.id });
    expect(plan).toMatchObject({ done: false, target: { id: first.id }, counts: { write: 2, delete: 1 }, write: ['README.md', 'src/a.ts'], delete: ['new.txt'] });
    expect(plan.plan_id).toMatch(/^[0-9a-f]{24}$/);
    expectSameFiles(await diskFiles(sb.worktree), before);
    expect(commits()).toEqual(snapshotsBefore);

    const done = await ok('restore', { revision: first.id, plan_id: plan.plan_id });
    expect(done).toMatchObject({ done: true, counts: { write: 2, delete: 1 }, preRestore: { created: true } });
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(gitdir(), first.commit));
    // The state before it, new.txt included, is the newest snapshot: restoring it undoes the restore.
    expect(commits()[0]).toBe(done.preRestore.commit);
    expect(gitTreeFiles(gitdir(), done.preRestore.commit).get('new.txt')?.content.toString()).toBe('not in the first snapshot\n');

    expect(await refused('restore', { revision: first.id, plan_id: plan.plan_id })).toMatch(/unknown, already used or expired/);
  });

  test('restore: a tree edited between plan and perform is refused and left as it is', async () => {
    const plan = await ok('restore', { revision: 'latest', paths: ['new.txt'] });
    expect(plan).toMatchObject({ paths: ['new.txt'], write: ['new.txt'], delete: [] });
    await fsp.writeFile(path.join(sb.worktree, 'src/a.ts'), 'export const a = 3;\n');
    const edited = await diskFiles(sb.worktree);
    const snapshotsBefore = commits();
    expect(await refused('restore', { revision: 'latest', paths: ['new.txt'], plan_id: plan.plan_id })).toMatch(/changed since the restore was planned/);
    expectSameFiles(await diskFiles(sb.worktree), edited);
    expect(commits()).toEqual(snapshotsBefore);
  });

  test('restore: a plan is for its own arguments, and a moved revision is refused', async () => {
    const plan = await ok('restore', { revision: 'latest', paths: ['new.txt'] });
    expect(await refused('restore', { revision: 'latest', paths: ['src'], plan_id: plan.plan_id })).toMatch(/made for other paths/);
    // The call with other paths left the plan as it was: what refuses it now is the moved revision.
    await ok('snapshot', { message: 'latest moves' });
    expect(await refused('restore', { revision: 'latest', paths: ['new.txt'], plan_id: plan.plan_id })).toMatch(/now names snapshot .* not the one the plan was made for/);
  });

  test('paths outside the tree, option-like revisions and control characters are refused, and nothing is written', async () => {
    const before = await diskFiles(sb.dir);
    const snapshotsBefore = commits();
    expect(await refused('show_file', { path: '../x' })).toMatch(/"\.\." component/);
    expect(await refused('show_file', { path: '/etc/passwd' })).toMatch(/is absolute/);
    expect(await refused('diff', { paths: ['-x'] })).toMatch(/starts with "-"/);
    expect(await refused('diff', { from: '--output=x' })).toMatch(/starts with "-", which no revision does/);
    expect(await refused('restore', { revision: '--output=x' })).toMatch(/starts with "-"/);
    expect(await refused('restore', { revision: 'latest', paths: ['src/../../etc'] })).toMatch(/"\.\." component/);
    expect(await refused('impact', { paths: ['src/a.ts\u0000b'] })).toMatch(/control character/);
    expect(await refused('snapshot', { message: 'nul\u0000here' })).toMatch(/control character/);
    expect(await refused('show_file', { path: 'src/a.ts', revision: 'no-such-thing' })).toMatch(/no snapshot, commit or approved revision matches/);
    expect(await refused('list_snapshots', { limit: -1 })).toMatch(/limit/);
    expectSameFiles(await diskFiles(sb.dir), before);
    expect(commits()).toEqual(snapshotsBefore);
    expect(existsSync(path.join(sb.worktree, 'output=x'))).toBe(false);
    expect(stderr).toBe('');
  });

  test('the facade refuses a checkout whose target is not the one expected', async () => {
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const plan = await sg.checkoutPlan('latest~1');
    await expect(sg.rollback('latest', { expect: { target: plan.target.commit, worktreeTree: plan.worktreeTree } })).rejects.toMatchObject({ code: 'ECHANGED' });
    await expect(sg.checkoutPlan('latest', { paths: [] })).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});

describe('shadowgit mcp as a raw process', () => {
  test('every stdout line is JSON-RPC, even for the first snapshot of a tree; approve is offered when .shadowgit allows it; stdin closing or Ctrl-C ends it quietly', async () => {
    const raw = makeSandbox('sg-mcp-raw-');
    try {
      await writeTree(raw.worktree, { 'a.txt': 'one\n', 'huge.txt': 'x'.repeat(150_000), '.shadowgit': '{ "mcp": { "allowApprove": true } }\n' });
      const child = spawn(process.execPath, [BIN, 'mcp'], { cwd: raw.worktree, env: raw.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
      const replies = async (n: number) => {
        while (out.split('\n').filter(Boolean).length < n) await new Promise((r) => setTimeout(r, 20));
      };
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'snapshot', arguments: { message: 'first' } } });
      send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'show_file', arguments: { path: '../../etc/passwd' } } });
      await replies(4);
      send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'approve', arguments: { name: 'Works' } } });
      send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'show_file', arguments: { path: 'huge.txt' } } });
      await replies(6);
      child.stdin.end();
      expect(await exited).toBe(0);
      const messages = out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      expect(messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
      const byId = new Map(messages.map((m) => [m.id, m]));
      expect(byId.get(2).result.tools.map((t: { name: string }) => t.name)).toContain('approve');
      expect(byId.get(3).result.structuredContent.created).toBe(true);
      expect(byId.get(4).result.isError).toBe(true);
      expect(byId.get(5).result.structuredContent).toMatchObject({ name: 'Works', snapshotCreated: false });
      const huge = byId.get(6).result.structuredContent;
      expect(huge.content).toBeUndefined();
      expect(huge.note).toMatch(/150000 bytes, more than the 100000 shown/);
      expect(git(await repoOf(raw), ['tag', '--list'])).toMatch(/works/);
      expect(err).toBe('');

      // Ctrl-C ends it as quietly.
      const interrupted = spawn(process.execPath, [BIN, 'mcp'], { cwd: raw.worktree, env: raw.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let said = '';
      interrupted.stderr.on('data', (d) => (said += d));
      const ready = new Promise((resolve) => interrupted.stdout.once('data', resolve));
      interrupted.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
      await ready;
      const ended = new Promise<number | null>((resolve) => interrupted.on('close', resolve));
      interrupted.kill('SIGINT');
      expect(await ended).toBe(0);
      expect(said).toBe('');
    } finally {
      await raw.cleanup();
    }
  });
});

describe('restore plans', () => {
  test('a plan id is good once, and only until it expires', () => {
    let now = 1_000_000;
    const store = new PlanStore(() => now);
    const plan = { target: 'a'.repeat(40), paths: ['src'], worktreeTree: 'b'.repeat(40) };
    const first = store.add(plan);
    expect(store.add({ ...plan, paths: undefined }).id).not.toBe(first.id);
    now += PLAN_LIFETIME_MS - 1;
    expect(store.peek(first.id)).toEqual(plan);
    expect(store.take(first.id)).toEqual(plan);
    expect(store.take(first.id)).toBeUndefined();
    const second = store.add(plan);
    expect(second.id).toBe(first.id);
    now += PLAN_LIFETIME_MS;
    expect(store.take(second.id)).toBeUndefined();
  });
});
