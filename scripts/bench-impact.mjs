#!/usr/bin/env node
/**
 * The impact section of `npm run bench` (standalone: `npm run bench:impact`).
 *
 * Generates a seeded TypeScript monorepo of ~3,000 modules (npm workspaces, path aliases,
 * tsconfig `extends`, packages with and without `exports`, barrels, type-only imports, dynamic
 * imports, tests) in a temp dir, then times, in the same run:
 *   - shadowgit impact (cold: no impact cache; warm: after changing one file),
 *   - madge --depends (direct dependents; madge keeps no cache),
 *   - dependency-cruiser --reaches (transitive dependents; warm run uses its --cache),
 * each as a fresh process (process start and module loading count), and reports wall time,
 * peak RSS and the ratio of shadowgit to each peer.
 *
 *   node scripts/bench-impact.mjs [--modules 3000] [--seed 42] [--runs 3] [--peer-runs 1] [--quick] [--keep] [--json]
 *
 * --quick is --runs 1 (what `npm run bench -- --quick` passes).
 *
 * dependency-cruiser takes 25-50 s a run here, so it runs --peer-runs times (default 1).
 *
 * Exported `runImpactBench(options)` is what scripts/bench.mjs calls.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fsp, mkdtempSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shadowgit');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** mulberry32: a small seeded PRNG, so every run generates the same monorepo. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)], chance: (p) => next() < p };
}

const pad = (n, w = 3) => String(n).padStart(w, '0');

/**
 * Writes the monorepo under `dir` and returns facts about it (module count, the target used
 * for queries). Layout:
 *   package.json (workspaces packages/*, apps/*), tsconfig.json (baseUrl, paths @core/*, @ui/*)
 *   packages/pNN/{package.json, tsconfig.json (extends ../../tsconfig.json), src/{index.ts, dA/mNNN.ts, __tests__/…}}
 *   apps/aN/… importing packages by name.
 */
export async function generateMonorepo(dir, { modules = 3000, seed = 42 } = {}) {
  const r = rng(seed);
  const packages = Math.max(4, Math.round(modules / 125));
  const apps = 2;
  const perPackage = Math.floor((modules * 0.92) / packages);
  const perApp = Math.floor((modules - perPackage * packages) / apps);
  const files = new Map();
  const write = (rel, text) => files.set(rel, text);

  write('package.json', JSON.stringify({ name: 'bench-mono', private: true, workspaces: ['packages/*', 'apps/*'] }, null, 2));
  write('.gitignore', 'node_modules/\ndist/\n');
  write(
    'tsconfig.json',
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          jsx: 'react-jsx',
          baseUrl: '.',
          paths: { '@core/*': ['packages/p00/src/*'], '@ui/*': ['packages/p01/src/*'] },
        },
        include: ['packages', 'apps'],
      },
      null,
      2,
    ),
  );

  const names = [];
  const moduleLists = [];
  let total = 0;
  const body = (i, exportsName) => {
    const lines = [];
    lines.push(`export interface ${exportsName}Options {`, '  id: number;', '  label?: string;', '  tags: string[];', '}');
    lines.push('');
    lines.push(`export function ${exportsName}(options: ${exportsName}Options): string {`);
    const steps = 3 + (i % 9);
    for (let s = 0; s < steps; s++) lines.push(`  const v${s} = options.tags.map((t) => t.toUpperCase() + ${s}).join(',');`);
    lines.push(`  return [${Array.from({ length: steps }, (_, s) => `v${s}`).join(', ')}].join('|') + (options.label ?? '');`, '}');
    lines.push('');
    lines.push(`export class ${exportsName}Store {`, '  private readonly items = new Map<number, string>();', '  add(id: number, value: string): void {', '    this.items.set(id, value);', '  }', '  get size(): number {', '    return this.items.size;', '  }', '}');
    lines.push(`export const ${exportsName}Default = ${i};`);
    return lines.join('\n');
  };

  for (let p = 0; p < packages; p++) {
    const name = `@mono/p${pad(p, 2)}`;
    names.push(name);
    const base = `packages/p${pad(p, 2)}`;
    const withExports = p % 2 === 0;
    write(
      `${base}/package.json`,
      JSON.stringify(withExports ? { name, version: '1.0.0', type: 'module', exports: { '.': './src/index.ts', './*': './src/*.ts' } } : { name, version: '1.0.0', main: 'dist/index.js', types: 'dist/index.d.ts' }, null, 2),
    );
    write(`${base}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { outDir: 'dist', rootDir: 'src' }, include: ['src'] }, null, 2));
    const list = [];
    for (let i = 0; i < perPackage; i++) list.push(`d${pad(i % 8, 1)}/m${pad(i)}`);
    moduleLists.push(list);
    for (let i = 0; i < perPackage; i++) {
      const rel = list[i];
      const dirOf = path.posix.dirname(rel);
      const imports = [];
      // Relative imports of lower-numbered modules in the same package (and the odd cycle).
      const nRel = i === 0 ? 0 : 1 + r.int(3);
      for (let k = 0; k < nRel; k++) {
        const j = r.chance(0.03) && i + 1 < perPackage ? i + 1 + r.int(Math.min(5, perPackage - i - 1)) : Math.max(0, i - 1 - r.int(Math.min(i, 12)));
        if (j === i) continue;
        let spec = path.posix.relative(dirOf, list[j]);
        if (!spec.startsWith('.')) spec = `./${spec}`;
        const kind = r.next();
        const sym = `m${pad(j)}`;
        if (kind < 0.7) imports.push(`import { ${sym}, ${sym}Default } from '${spec}.js';`);
        else if (kind < 0.85) imports.push(`import type { ${sym}Options } from '${spec}.js';`);
        else if (kind < 0.93) imports.push(`export { ${sym}Store } from '${spec}.js';`);
        else imports.push(`const lazy${k} = () => import('${spec}.js');`);
      }
      // Other workspace packages by name, always lower-numbered.
      if (p > 0 && r.chance(0.35)) imports.push(`import * as dep${p} from '${names[r.int(p)]}';`);
      if (p > 1 && r.chance(0.1)) {
        const core = moduleLists[0][r.int(perPackage)];
        imports.push(`import { ${core.split('/')[1]} as aliased } from '@core/${core}';`);
      }
      if (r.chance(0.2)) imports.push(`import { useMemo } from 'react';`);
      if (r.chance(0.1)) imports.push(`import debounce from 'lodash/debounce';`);
      write(`${base}/src/${rel}.ts`, `${imports.join('\n')}\n\n${body(i, `m${pad(i)}`)}\n`);
      total++;
      if (i % 10 === 3) {
        const t = `${base}/src/__tests__/m${pad(i)}.test.ts`;
        write(t, `import { m${pad(i)} } from '../${rel}.js';\n\ntest('m${pad(i)}', () => {\n  expect(m${pad(i)}({ id: 1, tags: ['a'] })).toContain('A');\n});\n`);
        total++;
      }
    }
    const barrel = list.slice(0, 6).map((rel) => `export * from './${rel}.js';`);
    write(`${base}/src/index.ts`, `${barrel.join('\n')}\n`);
    total++;
  }

  for (let a = 0; a < apps; a++) {
    const base = `apps/a${a}`;
    write(`${base}/package.json`, JSON.stringify({ name: `@mono/app${a}`, private: true, dependencies: Object.fromEntries(names.map((n) => [n, 'workspace:*'])) }, null, 2));
    write(`${base}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { jsx: 'react-jsx' }, include: ['src'] }, null, 2));
    for (let i = 0; i < perApp; i++) {
      const imports = [];
      for (let k = 0; k < 2 + r.int(3); k++) imports.push(`import * as pkg${k} from '${names[r.int(names.length)]}';`);
      if (i > 0) imports.push(`import { V${pad(i - 1)} } from './v${pad(i - 1)}.js';`);
      if (r.chance(0.3)) {
        const ui = moduleLists[1][r.int(perPackage)];
        imports.push(`import { ${ui.split('/')[1]} as ui } from '@ui/${ui}.js';`);
      }
      const text = `${imports.join('\n')}\n\nexport function V${pad(i)}(props: { title: string }): string {\n  return props.title + ${i};\n}\n\n${body(i, `v${pad(i)}`)}\n`;
      write(`${base}/src/v${pad(i)}.ts`, text);
      total++;
    }
  }

  for (const [rel, text] of files) {
    const full = path.join(dir, rel);
    await fsp.mkdir(path.dirname(full), { recursive: true });
    await fsp.writeFile(full, text);
  }
  return { dir, modules: total, packages, apps, target: `packages/p00/src/${moduleLists[0][0]}.ts`, changed: `packages/p00/src/${moduleLists[0][5]}.ts` };
}

/** Runs a command as a fresh process: wall time (ms) and peak RSS (MiB) of the process tree's largest member. */
function measure(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const argv = TIME ? ['-v', cmd, ...args] : args;
    const child = spawn(TIME ?? cmd, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const rssMiB = match ? Number(match[1]) / 1024 : undefined;
      if (code !== 0 && !options.allowFailure) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ ms, rssMiB, stdout, code });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

async function timed(label, runs, setup, cmd, args, options) {
  const samples = [];
  let last;
  for (let i = 0; i < runs; i++) {
    if (setup) await setup(i);
    last = await measure(cmd, args, options);
    samples.push(last);
  }
  return { label, ms: median(samples.map((s) => s.ms)), rssMiB: Math.max(...samples.map((s) => s.rssMiB ?? 0)) || undefined, stdout: last.stdout };
}

/**
 * Generates the monorepo, runs the three tools, returns the figures. Options: modules, seed,
 * runs (median of), keep (leave the temp dir), log (line printer).
 */
export async function runImpactBench({ modules = 3000, seed = 42, runs = 3, peerRuns = 1, keep = false, log = console.log } = {}) {
  const madge = path.join(ROOT, 'node_modules', 'madge', 'bin', 'cli.js');
  const depcruise = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  for (const tool of [madge, depcruise]) if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`npm install\` (madge and dependency-cruiser are devDependencies for this bench).`);
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first.');

  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'sg-bench-impact-')));
  const dir = path.join(base, 'mono');
  const home = path.join(base, 'home');
  await fsp.mkdir(dir, { recursive: true });
  const env = { ...process.env, SHADOWGIT_HOME: home, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  try {
    const facts = await generateMonorepo(dir, { modules, seed });
    log(`impact bench: ${facts.modules} modules in ${facts.packages} packages + ${facts.apps} apps (seed ${seed}), median of ${runs} runs (dependency-cruiser: ${peerRuns}); target ${facts.target}`);
    const node = process.execPath;
    const sg = (...args) => [BIN, '-C', dir, ...args];
    const changedFull = path.join(dir, facts.changed);
    const original = await fsp.readFile(changedFull, 'utf8');
    let flip = 0;
    // One real edit: toggles an extra import in one module, so the answer's input changes.
    const changeOneFile = async () => {
      flip++;
      const spec = path.posix.relative(path.posix.dirname(facts.changed), facts.target).replace(/\.ts$/, '.js');
      const name = path.posix.basename(facts.target, '.ts');
      await fsp.writeFile(changedFull, flip % 2 ? `import { ${name} as edited${flip} } from './${spec}';\nexport { edited${flip} };\n${original}\n// edit ${flip}\n` : `${original}\n// edit ${flip}\n`);
    };

    await measure(node, sg('snapshot', '-m', 'bench'), { cwd: dir, env });
    const repo = JSON.parse((await measure(node, sg('status', '--json'), { cwd: dir, env })).stdout).repo;
    const cacheFile = path.join(repo, 'shadowgit', 'impact-cache.json');
    const codeCache = path.join(repo, 'shadowgit', 'impact-v8cache');

    const results = {};
    results.sgCold = await timed('shadowgit impact (cold)', runs, async () => {
      await fsp.rm(cacheFile, { force: true });
      await fsp.rm(codeCache, { recursive: true, force: true });
    }, node, sg('impact', facts.target, '--json'), { cwd: dir, env });
    const sgAnswer = JSON.parse(results.sgCold.stdout);
    results.sgWarm = await timed('shadowgit impact (warm, 1 file changed)', runs, changeOneFile, node, sg('impact', facts.target, '--json'), { cwd: dir, env });
    results.sgWarmNoChange = await timed('shadowgit impact (warm, nothing changed)', runs, undefined, node, sg('impact', facts.target, '--json'), { cwd: dir, env });

    const madgeArgs = [madge, '--depends', facts.target, '--extensions', 'ts,tsx', '--ts-config', 'tsconfig.json', '--no-spinner', '--no-color', '--json', 'packages', 'apps'];
    results.madgeCold = await timed('madge --depends', runs, undefined, node, madgeArgs, { cwd: dir, env });
    results.madgeWarm = await timed('madge --depends (after 1 change)', runs, changeOneFile, node, madgeArgs, { cwd: dir, env });

    const reaches = `^${facts.target.replace(/[.]/g, '\\.')}$`;
    const dcCache = path.join(base, 'dc-cache');
    const dcArgs = [depcruise, '--no-config', '--ts-config', 'tsconfig.json', '--reaches', reaches, '--output-type', 'json', '--progress', 'none', 'packages', 'apps'];
    const dcCachedArgs = [...dcArgs.slice(0, -2), '--cache', dcCache, '--cache-strategy', 'content', 'packages', 'apps'];
    results.dcCold = await timed('dependency-cruiser --reaches', peerRuns, () => fsp.rm(dcCache, { recursive: true, force: true }), node, dcArgs, { cwd: dir, env });
    await measure(node, dcCachedArgs, { cwd: dir, env });
    results.dcWarm = await timed('dependency-cruiser --reaches --cache (after 1 change)', peerRuns, changeOneFile, node, dcCachedArgs, { cwd: dir, env });
    await fsp.writeFile(changedFull, original);

    const madgeDirect = JSON.parse(results.madgeCold.stdout).length;
    const dcModules = JSON.parse(results.dcCold.stdout).modules.length - 1;
    const ratio = (a, b) => (a / b).toFixed(2);
    const rows = Object.values(results).map((x) => [x.label, `${x.ms.toFixed(0)} ms`, x.rssMiB ? `${x.rssMiB.toFixed(0)} MiB` : 'n/a']);
    const width = Math.max(...rows.map((row) => row[0].length));
    log('');
    for (const row of rows) log(`  ${row[0].padEnd(width)}  ${row[1].padStart(9)}  ${row[2].padStart(8)} peak RSS`);
    log('');
    log(`  answers: shadowgit ${sgAnswer.dependents.length} transitive dependents, ${sgAnswer.tests.length} tests; dependency-cruiser ${dcModules} modules reaching the target; madge ${madgeDirect} direct dependents`);
    log(`  cold: shadowgit/madge ${ratio(results.sgCold.ms, results.madgeCold.ms)}× (target ≤ 0.5), shadowgit/dependency-cruiser ${ratio(results.sgCold.ms, results.dcCold.ms)}×`);
    log(`  warm: shadowgit/madge ${ratio(results.sgWarm.ms, results.madgeWarm.ms)}× (target ≤ 0.15), shadowgit/dependency-cruiser(cached) ${ratio(results.sgWarm.ms, results.dcWarm.ms)}×`);
    const peak = Math.max(results.sgCold.rssMiB ?? 0, results.sgWarm.rssMiB ?? 0);
    log(`  shadowgit peak RSS ${peak ? `${peak.toFixed(0)} MiB` : 'n/a'} (target ≤ 500 MiB)`);
    const summary = {
      modules: facts.modules,
      seed,
      runs,
      peerRuns,
      target: facts.target,
      ms: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v.ms)])),
      rssMiB: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.rssMiB ? Math.round(v.rssMiB) : null])),
      answers: { shadowgitDependents: sgAnswer.dependents.length, shadowgitTests: sgAnswer.tests.length, dependencyCruiserReaching: dcModules, madgeDirect },
      ratios: {
        coldVsMadge: Number(ratio(results.sgCold.ms, results.madgeCold.ms)),
        warmVsMadge: Number(ratio(results.sgWarm.ms, results.madgeWarm.ms)),
        coldVsDependencyCruiser: Number(ratio(results.sgCold.ms, results.dcCold.ms)),
        warmVsDependencyCruiser: Number(ratio(results.sgWarm.ms, results.dcWarm.ms)),
      },
    };
    return summary;
  } finally {
    if (keep) log(`kept ${base}`);
    else {
      execFileSync('chmod', ['-R', 'u+rwX', base]);
      await fsp.rm(base, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const json = args.includes('--json');
  runImpactBench({ modules: opt('modules', 3000), seed: opt('seed', 42), runs: opt('runs', args.includes('--quick') ? 1 : 3), peerRuns: opt('peer-runs', 1), keep: args.includes('--keep'), log: json ? () => undefined : console.log })
    .then((summary) => {
      if (json) console.log(JSON.stringify(summary, null, 2));
    })
    .catch((err) => {
      console.error(err.message);
      process.exitCode = 1;
    });
}
