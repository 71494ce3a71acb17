/**
 * Hostile repository and tree content: hand-made trees with `..`, absolute paths, `.git`
 * components, names with `/` or NUL, duplicate names; symlinks in the working tree pointing
 * outside it; damaged and missing objects. Each must be refused with one clear sentence before
 * anything outside the working tree is touched (a recorded symlink may instead be replaced by
 * the directory the target needs — never written through).
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fingerprint, makeSandbox, writeTree } from '../../helpers/sandbox.js';
import { diskTree, gitOut, makeScratch, reachableObjects, treeBlobs } from './native.js';
import { blob, commit, tree, writeLoose, type RawEntry } from './objects.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { clearRefusal, shadowgit } from './run.js';

const execFileAsync = promisify(execFile);

interface Ctx {
  work: string;
  outside: string;
  gitdir: string;
  env: NodeJS.ProcessEnv;
  /** Commits of the two fixture snapshots: S1 (older) and S2 (the tip, what is on disk). */
  s1: string;
  s2: string;
  /** S2's root entries, so a hostile tree is a real tree plus one bad entry. */
  rootEntries: RawEntry[];
}

interface HostileCase {
  name: string;
  /** Prepares the attack; returns the command line to run. */
  setup(ctx: Ctx): Promise<string[]>;
  /** "refuse": a clear refusal is required; "safe": success is fine if it lands on the target tree. */
  expect: 'refuse' | 'safe';
}

async function tagAt(ctx: Ctx, name: string, commitOid: string): Promise<void> {
  await fsp.writeFile(path.join(ctx.gitdir, 'refs', 'tags', name), `${commitOid}\n`);
}

/** A tree equal to S2's root plus `extra`, tagged `evil`: `rollback evil` checks it out. */
async function evilRollback(ctx: Ctx, extra: RawEntry[], command = ['rollback', 'evil', '--json']): Promise<string[]> {
  // In git's order, so a tree that is legal apart from its bad entry hashes like the disk would.
  const key = (e: RawEntry) => Buffer.concat([Buffer.from(e.name), Buffer.from(e.mode === '40000' ? '/' : '')]);
  const entries = [...ctx.rootEntries, ...extra].sort((a, b) => Buffer.compare(key(a), key(b)));
  await tagAt(ctx, 'evil', commit(ctx.gitdir, tree(ctx.gitdir, entries)));
  return command;
}

const file = (gitdir: string, name: string | Buffer, content: string): RawEntry => ({ mode: '100644', name, oid: blob(gitdir, content) });
const dir = (gitdir: string, name: string | Buffer, entries: RawEntry[]): RawEntry => ({ mode: '40000', name, oid: tree(gitdir, entries) });

/**
 * A symlink `out` to the outside directory, recorded in a snapshot or excluded (so unrecorded),
 * and a target tree with a directory `out` holding a file named like the outside victim.
 */
async function symlinkOut(c: Ctx, how: 'recorded' | 'excluded', command: string[]): Promise<string[]> {
  if (how === 'excluded') await fsp.writeFile(path.join(c.work, '.shadowgit'), '{ "exclude": ["out"] }\n');
  await fsp.symlink('../outside', path.join(c.work, 'out'));
  if (how === 'recorded') {
    const snap = await shadowgit(['snapshot', '--json'], { cwd: c.work, env: c.env });
    if (snap.code !== 0) throw new Error(`setup snapshot failed: ${snap.stderr}`);
  }
  return evilRollback(c, [dir(c.gitdir, 'out', [file(c.gitdir, 'victim.txt', 'overwritten\n')])], command);
}

const CASES: HostileCase[] = [
  { name: 'tree entry ".."', expect: 'refuse', setup: (c) => evilRollback(c, [dir(c.gitdir, '..', [file(c.gitdir, 'escaped.txt', 'escaped\n')])]) },
  { name: 'tree entry "."', expect: 'refuse', setup: (c) => evilRollback(c, [dir(c.gitdir, '.', [file(c.gitdir, 'dot.txt', 'dot\n')])]) },
  { name: 'absolute path as a name', expect: 'refuse', setup: (c) => evilRollback(c, [file(c.gitdir, path.join(c.outside, 'victim.txt'), 'overwritten\n')]) },
  { name: 'name with "/" climbing out', expect: 'refuse', setup: (c) => evilRollback(c, [file(c.gitdir, '../outside/victim.txt', 'overwritten\n')]) },
  { name: 'name with a NUL byte', expect: 'refuse', setup: (c) => evilRollback(c, [file(c.gitdir, Buffer.from('nul\0name.txt'), 'nul\n')]) },
  { name: '".git" component', expect: 'refuse', setup: (c) => evilRollback(c, [dir(c.gitdir, '.git', [file(c.gitdir, 'config', '[core]\n\thooksPath = /tmp\n')])]) },
  { name: 'nested ".GIT" component', expect: 'refuse', setup: (c) => evilRollback(c, [dir(c.gitdir, 'deep', [dir(c.gitdir, '.GIT', [file(c.gitdir, 'HEAD', 'ref: x\n')])])]) },
  {
    name: 'duplicate name: symlink out + directory of the same name',
    expect: 'refuse',
    setup: (c) => evilRollback(c, [{ mode: '120000', name: 'dup', oid: blob(c.gitdir, c.outside) }, dir(c.gitdir, 'dup', [file(c.gitdir, 'pwned.txt', 'pwned\n')])]),
  },
  {
    name: 'blob claiming a huge size',
    expect: 'refuse',
    setup: async (c) => {
      const fake = 'f'.repeat(40);
      writeLoose(c.gitdir, 'blob', Buffer.from('x'), { header: 'blob 99999999999\0', forceOid: fake });
      return evilRollback(c, [{ mode: '100644', name: 'huge.bin', oid: fake }]);
    },
  },
  {
    name: 'truncated object',
    expect: 'refuse',
    setup: async (c) => {
      const oid = (await gitOut(c.gitdir, ['rev-parse', `${c.s1}:README.md`])).trim();
      const loose = path.join(c.gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
      const raw = await fsp.readFile(loose);
      await fsp.chmod(loose, 0o644);
      await fsp.writeFile(loose, raw.subarray(0, Math.floor(raw.length / 2)));
      return ['rollback', c.s1, '--json'];
    },
  },
  {
    // `snapshot` recovers from it instead (test/safety/damaged.test.ts); a rollback must refuse.
    name: 'snapshot ref pointing at a missing commit',
    expect: 'refuse',
    setup: async (c) => {
      await fsp.writeFile(path.join(c.gitdir, 'refs', 'heads', 'snapshots'), `${'d'.repeat(40)}\n`);
      return ['rollback', c.s1, '--json'];
    },
  },
  {
    name: 'tag pointing at a missing commit',
    expect: 'refuse',
    setup: async (c) => {
      await tagAt(c, 'ghost', 'e'.repeat(40));
      return ['rollback', 'ghost', '--json'];
    },
  },
  {
    name: 'commit whose tree is missing',
    expect: 'refuse',
    setup: async (c) => {
      await tagAt(c, 'hollow', commit(c.gitdir, 'a'.repeat(40)));
      return ['rollback', 'hollow', '--json'];
    },
  },
  { name: 'restore of a path outside the tree', expect: 'refuse', setup: async () => ['restore', 'latest', '--json', '--', '../outside/victim.txt'] },
  {
    name: 'recorded symlink to outside where the target has a directory',
    expect: 'safe',
    setup: (c) => symlinkOut(c, 'recorded', ['rollback', 'evil', '--json']),
  },
  {
    name: 'restore of one file through a recorded symlink to outside',
    expect: 'refuse',
    setup: (c) => symlinkOut(c, 'recorded', ['restore', 'evil', '--json', '--', 'out/victim.txt']),
  },
  {
    name: 'unrecorded (excluded) symlink to outside where the target has a directory',
    expect: 'refuse',
    setup: (c) => symlinkOut(c, 'excluded', ['rollback', 'evil', '--json']),
  },
  {
    name: 'restore through an unrecorded symlink to outside',
    expect: 'refuse',
    setup: (c) => symlinkOut(c, 'excluded', ['restore', 'evil', '--json', '--', 'out']),
  },
];

export async function hostileScenario(): Promise<ScenarioRow> {
  const row = emptyRow('hostile repo and tree content');
  const sandbox = makeSandbox('sg-hostile-');
  try {
    const live = path.join(sandbox.dir, 'live');
    const work = path.join(live, 'work');
    const outside = path.join(live, 'outside');
    const env = { ...sandbox.env, SHADOWGIT_HOME: path.join(live, 'home') };
    await writeTree(work, { 'README.md': 'v1\n', 'src/app.ts': 'export {};\n', 'data.bin': Buffer.alloc(4096, 7) });
    await writeTree(outside, { 'victim.txt': 'do not touch\n' });
    const run = (args: string[]) => shadowgit(args, { cwd: work, env });
    await run(['snapshot']);
    await writeTree(work, { 'README.md': 'v2\n' });
    await run(['snapshot']);
    const gitdir = JSON.parse((await run(['status', '--json'])).stdout).repo as string;
    const scratch = await makeScratch(path.join(sandbox.dir, 'scratch.git'));
    const [s2, s1] = (await gitOut(gitdir, ['rev-list', 'refs/heads/snapshots'])).trim().split('\n') as [string, string];
    const rootEntries = (await gitOut(gitdir, ['ls-tree', s2]))
      .trim()
      .split('\n')
      .map((line) => {
        const [meta, name] = line.split('\t') as [string, string];
        const [mode, , oid] = meta.split(' ') as [string, string, string];
        return { mode: mode === '040000' ? '40000' : mode, name, oid };
      });
    const saved = path.join(sandbox.dir, 'saved');
    await execFileAsync('cp', ['-a', live, saved]);

    for (const c of CASES) {
      await fsp.rm(live, { recursive: true, force: true });
      await execFileAsync('cp', ['-a', saved, live]);
      const ctx: Ctx = { work, outside, gitdir, env, s1, s2, rootEntries };
      const problems: string[] = [];
      let bytesLost = 0;
      try {
        const args = await c.setup(ctx);
        const beforeTree = await diskTree(scratch, work);
        const outsideBefore = await fingerprint(outside);
        const result = await shadowgit(args, { cwd: work, env });
        const refusal = clearRefusal(result);
        if (c.expect === 'refuse' && refusal) problems.push(`${c.name}: not refused clearly (${refusal})`);
        // 1: refused; 2: refused as a usage mistake (a path outside the tree or beyond a symlink in it); anything else is a crash.
        if (![0, 1, 2].includes(result.code ?? -1)) problems.push(`${c.name}: exit code ${result.code}`);
        if ((await fingerprint(outside)) !== outsideBefore) problems.push(`${c.name}: a file outside the working tree was changed`);
        const afterTree = await diskTree(scratch, work);
        if (result.code !== 0 && afterTree !== beforeTree) problems.push(`${c.name}: refused, yet the working tree changed`);
        if (result.code === 0 && c.expect === 'safe') {
          const target = (await gitOut(gitdir, ['rev-parse', 'evil^{tree}'])).trim();
          if (afterTree !== target) problems.push(`${c.name}: succeeded but the tree is not the target`);
        }
        if (afterTree !== beforeTree) {
          const reachable = await reachableObjects(gitdir);
          const now = new Set((await treeBlobs(scratch, afterTree)).map((b) => b.oid));
          bytesLost = (await treeBlobs(scratch, beforeTree)).filter((b) => !reachable.has(b.oid) && !now.has(b.oid)).reduce((s, b) => s + b.size, 0);
        }
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
      }
      tally(row, problems, { bytes: bytesLost });
    }
  } finally {
    await sandbox.cleanup();
  }
  return row;
}

export const HOSTILE_CASES = CASES.length;
