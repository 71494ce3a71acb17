#!/usr/bin/env node
/**
 * The full fault-injection run: builds, runs test/faults/ through jest (jest.faults.config.js),
 * then prints the reliability table and exits non-zero on any failure.
 *   --write-docs   also put the table into docs/reliability.md
 *   --no-build     use dist/ as it is
 *   --rows FILE    run nothing: print (and --write-docs) the table of a saved run; every run
 *                  saves its rows to node_modules/.cache/shadowgit-faults-last.jsonl
 * Other arguments go to jest (e.g. a path filter).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const Table = require('cli-table3');
const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args.splice(args.indexOf(name), name === '--rows' ? 2 : 1).at(-1) : undefined);
const writeDocs = option('--write-docs') !== undefined;
const noBuild = option('--no-build') !== undefined;
const savedRows = option('--rows');
const cache = path.join(root, 'node_modules', '.cache');
/** The run's knobs and their defaults (test/faults/lib/settings.ts reads them). */
const KNOBS = { FAULT_TRIALS: 200, FAULT_ROUNDS: 50, FAULT_SEED: 1, FAULT_JOBS: 2, RACE_TRIALS: 50, ROUNDTRIP_RUNS: 400 };

function run() {
  if (!noBuild) {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  // A private copy of the build: others may rebuild dist/ during a long run; trials must not see it change.
  const frozen = path.join(cache, 'shadowgit-faults');
  rmSync(frozen, { recursive: true, force: true });
  for (const part of ['package.json', 'dist', 'bin']) cpSync(path.join(root, part), path.join(frozen, part), { recursive: true });
  const rows = path.join(cache, 'shadowgit-faults-last.jsonl');
  rmSync(rows, { force: true });
  const started = Date.now();
  const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--config', 'jest.faults.config.js', ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules', FAULTS_RESULTS: rows, SHADOWGIT_FAULTS_BIN: path.join(frozen, 'bin', 'shadowgit') },
  });
  const settings = Object.entries(KNOBS).map(([name, fallback]) => `${name}=${process.env[name] ?? fallback}`).join(' ');
  appendFileSync(rows, `${JSON.stringify({ run: { minutes: ((Date.now() - started) / 60000).toFixed(1), settings, date: new Date().toISOString().slice(0, 10), cores: os.cpus().length, jestFailed: jest.status !== 0 } })}\n`);
  return rows;
}

const file = savedRows ?? run();
const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
const meta = lines.find((l) => l.run)?.run;
const rows = lines.filter((l) => l.scenario);
const head = ['Scenario', 'Trials', 'Failures', 'Snapshots lost', 'Working-tree bytes lost'];
const cells = rows.map((r) => [r.scenario, r.trials, r.failures, r.snapshotsLost, r.bytesLost].map(String));
const total = rows.reduce((t, r) => ({ trials: t.trials + r.trials, failures: t.failures + r.failures }), { trials: 0, failures: 0 });
const summary = `${total.trials} trials, ${total.failures} failed${meta ? `; ${meta.date}, ${meta.minutes} min on ${meta.cores} cores (${meta.settings})` : ' (an unfinished run)'}.`;

const table = new Table({ head, style: { head: [], border: [] } });
table.push(...cells);
console.log(`\n${table.toString()}\n${summary}`);
for (const r of rows) for (const s of r.skipped ?? []) console.log(`skipped in "${r.scenario}": ${s}`);

if (writeDocs) {
  const docs = path.join(root, 'docs', 'reliability.md');
  const markdown = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`), '', summary].join('\n');
  const text = readFileSync(docs, 'utf8');
  const begin = '<!-- faults-table:begin -->';
  const end = '<!-- faults-table:end -->';
  if (!text.includes(begin) || !text.includes(end)) throw new Error(`${docs} lacks the ${begin} … ${end} markers`);
  writeFileSync(docs, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${markdown}\n${text.slice(text.indexOf(end))}`);
  console.log(`Table written to ${path.relative(root, docs)}.`);
}
process.exit(!meta || meta.jestFailed || total.failures > 0 || rows.length === 0 ? 1 : 0);
