import { createRequire } from 'node:module';
import path from 'node:path';
import { SOURCE_EXTENSIONS } from './extract.js';

const require = createRequire(import.meta.url);

/** The working tree's files as the graph sees them: tracked posix paths and their directories. */
export interface FileSet {
  has(rel: string): boolean;
  readJson(rel: string): Record<string, unknown> | undefined;
  readText(rel: string): string | undefined;
}

export interface WorkspacePackage {
  name: string;
  /** Directory relative to the working tree ('' for the root package). */
  dir: string;
  manifest: Record<string, unknown>;
}

/** The `packages:` list of a pnpm-workspace.yaml (the only part that matters here). */
export function parsePnpmWorkspace(text: string): string[] {
  const out: string[] = [];
  let inPackages = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '');
    if (/^\S/.test(line)) {
      inPackages = /^packages\s*:/.test(line);
      const inline = /^packages\s*:\s*\[(.*)\]\s*$/.exec(line);
      if (inline) for (const item of inline[1]!.split(',')) out.push(unquote(item.trim()));
      continue;
    }
    const item = /^\s+-\s*(.+?)\s*$/.exec(line);
    if (inPackages && item) out.push(unquote(item[1]!));
  }
  return out.filter(Boolean);
}

function unquote(s: string): string {
  return s.replace(/^(['"])(.*)\1$/, '$2');
}

/**
 * Workspace packages by name, from the root package.json `workspaces` (npm, yarn; array or
 * `{ packages }`), pnpm-workspace.yaml and lerna.json `packages`: every tracked package.json
 * whose directory matches those globs. Nothing in node_modules is consulted.
 */
export function discoverWorkspaces(files: FileSet, manifests: string[]): Map<string, WorkspacePackage> {
  const patterns: string[] = [];
  const root = files.readJson('package.json');
  const ws = root?.workspaces;
  if (Array.isArray(ws)) patterns.push(...ws.filter((x): x is string => typeof x === 'string'));
  else if (ws && typeof ws === 'object' && Array.isArray((ws as { packages?: unknown }).packages)) patterns.push(...((ws as { packages: unknown[] }).packages.filter((x) => typeof x === 'string') as string[]));
  const pnpm = files.has('pnpm-workspace.yaml') ? files.readText('pnpm-workspace.yaml') : undefined;
  if (pnpm !== undefined) patterns.push(...parsePnpmWorkspace(pnpm));
  const lerna = files.has('lerna.json') ? files.readJson('lerna.json') : undefined;
  if (Array.isArray(lerna?.packages)) patterns.push(...(lerna.packages as unknown[]).filter((x): x is string => typeof x === 'string'));

  const found = new Map<string, WorkspacePackage>();
  if (typeof root?.name === 'string') found.set(root.name, { name: root.name, dir: '', manifest: root });
  if (patterns.length === 0) return found;
  const picomatch = require('picomatch') as typeof import('picomatch');
  const clean = (p: string) => p.replace(/^\.\//, '').replace(/\/+$/, '');
  const positive = patterns.filter((p) => !p.startsWith('!')).map(clean);
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => clean(p.slice(1)));
  const include = picomatch(positive, { dot: false });
  const exclude = negative.length ? picomatch(negative) : () => false;
  for (const manifest of manifests) {
    if (manifest === 'package.json') continue;
    const dir = manifest.slice(0, -'/package.json'.length);
    if (!include(dir) || exclude(dir)) continue;
    const json = files.readJson(manifest);
    if (json && typeof json.name === 'string' && !found.has(json.name)) found.set(json.name, { name: json.name, dir, manifest: json });
  }
  return found;
}

/** `@scope/name/sub/path` → [`@scope/name`, `sub/path`]. */
export function splitPackageSpecifier(spec: string): [string, string] {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  return [parts.slice(0, n).join('/'), parts.slice(n).join('/')];
}

type Conditions = ReadonlySet<string>;

/**
 * The targets an `exports` or `imports` map gives for `subpath` (`.`, `./x`, `#x`), in
 * preference order: every condition branch whose key is active is kept (not only the first),
 * so a `types` entry pointing at unbuilt `dist/*.d.ts` can fall through to a later one.
 */
export function mapTargets(map: unknown, subpath: string, conditions: Conditions): string[] {
  if (map === null || map === undefined) return [];
  let entry: unknown;
  let star: string | undefined;
  const isSubpathMap = typeof map === 'object' && !Array.isArray(map) && Object.keys(map as object).some((k) => k.startsWith('.') || k.startsWith('#'));
  if (!isSubpathMap) {
    if (subpath !== '.') return [];
    entry = map;
  } else {
    const record = map as Record<string, unknown>;
    if (subpath in record && !subpath.includes('*')) entry = record[subpath];
    else {
      let best = '';
      for (const key of Object.keys(record)) {
        const at = key.indexOf('*');
        if (at < 0) continue;
        const prefix = key.slice(0, at);
        const suffix = key.slice(at + 1);
        if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1 && prefix.length > best.length) {
          best = prefix;
          entry = record[key];
          star = subpath.slice(prefix.length, subpath.length - suffix.length);
        }
      }
      // Legacy folder mappings ("./": "./src/").
      if (entry === undefined) {
        for (const key of Object.keys(record)) {
          if (key.endsWith('/') && subpath.startsWith(key) && key.length > best.length) {
            best = key;
            entry = typeof record[key] === 'string' ? `${record[key]}${subpath.slice(key.length)}` : undefined;
          }
        }
      }
    }
  }
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(star !== undefined ? value.split('*').join(star) : value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) if (conditions.has(key)) walk(inner);
    }
  };
  walk(entry);
  return out;
}

const BUILD_DIRS = ['dist', 'lib', 'build', 'out', 'esm', 'cjs', 'types', 'dts'];
const JS_TO_TS: Record<string, string[]> = {
  '.js': ['.ts', '.tsx', '.js', '.jsx', '.d.ts'],
  '.jsx': ['.tsx', '.jsx'],
  '.mjs': ['.mts', '.mjs', '.d.mts'],
  '.cjs': ['.cts', '.cjs', '.d.cts'],
};
const INDEX_EXTENSIONS = [...SOURCE_EXTENSIONS, '.d.ts', '.json'];

/**
 * Finds the tracked source file for a path a manifest names (`outToRoot`: worktree-relative
 * [outDir, rootDir] pairs of the package's tsconfig): the path itself, its .ts twin
 * for a .js name, `x.*` or `x/index.*` for an extension-less one, and — when it points into a
 * build directory that is not there (dist, lib, build, out, or the package's tsconfig outDir)
 * — the same path under the source directory (src, or tsconfig rootDir).
 */
export function probeSource(files: FileSet, pkgDir: string, target: string, outToRoot: Array<[string, string]>): string | undefined {
  const rel = path.posix.normalize(path.posix.join(pkgDir, target));
  if (rel.startsWith('..')) return undefined;
  const candidates = [rel];
  const within = pkgDir ? rel.slice(pkgDir.length + 1) : rel;
  for (const [out, root] of outToRoot) {
    if (rel === out || rel.startsWith(`${out}/`)) candidates.push(path.posix.join(root, rel.slice(out.length)));
  }
  const first = within.split('/')[0]!;
  if (BUILD_DIRS.includes(first)) {
    const rest = within.slice(first.length + 1);
    candidates.push(path.posix.join(pkgDir, 'src', rest), path.posix.join(pkgDir, rest));
  }
  for (const c of candidates) {
    const found = probeFile(files, c);
    if (found) return found;
  }
  return undefined;
}

function probeFile(files: FileSet, rel: string): string | undefined {
  const clean = rel.replace(/\/+$/, '');
  if (files.has(clean) && !clean.endsWith('/')) return clean;
  const dts = /\.d\.(m|c)?ts$/.exec(clean);
  if (dts) {
    const stem = clean.slice(0, -dts[0].length);
    for (const ext of dts[1] === 'm' ? ['.mts', '.mjs'] : dts[1] === 'c' ? ['.cts', '.cjs'] : ['.ts', '.tsx', '.js', '.jsx']) if (files.has(stem + ext)) return stem + ext;
    return undefined;
  }
  const ext = path.posix.extname(clean);
  if (JS_TO_TS[ext]) {
    const stem = clean.slice(0, -ext.length);
    for (const e of JS_TO_TS[ext]!) if (files.has(stem + e)) return stem + e;
  }
  for (const e of INDEX_EXTENSIONS) if (files.has(clean + e)) return clean + e;
  for (const e of INDEX_EXTENSIONS) if (files.has(`${clean}/index${e}`)) return `${clean}/index${e}`;
  return undefined;
}

/**
 * Resolves `subpath` of a workspace package to a source file, without node_modules: through
 * `exports` when the manifest has it, else `source`/`types`/`typings`/`module`/`main` (after
 * `style` for a stylesheet's @import, which resolves with the `style` condition), then
 * `src/index.*` and `index.*`. Returns undefined when nothing fits.
 */
export function resolvePackageSubpath(files: FileSet, pkg: WorkspacePackage, sub: string, conditions: Conditions, outToRoot: Array<[string, string]>): string | undefined {
  const m = pkg.manifest;
  const subpath = sub ? `./${sub}` : '.';
  const targets: string[] = [];
  if (m.exports !== undefined && m.exports !== null) targets.push(...mapTargets(m.exports, subpath, conditions));
  else if (!sub) {
    const fields = conditions.has('style') ? ['style', 'source', 'types', 'typings', 'module', 'main'] : ['source', 'types', 'typings', 'module', 'main'];
    for (const field of fields) if (typeof m[field] === 'string') targets.push(m[field] as string);
  } else targets.push(sub);
  for (const t of targets) {
    const found = probeSource(files, pkg.dir, t, outToRoot);
    if (found) return found;
  }
  if (m.exports !== undefined && targets.length > 0) {
    // The exports map names this subpath but no source for it exists: fall back to convention.
  } else if (m.exports !== undefined && targets.length === 0) return undefined;
  const fallbacks = sub ? [`src/${sub}`, sub] : ['src/index', 'index'];
  for (const f of fallbacks) {
    const found = probeSource(files, pkg.dir, f, outToRoot);
    if (found) return found;
  }
  return undefined;
}
