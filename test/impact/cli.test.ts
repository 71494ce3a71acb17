/**
 * `shadowgit impact` and `shadowgit precheck` through the real CLI: output formats, errors,
 * --since, the pre-change snapshot, the cache (counting parses), and that the snapshot path
 * never loads the compiler.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { promises as fsp, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeSandbox, repoOf, runCli, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = makeSandbox('sg-impact-cli-');
  await writeTree(sb.worktree, {
    // Marks the working tree root, so commands run from src/ find it.
    '.shadowgit': '{}\n',
    'package.json': JSON.stringify({ name: 'fixture', private: true, type: 'module' }),
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', baseUrl: '.', paths: { '@/*': ['src/*'] } } }),
    'src/leaf.ts': 'export const leaf = 1;\n',
    'src/mid.ts': "import { leaf } from './leaf.js';\nexport const mid = leaf + 1;\n",
    'src/top.ts': "import { mid } from '@/mid';\nexport const top = mid + 1;\n",
    'src/other.ts': 'export const other = 0;\n',
    'src/top.test.ts': "import { top } from './top.js';\ntest('top', () => expect(top).toBe(3));\n",
    'notes.txt': 'not a module\n',
  });
});
afterEach(async () => {
  await sb.cleanup();
});

interface Json {
  targets: string[];
  dependents: Array<{ path: string; depth: number; via: string[] }>;
  tests: string[];
  unresolved: Array<{ from: string; specifier: string }>;
  stats: { files: number; parsed: number; reused: number; resolved: number; typescript: { loaded: boolean } };
}

describe('shadowgit impact', () => {
  test('--json has the documented shape, paths relative and posix', () => {
    const r = runJson<Json>(sb, ['impact', 'src/leaf.ts']);
    expect(r.targets).toEqual(['src/leaf.ts']);
    expect(r.dependents).toEqual([
      { path: 'src/mid.ts', depth: 1, via: ['src/mid.ts', 'src/leaf.ts'] },
      { path: 'src/top.ts', depth: 2, via: ['src/top.ts', 'src/mid.ts', 'src/leaf.ts'] },
      { path: 'src/top.test.ts', depth: 3, via: ['src/top.test.ts', 'src/top.ts', 'src/mid.ts', 'src/leaf.ts'] },
    ]);
    expect(r.tests).toEqual(['src/top.test.ts']);
    expect(r.unresolved).toEqual([]);
  });

  test('paths are taken relative to the current directory', () => {
    const r = runJson<Json>(sb, ['impact', 'leaf.ts'], { cwd: path.join(sb.worktree, 'src') });
    expect(r.targets).toEqual(['src/leaf.ts']);
    expect(r.dependents).toHaveLength(3);
  });

  test('text output: changed files, dependents by depth with chains, tests, counts', () => {
    const r = runCli(sb, ['impact', 'src/leaf.ts']);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('Changed (1):\n  src/leaf.ts');
    expect(out).toContain('depth 1 (1 direct)\n    src/mid.ts → src/leaf.ts');
    expect(out).toContain('depth 2 (1)\n    src/top.ts → src/mid.ts → src/leaf.ts');
    expect(out).toContain('Tests (1):\n  src/top.test.ts');
    expect(out).toMatch(/3 dependents \(1 direct\), 1 test; 7 files in the graph/);
    expect(out.indexOf('Changed')).toBeLessThan(out.indexOf('Dependents'));
    expect(out.indexOf('Dependents')).toBeLessThan(out.indexOf('Tests'));
  });

  test('a file nothing imports: empty result, exit 0', () => {
    const r = runCli(sb, ['impact', 'src/other.ts']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No dependents');
    expect(runJson<Json>(sb, ['impact', 'src/other.ts']).dependents).toEqual([]);
  });

  test('missing path, non-module and no path are clear errors', () => {
    const missing = runCli(sb, ['impact', 'src/nope.ts']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('src/nope.ts does not exist');
    const text = runCli(sb, ['impact', 'notes.txt']);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('notes.txt is not a module');
    const none = runCli(sb, ['impact']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name the files');
  });

  test('--format dot and mermaid print the affected subgraph', () => {
    const dot = runCli(sb, ['impact', 'src/mid.ts', '--format', 'dot']).stdout;
    expect(dot).toMatch(/^digraph impact \{/);
    expect(dot).toContain('"src/top.ts" -> "src/mid.ts";');
    expect(dot).toContain('"src/top.test.ts" -> "src/top.ts";');
    expect(dot).not.toContain('leaf');
    const mermaid = runCli(sb, ['impact', 'src/mid.ts', '--format', 'mermaid']).stdout;
    expect(mermaid).toMatch(/^flowchart LR\n/);
    expect(mermaid).toContain('n0["src/mid.ts"]:::target');
    expect(mermaid).toContain('n1 --> n0');
  });

  test('--tests-only prints test paths, one per line', () => {
    expect(runCli(sb, ['impact', 'src/leaf.ts', '--tests-only']).stdout).toBe('src/top.test.ts\n');
  });

  test('--since REV: every module changed since a snapshot', async () => {
    runJson(sb, ['snapshot', '-m', 'base']);
    await fsp.appendFile(path.join(sb.worktree, 'src/mid.ts'), '// edited\n');
    await fsp.writeFile(path.join(sb.worktree, 'notes.txt'), 'changed, but not a module\n');
    const r = runJson<Json>(sb, ['impact', '--since', 'latest']);
    expect(r.targets).toEqual(['src/mid.ts']);
    expect(r.dependents.map((d) => d.path)).toEqual(['src/top.ts', 'src/top.test.ts']);
  });

  test('cache: after changing one import only that file is parsed again, and the answer changes', async () => {
    const first = runJson<Json>(sb, ['impact', 'src/other.ts']);
    expect(first.stats.parsed).toBe(5);
    expect(first.dependents).toEqual([]);
    const again = runJson<Json>(sb, ['impact', 'src/other.ts']);
    expect(again.stats).toMatchObject({ parsed: 0, reused: 5, resolved: 0, typescript: { loaded: false } });

    writeFileSync(path.join(sb.worktree, 'src/top.ts'), "import { mid } from '@/mid';\nimport { other } from './other.js';\nexport const top = mid + other;\n");
    const changed = runJson<Json>(sb, ['impact', 'src/other.ts']);
    expect(changed.stats).toMatchObject({ parsed: 1, reused: 4 });
    expect(changed.dependents).toEqual([
      { path: 'src/top.ts', depth: 1, via: ['src/top.ts', 'src/other.ts'] },
      { path: 'src/top.test.ts', depth: 2, via: ['src/top.test.ts', 'src/top.ts', 'src/other.ts'] },
    ]);
  });

  test('cache: a tsconfig change re-resolves without re-parsing', async () => {
    runJson<Json>(sb, ['impact', 'src/mid.ts']);
    await writeTree(sb.worktree, {
      'lib/mid.ts': 'export const mid = 10;\n',
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', baseUrl: '.', paths: { '@/*': ['lib/*'] } } }),
    });
    const r = runJson<Json>(sb, ['impact', 'lib/mid.ts']);
    expect(r.stats.parsed).toBe(1); // only the new file
    expect(r.stats.resolved).toBeGreaterThan(0);
    expect(r.dependents.map((d) => d.path)).toEqual(['src/top.ts', 'src/top.test.ts']);
    expect(runJson<Json>(sb, ['impact', 'src/mid.ts']).dependents).toEqual([]);
  });

  test('syntax errors and bad tsconfig files are listed as problems; the graph still builds', async () => {
    await writeTree(sb.worktree, {
      'src/bad.ts': "import { leaf } from './leaf.js';\nexport const = ;\n",
      'sub/tsconfig.json': '{ "compilerOptions": { "baseUrl": 5 } }',
      'sub/user.ts': "import { leaf } from '../src/leaf.js';\nexport const u = leaf;\n",
    });
    const json = runJson<Json & { errors: Array<{ path: string; message: string }> }>(sb, ['impact', 'src/leaf.ts']);
    expect(json.dependents.map((d) => d.path)).toEqual(['src/bad.ts', 'src/mid.ts', 'sub/user.ts', 'src/top.ts', 'src/top.test.ts']);
    expect(json.errors.map((e) => e.path)).toEqual(['src/bad.ts', 'sub/tsconfig.json']);
    expect(json.errors[0]!.message).toMatch(/^2:\d+ \S/);
    expect(json.errors[1]!.message).toContain('baseUrl');
    const text = runCli(sb, ['impact', 'src/leaf.ts']).stdout;
    expect(text).toMatch(/Problems \(2\)[^\n]*\n  src\/bad\.ts:2:\d+ [^\n]+\n  sub\/tsconfig\.json: [^\n]*baseUrl/);
    // Warm: the same problems come from the cache.
    const again = runJson<Json & { errors: Array<{ path: string }> }>(sb, ['impact', 'src/leaf.ts']);
    expect(again.stats.parsed).toBe(0);
    expect(again.errors.map((e) => e.path)).toEqual(['src/bad.ts', 'sub/tsconfig.json']);
  });

  test('assets: a stylesheet reaches its importers and tests; the cache follows one appearing and disappearing, not a README', async () => {
    await writeTree(sb.worktree, {
      'src/mid.ts': "import { leaf } from './leaf.js';\nimport theme from './theme.css?inline';\nimport icon from '@/icon.svg';\nexport const mid = leaf + 1;\nexport { theme, icon };\n",
      'src/icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
      'src/tokens.css': ':root { --gap: 4px }\n',
    });
    const before = runJson<Json>(sb, ['impact', 'src/icon.svg']);
    expect(before.dependents.map((d) => d.path)).toEqual(['src/mid.ts', 'src/top.ts', 'src/top.test.ts']);
    expect(before.unresolved).toEqual([{ from: 'src/mid.ts', specifier: './theme.css?inline' }]);

    // A file of a kind no import names leaves the resolutions cached.
    await fsp.writeFile(path.join(sb.worktree, 'CHANGELOG.md'), '# changes\n');
    expect(runJson<Json>(sb, ['impact', 'src/icon.svg']).stats).toMatchObject({ parsed: 0, resolved: 0 });

    // The stylesheet appears: the import that led nowhere is now an edge.
    await fsp.writeFile(path.join(sb.worktree, 'src/theme.css'), "@import './tokens.css';\n:root { --accent: red }\n");
    const text = runCli(sb, ['impact', 'src/theme.css']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Changed (1):\n  src/theme.css');
    expect(text.stdout).toContain('depth 1 (1 direct)\n    src/mid.ts → src/theme.css');
    expect(text.stdout).toContain('Tests (1):\n  src/top.test.ts');
    expect(text.stdout).not.toContain('Unresolved');
    expect(runJson<Json>(sb, ['impact', 'src/tokens.css']).dependents.map((d) => d.via.join(' > '))).toEqual([
      'src/theme.css > src/tokens.css',
      'src/mid.ts > src/theme.css > src/tokens.css',
      'src/top.ts > src/mid.ts > src/theme.css > src/tokens.css',
      'src/top.test.ts > src/top.ts > src/mid.ts > src/theme.css > src/tokens.css',
    ]);

    // It disappears again, and the icon changes: --since lists both.
    runJson(sb, ['snapshot', '-m', 'with theme']);
    await fsp.rm(path.join(sb.worktree, 'src/theme.css'));
    await fsp.writeFile(path.join(sb.worktree, 'src/icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="2"/>\n');
    const since = runJson<Json & { deleted: string[] }>(sb, ['impact', '--since', 'latest']);
    expect(since.targets).toEqual(['src/icon.svg']);
    expect(since.deleted).toEqual(['src/theme.css']);
    expect(since.unresolved).toEqual([{ from: 'src/mid.ts', specifier: './theme.css?inline' }]);
    expect(since.dependents.map((d) => d.path)).toEqual(['src/mid.ts', 'src/top.ts', 'src/top.test.ts']);

    // A cache written before assets were followed (format 4) holds "unresolved" for them: it is not trusted.
    const cacheFile = path.join(repoOf(sb), 'shadowgit', 'impact-cache.json');
    const cache = JSON.parse(await fsp.readFile(cacheFile, 'utf8')) as { format: number; extractor: string };
    await fsp.writeFile(cacheFile, JSON.stringify({ ...cache, format: 4, extractor: cache.extractor.replace(/^\d+\//, '4/') }));
    const rebuilt = runJson<Json>(sb, ['impact', 'src/icon.svg']);
    expect(rebuilt.stats.parsed).toBe(6); // the five modules and src/tokens.css
    expect(rebuilt.dependents.map((d) => d.path)).toEqual(['src/mid.ts', 'src/top.ts', 'src/top.test.ts']);
  });

  test('a damaged cache is rebuilt, not trusted', async () => {
    runJson<Json>(sb, ['impact', 'src/leaf.ts']);
    await fsp.writeFile(path.join(repoOf(sb), 'shadowgit', 'impact-cache.json'), '{"format": 3, "files": ');
    const r = runJson<Json>(sb, ['impact', 'src/leaf.ts']);
    expect(r.stats.parsed).toBe(5);
    expect(r.dependents).toHaveLength(3);
  });

  test('--no-types drops type-only importers', async () => {
    await writeTree(sb.worktree, { 'src/shape.ts': "import type { leaf } from './leaf.js';\nexport type Shape = typeof leaf;\n" });
    expect(runJson<Json>(sb, ['impact', 'src/leaf.ts']).dependents.map((d) => d.path)).toContain('src/shape.ts');
    expect(runJson<Json>(sb, ['impact', 'src/leaf.ts', '--no-types']).dependents.map((d) => d.path)).not.toContain('src/shape.ts');
  });

  test('the snapshot path never loads the compiler', async () => {
    const hook = path.join(sb.dir, 'hook.cjs');
    await fsp.writeFile(
      hook,
      `const fs = require('fs'); const Module = require('module'); let seen = false;
const read = fs.readFileSync; fs.readFileSync = function (p, ...rest) { if (String(p).endsWith('typescript.js')) seen = true; return read.call(this, p, ...rest); };
const load = Module._load; Module._load = function (request, ...rest) { if (/ts-morph|typescript/.test(request)) seen = true; return load.call(this, request, ...rest); };
process.on('exit', () => process.stderr.write(seen ? 'COMPILER LOADED\\n' : 'compiler not loaded\\n'));`,
    );
    const env = { NODE_OPTIONS: `--require ${hook}` };
    const snap = runCli(sb, ['snapshot', '-m', 'x'], { env });
    expect(snap.code).toBe(0);
    expect(snap.stderr).toContain('compiler not loaded');
    expect(runCli(sb, ['status'], { env }).stderr).toContain('compiler not loaded');
    expect(runCli(sb, ['impact', 'src/leaf.ts'], { env }).stderr).toContain('COMPILER LOADED');
  });
});

describe('shadowgit precheck', () => {
  test('records a pre-change snapshot, then impact, tests and changes since approval', async () => {
    const first = runJson<{ snapshot: { id: string; trigger: string; created: boolean }; impact: Json; approved: unknown }>(sb, ['precheck', 'src/leaf.ts']);
    expect(first.snapshot).toMatchObject({ trigger: 'pre-change', created: true });
    expect(first.impact.dependents.map((d) => d.path)).toEqual(['src/mid.ts', 'src/top.ts', 'src/top.test.ts']);
    expect(first.impact.tests).toEqual(['src/top.test.ts']);
    expect(first.approved).toBeNull();
    const list = runJson<Array<{ id: string; trigger: string }>>(sb, ['list']);
    expect(list[0]).toMatchObject({ id: first.snapshot.id, trigger: 'pre-change' });

    runJson(sb, ['approve', 'Known Good']);
    await fsp.appendFile(path.join(sb.worktree, 'src/other.ts'), '// edit\n');
    const second = runJson<{ approved: { name: string; changes: Array<{ path: string; status: string }> } }>(sb, ['precheck', 'src/mid.ts']);
    expect(second.approved).toMatchObject({ name: 'Known Good', changes: [{ path: 'src/other.ts', status: 'modified' }] });

    const text = runCli(sb, ['precheck', 'src/mid.ts']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Pre-change checklist for src/mid.ts');
    expect(text.stdout).toMatch(/Snapshot \w+ \([0-9a-f]{10}\) (recorded|already matches the tree)/);
    expect(text.stdout).toContain('1 file changed since the approved revision "Known Good"');
    expect(text.stdout).toContain('src/top.ts → src/mid.ts');
    expect(text.stdout).toContain('Tests (1):');
  });

  test('a missing path fails before any snapshot is recorded', () => {
    const r = runCli(sb, ['precheck', 'src/missing.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('src/missing.ts does not exist');
    expect(runJson<unknown[]>(sb, ['list'])).toEqual([]);
  });
});
