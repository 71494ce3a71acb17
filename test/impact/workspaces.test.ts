/** The manifest helpers behind workspace resolution: pnpm lists, exports/imports maps, source probing. */
import { describe, expect, test } from '@jest/globals';
import { mapTargets, parsePnpmWorkspace, probeSource, resolvePackageSubpath, splitPackageSpecifier, type FileSet } from '../../src/impact/workspaces.js';

const files = (paths: string[]): FileSet => {
  const set = new Set(paths);
  return { has: (p) => set.has(p), readJson: () => undefined, readText: () => undefined };
};
const conditions = new Set(['types', 'import', 'default']);

describe('parsePnpmWorkspace', () => {
  test('block list, quotes, comments and negations', () => {
    expect(parsePnpmWorkspace("packages:\n  - 'packages/*'\n  # a comment\n  - \"apps/**\"  # trailing\n  - '!**/test/**'\ncatalog:\n  react: ^18\n")).toEqual(['packages/*', 'apps/**', '!**/test/**']);
  });
  test('flow list', () => {
    expect(parsePnpmWorkspace("packages: ['a/*', \"b\"]\n")).toEqual(['a/*', 'b']);
  });
});

describe('mapTargets', () => {
  test('sugar: a string or a condition object stands for "."', () => {
    expect(mapTargets('./index.js', '.', conditions)).toEqual(['./index.js']);
    expect(mapTargets({ types: './a.d.ts', require: './a.cjs', default: './a.js' }, '.', conditions)).toEqual(['./a.d.ts', './a.js']);
    expect(mapTargets('./index.js', './sub', conditions)).toEqual([]);
  });
  test('subpaths, patterns (longest prefix wins), nested conditions and arrays', () => {
    const map = {
      '.': { import: { types: './dist/index.d.ts', default: './dist/index.js' } },
      './utils/*': './dist/utils/*.js',
      './utils/special/*': ['./special/*.js', './fallback/*.js'],
      './internal/*': null,
    };
    expect(mapTargets(map, '.', conditions)).toEqual(['./dist/index.d.ts', './dist/index.js']);
    expect(mapTargets(map, './utils/a/b', conditions)).toEqual(['./dist/utils/a/b.js']);
    expect(mapTargets(map, './utils/special/x', conditions)).toEqual(['./special/x.js', './fallback/x.js']);
    expect(mapTargets(map, './internal/x', conditions)).toEqual([]);
    expect(mapTargets(map, './missing', conditions)).toEqual([]);
  });
  test('#imports maps', () => {
    expect(mapTargets({ '#db': './src/db.ts', '#lib/*': { default: './lib/*.js' } }, '#lib/x', conditions)).toEqual(['./lib/x.js']);
  });
});

describe('probeSource', () => {
  test('unbuilt dist maps to src and .js/.d.ts to .ts, or through the tsconfig outDir → rootDir', () => {
    const fs = files(['pkg/src/index.ts', 'pkg/src/feature.tsx', 'pkg/source/main.mts', 'pkg/lib/real.js']);
    expect(probeSource(fs, 'pkg', './dist/index.js', [])).toBe('pkg/src/index.ts');
    expect(probeSource(fs, 'pkg', './dist/index.d.ts', [])).toBe('pkg/src/index.ts');
    expect(probeSource(fs, 'pkg', './dist/feature.js', [])).toBe('pkg/src/feature.tsx');
    expect(probeSource(fs, 'pkg', './built/main.mjs', [['pkg/built', 'pkg/source']])).toBe('pkg/source/main.mts');
    expect(probeSource(fs, 'pkg', './lib/real.js', [])).toBe('pkg/lib/real.js');
    expect(probeSource(fs, 'pkg', './dist', [])).toBe('pkg/src/index.ts'); // "main": "dist" → dist/index.js
    expect(probeSource(fs, 'pkg', './src', [])).toBe('pkg/src/index.ts');
    expect(probeSource(fs, 'pkg', '../outside.js', [])).toBeUndefined();
  });
});

describe('resolvePackageSubpath', () => {
  const fs = files(['p/src/index.ts', 'p/src/a/b.ts', 'q/index.js']);
  test('exports that hide a subpath leave it unresolved', () => {
    const pkg = { name: 'p', dir: 'p', manifest: { exports: { '.': './dist/index.js' } } };
    expect(resolvePackageSubpath(fs, pkg, '', conditions, [])).toBe('p/src/index.ts');
    expect(resolvePackageSubpath(fs, pkg, 'a/b', conditions, [])).toBeUndefined();
  });
  test('without exports: fields, then the subpath itself, then src/ and index conventions', () => {
    expect(resolvePackageSubpath(fs, { name: 'p', dir: 'p', manifest: {} }, 'a/b', conditions, [])).toBe('p/src/a/b.ts');
    expect(resolvePackageSubpath(fs, { name: 'q', dir: 'q', manifest: { main: 'missing.js' } }, '', conditions, [])).toBe('q/index.js');
  });
  test('package names split at the right slash', () => {
    expect(splitPackageSpecifier('@scope/name/a/b')).toEqual(['@scope/name', 'a/b']);
    expect(splitPackageSpecifier('name/a')).toEqual(['name', 'a']);
    expect(splitPackageSpecifier('name')).toEqual(['name', '']);
  });
});
