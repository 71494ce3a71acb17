#!/usr/bin/env node
// `npm run bench -- --scale`: issue #22's targets — cost that grows with the change, not with the
// tree, the history or the pack — measured side by side with native git (or with the same command
// on a short history) in one run.
// Usage: node scripts/bench-scale.mjs [--only tree,history,packed,delta,prune] [--rounds N] [--packed-gb N] [--reuse DIR] [--keep] [--out FILE] [--bin PATH]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, openSync, closeSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateTree, mutateFiles, prng, TREE_SHAPES } from './bench/tree.mjs';
import { describeMachine, diskUsage, gitEnv, median, removeTree, run, runAll } from './bench/measure.mjs';
import { makeHistory, SNAPSHOT_REF } from './bench/history.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['tree', 'history', 'packed', 'delta', 'prune'];

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string' },
    'packed-gb': { type: 'string' },
    'history-count': { type: 'string' },
    reuse: { type: 'string' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    bin: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(`npm run bench -- --scale [options]   (node scripts/bench-scale.mjs [options])
  --only LIST        comma-separated sections: ${SECTIONS.join(', ')} (default: all)
  --rounds N         measured rounds per command (default 3; tree, packed and prune: 1)
  --packed-gb N      size of the packed section's repository in GiB (default 3; 0.5 for a quick run)
  --history-count N  the long history's length (default 20000; prune also runs on a tenth of it)
  --reuse DIR        generate the data into DIR, or reuse what an earlier run left there
                     (the 300k tree and the multi-GB repository take minutes); DIR is kept
  --keep             keep the generated data (path printed at start)
  --out FILE         also write the results as JSON
  --bin PATH         the shadowgit executable to measure (default: bin/shadowgit of this checkout)`);
  process.exit(0);
}

const BIN = path.resolve(opts.bin ?? path.join(ROOT, 'bin', 'shadowgit'));
if (!existsSync(path.join(path.dirname(BIN), '..', 'dist', 'cli', 'main.js'))) {
  console.error(`bench: ${path.join(path.dirname(BIN), '..', 'dist')} is missing; run \`npm run build\` first.`);
  process.exit(1);
}
const sections = (opts.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const unknown = sections.filter((s) => !SECTIONS.includes(s));
if (unknown.length > 0) {
  console.error(`bench: unknown section ${unknown.join(', ')}; the sections are ${SECTIONS.join(', ')}.`);
  process.exit(2);
}
const rounds = opts.rounds === undefined ? undefined : Number(opts.rounds);
const packedGiB = Number(opts['packed-gb'] ?? 3);
const historyCount = Number(opts['history-count'] ?? 20_000);
if (!(packedGiB > 0) || !(historyCount >= 20) || (rounds !== undefined && !(rounds >= 1))) {
  console.error('bench: --packed-gb must be positive, --history-count at least 20 and --rounds at least 1.');
  process.exit(2);
}
const MiB = 2 ** 20;
/** The small tree of the history, prune and packed sections. */
const SMALL_SHAPE = { files: 1_000, dirs: 120, binaries: 0, seed: 1_000 };

function log(line) {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The two sides.

/** shadowgit on one working tree, with its own SHADOWGIT_HOME and the environment as users have it. */
function shadowgit(tree, home) {
  const env = { ...process.env, SHADOWGIT_HOME: home, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const sg = (...args) => run(BIN, ['-C', tree, ...args, '--json'], { env });
  return {
    tree,
    home,
    sg,
    /** The shadow repository's git directory. */
    gitdir: () => {
      const repos = path.join(home, 'repos');
      const name = readdirSync(repos).find((entry) => entry.endsWith('.git'));
      if (!name) throw new Error(`no shadow repository under ${repos}`);
      return path.join(repos, name);
    },
    /** `shadowgit ui` started, its first timeline page fetched as the page does, stopped: the time to that page (scripts/bench/ui-open.mjs). */
    openUi: () => {
      const r = run('node', [path.join(ROOT, 'scripts', 'bench', 'ui-open.mjs'), BIN, tree], { env });
      const opened = JSON.parse(r.stdout);
      if (opened.shown === 0) throw new Error('the UI\'s timeline showed no snapshot');
      return { ...r, ms: opened.openMs };
    },
    snapshot: (expectModified) => {
      const r = sg('snapshot', '-m', 'bench');
      const out = JSON.parse(r.stdout);
      if (expectModified !== undefined && out.changes.modified !== expectModified) throw new Error(`shadowgit recorded ${out.changes.modified} modified files, expected ${expectModified}`);
      return r;
    },
    rollback: (rev, expectWritten) => {
      const r = sg('rollback', rev, '--yes');
      const written = JSON.parse(r.stdout).written;
      if (expectWritten !== undefined && written !== expectWritten) throw new Error(`shadowgit rollback ${rev} wrote ${written} files, expected ${expectWritten}`);
      return r;
    },
  };
}

/** Native git on a copy: `bare` is its git directory, `tree` its work tree. */
function nativeGit(tree, bare) {
  const argv = (args) => ['--git-dir', bare, '--work-tree', tree, ...args];
  const g = (args, okCodes) => run('git', argv(args), { cwd: tree, env: gitEnv, okCodes });
  return {
    g,
    init: () => {
      removeTree(bare);
      execFileSync('git', ['init', '--bare', '-q', bare], { env: gitEnv });
    },
    // `commit` exits 1 when there is nothing to commit: that is the no-change case.
    snapshot: () => runAll([['git', argv(['add', '-A'])], ['git', argv(['commit', '-q', '-m', 'bench']), [0, 1]]], { cwd: tree, env: gitEnv }),
    status: () => {
      const r = g(['status', '--porcelain']);
      if (r.stdout.trim() !== '') throw new Error(`git status reports changes on an unchanged tree:\n${r.stdout.slice(0, 500)}`);
      return r;
    },
    resetHard: (rev) => g(['reset', '--hard', '-q', rev]),
  };
}

const gitOut = (gitdir, args) => execFileSync('git', ['--git-dir', gitdir, ...args], { env: gitEnv, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();

// ---------------------------------------------------------------------------------------------
// Rows: one measured command per row, compared with a reference (native git, or the short history).

/**
 * Runs `measure` (which returns `{ ours, reference }`, each a run() result or undefined) `count`
 * times, and adds the samples to the row of that name; a failing command fails its row only, so one regression does not
 * lose the rest of a run that took an hour to set up.
 */
function measureRow(rows, name, count, measure, targets = {}) {
  let row = rows.find((r) => r.name === name);
  if (!row) {
    row = { name, ours: [], reference: [], oursRss: [], referenceRss: [], ...targets };
    rows.push(row);
  }
  try {
    for (let i = 0; i < count; i++) {
      const { ours, reference } = measure(i);
      if (ours) {
        row.ours.push(ours.ms);
        row.oursRss.push(ours.rssKiB);
      }
      if (reference) {
        row.reference.push(reference.ms);
        row.referenceRss.push(reference.rssKiB);
      }
    }
    log(`  ${name}: ${row.ours.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')} vs ${row.reference.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')}`);
  } catch (err) {
    row.error = String(err.message ?? err).split('\n')[0].slice(0, 300);
    log(`  ${name}: FAILED — ${row.error}`);
  }
  return row;
}

/** Medians, ratio (of medians and paired), peak RSS, and whether each target is met. */
function summarizeRow(row) {
  const oursMs = median(row.ours);
  const referenceMs = median(row.reference);
  const paired = row.ours.length === row.reference.length && row.ours.length > 0 ? median(row.ours.map((ms, i) => ms / row.reference[i])) : undefined;
  const peak = (samples) => (samples.some(Boolean) ? Math.max(...samples.filter(Boolean)) / 1024 : undefined);
  const summary = { name: row.name, oursMs, referenceMs, ratio: oursMs !== undefined && referenceMs ? oursMs / referenceMs : undefined, pairedRatio: paired, oursRssMiB: peak(row.oursRss), referenceRssMiB: peak(row.referenceRss), samples: { ours: row.ours, reference: row.reference } };
  if (row.ratioTarget !== undefined) summary.ratioTarget = row.ratioTarget;
  if (row.rssTargetMiB !== undefined) summary.rssTargetMiB = row.rssTargetMiB;
  if (row.note) summary.note = row.note;
  if (row.error) summary.error = row.error;
  const checks = [];
  if (row.ratioTarget !== undefined) checks.push(summary.ratio !== undefined && summary.ratio <= row.ratioTarget);
  if (row.rssTargetMiB !== undefined) checks.push(summary.oursRssMiB !== undefined && summary.oursRssMiB <= row.rssTargetMiB);
  if (checks.length > 0) summary.targetMet = !row.error && checks.every(Boolean);
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Data: generated once under the temp root (or --reuse DIR), with a marker file once complete.

function prepared(dir, make) {
  const marker = path.join(dir, 'bench-ready.json');
  if (existsSync(marker)) {
    log(`  reusing ${dir}`);
    return JSON.parse(readFileSync(marker, 'utf8'));
  }
  removeTree(dir);
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const meta = make(dir);
  writeFileSync(marker, JSON.stringify(meta));
  log(`  generated ${dir} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return meta;
}

/** A small tree recorded once by shadowgit, then `count` snapshots appended by fast-import. */
function historyRepo(dir, count) {
  return prepared(dir, () => {
    const side = shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
    mkdirSync(side.tree, { recursive: true });
    generateTree(side.tree, SMALL_SHAPE);
    side.snapshot();
    const { ids, commits } = makeHistory(side.gitdir(), count, { worktree: side.tree });
    // Record the working tree once, so the stat cache matches the tip as after any snapshot.
    side.snapshot();
    const mid = Math.floor(count / 2);
    // An approved revision in the middle, as approve.ts makes it: an annotated tag with the name trailer.
    const tag = execFileSync('git', ['--git-dir', side.gitdir(), 'mktag'], {
      env: gitEnv,
      encoding: 'utf8',
      input: `object ${commits[mid]}\ntype commit\ntag bench-approved\ntagger shadowgit <shadowgit@localhost> ${Math.floor(Date.now() / 1000)} +0000\n\nBench Approved\n\nShadowgit-Name: Bench Approved\n`,
    }).trim();
    gitOut(side.gitdir(), ['update-ref', 'refs/tags/bench-approved', tag]);
    return { count, midId: ids[mid], midCommit: commits[mid], approved: 'Bench Approved', latestBack: count - mid };
  });
}

// ---------------------------------------------------------------------------------------------
// Sections.

function treeSection(base) {
  const shape = TREE_SHAPES.scale;
  const meta = prepared(path.join(base, 'data'), (dir) => {
    const manifest = generateTree(path.join(dir, 'sg'), shape);
    execFileSync('cp', ['-a', path.join(dir, 'sg'), path.join(dir, 'git')]);
    return { files: manifest.files, dirs: manifest.dirs, bytes: manifest.bytes, textFiles: manifest.textFiles };
  });
  const sgTree = path.join(base, 'data', 'sg');
  const gitTree = path.join(base, 'data', 'git');
  const ours = shadowgit(sgTree, path.join(base, 'home'));
  const native = nativeGit(gitTree, path.join(base, 'native.git'));
  const rows = [];
  const count = rounds ?? 1;
  let statCache;
  for (let i = 0; i < count; i++) {
    // Each round starts from empty repositories, so every row measures what its name says.
    removeTree(ours.home);
    native.init();
    const step = (name, sgFn, gitFn, rssTargetMiB) => measureRow(rows, name, 1, () => (i % 2 === 0 ? { ours: sgFn(), reference: gitFn() } : { reference: gitFn(), ours: sgFn() }), { ratioTarget: 1.5, rssTargetMiB });
    step('first snapshot', () => ours.snapshot(), () => native.snapshot(), 600);
    step('no-change snapshot', () => ours.snapshot(), () => native.snapshot(), 300);
    mutateFiles([sgTree, gitTree], meta, 1, i * 1000 + 1);
    step('one-file snapshot', () => ours.snapshot(1), () => native.snapshot(), 300);
    mutateFiles([sgTree, gitTree], meta, 100, i * 1000 + 2);
    step('100-file snapshot', () => ours.snapshot(100), () => native.snapshot(), 300);
    step('status, nothing changed', () => ours.sg('status'), () => native.status(), 300);
    step('rollback of 100 files', () => ours.rollback('latest~1', 100), () => native.resetHard('HEAD~1'), 300);
    try {
      statCache ??= { statCacheBytes: statSync(path.join(ours.gitdir(), 'shadowgit', 'statcache')).size, gitIndexBytes: statSync(path.join(base, 'native.git', 'index')).size };
    } catch (err) {
      log(`  stat cache size: ${err.message}`);
    }
    log(`  round ${i + 1}/${count} done`);
  }
  const statCacheRatio = statCache ? statCache.statCacheBytes / statCache.gitIndexBytes : undefined;
  return {
    title: `tree: ${meta.files.toLocaleString('en-US')} files, ${meta.dirs.toLocaleString('en-US')} directories, ${(meta.bytes / MiB).toFixed(0)} MiB`,
    reference: 'native git',
    rows: rows.map(summarizeRow),
    facts: [statCache ? { name: 'stat cache vs git index', ours: statCache.statCacheBytes, reference: statCache.gitIndexBytes, ratio: statCacheRatio, target: 2, targetMet: statCacheRatio <= 2, text: `stat cache ${(statCache.statCacheBytes / MiB).toFixed(1)} MiB vs git's index ${(statCache.gitIndexBytes / MiB).toFixed(1)} MiB: **${statCacheRatio.toFixed(2)}×** (target ≤ 2×: ${met(statCacheRatio <= 2)})` } : { name: 'stat cache vs git index', text: 'stat cache vs git index: n/a (no snapshot was recorded)' }],
  };
}

function historySection(base) {
  const short = historyRepo(path.join(base, 'h20'), 20);
  const long = historyRepo(path.join(base, `h${historyCount}`), historyCount);
  const sides = { short: shadowgit(path.join(base, 'h20', 'work'), path.join(base, 'h20', 'home')), long: shadowgit(path.join(base, `h${historyCount}`, 'work'), path.join(base, `h${historyCount}`, 'home')) };
  const metas = { short, long };
  const rows = [];
  const count = rounds ?? 3;
  const firstRuns = {};
  // The first run of each command on each repository is kept apart: it may build an index
  // (missing or stale after fast-import), which later runs reuse.
  const row = (name, command) =>
    measureRow(rows, name, count + 1, (i) => {
      const order = i % 2 === 0 ? ['long', 'short'] : ['short', 'long'];
      const out = {};
      for (const which of order) out[which] = command(sides[which], metas[which], which);
      if (i === 0) {
        firstRuns[name] = { oursMs: out.long.ms, referenceMs: out.short.ms };
        return {};
      }
      return { ours: out.long, reference: out.short };
    }, { ratioTarget: 1.2 });
  row('list --limit 20', (s) => s.sg('list', '--limit', '20'));
  row('show <id>', (s, m) => s.sg('show', m.midId));
  row('show <hash prefix>', (s, m) => s.sg('show', m.midCommit.slice(0, 10)));
  row('show latest~N (N = count/2)', (s, m) => s.sg('show', `latest~${m.latestBack}`));
  row('show <approved name>', (s, m) => s.sg('show', m.approved));
  row('ui: start and the timeline\'s first page', (s) => s.openUi());
  row('rollback <mid id>', (s, m) => {
    const r = s.rollback(m.midId);
    s.rollback('latest'); // back to the tip, unmeasured, so the history stays the same length
    return r;
  });
  let edit = 0;
  row('snapshot, one file changed', (s) => {
    writeFileSync(path.join(s.tree, 'history', 'bench-edit.txt'), `edit ${edit++}\n`);
    return s.snapshot();
  });
  return {
    title: `history: ${historyCount.toLocaleString('en-US')} snapshots vs 20 snapshots of the same ${SMALL_SHAPE.files.toLocaleString('en-US')}-file tree (made with git fast-import)`,
    reference: '20 snapshots',
    oursLabel: `${historyCount.toLocaleString('en-US')} snapshots`,
    rows: rows.map((r) => ({ ...summarizeRow(r), firstRun: firstRuns[r.name] })),
  };
}

/** Incompressible bytes, fast: the kernel's generator (no need to reproduce them byte for byte). */
function writeRandomFile(file, sizeMiB) {
  const fd = openSync(file, 'w');
  try {
    execFileSync('head', ['-c', String(sizeMiB * MiB), '/dev/urandom'], { stdio: ['ignore', fd, 'inherit'] });
  } finally {
    closeSync(fd);
  }
}

/**
 * The packed and delta sections measure gc, which changes both repositories: they are generated
 * once as `home.before-gc` and `native.git.before-gc` (kept by --reuse), and every run works on
 * fresh copies of them, so a rerun on a new build measures its own gc.
 */
function setAsideBeforeGc(dir, side) {
  cpSync(side.gitdir(), path.join(dir, 'native.git.before-gc'), { recursive: true });
  renameSync(side.home, path.join(dir, 'home.before-gc'));
}

function freshCopiesBeforeGc(dir) {
  for (const name of ['home', 'native.git']) {
    removeTree(path.join(dir, name));
    execFileSync('cp', ['-a', '--reflink=auto', path.join(dir, `${name}.before-gc`), path.join(dir, name)]);
  }
}

function packedSection(base) {
  const meta = prepared(path.join(base, 'data'), (dir) => {
    const side = shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
    const manifest = generateTree(side.tree, SMALL_SHAPE);
    const files = 3;
    const sizeMiB = Math.max(1, Math.round((packedGiB * 1024) / files));
    for (let f = 0; f < files; f++) writeRandomFile(path.join(side.tree, `large-${f}.bin`), sizeMiB);
    side.snapshot();
    mutateFiles([side.tree], manifest, 100, 11);
    side.snapshot(100);
    mutateFiles([side.tree], manifest, 100, 12);
    side.snapshot(100);
    // The native side: a copy of the shadow repository and of the working tree, before either gc.
    execFileSync('cp', ['-a', '--reflink=auto', side.tree, path.join(dir, 'native-work')]);
    setAsideBeforeGc(dir, side);
    return { textFiles: manifest.textFiles, bytes: manifest.bytes + files * sizeMiB * MiB };
  });
  const dir = path.join(base, 'data');
  const ours = shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
  const bare = path.join(dir, 'native.git');
  const native = nativeGit(path.join(dir, 'native-work'), bare);
  const rows = [];
  freshCopiesBeforeGc(dir);
  measureRow(rows, 'gc', 1, () => ({ ours: ours.sg('gc', '--grace', '0'), reference: native.g(['gc', '--prune=now', '-q']) }), { rssTargetMiB: 512, note: 'target: RSS only; time beside git gc' });
  const repoBytes = diskUsage(ours.gitdir());
  const tip = gitOut(bare, ['rev-parse', SNAPSHOT_REF]);
  // Both working trees at the tip (an interrupted earlier run may have left them elsewhere), and
  // an index for native git's, so its reset --hard rewrites only what differs.
  ours.rollback('latest');
  native.g(['reset', '-q', SNAPSHOT_REF]);
  native.resetHard(tip);
  const count = rounds ?? 3;
  measureRow(rows, 'rollback of 100 files from a packed snapshot', count, (i) => {
    const measured = i % 2 === 0 ? { ours: ours.rollback('latest~1', 100), reference: native.resetHard(`${tip}~1`) } : { reference: native.resetHard(`${tip}~1`), ours: ours.rollback('latest~1', 100) };
    ours.rollback('latest');
    native.resetHard(tip);
    return measured;
  }, { ratioTarget: 1.5, rssTargetMiB: 256 });
  const oneFile = meta.textFiles[0];
  measureRow(rows, 'show latest (one commit, its trees)', count, () => ({ ours: ours.sg('show', 'latest'), reference: native.g(['show', '--stat', tip]) }), { rssTargetMiB: 256, note: 'RSS bound as for rollback' });
  measureRow(rows, 'diff latest~1 latest --patch (one small file)', count, () => ({ ours: ours.sg('diff', 'latest~1', 'latest', '--patch', '--', oneFile), reference: native.g(['diff', `${tip}~1`, tip, '--', oneFile]) }), { rssTargetMiB: 256, note: 'RSS bound as for rollback' });
  return {
    title: `packed: a ${(repoBytes / 2 ** 30).toFixed(2)} GiB shadow repository after gc (3 incompressible files, ${SMALL_SHAPE.files.toLocaleString('en-US')} small text files, 3 snapshots)`,
    reference: 'native git (its own gc\'d copy)',
    rows: rows.map(summarizeRow),
    facts: [{ name: 'repository size', ours: repoBytes, reference: diskUsage(bare), text: `on disk after gc: shadowgit ${(repoBytes / MiB).toFixed(0)} MiB, native git ${(diskUsage(bare) / MiB).toFixed(0)} MiB` }],
  };
}

/** A 1 MB text file of numbered lines; an edit replaces one line. */
function textLines(random, count) {
  return Array.from({ length: count }, (_, i) => `${i}: ${Array.from({ length: 8 }, () => Math.floor(random() * 1e6).toString(36)).join(' ')}\n`);
}

function deltaSection(base) {
  const dir = path.join(base, 'data');
  const meta = prepared(dir, () => {
    const side = shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
    const manifest = generateTree(side.tree, TREE_SHAPES.medium);
    const random = prng(2026);
    const lines = textLines(random, 24_000); // about 1 MB
    const big = path.join(side.tree, 'big.txt');
    writeFileSync(big, lines.join(''));
    side.snapshot();
    for (let v = 1; v < 100; v++) {
      lines[Math.floor(random() * lines.length)] = `edited in version ${v}\n`;
      writeFileSync(big, lines.join(''));
      if (v % 3 === 0) mutateFiles([side.tree], manifest, 5, 100 + v);
      side.snapshot();
    }
    const bigBytes = statSync(big).size;
    setAsideBeforeGc(dir, side);
    return { files: manifest.files + 1, bigBytes, snapshots: 100 };
  });
  const ours = shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
  const bare = path.join(dir, 'native.git');
  const rows = [];
  freshCopiesBeforeGc(dir);
  measureRow(rows, 'gc', 1, () => ({ ours: ours.sg('gc', '--grace', '0'), reference: run('git', ['--git-dir', bare, 'gc', '--prune=now', '-q'], { env: gitEnv }) }), { rssTargetMiB: 512 });
  const packBytes = (gitdir) => diskUsage(path.join(gitdir, 'objects'));
  const oursBytes = packBytes(ours.gitdir());
  const gitBytes = packBytes(bare);
  const sizeRatio = oursBytes / gitBytes;
  const fsck = run('git', ['--git-dir', ours.gitdir(), 'fsck', '--strict', '--no-dangling'], { env: gitEnv, okCodes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 128] });
  const verify = run(BIN, ['-C', ours.tree, 'verify', '--json'], { env: { ...process.env, SHADOWGIT_HOME: ours.home, NO_COLOR: '1' }, okCodes: [0, 1, 2] });
  const fsckOk = fsck.code === 0;
  const verifyOk = verify.code === 0;
  return {
    title: `delta: 100 versions of a ${(meta.bigBytes / 1e6).toFixed(1)} MB text file (one line edited each) with the ${TREE_SHAPES.medium.files.toLocaleString('en-US')}-file tree, small edits in 33 of the snapshots`,
    reference: 'git gc on a copy',
    rows: rows.map(summarizeRow),
    facts: [
      { name: 'objects size after gc', ours: oursBytes, reference: gitBytes, ratio: sizeRatio, target: 1.5, targetMet: sizeRatio <= 1.5, text: `objects after gc: shadowgit ${(oursBytes / MiB).toFixed(1)} MiB vs git gc ${(gitBytes / MiB).toFixed(1)} MiB: **${sizeRatio.toFixed(2)}×** (target ≤ 1.5×: ${met(sizeRatio <= 1.5)})` },
      { name: 'git fsck --strict', ok: fsckOk, text: `\`git fsck --strict\` on shadowgit's repository: ${fsckOk ? 'pass' : `**FAIL** (exit ${fsck.code}: ${(fsck.stderr || fsck.stdout).trim().split('\n')[0]})`}` },
      { name: 'shadowgit verify', ok: verifyOk, text: `\`shadowgit verify\` after gc: ${verifyOk ? 'pass' : `**FAIL** (exit ${verify.code}: ${verify.stderr.trim().split('\n')[0]})`}` },
    ],
  };
}

function pruneSection(base) {
  const smallCount = Math.max(20, Math.round(historyCount / 10));
  const counts = [smallCount, historyCount];
  const repos = counts.map((n) => ({ n, dir: path.join(base, `h${n}`), meta: historyRepo(path.join(base, `h${n}`), n) }));
  const sideOf = (dir) => shadowgit(path.join(dir, 'work'), path.join(dir, 'home'));
  const rows = [];
  const objects = {};
  const count = rounds ?? 1;
  const pairRow = (name, prepare, command, countObjects) => {
    objects[name] = {};
    return measureRow(rows, name, count, (i) => {
      const out = {};
      for (const { n, dir } of i % 2 === 0 ? [...repos].reverse() : repos) {
        const side = prepare(dir, n);
        if (i === 0) objects[name][n] = countObjects(side.gitdir());
        out[n] = command(side);
      }
      return { ours: out[historyCount], reference: out[smallCount] };
    });
  };
  const revCount = (gitdir, args) => Number(gitOut(gitdir, ['rev-list', '--objects', '--count', ...args]));
  pairRow('verify', (dir) => sideOf(dir), (s) => s.sg('verify'), (g) => revCount(g, ['--all']));
  pairRow('verify --quick', (dir) => sideOf(dir), (s) => s.sg('verify', '--quick'), (g) => revCount(g, ['--no-walk', SNAPSHOT_REF, '--tags']));
  // prune rewrites the history: it runs on the generated repository itself (its shadow repository
  // is found by the working tree's path, so a copy elsewhere would not be it), whose home is
  // copied first and put back after, so the next round or run starts from the same history.
  const keptAfter = {};
  pairRow(
    'prune --keep-last 50',
    (dir) => {
      const side = sideOf(dir);
      removeTree(`${side.home}.before-prune`);
      execFileSync('cp', ['-a', side.home, `${side.home}.before-prune`]);
      return side;
    },
    (s) => {
      try {
        return s.sg('prune', '--keep-last', '50');
      } finally {
        keptAfter[repos.find((r) => s.home === path.join(r.dir, 'home')).n] = revCount(s.gitdir(), ['--all']);
        removeTree(s.home);
        renameSync(`${s.home}.before-prune`, s.home);
      }
    },
    (g) => revCount(g, ['--all']),
  );
  return {
    title: `prune and verify: ${historyCount.toLocaleString('en-US')} vs ${smallCount.toLocaleString('en-US')} snapshots of the same ${SMALL_SHAPE.files.toLocaleString('en-US')}-file tree`,
    reference: `${smallCount.toLocaleString('en-US')} snapshots`,
    oursLabel: `${historyCount.toLocaleString('en-US')} snapshots`,
    rows: rows.map((r) => {
      const s = summarizeRow(r);
      const o = objects[r.name] ?? {};
      const objectRatio = o[historyCount] / o[smallCount];
      s.objects = { [historyCount]: o[historyCount], [smallCount]: o[smallCount] };
      s.note = `objects: ${o[historyCount]?.toLocaleString('en-US')} vs ${o[smallCount]?.toLocaleString('en-US')} (${Number.isFinite(objectRatio) ? objectRatio.toFixed(1) : '?'}×)`;
      if (r.name.startsWith('prune') && keptAfter[historyCount] !== undefined) s.note += `; reachable after: ${keptAfter[historyCount].toLocaleString('en-US')} vs ${keptAfter[smallCount]?.toLocaleString('en-US')}`;
      return s;
    }),
    facts: [{ name: 'how to read', text: 'Objects = `git rev-list --objects --count` of what the command must read: every reachable object for verify and prune, the latest snapshot\'s and the approved revisions\' for verify --quick. Time should grow with the objects, not with the snapshots.' }],
  };
}

// ---------------------------------------------------------------------------------------------
// Output.

const fmtMs = (ms) => (ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtMiB = (mib) => (mib === undefined ? 'n/a' : `${mib.toFixed(0)} MiB`);
const fmtX = (x) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)}×`);
const met = (ok) => (ok ? 'met' : '**not met**');

function render(result) {
  const oursLabel = result.oursLabel ?? 'shadowgit';
  const targetText = (r) => [r.ratioTarget !== undefined && `≤ ${r.ratioTarget}×`, r.rssTargetMiB !== undefined && `RSS ≤ ${r.rssTargetMiB} MiB`].filter(Boolean).join(', ') || '—';
  const lines = [
    `### ${result.title}`,
    '',
    `| operation | ${oursLabel} | ${result.reference} | ratio | paired ratio | ${oursLabel} peak RSS | ${result.reference} peak RSS | target | met |${result.rows.some((r) => r.firstRun) ? ' first run (ours / reference) |' : ''}${result.rows.some((r) => r.note) ? ' note |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |${result.rows.some((r) => r.firstRun) ? ' ---: |' : ''}${result.rows.some((r) => r.note) ? ' --- |' : ''}`,
    ...result.rows.map((r) => {
      const cells = r.error
        ? [r.name, `failed: ${r.error.replace(/\|/g, '\\|')}`, fmtMs(r.referenceMs), '', '', '', fmtMiB(r.referenceRssMiB), targetText(r), '**not met**']
        : [r.name, fmtMs(r.oursMs), fmtMs(r.referenceMs), `**${fmtX(r.ratio)}**`, fmtX(r.pairedRatio), fmtMiB(r.oursRssMiB), fmtMiB(r.referenceRssMiB), targetText(r), r.targetMet === undefined ? '—' : met(r.targetMet)];
      if (result.rows.some((x) => x.firstRun)) cells.push(r.firstRun ? `${fmtMs(r.firstRun.oursMs)} / ${fmtMs(r.firstRun.referenceMs)}` : '');
      if (result.rows.some((x) => x.note)) cells.push(r.note ?? '');
      return `| ${cells.join(' | ')} |`;
    }),
    '',
    ...(result.facts ?? []).flatMap((f) => [f.text, '']),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

const machine = {
  ...describeMachine(),
  bin: BIN,
  extraCaCerts: process.env.NODE_EXTRA_CA_CERTS !== undefined,
};
const workRoot = opts.reuse ? path.resolve(opts.reuse) : mkdtempSync(path.join(os.tmpdir(), 'sg-bench-scale-'));
mkdirSync(workRoot, { recursive: true });
const keep = opts.keep || opts.reuse !== undefined;
log(`bench --scale: data under ${workRoot}${keep ? ' (kept)' : ' (removed at the end; --keep or --reuse DIR keeps it)'}`);

console.log(`## shadowgit at scale (issue #22) — ${machine.date}`);
console.log('');
console.log(`${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM, load average at start ${machine.loadAverage}; node ${machine.node}, ${machine.git}; shadowgit run with the environment as it is${machine.extraCaCerts ? ' (NODE_EXTRA_CA_CERTS set)' : ''}.`);
console.log(`Wall time of the real CLI process (start-up included), medians; ratio = median ours / median reference, paired ratio = the median of each round's own ratio (both sides back to back, alternating which goes first); peak RSS (the largest seen) by ${machine.rss}. Target: the issue's bound for the row; met when every bound of the row holds.`);
console.log('');

const SECTION_RUNNERS = { tree: treeSection, history: historySection, packed: packedSection, delta: deltaSection, prune: pruneSection };
// history and prune share the long history (same generator, same directories).
const sectionDir = { tree: 'tree', history: 'history', packed: `packed-${packedGiB}g`, delta: 'delta', prune: 'history' };
const report = { machine, options: { sections, rounds, packedGiB, historyCount }, sections: {} };
try {
  for (const name of sections) {
    log(`${name}:`);
    const t0 = Date.now();
    const base = path.join(workRoot, sectionDir[name]);
    mkdirSync(base, { recursive: true });
    try {
      const result = SECTION_RUNNERS[name](base);
      result.seconds = (Date.now() - t0) / 1000;
      report.sections[name] = result;
      console.log(render(result));
    } catch (err) {
      report.sections[name] = { error: String(err.stack ?? err) };
      console.log(`### ${name}: failed — ${String(err.message ?? err).split('\n')[0]}\n`);
      log(String(err.stack ?? err));
      process.exitCode = 1;
    }
    log(`  ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (opts.out) writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  }
} finally {
  if (!keep) removeTree(workRoot);
  else log(`data kept in ${workRoot}`);
}
