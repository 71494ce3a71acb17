// Builds the optional native lstat helper (native/statbatch.c) at install. shadowgit works
// without it (the same work on JavaScript threads, slower), so a machine without a C compiler
// gets one warning and a successful install instead of a failed one.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function nodeGyp() {
  // npm tells its scripts where its own node-gyp is; outside npm, look for one installed.
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const gyp = process.env.SHADOWGIT_NATIVE === '0' ? undefined : nodeGyp();
const result = gyp ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, encoding: 'utf8' }) : undefined;
if (!result || result.status !== 0) {
  const why = !gyp ? (process.env.SHADOWGIT_NATIVE === '0' ? 'SHADOWGIT_NATIVE=0 is set' : 'node-gyp was not found') : `node-gyp failed: ${(result.error?.message ?? result.stderr.trim().split('\n').filter((line) => /error/i.test(line))[0] ?? `exit ${result.status}`).trim()}`;
  process.stderr.write(`shadowgit: the native lstat helper was not built (${why}); snapshots and status use the slower JavaScript scan.\n`);
}
