#!/usr/bin/env node
/**
 * Hook latency (issue #20): how long `shadowgit hook claude EVENT` keeps an agent waiting, per
 * event, on a generated tree (scripts/bench/tree.mjs), without and with a running
 * `shadowgit watch`. Each run is a fresh process fed the Claude Code fixture of the event
 * (test/fixtures/agents/claude), exactly as the agent starts it; wall time from spawn to exit.
 * Before each tool and turn event one file changes, so the snapshot has something to record.
 *
 *   node scripts/bench-hooks.mjs [--shape medium|large] [--runs 20] [--keep] [--json]
 *
 * Target (issue #20): p50 ≤ 300 ms with the watcher on the large tree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree, mutateFiles, TREE_SHAPES } from './bench/tree.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shadowgit');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'agents', 'claude');

/** The events timed, each with its fixture, and whether the tree changes before it. */
const EVENTS = [
  { name: 'SessionStart', fixture: 'SessionStart.json', change: false },
  { name: 'UserPromptSubmit', fixture: 'UserPromptSubmit.json', change: false },
  { name: 'PreToolUse Read (read-only)', fixture: 'PreToolUse.Read.json', change: false },
  { name: 'PreToolUse Edit', fixture: 'PreToolUse.Edit.json', change: true },
  { name: 'PreToolUse Bash', fixture: 'PreToolUse.Bash.json', change: true },
  { name: 'Stop', fixture: 'Stop.json', change: true },
];

function parseArgs(argv) {
  const options = { shape: 'large', runs: 20, keep: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--shape') options.shape = argv[++i];
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--json') options.json = true;
    else throw new Error(`unknown option ${arg}; see the comment at the top of scripts/bench-hooks.mjs`);
  }
  if (!TREE_SHAPES[options.shape]) throw new Error(`--shape is one of ${Object.keys(TREE_SHAPES).join(', ')}`);
  if (!(Number.isInteger(options.runs) && options.runs > 0)) throw new Error('--runs takes a positive whole number');
  return options;
}

/** The value below which `p` of the sorted values lie (nearest rank). */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];

function shadowgit(args, { cwd, env, input }) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env, input, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 || (args[0] === 'hook' && result.stderr)) throw new Error(`shadowgit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** p50 and p95 of each event over `runs` runs. */
function timeEvents({ tree, env, manifest, runs, seed }) {
  const results = {};
  for (const event of EVENTS) {
    const input = readFileSync(path.join(FIXTURES, event.fixture), 'utf8').replaceAll('__CWD__', tree).replaceAll('__TRANSCRIPT_DIR__', os.tmpdir());
    const times = [];
    for (let run = 0; run < runs; run++) {
      if (event.change) mutateFiles([tree], manifest, 1, seed++);
      times.push(shadowgit(['hook', 'claude', event.fixture.split('.')[0]], { cwd: os.tmpdir(), env, input }));
    }
    times.sort((a, b) => a - b);
    results[event.name] = { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
  }
  return results;
}

const options = parseArgs(process.argv.slice(2));
const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'sg-bench-hooks-')));
const tree = path.join(dir, 'tree');
const env = { ...process.env, SHADOWGIT_HOME: path.join(dir, 'home'), NO_COLOR: '1' };
const log = (line) => process.stderr.write(`${line}\n`);
try {
  log(`generating the ${options.shape} tree in ${tree} …`);
  const manifest = generateTree(tree, TREE_SHAPES[options.shape]);
  log(`  ${manifest.files} files; first snapshot …`);
  shadowgit(['snapshot', '-m', 'bench baseline'], { cwd: tree, env });
  log(`without a watcher (${options.runs} runs per event) …`);
  const plain = timeEvents({ tree, env, manifest, runs: options.runs, seed: 1 });
  shadowgit(['watch', '--detach'], { cwd: tree, env });
  let watched;
  try {
    log(`with \`shadowgit watch\` running …`);
    watched = timeEvents({ tree, env, manifest, runs: options.runs, seed: 100_000 });
  } finally {
    shadowgit(['watch', '--stop'], { cwd: tree, env });
  }
  const rows = EVENTS.map(({ name }) => ({ event: name, withoutWatcher: plain[name], withWatcher: watched[name] }));
  if (options.json) process.stdout.write(`${JSON.stringify({ shape: options.shape, files: manifest.files, runs: options.runs, events: rows }, null, 2)}\n`);
  else {
    const ms = (value) => `${Math.round(value)} ms`.padStart(8);
    const width = Math.max(...EVENTS.map(({ name }) => name.length));
    process.stdout.write(`hook latency, ${options.shape} tree (${manifest.files} files), ${options.runs} runs per event\n`);
    process.stdout.write(`${'event'.padEnd(width)}  ${'p50'.padStart(8)} ${'p95'.padStart(8)}  ${'p50 watch'.padStart(9)} ${'p95 watch'.padStart(9)}\n`);
    for (const row of rows) process.stdout.write(`${row.event.padEnd(width)}  ${ms(row.withoutWatcher.p50)} ${ms(row.withoutWatcher.p95)}  ${ms(row.withWatcher.p50).padStart(9)} ${ms(row.withWatcher.p95).padStart(9)}\n`);
  }
} finally {
  if (options.keep) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
