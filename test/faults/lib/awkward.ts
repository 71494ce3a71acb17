/**
 * Awkward working trees: names that are not UTF-8 or differ only in case, very many files in
 * one directory, paths near the OS limits, special files, files changing during the scan,
 * unreadable directories, empty and sparse files. Each must be recorded byte-exact and brought
 * back by a rollback, or (special files, unreadable directories, names that are not UTF-8)
 * skipped, reported with the true reason, and left alone by a rollback.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fsp, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeSandbox, writeTree, type Sandbox } from '../../helpers/sandbox.js';
import { diskTree, fsckStrict, gitOut, makeScratch } from './native.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { shadowgit } from './run.js';

const execFileAsync = promisify(execFile);

interface Runner {
  run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  json<T = any>(args: string[]): Promise<T>;
}

interface Ctx extends Runner {
  sandbox: Sandbox;
  work: string;
  env: NodeJS.ProcessEnv;
  scratch: string;
}

function runner(sandbox: Sandbox, asUser?: number): Runner {
  const run = (args: string[]) => shadowgit(args, { cwd: sandbox.worktree, env: sandbox.env, timeoutMs: 20 * 60 * 1000, asUser });
  return {
    run,
    json: async (args) => {
      const result = await run(args);
      if (result.code !== 0) throw new Error(`shadowgit ${args.join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.trim()}`);
      return JSON.parse(result.stdout);
    },
  };
}

/** A user that is not root, for the cases root would sail through (root reads any directory). */
const NOBODY = 65534;

interface AwkwardCase {
  name: string;
  check(ctx: Ctx): Promise<string[]>;
}

/**
 * Snapshot, then change the tree, then roll back: the tree must come back byte-exact (native
 * git's tree id of the disk before and after), and `git fsck --strict` must be clean.
 */
async function roundTrip(ctx: Ctx, change: () => Promise<void>): Promise<string[]> {
  const problems: string[] = [];
  const before = await diskTree(ctx.scratch, ctx.work);
  const snap = await ctx.json<{ commit: string }>(['snapshot', '--json']);
  const gitdir = (await ctx.json<{ repo: string }>(['status', '--json'])).repo;
  const recorded = (await gitOut(gitdir, ['rev-parse', `${snap.commit}^{tree}`])).trim();
  if (recorded !== before) problems.push('the snapshot is not byte-exact');
  await change();
  const back = await ctx.run(['rollback', snap.commit, '--json']);
  if (back.code !== 0) problems.push(`rollback failed: ${back.stderr.trim()}`);
  else if ((await diskTree(ctx.scratch, ctx.work)) !== before) problems.push('rollback did not bring the tree back byte-exact');
  const fsck = await fsckStrict(gitdir);
  if (!fsck.ok) problems.push(`git fsck --strict: ${fsck.output.slice(0, 200)}`);
  return problems;
}

const isRoot = () => process.getuid?.() === 0;

export interface AwkwardSizes {
  manyFiles: number;
  sparseBytes: number;
  /** Snapshots taken while files churn. */
  churnSnapshots: number;
}

export function awkwardCases(options: AwkwardSizes): AwkwardCase[] {
  return [
    {
      name: 'non-UTF-8 file names',
      async check(ctx) {
        const raw = Buffer.concat([Buffer.from(path.join(ctx.work, 'latin1-')), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]);
        writeFileSync(raw, 'latin-1 name\n');
        await writeTree(ctx.work, { 'plain.txt': 'plain\n' });
        const snap = await ctx.json<{ commit: string; skipped: Array<{ path: string; reason: string }> }>(['snapshot', '--json']);
        const gitdir = (await ctx.json<{ repo: string }>(['status', '--json'])).repo;
        const names = (await gitOut(gitdir, ['ls-tree', '-r', '--name-only', '-z', snap.commit])).split('\0');
        const recorded = names.some((n) => n.startsWith('latin1-'));
        const problems: string[] = [];
        const reason = snap.skipped.find((s) => s.path.startsWith('latin1-'))?.reason ?? '';
        if (!recorded && !/UTF-8/.test(reason)) problems.push(`the non-UTF-8 file is neither recorded nor reported as skipped for its name (reason: "${reason}")`);
        await writeTree(ctx.work, { 'plain.txt': 'changed\n' });
        const back = await ctx.run(['rollback', snap.commit, '--json']);
        if (back.code !== 0) problems.push(`rollback failed: ${back.stderr.trim()}`);
        const still = await fsp.readFile(raw).catch(() => undefined);
        if (still?.toString() !== 'latin-1 name\n') problems.push('the non-UTF-8 file was changed or deleted by a rollback');
        return problems;
      },
    },
    {
      name: 'names differing only in case',
      async check(ctx) {
        await writeTree(ctx.work, { 'README.md': 'upper\n', 'readme.md': 'lower\n', 'Src/A.ts': 'A\n', 'src/a.ts': 'a\n' });
        return roundTrip(ctx, () => writeTree(ctx.work, { 'README.md': 'upper 2\n', 'src/a.ts': 'a 2\n' }));
      },
    },
    {
      name: `${options.manyFiles.toLocaleString('en')} files in one directory`,
      async check(ctx) {
        const dir = path.join(ctx.work, 'many');
        await fsp.mkdir(dir);
        for (let i = 0; i < options.manyFiles; i += 1000) {
          await Promise.all(Array.from({ length: Math.min(1000, options.manyFiles - i) }, (_, j) => fsp.writeFile(path.join(dir, `f${i + j}.txt`), `${i + j}\n`)));
        }
        return roundTrip(ctx, async () => {
          for (let i = 0; i < 10; i++) await fsp.writeFile(path.join(dir, `f${i * 97}.txt`), 'changed\n');
          await fsp.rm(path.join(dir, 'f1.txt'));
        });
      },
    },
    {
      name: 'paths near the OS limits (255-byte name, 4000-byte path)',
      async check(ctx) {
        const longName = `${'n'.repeat(251)}.txt`;
        const deepDir = Array.from({ length: 19 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(198)}`).join('/');
        await writeTree(ctx.work, { [longName]: 'long name\n', [`${deepDir}/deep.txt`]: 'deep\n', [`${deepDir}/${'m'.repeat(40)}`]: 'deeper\n' });
        return roundTrip(ctx, () => writeTree(ctx.work, { [longName]: 'changed\n', [`${deepDir}/deep.txt`]: 'changed\n' }));
      },
    },
    {
      name: 'FIFO, socket and device file (skipped and reported)',
      async check(ctx) {
        await writeTree(ctx.work, { 'normal.txt': 'normal\n' });
        await execFileAsync('mkfifo', [path.join(ctx.work, 'pipe')]);
        await execFileAsync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(ctx.work, 'sock')]);
        const special = ['pipe', 'sock'];
        if (isRoot()) {
          await execFileAsync('mknod', [path.join(ctx.work, 'null-device'), 'c', '1', '3']);
          special.push('null-device');
        }
        const snap = await ctx.json<{ commit: string; skipped: Array<{ path: string }> }>(['snapshot', '--json']);
        const problems: string[] = [];
        const reported = new Set(snap.skipped.map((s) => s.path));
        for (const name of special) if (!reported.has(name)) problems.push(`${name} is not reported as skipped`);
        await writeTree(ctx.work, { 'normal.txt': 'changed\n' });
        const back = await ctx.run(['rollback', snap.commit, '--json']);
        if (back.code !== 0) problems.push(`rollback failed: ${back.stderr.trim()}`);
        for (const name of special) if (!(await fsp.lstat(path.join(ctx.work, name)).catch(() => undefined))) problems.push(`${name} was deleted by a rollback`);
        return problems;
      },
    },
    {
      name: 'files deleted and growing during the scan',
      async check(ctx) {
        await writeTree(ctx.work, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`churn/c${i}.txt`, `churn ${i}\n`.repeat(200)])));
        await writeTree(ctx.work, { 'grow.log': '' });
        // A separate process, so its writes really interleave with the scan.
        const script = `const fs=require('fs');let n=0;setInterval(()=>{for(let k=0;k<20;k++){fs.appendFileSync('grow.log','line '+(n++)+'\\n');const f='churn/c'+Math.floor(Math.random()*300)+'.txt';if(Math.random()<0.5)fs.rmSync(f,{force:true});else fs.writeFileSync(f,'rewritten '+n+'\\n'.repeat(Math.floor(Math.random()*400)))}},2)`;
        const churner = spawn(process.execPath, ['-e', script], { cwd: ctx.work, stdio: 'ignore' });
        const problems: string[] = [];
        const commits: string[] = [];
        try {
          for (let i = 0; i < options.churnSnapshots; i++) {
            const snap = await ctx.run(['snapshot', '--json']);
            if (snap.code !== 0) problems.push(`snapshot ${i + 1} during the churn failed: ${snap.stderr.trim()}`);
            else commits.push(JSON.parse(snap.stdout).commit);
          }
        } finally {
          churner.kill('SIGKILL');
          await new Promise((resolve) => churner.once('exit', resolve));
        }
        const gitdir = (await ctx.json<{ repo: string }>(['status', '--json'])).repo;
        const final = await fsp.readFile(path.join(ctx.work, 'grow.log'), 'utf8');
        for (const commit of commits) {
          // An append-only file must be recorded as one of its real states: a prefix of what it became.
          const recorded = (await gitOut(gitdir, ['cat-file', 'blob', `${commit}:grow.log`]).catch(() => '\0missing')) as string;
          if (!final.startsWith(recorded)) problems.push(`grow.log in ${commit.slice(0, 8)} is not a state the file ever had`);
        }
        const fsck = await fsckStrict(gitdir);
        if (!fsck.ok) problems.push(`git fsck --strict: ${fsck.output.slice(0, 200)}`);
        const last = await ctx.json<{ commit: string }>(['snapshot', '--json']);
        if ((await gitOut(gitdir, ['rev-parse', `${last.commit}^{tree}`])).trim() !== (await diskTree(ctx.scratch, ctx.work))) problems.push('once the churn stopped, the snapshot is not the working tree');
        return problems;
      },
    },
    {
      name: 'directory without read permission (skipped and reported)',
      async check(ctx) {
        await writeTree(ctx.work, { 'open/a.txt': 'a\n', 'closed/secret.txt': 'secret\n' });
        // As root, run as nobody (root reads any directory): the sandbox is handed over to that user.
        const user = isRoot() ? runner(ctx.sandbox, NOBODY) : ctx;
        if (isRoot()) {
          await fsp.chmod(ctx.sandbox.dir, 0o755);
          await execFileAsync('chown', ['-R', `${NOBODY}:${NOBODY}`, ctx.work, ctx.sandbox.home]);
        }
        await fsp.chmod(path.join(ctx.work, 'closed'), 0o000);
        const snap = await user.json<{ commit: string; skipped: Array<{ path: string }> }>(['snapshot', '--json']);
        const problems = snap.skipped.some((s) => s.path === 'closed') ? [] : ['the unreadable directory is not reported as skipped'];
        await writeTree(ctx.work, { 'open/a.txt': 'changed\n' });
        const back = await user.run(['rollback', snap.commit, '--json']);
        await fsp.chmod(path.join(ctx.work, 'closed'), 0o755);
        if (back.code !== 0) problems.push(`rollback failed: ${back.stderr.trim()}`);
        if ((await fsp.readFile(path.join(ctx.work, 'closed/secret.txt'), 'utf8').catch(() => '')) !== 'secret\n') problems.push('the unreadable directory was changed by a rollback');
        return problems;
      },
    },
    {
      name: `0-byte file and a sparse ${(options.sparseBytes / 2 ** 30).toFixed(options.sparseBytes >= 2 ** 30 ? 0 : 2)} GiB file`,
      async check(ctx) {
        await writeTree(ctx.work, { 'empty.txt': '' });
        const sparse = path.join(ctx.work, 'sparse.img');
        await (await fsp.open(sparse, 'w')).close();
        await fsp.truncate(sparse, options.sparseBytes);
        return roundTrip(ctx, async () => {
          const handle = await fsp.open(sparse, 'r+');
          await handle.write('changed in the middle', Math.floor(options.sparseBytes / 2));
          await handle.close();
          await fsp.writeFile(path.join(ctx.work, 'empty.txt'), 'not empty any more\n');
        });
      },
    },
  ];
}

export async function awkwardScenario(options: AwkwardSizes): Promise<ScenarioRow> {
  const row = emptyRow('awkward working trees');
  for (const c of awkwardCases(options)) {
    const sandbox = makeSandbox('sg-awkward-');
    try {
      const ctx: Ctx = { sandbox, work: sandbox.worktree, env: sandbox.env, scratch: await makeScratch(path.join(sandbox.dir, 'scratch.git')), ...runner(sandbox) };
      const problems = await c.check(ctx).catch((err: Error) => [err.message]);
      tally(row, problems.map((p) => `${c.name}: ${p}`));
    } finally {
      await sandbox.cleanup();
    }
  }
  return row;
}
