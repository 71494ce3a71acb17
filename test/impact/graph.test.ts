/**
 * Impact analysis on fixture projects built here: every edge kind, tsconfig `extends` chains
 * with `paths`/`baseUrl`, npm and pnpm workspaces with and without `exports` (no node_modules),
 * `#imports`, a cycle, a barrel, a JS file requiring a TS file, and a file that does not parse.
 * Each asserts the exact dependents and their chains.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/shadowgit.js';
import { impact, testMatcher, type ImpactResult } from '../../src/impact/index.js';
import { makeSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
const savedHome = process.env.SHADOWGIT_HOME;
afterAll(async () => {
  if (savedHome === undefined) delete process.env.SHADOWGIT_HOME;
  else process.env.SHADOWGIT_HOME = savedHome;
  for (const s of sandboxes) await s.cleanup();
});

async function project(files: Record<string, string>): Promise<ShadowGit> {
  const sb = makeSandbox('sg-impact-');
  sandboxes.push(sb);
  await writeTree(sb.worktree, files);
  process.env.SHADOWGIT_HOME = sb.home;
  return ShadowGit.open({ worktree: sb.worktree });
}

/** path → chain, for exact comparison. */
const chains = (r: ImpactResult) => Object.fromEntries(r.dependents.map((d) => [d.path, d.via.join(' > ')]));

describe('every edge kind', () => {
  let sg: ShadowGit;
  beforeAll(async () => {
    sg = await project({
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', allowJs: true, strict: true } }),
      'src/leaf.ts': 'export const leaf = 1;\nexport interface Leaf { n: number }\n',
      'src/static.ts': "import { leaf } from './leaf';\nexport const s = leaf;\n",
      'src/reexport.ts': "export { leaf } from './leaf.js';\n",
      'src/star.ts': "export * from './leaf';\n",
      'src/dynamic.ts': "export const load = () => import('./leaf');\n",
      'src/legacy.js': "const { leaf } = require('./leaf');\nmodule.exports = { leaf };\n",
      'src/equals.ts': "import leafModule = require('./leaf');\nexport const e = leafModule.leaf;\n",
      'src/type-import.ts': "import type { Leaf } from './leaf';\nexport type T = Leaf;\n",
      'src/type-export.ts': "export type { Leaf } from './leaf';\n",
      'src/type-named.ts': "import { type Leaf } from './leaf';\nexport const x: Leaf = { n: 1 };\n",
      'src/type-query.ts': "export type M = typeof import('./leaf');\n",
      'src/globals.d.ts': 'declare const GLOBAL_FLAG: boolean;\n',
      'src/uses-globals.ts': '/// <reference path="./globals.d.ts" />\nexport const g = GLOBAL_FLAG;\n',
      'src/data.json': '{ "a": 1 }\n',
      'src/api.d.ts': 'export interface Api { call(): void }\n',
      'src/api.js': 'export const api = {};\n',
      'src/uses-api.ts': "import type { Api } from './api';\nimport { api } from './api.js';\nexport const x: Api = api as Api;\n",
      'src/uses-json.ts': "import data from './data.json';\nexport const d = data.a;\n",
      'src/esm.mts': "import { leaf } from './leaf.js';\nexport { leaf };\n",
      'src/barrel/index.ts': "export * from '../leaf';\n",
      'src/via-barrel.ts': "import { leaf } from './barrel';\nexport const b = leaf;\n",
      'src/cycle-a.ts': "import { b } from './cycle-b';\nexport const a = () => b();\n",
      'src/cycle-b.ts': "import { a } from './cycle-a';\nimport { s } from './static';\nexport const b = () => a() + s;\n",
      'src/broken.ts': "import { leaf } from './leaf';\nexport const broken = (leaf +;\n",
      'src/gaps.ts': "import missing from './does-not-exist';\nimport React from 'react';\nimport fs from 'node:fs';\nexport { missing, React, fs };\n",
      'src/alone.ts': 'export const alone = true;\n',
      'test/static.test.ts': "import { s } from '../src/static';\ntest('s', () => expect(s).toBe(1));\n",
      'README.md': '# fixture\n',
    });
  });

  test('dependents of the leaf: exact set, depths and one shortest chain each', async () => {
    const r = await impact(sg, { paths: ['src/leaf.ts'] });
    expect(r.targets).toEqual(['src/leaf.ts']);
    expect(chains(r)).toEqual({
      'src/barrel/index.ts': 'src/barrel/index.ts > src/leaf.ts',
      'src/broken.ts': 'src/broken.ts > src/leaf.ts',
      'src/dynamic.ts': 'src/dynamic.ts > src/leaf.ts',
      'src/equals.ts': 'src/equals.ts > src/leaf.ts',
      'src/esm.mts': 'src/esm.mts > src/leaf.ts',
      'src/legacy.js': 'src/legacy.js > src/leaf.ts',
      'src/reexport.ts': 'src/reexport.ts > src/leaf.ts',
      'src/star.ts': 'src/star.ts > src/leaf.ts',
      'src/static.ts': 'src/static.ts > src/leaf.ts',
      'src/type-export.ts': 'src/type-export.ts > src/leaf.ts',
      'src/type-import.ts': 'src/type-import.ts > src/leaf.ts',
      'src/type-named.ts': 'src/type-named.ts > src/leaf.ts',
      'src/type-query.ts': 'src/type-query.ts > src/leaf.ts',
      'src/cycle-b.ts': 'src/cycle-b.ts > src/static.ts > src/leaf.ts',
      'src/via-barrel.ts': 'src/via-barrel.ts > src/barrel/index.ts > src/leaf.ts',
      'test/static.test.ts': 'test/static.test.ts > src/static.ts > src/leaf.ts',
      'src/cycle-a.ts': 'src/cycle-a.ts > src/cycle-b.ts > src/static.ts > src/leaf.ts',
    });
    expect(r.dependents.map((d) => d.depth)).toEqual([...Array(13).fill(1), 2, 2, 2, 3]);
    expect(r.tests).toEqual(['test/static.test.ts']);
  });

  test('edge kinds are recorded on the subgraph', async () => {
    const r = await impact(sg, { paths: ['src/leaf.ts'] });
    const kind = (from: string) => r.edges.find((e) => e.from === from && e.to === 'src/leaf.ts');
    expect(kind('src/static.ts')).toMatchObject({ kind: 'import', typeOnly: false });
    expect(kind('src/reexport.ts')).toMatchObject({ kind: 'export', typeOnly: false });
    expect(kind('src/star.ts')).toMatchObject({ kind: 'export', typeOnly: false });
    expect(kind('src/dynamic.ts')).toMatchObject({ kind: 'dynamic', typeOnly: false });
    expect(kind('src/legacy.js')).toMatchObject({ kind: 'require', typeOnly: false });
    expect(kind('src/equals.ts')).toMatchObject({ kind: 'import-equals', typeOnly: false });
    expect(kind('src/type-import.ts')).toMatchObject({ kind: 'import', typeOnly: true });
    expect(kind('src/type-export.ts')).toMatchObject({ kind: 'export', typeOnly: true });
    expect(kind('src/type-named.ts')).toMatchObject({ kind: 'import', typeOnly: true });
    expect(kind('src/type-query.ts')).toMatchObject({ kind: 'import-type', typeOnly: true });
    // Both directions of the cycle are in the affected subgraph.
    expect(r.edges.some((e) => e.from === 'src/cycle-a.ts' && e.to === 'src/cycle-b.ts')).toBe(true);
    expect(r.edges.some((e) => e.from === 'src/cycle-b.ts' && e.to === 'src/cycle-a.ts')).toBe(true);
  });

  test('--no-types leaves type-only edges out', async () => {
    const r = await impact(sg, { paths: ['src/leaf.ts'], types: false });
    const paths = r.dependents.map((d) => d.path);
    for (const p of ['src/type-import.ts', 'src/type-export.ts', 'src/type-named.ts', 'src/type-query.ts']) expect(paths).not.toContain(p);
    expect(paths).toContain('src/static.ts');
    expect(r.dependents).toHaveLength(13);
  });

  test('triple-slash path references, .d.ts targets and JSON imports', async () => {
    expect(chains(await impact(sg, { paths: ['src/globals.d.ts'] }))).toEqual({ 'src/uses-globals.ts': 'src/uses-globals.ts > src/globals.d.ts' });
    expect(chains(await impact(sg, { paths: ['src/data.json'] }))).toEqual({ 'src/uses-json.ts': 'src/uses-json.ts > src/data.json' });
    // Beside a .js file, the declaration file is what TypeScript resolves to.
    expect(chains(await impact(sg, { paths: ['src/api.d.ts'] }))).toEqual({ 'src/uses-api.ts': 'src/uses-api.ts > src/api.d.ts' });
  });

  test('a cycle: each member reaches the other once, without looping', async () => {
    const r = await impact(sg, { paths: ['src/cycle-a.ts'] });
    expect(chains(r)).toEqual({ 'src/cycle-b.ts': 'src/cycle-b.ts > src/cycle-a.ts' });
  });

  test('the file that does not parse is reported and its imports still count', async () => {
    const r = await impact(sg, { paths: ['src/leaf.ts'] });
    expect(r.errors.map((e) => e.path)).toEqual(['src/broken.ts']);
    expect(r.errors[0]!.message).toMatch(/^2:\d+ /);
    expect(r.dependents.map((d) => d.path)).toContain('src/broken.ts');
  });

  test('unresolved relative imports are reported; packages and builtins are not', async () => {
    const r = await impact(sg, { paths: ['src/alone.ts'] });
    expect(r.unresolved).toEqual([{ from: 'src/gaps.ts', specifier: './does-not-exist' }]);
  });

  test('a file nothing imports gives an empty answer', async () => {
    const r = await impact(sg, { paths: ['src/alone.ts'] });
    expect(r.dependents).toEqual([]);
    expect(r.tests).toEqual([]);
    expect(r.targets).toEqual(['src/alone.ts']);
  });

  test('--depth stops the walk', async () => {
    const r = await impact(sg, { paths: ['src/leaf.ts'], depth: 1 });
    expect(r.dependents.every((d) => d.depth === 1)).toBe(true);
    expect(r.dependents).toHaveLength(13);
  });

  test('missing paths and non-modules are clear errors', async () => {
    await expect(impact(sg, { paths: ['src/nope.ts'] })).rejects.toThrow(/src\/nope\.ts does not exist/);
    await expect(impact(sg, { paths: ['README.md'] })).rejects.toThrow(/README\.md is not a module/);
  });

  test('a directory stands for the modules in it', async () => {
    const r = await impact(sg, { paths: ['src/barrel'] });
    expect(r.targets).toEqual(['src/barrel/index.ts']);
    expect(chains(r)).toEqual({ 'src/via-barrel.ts': 'src/via-barrel.ts > src/barrel/index.ts' });
  });
});

describe('stylesheets, images and bundler query imports', () => {
  let sg: ShadowGit;
  beforeAll(async () => {
    sg = await project({
      'package.json': JSON.stringify({ name: 'app', private: true, workspaces: ['packages/*'] }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', baseUrl: '.', paths: { '@/*': ['src/*'] } } }),
      'packages/ui/package.json': JSON.stringify({ name: '@acme/ui', exports: { '.': './src/index.ts', './theme.css': './src/theme.css' } }),
      'packages/ui/src/index.ts': 'export const ui = 1;\n',
      'packages/ui/src/theme.css': ':root { --accent: red }\n',
      'index.html': '<script type="module" src="/src/main.ts"></script>\n',
      'README.md': '# fixture\n',
      'packages/tokens/package.json': JSON.stringify({ name: '@acme/tokens', main: 'index.js', style: 'tokens.css' }),
      'packages/tokens/tokens.css': ':root { --gap: 4px }\n',
      'src/style.css': [
        "@import './theme/base.css' layer(base);",
        '@import url("https://fonts.example.com/inter.css");',
        "/* @import './commented-out.css'; */",
        '@import "fonts.css" screen;',
        "@import '@acme/tokens';",
        "@import url(./gone.css);",
        'body { color: red }',
        '',
      ].join('\n'),
      'src/theme/base.css': 'html { margin: 0 }\n',
      'src/fonts.css': '@font-face { font-family: x }\n',
      'src/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
      'src/icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
      'src/notes.txt': 'plain text\n',
      'src/worker.ts': 'self.onmessage = () => undefined;\n',
      'src/main.ts': [
        "import './style.css';",
        "import inlined from './style.css?inline';",
        "import logo from '@/logo.svg';",
        "import MyWorker from './worker?worker';",
        "import workerUrl from './worker?worker&inline';",
        "import notes from './notes.txt?raw';",
        "import '@acme/ui/theme.css?inline';",
        "import missing from './nope.css';",
        "import ghost from './ghost?worker';",
        "import vueSource from 'vue?raw';",
        "const icon = new URL('./icon.svg', import.meta.url);",
        "const fixtures = new URL('./fixtures/', import.meta.url);",
        'export { inlined, logo, MyWorker, workerUrl, notes, missing, ghost, vueSource, icon, fixtures };',
        '',
      ].join('\n'),
      'src/page.ts': "import html from '/index.html?raw';\nexport { html };\n",
      'src/main.test.ts': "import { logo } from './main';\ntest('logo', () => expect(logo).toBeTruthy());\n",
    });
  });

  test('a stylesheet reaches the files that import it, with or without a query, and their tests', async () => {
    const r = await impact(sg, { paths: ['src/style.css'] });
    expect(r.targets).toEqual(['src/style.css']);
    expect(chains(r)).toEqual({ 'src/main.ts': 'src/main.ts > src/style.css', 'src/main.test.ts': 'src/main.test.ts > src/main.ts > src/style.css' });
    expect(r.tests).toEqual(['src/main.test.ts']);
    // The subgraph keeps one edge per pair; that './style.css?inline' resolved too shows in `unresolved` below.
    expect(r.edges.filter((e) => e.to === 'src/style.css')).toEqual([{ from: 'src/main.ts', to: 'src/style.css', kind: 'import', typeOnly: false }]);
  });

  test('a path alias, a ?worker module, a ?raw text file, a package subpath export and new URL(…, import.meta.url)', async () => {
    const r = await impact(sg, { paths: ['src/logo.svg', 'src/worker.ts', 'src/notes.txt', 'packages/ui/src/theme.css', 'src/icon.svg'] });
    expect(r.dependents.map((d) => d.path)).toEqual(['src/main.ts', 'src/main.test.ts']);
    const into = (to: string) => r.edges.filter((e) => e.to === to).map((e) => e.kind);
    expect(into('src/logo.svg')).toEqual(['import']);
    expect(into('src/worker.ts')).toEqual(['import']);
    expect(into('src/notes.txt')).toEqual(['import']);
    expect(into('packages/ui/src/theme.css')).toEqual(['import']);
    expect(into('src/icon.svg')).toEqual(['url']);
  });

  test("a stylesheet's @import: relative, a bare name next to it, a package's style field", async () => {
    const r = await impact(sg, { paths: ['src/theme/base.css', 'src/fonts.css', 'packages/tokens/tokens.css'] });
    expect(chains(r)).toEqual({
      'src/style.css': 'src/style.css > packages/tokens/tokens.css',
      'src/main.ts': 'src/main.ts > src/style.css > packages/tokens/tokens.css',
      'src/main.test.ts': 'src/main.test.ts > src/main.ts > src/style.css > packages/tokens/tokens.css',
    });
    expect(r.edges.filter((e) => e.from === 'src/style.css').map((e) => [e.to, e.kind])).toEqual([
      ['src/theme/base.css', 'css-import'],
      ['src/fonts.css', 'css-import'],
      ['packages/tokens/tokens.css', 'css-import'],
    ]);
  });

  test('/x reads from the project root above the importer', async () => {
    expect(chains(await impact(sg, { paths: ['index.html'] }))).toEqual({ 'src/page.ts': 'src/page.ts > index.html' });
  });

  test('only files that do not exist are unresolved: not packages with a query, not URLs', async () => {
    const r = await impact(sg, { paths: ['src/style.css'] });
    expect(r.unresolved).toEqual([
      { from: 'src/main.ts', specifier: './nope.css' },
      { from: 'src/main.ts', specifier: './ghost?worker' },
      { from: 'src/style.css', specifier: './gone.css' },
    ]);
  });

  test('a file of a kind no import names is not in the graph; a symbolic link is named as one', async () => {
    await expect(impact(sg, { paths: ['README.md'] })).rejects.toThrow(/README\.md is not a module, and no import names a \.md file/);
    await fsp.symlink('style.css', path.join(sg.worktree, 'src/linked.css'));
    await expect(impact(sg, { paths: ['src/linked.css'] })).rejects.toThrow(/src\/linked\.css is a symbolic link, and impact does not follow links/);
  });
});

describe('tsconfig: extends chain, paths, baseUrl, allowJs', () => {
  test('aliases declared two configs up resolve', async () => {
    const sg = await project({
      'tsconfig.base.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@lib/*': ['lib/*'], '~util': ['lib/util.ts'] }, moduleResolution: 'Bundler', module: 'ESNext' } }),
      'configs/tsconfig.mid.json': JSON.stringify({ extends: '../tsconfig.base.json', compilerOptions: { allowJs: true } }),
      'tsconfig.json': JSON.stringify({ extends: './configs/tsconfig.mid.json', include: ['app', 'lib'] }),
      'lib/util.ts': 'export const util = 1;\n',
      'lib/old.js': 'exports.old = 1;\n',
      'app/alias.ts': "import { util } from '@lib/util';\nexport const a = util;\n",
      'app/exact.ts': "import { util } from '~util';\nexport const e = util;\n",
      'app/base-url.ts': "import { util } from 'lib/util';\nexport const b = util;\n",
      'app/js.ts': "import { old } from '@lib/old';\nexport const j = old;\n",
      'app/broken-alias.ts': "import { nothing } from '@lib/nothing';\nexport const n = nothing;\n",
    });
    expect(chains(await impact(sg, { paths: ['lib/util.ts'] }))).toEqual({
      'app/alias.ts': 'app/alias.ts > lib/util.ts',
      'app/base-url.ts': 'app/base-url.ts > lib/util.ts',
      'app/exact.ts': 'app/exact.ts > lib/util.ts',
    });
    const old = await impact(sg, { paths: ['lib/old.js'] });
    expect(chains(old)).toEqual({ 'app/js.ts': 'app/js.ts > lib/old.js' });
    expect(old.unresolved).toEqual([{ from: 'app/broken-alias.ts', specifier: '@lib/nothing' }]);
  });

  test('a nested tsconfig applies to its own directory only', async () => {
    const sg = await project({
      'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@x/*': ['one/*'] } } }),
      'one/thing.ts': 'export const one = 1;\n',
      'two/thing.ts': 'export const two = 2;\n',
      'nested/tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '..', paths: { '@x/*': ['two/*'] } } }),
      'nested/user.ts': "import { two } from '@x/thing';\nexport const u = two;\n",
      'top.ts': "import { one } from '@x/thing';\nexport const t = one;\n",
    });
    expect(chains(await impact(sg, { paths: ['two/thing.ts'] }))).toEqual({ 'nested/user.ts': 'nested/user.ts > two/thing.ts' });
    expect(chains(await impact(sg, { paths: ['one/thing.ts'] }))).toEqual({ 'top.ts': 'top.ts > one/thing.ts' });
  });
});

const workspaceFiles = (manager: 'npm' | 'pnpm'): Record<string, string> => ({
  ...(manager === 'npm' ? { 'package.json': JSON.stringify({ name: 'root', private: true, workspaces: ['packages/*', '!packages/ignored'] }) } : { 'package.json': JSON.stringify({ name: 'root', private: true }), 'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n  # comment\n  - '!packages/ignored'\n" }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  // With exports pointing at an unbuilt dist, a subpath export and #imports.
  'packages/core/package.json': JSON.stringify({
    name: '@acme/core',
    type: 'module',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './feature': './dist/feature.js', './package.json': './package.json' },
    imports: { '#internal/*': './src/internal/*.ts' },
  }),
  'packages/core/tsconfig.json': JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { outDir: 'dist', rootDir: 'src' } }),
  'packages/core/src/index.ts': "export * from './leaf.js';\n",
  'packages/core/src/leaf.ts': "import { helper } from '#internal/helper';\nexport const leaf = helper();\n",
  'packages/core/src/internal/helper.ts': 'export const helper = () => 1;\n',
  'packages/core/src/feature.ts': "import { leaf } from './leaf.js';\nexport const feature = leaf;\n",
  // Without exports: main into lib/, no build present.
  'packages/util/package.json': JSON.stringify({ name: '@acme/util', main: 'lib/index.js', types: 'lib/index.d.ts' }),
  'packages/util/src/index.ts': "import { leaf } from '@acme/core';\nexport const util = leaf;\n",
  // Without exports or main: src/index.* by convention.
  'packages/bare/package.json': JSON.stringify({ name: 'bare' }),
  'packages/bare/src/index.ts': "import { feature } from '@acme/core/feature';\nexport const bare = feature;\n",
  'packages/app/package.json': JSON.stringify({ name: '@acme/app', dependencies: { '@acme/util': 'workspace:*', bare: 'workspace:*' } }),
  'packages/app/src/main.ts': "import { util } from '@acme/util';\nimport { bare } from 'bare';\nimport { something } from '@acme/ghost';\nexport const main = [util, bare, something];\n",
  'packages/app/src/main.test.ts': "import { main } from './main.js';\ntest('main', () => expect(main).toBeTruthy());\n",
  'packages/ignored/package.json': JSON.stringify({ name: '@acme/ghost' }),
  'packages/ignored/src/index.ts': 'export const something = 1;\n',
});

describe.each(['npm', 'pnpm'] as const)('%s workspaces, no node_modules', (manager) => {
  test('workspace packages resolve to their source through exports, main, or src/index', async () => {
    const sg = await project(workspaceFiles(manager));
    const r = await impact(sg, { paths: ['packages/core/src/internal/helper.ts'] });
    expect(chains(r)).toEqual({
      'packages/core/src/leaf.ts': 'packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/core/src/feature.ts': 'packages/core/src/feature.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/core/src/index.ts': 'packages/core/src/index.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/bare/src/index.ts': 'packages/bare/src/index.ts > packages/core/src/feature.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/util/src/index.ts': 'packages/util/src/index.ts > packages/core/src/index.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/app/src/main.ts': 'packages/app/src/main.ts > packages/bare/src/index.ts > packages/core/src/feature.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
      'packages/app/src/main.test.ts':
        'packages/app/src/main.test.ts > packages/app/src/main.ts > packages/bare/src/index.ts > packages/core/src/feature.ts > packages/core/src/leaf.ts > packages/core/src/internal/helper.ts',
    });
    expect(r.tests).toEqual(['packages/app/src/main.test.ts']);
    // A package outside the workspace globs is an external package, not an edge.
    expect(r.unresolved).toEqual([]);
  });
});

describe('test globs', () => {
  test('defaults and .shadowgit overrides', async () => {
    const isTest = testMatcher(undefined);
    for (const p of ['src/a.test.ts', 'src/a.spec.tsx', 'src/__tests__/a.ts', 'test/a.ts', 'packages/x/tests/a.js']) expect(isTest(p)).toBe(true);
    for (const p of ['src/a.ts', 'src/testing.ts', 'src/contest/a.ts']) expect(isTest(p)).toBe(false);
    const custom = testMatcher(['*.e2e.ts', 'qa/**']);
    expect(custom('src/a.e2e.ts')).toBe(true);
    expect(custom('qa/x.ts')).toBe(true);
    expect(custom('src/a.test.ts')).toBe(false);

    const sg = await project({
      '.shadowgit': JSON.stringify({ tests: ['*.check.ts'] }),
      'src/a.ts': 'export const a = 1;\n',
      'src/a.check.ts': "import { a } from './a';\n",
      'src/a.test.ts': "import { a } from './a';\n",
    });
    expect((await impact(sg, { paths: ['src/a.ts'] })).tests).toEqual(['src/a.check.ts']);
  });
});
