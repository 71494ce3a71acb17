#!/usr/bin/env node
/**
 * The full fault-injection run: builds, runs test/faults/ through jest (jest.faults.config.js),
 * then prints the reliability table and exits non-zero on any failure. With --write-docs the
 * table replaces the one in docs/reliability.md; --no-build uses dist/ as it is. Other arguments
 * go to jest (e.g. a path filter).
 * Knobs: FAULT_TRIALS (200), FAULT_ROUNDS (50), FAULT_SEED (1), FAULT_JOBS (2).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const Table = require('cli-table3');
const args = process.argv.slice(2);
const writeDocs = args.includes('--write-docs');
const jestArgs = args.filter((a) => a !== '--write-docs' && a !== '--no-build');

// --no-build runs against the dist/ already there (e.g. while a build is broken mid-edit).
if (!args.includes('--no-build')) {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// A private copy of the build: others may rebuild dist/ during a long run; trials must not see it change.
const frozen = path.join(root, 'node_modules', '.cache', 'shadowgit-faults');
rmSync(frozen, { recursive: true, force: true });
for (const part of ['package.json', 'dist', 'bin']) cpSync(path.join(root, part), path.join(frozen, part), { recursive: true });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sg-faults-'));
const results = path.join(tmp, 'rows.jsonl');
const started = Date.now();
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--config', 'jest.faults.config.js', ...jestArgs], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules', FAULTS_RESULTS: results, SHADOWGIT_FAULTS_BIN: path.join(frozen, 'bin', 'shadowgit') },
});
const minutes = ((Date.now() - started) / 60000).toFixed(1);

const rows = existsSync(results) ? readFileSync(results, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
rmSync(tmp, { recursive: true, force: true });
const head = ['Scenario', 'Trials', 'Failures', 'Snapshots lost', 'Working-tree bytes lost'];
const cells = rows.map((r) => [r.scenario, r.trials, r.failures, r.snapshotsLost, r.bytesLost].map(String));
const total = rows.reduce((t, r) => ({ trials: t.trials + r.trials, failures: t.failures + r.failures }), { trials: 0, failures: 0 });

const table = new Table({ head, style: { head: [], border: [] } });
table.push(...cells);
console.log(`\n${table.toString()}`);
const settings = `FAULT_TRIALS=${process.env.FAULT_TRIALS ?? 200} FAULT_ROUNDS=${process.env.FAULT_ROUNDS ?? 50} FAULT_SEED=${process.env.FAULT_SEED ?? 1} FAULT_JOBS=${process.env.FAULT_JOBS ?? 2}`;
console.log(`${total.trials} trials, ${total.failures} failed, in ${minutes} min (${settings}).`);
for (const r of rows) for (const s of r.skipped ?? []) console.log(`skipped in "${r.scenario}": ${s}`);

if (writeDocs) {
  const docs = path.join(root, 'docs', 'reliability.md');
  const markdown = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...cells.map((c) => `| ${c.join(' | ')} |`),
    '',
    `${total.trials} trials, ${total.failures} failed; ${new Date().toISOString().slice(0, 10)}, ${minutes} min on ${os.cpus().length} cores (${settings}).`,
  ].join('\n');
  const text = readFileSync(docs, 'utf8');
  const begin = '<!-- faults-table:begin -->';
  const end = '<!-- faults-table:end -->';
  if (!text.includes(begin) || !text.includes(end)) throw new Error(`${docs} lacks the ${begin} … ${end} markers`);
  writeFileSync(docs, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${markdown}\n${text.slice(text.indexOf(end))}`);
  console.log(`Table written to ${path.relative(root, docs)}.`);
}
process.exit(jest.status !== 0 || total.failures > 0 || rows.length === 0 ? 1 : 0);
