#!/usr/bin/env node
// `npm run bench:remote`: shadowgit's push and clone against native git's, to the same server
// (native `git http-backend` behind the test server, test/helpers/gitserver.ts), on the generated
// `large` tree: the first push of the whole tree, a one-file incremental push, and a clone
// (shadowgit clone vs git clone, both with their checkout). Wall time and peak RSS of the real
// CLI processes, side by side. A shadowgit command this build lacks is skipped with a note.
// Usage: node scripts/bench-remote.mjs [--case medium|large] [--keep] [--out results.json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateTree, mutateFiles, TREE_SHAPES } from './bench/tree.mjs';
import { gitEnv, rssMethod, run, runAll } from './bench/measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shadowgit');

const { values: opts } = parseArgs({
  options: {
    case: { type: 'string', default: 'large' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    serve: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(`node scripts/bench-remote.mjs [options]
  --case NAME   the generated tree: medium or large (default large)
  --keep        keep the trees and the server's repositories (path printed)
  --out FILE    also write the results as JSON`);
  process.exit(0);
}


/**
 * The test server, transpiled from test/helpers/*.ts with the project's TypeScript (one server,
 * not a copy of it). It runs in a child process (this script with --serve): the measured commands
 * are run synchronously, which would stall a server in this process.
 */
async function serve() {
  const { default: ts } = await import('typescript');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-server-'));
  for (const name of ['sandbox', 'gitserver']) {
    const source = readFileSync(path.join(ROOT, 'test', 'helpers', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(path.join(dir, `${name}.mjs`), outputText.replaceAll("'./sandbox.js'", "'./sandbox.mjs'"));
  }
  const { startGitServer } = await import(pathToFileURL(path.join(dir, 'gitserver.mjs')).href);
  const server = await startGitServer();
  const stop = async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  console.log(JSON.stringify({ root: server.root, base: server.url('') }));
}

/** Starts the server process; resolves with its project root, base URL and a stop function. */
async function startServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await Promise.race([
    (async () => {
      for await (const l of createInterface({ input: child.stdout })) return [l];
      return [undefined];
    })(),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the test server exited (${code}) before it started`)))),
  ]);
  const { root, base } = JSON.parse(line);
  return {
    root,
    url: (name) => `${base}${name}`,
    createRepo: (name) => execFileSync('git', ['init', '-q', '--bare', path.join(root, name)], { env: gitEnv }),
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.stdin.end();
    }),
  };
}

function log(line) {
  process.stderr.write(`${line}\n`);
}

/** Whether this build of shadowgit has `command` (an unknown one is a usage error, exit 2). */
function hasCommand(command) {
  return run(process.execPath, [BIN, command, '--help'], { okCodes: [0, 2] }).code === 0;
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtMiB = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : 'n/a');

async function main() {
  const shape = TREE_SHAPES[opts.case];
  if (!shape) throw new Error(`unknown case "${opts.case}"; the cases are ${Object.keys(TREE_SHAPES).join(', ')}`);
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing; run `npm run build` first.');
  const work = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-remote-'));
  const server = await startServer();
  const rows = [];
  const notes = [];
  try {
    const sgTree = path.join(work, 'sg', 'work');
    const gitTree = path.join(work, 'git', 'work');
    const local = path.join(work, 'native-local.git');
    mkdirSync(sgTree, { recursive: true });
    mkdirSync(path.dirname(gitTree), { recursive: true });
    const t0 = Date.now();
    const manifest = generateTree(sgTree, shape);
    execFileSync('cp', ['-a', sgTree, gitTree]);
    log(`${opts.case}: generated ${manifest.files} files in ${shape.dirs} directories (${(manifest.bytes / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const sgEnv = { ...process.env, SHADOWGIT_HOME: path.join(work, 'home'), NO_COLOR: '1' };
    delete sgEnv.NODE_OPTIONS;
    const sg = (args, env = sgEnv) => run(BIN, args, { env });
    const nativeGit = (args) => ['git', ['--git-dir', local, '--work-tree', gitTree, ...args]];
    execFileSync('git', ['init', '-q', '--bare', local], { env: gitEnv });
    server.createRepo('shadowgit.git');
    server.createRepo('native.git');
    const sgUrl = server.url('shadowgit.git');
    const nativeUrl = server.url('native.git');

    // Recording is not measured here (npm run bench does): only the transfers.
    const record = () => {
      sg(['-C', sgTree, 'snapshot', '-m', 'bench']);
      runAll([nativeGit(['add', '-A']), nativeGit(['commit', '-q', '-m', 'bench'])], { env: gitEnv });
    };
    record();
    const nativePush = () => run(...nativeGit(['push', '-q', nativeUrl, 'HEAD:refs/heads/main']), { env: gitEnv });
    const canPush = hasCommand('push') && hasCommand('remote');
    if (canPush) sg(['-C', sgTree, 'remote', 'add', 'origin', sgUrl]);
    else notes.push('`shadowgit push` is not in this build: the push rows show native git only, and the shadowgit remote was written by native git in the remote layout (docs/remote.md) for the clone row.');
    const sgRepo = JSON.parse(sg(['-C', sgTree, 'status', '--json']).stdout).repo;
    /** The shadow repository's chain as a push writes it, by native git: what clone reads when push is missing. */
    const layoutPush = () => execFileSync('git', ['--git-dir', sgRepo, 'push', '-q', path.join(server.root, 'shadowgit.git'), 'refs/heads/snapshots:refs/heads/bench-0000'], { env: gitEnv, stdio: 'ignore' });
    const measurePush = (name) => {
      const shadow = canPush ? sg(['-C', sgTree, 'push']) : undefined;
      if (!canPush) layoutPush();
      rows.push({ name, shadowgit: shadow, git: nativePush() });
    };
    log('  first push');
    measurePush('push: whole tree (first push)');
    mutateFiles([sgTree, gitTree], manifest, 1, 1);
    record();
    log('  incremental push');
    measurePush('push: one file changed');

    log('  clone');
    const cloneHome = path.join(work, 'clone-home');
    mkdirSync(cloneHome);
    const shadowClone = hasCommand('clone') ? sg(['clone', sgUrl, path.join(work, 'sg-clone')], { ...sgEnv, SHADOWGIT_HOME: cloneHome }) : undefined;
    if (!shadowClone) notes.push('`shadowgit clone` is not in this build: its row shows native git only.');
    rows.push({ name: 'clone + checkout', shadowgit: shadowClone, git: run('git', ['clone', '-q', nativeUrl, path.join(work, 'git-clone')], { env: gitEnv }) });
  } finally {
    await server.stop();
    if (opts.keep) log(`trees kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  const cell = (r, format) => (r ? format(r) : 'skipped');
  console.log(`## shadowgit vs native git over smart HTTP — ${new Date().toISOString()}`);
  console.log('');
  console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}, ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim()}; peak RSS by ${rssMethod}.`);
  console.log(`Tree "${opts.case}": ${shape.files.toLocaleString('en-US')} files. One server (git http-backend on 127.0.0.1), a bare repository for each side. One round: a first push cannot be repeated.`);
  console.log('');
  console.log('| operation | shadowgit wall | native git wall | ratio | shadowgit peak RSS | git peak RSS |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r.name} | ${cell(r.shadowgit, (x) => fmtMs(x.ms))} | ${fmtMs(r.git.ms)} | ${r.shadowgit ? `**${(r.shadowgit.ms / r.git.ms).toFixed(2)}×**` : 'n/a'} | ${cell(r.shadowgit, (x) => fmtMiB(x.rssKiB))} | ${fmtMiB(r.git.rssKiB)} |`);
  }
  for (const note of notes) console.log(`\nNote: ${note}`);
  if (opts.out) writeFileSync(opts.out, `${JSON.stringify(rows.map((r) => ({ name: r.name, shadowgitMs: r.shadowgit?.ms, shadowgitRssKiB: r.shadowgit?.rssKiB, gitMs: r.git.ms, gitRssKiB: r.git.rssKiB })), null, 2)}\n`);
}

if (opts.serve) await serve();
else await main();
