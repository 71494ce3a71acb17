#!/usr/bin/env node
/**
 * The other process of the race harness: while a shadowgit command works on `worktree`, it swaps
 * directories for symlinks to a victim directory and files for hard links to a victim file, at
 * random moments, and logs each swap (one JSON line per swap) for the checks.
 *
 * Argument: one JSON object {worktree, victimDir, victimFile, graveyard, journal, seed, swaps, afterJournal, log}.
 * With `afterJournal` it waits until the checkout's journal exists (its writes are about to
 * start), else it starts after a random delay; it stops after `swaps` swaps or on SIGTERM.
 */
import { appendFileSync, existsSync, linkSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const config = JSON.parse(process.argv[2]);
let state = config.seed >>> 0;
/** mulberry32, as the fault suite's seeded PRNG. */
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const SWAP_SUFFIX = `.swap-${process.pid}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

function entries() {
  const dirs = [];
  const files = [];
  const walk = (rel) => {
    let names;
    try {
      names = readdirSync(path.join(config.worktree, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of names) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        dirs.push(child);
        walk(child);
      } else if (entry.isFile()) files.push(child);
    }
  };
  walk('');
  return { dirs, files };
}

let moved = 0;
function swapDirectory(rel) {
  const full = path.join(config.worktree, rel);
  // Half the time what was there is moved out of the tree (a checkout holding it open keeps writing there), else deleted.
  if (random() < 0.5) renameSync(full, path.join(config.graveyard, `${process.pid}-${moved++}`));
  else rmSync(full, { recursive: true, force: true });
  symlinkSync(config.victimDir, full);
}

function swapFile(rel) {
  const full = path.join(config.worktree, rel);
  const tmp = `${full}${SWAP_SUFFIX}`;
  linkSync(config.victimFile, tmp);
  renameSync(tmp, full);
}

async function main() {
  if (config.afterJournal) {
    const deadline = Date.now() + 20000;
    while (!stopping && !existsSync(config.journal) && Date.now() < deadline) await sleep(1);
    await sleep(random() * 10);
  } else {
    await sleep(random() * 600);
  }
  for (let done = 0; done < config.swaps && !stopping; ) {
    const { dirs, files } = entries();
    const pickDir = random() < 0.5 && dirs.length > 0;
    const pool = pickDir ? dirs : files;
    if (pool.length === 0) break;
    const rel = pool[Math.floor(random() * pool.length)];
    // Logged first: a swap cut short by the command (it recreated the path) still touched it.
    appendFileSync(config.log, `${JSON.stringify({ kind: pickDir ? 'dir' : 'file', path: rel, temp: pickDir ? undefined : `${rel}${SWAP_SUFFIX}` })}\n`);
    try {
      if (pickDir) swapDirectory(rel);
      else swapFile(rel);
      done++;
    } catch {
      // The command got there first: pick again.
    }
    await sleep(random() * 30);
  }
}

main().then(() => process.exit(0));
