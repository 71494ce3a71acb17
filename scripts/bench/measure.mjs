// Process-level measurements: wall time of a real command, its peak RSS, medians, disk use.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, lstatSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GNU_TIME = '/usr/bin/time';
const HAVE_GNU_TIME = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true']).status === 0;
/** Without GNU time, node children report their own peak RSS through a preloaded module. */
const RSS_REPORTER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'maxrss.cjs');

/** Native git as the benches run it: no user or system config, a fixed identity. */
export const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  // No background `gc --auto` (it packs past 6,700 loose objects, detached, competing with the
  // next measurement); shadowgit's repos have gc.auto=0 too, so both sides stay loose.
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gc.auto',
  GIT_CONFIG_VALUE_0: '0',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};
delete gitEnv.NODE_OPTIONS;

export const rssMethod = HAVE_GNU_TIME ? 'GNU time' : 'process.resourceUsage().maxRSS (shadowgit only; no CPU times)';

let rssFileCounter = 0;

/**
 * Runs `command args` to completion and returns its wall time in ms (process start to exit,
 * start-up included) and peak RSS in KiB. `okCodes` are the exit codes that count as success.
 */
export function run(command, args, { cwd, env, okCodes = [0] } = {}) {
  const rssFile = path.join(os.tmpdir(), `sg-bench-rss-${process.pid}-${rssFileCounter++}`);
  let file = command;
  let argv = args;
  const childEnv = { ...env };
  if (HAVE_GNU_TIME) {
    file = GNU_TIME;
    argv = ['-f', '%M %U %S', '-o', rssFile, command, ...args];
  } else if (command.endsWith('shadowgit')) {
    childEnv.NODE_OPTIONS = `${childEnv.NODE_OPTIONS ?? ''} --require ${RSS_REPORTER}`.trim();
    childEnv.SHADOWGIT_BENCH_RSS_FILE = rssFile;
  }
  const started = process.hrtime.bigint();
  const result = spawnSync(file, argv, { cwd, env: childEnv, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.error) throw result.error;
  if (!okCodes.includes(result.status)) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`.slice(0, 4000));
  }
  let rssKiB;
  let cpuMs;
  if (existsSync(rssFile)) {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    const [rss, user, system] = lines[lines.length - 1].split(' ').map(Number);
    rssKiB = rss;
    if (user !== undefined && system !== undefined) cpuMs = (user + system) * 1000;
    rmSync(rssFile, { force: true });
  }
  return { ms, rssKiB, cpuMs, stdout: result.stdout, stderr: result.stderr, code: result.status };
}

/** Runs several commands one after another as one measured step (e.g. `add -A` then `commit`). */
export function runAll(steps, options) {
  let ms = 0;
  let cpuMs;
  let rssKiB;
  const outputs = [];
  for (const [command, args, okCodes] of steps) {
    const r = run(command, args, { ...options, okCodes: okCodes ?? [0] });
    ms += r.ms;
    if (r.cpuMs !== undefined) cpuMs = (cpuMs ?? 0) + r.cpuMs;
    if (r.rssKiB !== undefined) rssKiB = Math.max(rssKiB ?? 0, r.rssKiB);
    outputs.push(r);
  }
  return { ms, cpuMs, rssKiB, outputs };
}

export function median(values) {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Bytes a directory takes on disk (allocated blocks, like `du`), never following symlinks. */
export function diskUsage(dir) {
  let total = 0;
  const walk = (p) => {
    const stat = lstatSync(p);
    total += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

/** The machine a bench ran on, for the header of its report and its JSON. */
export function describeMachine() {
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    node: process.version,
    git: execFileSync('git', ['--version'], { encoding: 'utf8' }).trim(),
    rss: rssMethod,
  };
}

/**
 * Deletes a directory tree with `rm -rf`: node's rmSync took over ten minutes on a repository of
 * 255,000 loose objects that rm removes in seconds.
 */
export function removeTree(dir) {
  execFileSync('rm', ['-rf', '--', dir]);
}
