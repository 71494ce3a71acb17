#!/usr/bin/env node
// `npm run bench`: shadowgit against native git on identical, generated trees, side by side.
// Usage: node scripts/bench.mjs --scale [see scripts/bench-scale.mjs], or node scripts/bench.mjs [--quick] [--cases medium,large,huge] [--rounds N] [--out results.json] [--keep] [--skip-impact] [--drop-extra-ca-certs]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateHugeFile, generateTree, mutateFiles, touchHugeFile, TREE_SHAPES } from './bench/tree.mjs';
import { describeMachine, diskUsage, gitEnv, median, removeTree, run, runAll } from './bench/measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// `--scale` is issue #22's bench (300k files, 20k snapshots, multi-GB packs): its own script and options.
if (process.argv.includes('--scale')) {
  const scale = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bench-scale.mjs'), ...process.argv.slice(2).filter((arg) => arg !== '--scale')], { stdio: 'inherit' });
  process.exit(scale.status ?? 1);
}

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cases: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    bin: { type: 'string' },
    'skip-impact': { type: 'boolean', default: false },
    'drop-extra-ca-certs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(`node scripts/bench.mjs [options]
  --quick            medium tree only, 3 rounds (for iterating)
  --cases LIST       comma-separated: medium, large, huge (default: all three)
  --rounds N         rounds per tree case (default 5; huge: 1)
  --out FILE         also write the results as JSON
  --keep             keep the generated trees (path printed)
  --bin PATH         the shadowgit executable to measure (default: bin/shadowgit of this checkout)
  --skip-impact      skip scripts/bench-impact.mjs
  --drop-extra-ca-certs
                     measure shadowgit with NODE_EXTRA_CA_CERTS removed from its environment
                     (by default it runs with the environment as it is; node's start time is
                     printed with and without it)`);
  process.exit(0);
}
const BIN = path.resolve(opts.bin ?? path.join(ROOT, 'bin', 'shadowgit'));
const cases = (opts.cases ?? (opts.quick ? 'medium' : 'medium,large,huge')).split(',');
const rounds = Number(opts.rounds ?? (opts.quick ? 3 : 5));

if (!existsSync(path.join(path.dirname(BIN), '..', 'dist', 'cli', 'main.js'))) {
  console.error(`bench: ${path.join(path.dirname(BIN), '..', 'dist')} is missing; run \`npm run build\` first.`);
  process.exit(1);
}

/**
 * NODE_EXTRA_CA_CERTS makes every Node process read and parse that certificate bundle at start,
 * before any of its code runs (Node 20 does it eagerly): tens of milliseconds per command on a
 * machine that sets it for a proxy. The headline figures use the environment as users have it;
 * --drop-extra-ca-certs measures shadowgit without the variable (it opens no TLS connection),
 * a figure to stand beside the headline one, never instead of it.
 */
const dropExtraCaCerts = process.env.NODE_EXTRA_CA_CERTS !== undefined && opts['drop-extra-ca-certs'];

/** Median wall time of `node -e 0`, with the environment as it is and without NODE_EXTRA_CA_CERTS. */
function measureNodeStart() {
  const plain = { ...process.env };
  delete plain.NODE_EXTRA_CA_CERTS;
  delete plain.NODE_OPTIONS;
  const time = (env) => median(Array.from({ length: 11 }, () => run(process.execPath, ['-e', '0'], { env }).ms));
  return { withoutExtraCaCerts: time(plain), withEnvironment: process.env.NODE_EXTRA_CA_CERTS === undefined ? undefined : time({ ...plain, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }) };
}

/** One side of the comparison: a tree copy and the commands that act on it. */
function shadowgitSide(tree, home) {
  const env = { ...process.env, SHADOWGIT_HOME: home, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  if (dropExtraCaCerts) delete env.NODE_EXTRA_CA_CERTS;
  const sg = (...args) => run(BIN, ['-C', tree, ...args, '--json'], { env });
  const json = (r) => JSON.parse(r.stdout);
  return {
    reset: () => removeTree(home),
    snapshot: (expect) => {
      const r = sg('snapshot', '-m', 'bench');
      const out = json(r);
      if (expect && out.changes.modified !== expect) throw new Error(`shadowgit recorded ${out.changes.modified} modified files, expected ${expect}`);
      return r;
    },
    status: () => {
      const r = sg('status');
      const { changes } = json(r);
      if (changes.added.length + changes.modified.length + changes.deleted.length !== 0) throw new Error('shadowgit status reports changes on an unchanged tree');
      return r;
    },
    rollback: (expect) => {
      const r = sg('rollback', 'latest~1');
      if (expect !== undefined && json(r).written !== expect) throw new Error(`shadowgit rollback wrote ${json(r).written} files, expected ${expect}`);
      return r;
    },
    repoBytes: () => diskUsage(path.join(home, 'repos')),
    // A background watcher that never snapshots on its own during the measurement (long debounce).
    startWatch: () => run(BIN, ['-C', tree, 'watch', '--detach', '--debounce', '3600', '--interval', '3600'], { env }),
    stopWatch: () => run(BIN, ['-C', tree, 'watch', '--stop'], { env }),
    watcher: () => watcherProcess(home),
  };
}

/** The running watcher's pid, read from its watch.json, with readers of its CPU time and peak RSS (Linux /proc). */
function watcherProcess(home) {
  const repos = path.join(home, 'repos');
  const repo = readdirSync(repos).find((name) => name.endsWith('.git'));
  const { pid } = JSON.parse(readFileSync(path.join(repos, repo, 'shadowgit', 'watch.json'), 'utf8'));
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return {
    // utime and stime, fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name).
    cpuMs: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
    },
    peakRssKiB: () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]),
  };
}

function nativeSide(tree, bare) {
  const git = ['git', ['--git-dir', bare, '--work-tree', tree]];
  const g = (args, okCodes) => [git[0], [...git[1], ...args], okCodes];
  return {
    reset: () => {
      removeTree(bare);
      execFileSync('git', ['init', '--bare', '-q', bare], { env: gitEnv });
    },
    // `commit` exits 1 when there is nothing to commit: that is the no-change case.
    snapshot: () => runAll([g(['add', '-A']), g(['commit', '-q', '-m', 'bench'], [0, 1])], { cwd: tree, env: gitEnv }),
    status: () => {
      const r = run(...g(['status', '--porcelain']).slice(0, 2), { cwd: tree, env: gitEnv });
      if (r.stdout.trim() !== '') throw new Error(`git status reports changes on an unchanged tree:\n${r.stdout.slice(0, 500)}`);
      return r;
    },
    rollback: () => run(...g(['reset', '--hard', '-q', 'HEAD~1']).slice(0, 2), { cwd: tree, env: gitEnv }),
    repoBytes: () => diskUsage(bare),
  };
}

/** Runs one operation on both sides, in the round's order, and keeps the samples. */
function step(results, name, round, sides) {
  const order = round % 2 === 0 ? ['shadowgit', 'git'] : ['git', 'shadowgit'];
  const row = (results[name] ??= { shadowgit: [], git: [], shadowgitRss: [], gitRss: [], shadowgitCpu: [], gitCpu: [] });
  for (const side of order) {
    const r = sides[side]();
    row[side].push(r.ms);
    row[`${side}Rss`].push(r.rssKiB);
    row[`${side}Cpu`].push(r.cpuMs);
  }
}

function summarize(results) {
  return Object.entries(results).map(([name, row]) => {
    const sg = median(row.shadowgit);
    const git = median(row.git);
    const sgCpu = median(row.shadowgitCpu);
    const gitCpu = median(row.gitCpu);
    // Each round runs both sides back to back: its own ratio does not drift with the machine's speed between rounds.
    const pairedRatio = median(row.shadowgit.map((ms, i) => ms / row.git[i]));
    return { name, shadowgitMs: sg, gitMs: git, ratio: sg / git, pairedRatio, shadowgitCpuMs: sgCpu, gitCpuMs: gitCpu, cpuRatio: sgCpu / gitCpu, shadowgitRssMiB: Math.max(...row.shadowgitRss.filter(Boolean)) / 1024, gitRssMiB: Math.max(...row.gitRss.filter(Boolean)) / 1024, samples: row };
  });
}

function prepareCopies(base) {
  const sgTree = path.join(base, 'sg', 'work');
  const gitTree = path.join(base, 'git', 'work');
  mkdirSync(sgTree, { recursive: true });
  mkdirSync(path.dirname(gitTree), { recursive: true });
  return { sgTree, gitTree, home: path.join(base, 'home'), bare: path.join(base, 'native.git') };
}

function benchTree(base, caseName) {
  const shape = TREE_SHAPES[caseName];
  const { sgTree, gitTree, home, bare } = prepareCopies(base);
  const t0 = Date.now();
  const manifest = generateTree(sgTree, shape);
  execFileSync('cp', ['-a', sgTree, gitTree]);
  log(`  generated ${manifest.files} files in ${shape.dirs} directories (${(manifest.bytes / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const sides = { sg: shadowgitSide(sgTree, home), git: nativeSide(gitTree, bare) };
  const results = {};
  const both = (name, round, sgFn, gitFn) => step(results, name, round, { shadowgit: sgFn, git: gitFn });
  let sizes;
  let watcherRssKiB = 0;
  for (let round = 0; round < rounds; round++) {
    sides.sg.reset();
    sides.git.reset();
    both('first snapshot', round, () => sides.sg.snapshot(), () => sides.git.snapshot());
    both('no-change snapshot', round, () => sides.sg.snapshot(), () => sides.git.snapshot());
    mutateFiles([sgTree, gitTree], manifest, 1, round * 1000 + 1);
    both('one-file snapshot', round, () => sides.sg.snapshot(1), () => sides.git.snapshot());
    mutateFiles([sgTree, gitTree], manifest, 100, round * 1000 + 2);
    both('100-file snapshot', round, () => sides.sg.snapshot(100), () => sides.git.snapshot());
    both('status, nothing changed', round, () => sides.sg.status(), () => sides.git.status());
    both('rollback of 100 files', round, () => sides.sg.rollback(100), () => sides.git.rollback());
    // With `shadowgit watch` running, snapshot and status are handed to the watcher, which knows
    // what changed instead of scanning: its CPU time for them counts in the CPU column, and
    // its peak RSS is kept apart (it is a long-running process, not one snapshot's).
    sides.sg.startWatch();
    const watcher = sides.sg.watcher();
    const withWatcherCpu = (fn) => () => {
      const before = watcher.cpuMs();
      const r = fn();
      if (JSON.parse(r.stdout).byWatcher !== true) throw new Error('the running watcher did not do the work');
      if (r.cpuMs !== undefined) r.cpuMs += watcher.cpuMs() - before;
      return r;
    };
    sides.sg.snapshot();
    sides.git.snapshot();
    both('no-change snapshot, watcher running', round, withWatcherCpu(() => sides.sg.snapshot()), () => sides.git.snapshot());
    mutateFiles([sgTree, gitTree], manifest, 1, round * 1000 + 3);
    both('one-file snapshot, watcher running', round, withWatcherCpu(() => sides.sg.snapshot(1)), () => sides.git.snapshot());
    both('status, nothing changed, watcher running', round, withWatcherCpu(() => sides.sg.status()), () => sides.git.status());
    watcherRssKiB = Math.max(watcherRssKiB, watcher.peakRssKiB() || 0);
    sides.sg.stopWatch();
    sizes ??= { shadowgitBytes: sides.sg.repoBytes(), gitBytes: sides.git.repoBytes() };
    log(`  round ${round + 1}/${rounds} done`);
  }
  checkSameTrees(sgTree, gitTree, manifest);
  return { files: manifest.files, dirs: shape.dirs, bytes: manifest.bytes, rounds, rows: summarize(results), sizes, watcherRssMiB: watcherRssKiB / 1024 };
}

/** After the rollbacks both copies must hold the same bytes again (cheap spot check on edited files). */
function checkSameTrees(a, b, manifest) {
  for (const rel of manifest.textFiles.slice(0, 2000)) {
    if (!readFileSync(path.join(a, rel)).equals(readFileSync(path.join(b, rel)))) throw new Error(`the two tree copies differ at ${rel} after rollback`);
  }
}

function benchHugeFile(base) {
  const { sgTree, gitTree, home, bare } = prepareCopies(base);
  const sgFile = path.join(sgTree, 'huge.bin');
  const gitFile = path.join(gitTree, 'huge.bin');
  mkdirSync(gitTree);
  generateHugeFile(sgFile, 2026);
  execFileSync('cp', ['--sparse=always', sgFile, gitFile]);
  const sides = { sg: shadowgitSide(sgTree, home), git: nativeSide(gitTree, bare) };
  const results = {};
  const hugeRounds = Number(opts.rounds ?? 1);
  let sizes;
  for (let round = 0; round < hugeRounds; round++) {
    sides.sg.reset();
    sides.git.reset();
    step(results, 'first snapshot (2 GiB file)', round, { shadowgit: () => sides.sg.snapshot(), git: () => sides.git.snapshot() });
    for (const file of [sgFile, gitFile]) touchHugeFile(file, round + 7);
    step(results, 'snapshot after 1 MiB changed', round, { shadowgit: () => sides.sg.snapshot(1), git: () => sides.git.snapshot() });
    step(results, 'rollback of the 2 GiB file', round, { shadowgit: () => sides.sg.rollback(1), git: () => sides.git.rollback() });
    sizes ??= { shadowgitBytes: sides.sg.repoBytes(), gitBytes: sides.git.repoBytes() };
    log(`  round ${round + 1}/${hugeRounds} done`);
  }
  return { files: 1, dirs: 0, bytes: 2 ** 31, rounds: hugeRounds, rows: summarize(results), sizes };
}

function log(line) {
  process.stderr.write(`${line}\n`);
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtOpt = (value, format) => (Number.isFinite(value) ? format(value) : 'n/a');
const fmtMiB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function render(name, result) {
  const lines = [
    `### ${name}: ${result.files.toLocaleString('en-US')} files, ${result.dirs.toLocaleString('en-US')} directories, ${fmtMiB(result.bytes)} (${result.rounds === 1 ? '1 round' : `medians of ${result.rounds} rounds`})`,
    '',
    '| operation | shadowgit wall | native git wall | ratio | paired ratio | shadowgit CPU | git CPU | CPU ratio | shadowgit peak RSS | git peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map(
      (r) =>
        `| ${r.name} | ${fmtMs(r.shadowgitMs)} | ${fmtMs(r.gitMs)} | **${r.ratio.toFixed(2)}×** | ${r.pairedRatio.toFixed(2)}× | ${fmtOpt(r.shadowgitCpuMs, fmtMs)} | ${fmtOpt(r.gitCpuMs, fmtMs)} | ${fmtOpt(r.cpuRatio, (x) => `${x.toFixed(2)}×`)} | ${r.shadowgitRssMiB.toFixed(0)} MiB | ${fmtOpt(r.gitRssMiB, (x) => `${x.toFixed(0)} MiB`)} |`,
    ),
    '',
    `Repository on disk after one round: shadowgit ${fmtMiB(result.sizes.shadowgitBytes)}, native git ${fmtMiB(result.sizes.gitBytes)} (loose objects, before any gc).`,
    ...(result.watcherRssMiB ? ['', `With the watcher running, the CPU column adds the watcher's CPU time during each command to the CLI's; the RSS column is the CLI's alone. The watcher's own peak RSS: ${result.watcherRssMiB.toFixed(0)} MiB.`] : []),
    '',
  ];
  return lines.join('\n');
}

const machine = {
  ...describeMachine(),
  rounds,
  nodeStart: measureNodeStart(),
  extraCaCertsUnset: dropExtraCaCerts,
};
console.log(`## shadowgit vs native git — ${machine.date}`);
console.log('');
console.log(`${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM, load average at start ${machine.loadAverage}; node ${machine.node}, ${machine.git}.`);
const { withoutExtraCaCerts, withEnvironment } = machine.nodeStart;
console.log(
  `Node start (\`node -e 0\`): ${fmtMs(withoutExtraCaCerts)}` +
    (withEnvironment === undefined
      ? '.'
      : `, or ${fmtMs(withEnvironment)} with this machine's NODE_EXTRA_CA_CERTS (${process.env.NODE_EXTRA_CA_CERTS}), which every Node process loads at start; ${machine.extraCaCertsUnset ? 'shadowgit ran without it (--drop-extra-ca-certs).' : 'shadowgit ran with it, as the environment has it (--drop-extra-ca-certs measures without it).'}`),
);
console.log(`Wall time of the real CLI process (start-up included) and its CPU time (user + system, all threads), medians over rounds that alternate which side goes first; ratio = median shadowgit / median git, paired ratio = the median of each round's own ratio (both sides back to back, so it does not drift with the machine's speed between rounds); peak RSS (the largest seen) and CPU by ${machine.rss}.`);
console.log('');

const report = { machine, cases: {} };
const workRoot = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-'));
try {
  for (const name of cases) {
    log(`${name}:`);
    const base = path.join(workRoot, name);
    mkdirSync(base);
    let result;
    if (name === 'huge') result = benchHugeFile(base);
    else if (TREE_SHAPES[name]) result = benchTree(base, name);
    else throw new Error(`unknown case "${name}"; the cases are medium, large, huge`);
    report.cases[name] = result;
    console.log(render(name === 'huge' ? 'huge-file' : name, result));
    if (!opts.keep) removeTree(base);
  }
} finally {
  if (!opts.keep) removeTree(workRoot);
  else log(`trees kept in ${workRoot}`);
}
if (opts.out) writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);

const impact = path.join(ROOT, 'scripts', 'bench-impact.mjs');
if (!opts['skip-impact'] && existsSync(impact)) {
  console.log('## impact');
  const r = spawnSync(process.execPath, [impact, ...(opts.quick ? ['--quick'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
