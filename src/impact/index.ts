/**
 * `shadowgit impact`: which files a change to some files reaches through imports, by what chain,
 * and which tests among them. TypeScript (as ts-morph bundles it) loads only when the cache
 * cannot answer; nothing here is loaded on the snapshot path.
 */
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ShadowGitError } from '../engine/errors.js';
import { MODE_LINK } from '../engine/store/gitformat.js';
import type { ShadowGit } from '../shadowgit.js';
import { extensionOf, isGraphFile } from './extract.js';
import { buildGraph, byPath, type Edge, type GraphStats } from './graph.js';

export type { Edge, GraphStats } from './graph.js';
export type { EdgeKind } from './extract.js';

const require = createRequire(import.meta.url);

export interface ImpactOptions {
  /** Files or directories (relative to `cwd`) whose change to analyse. */
  paths?: string[];
  /** Instead of paths: every module changed between this revision and the working tree. */
  since?: string;
  /** Directory `paths` are relative to; default the working tree root. */
  cwd?: string;
  /** Follow importers at most this many steps (default: no limit). */
  depth?: number;
  /** Count `import type`/`export type` edges (default true). */
  types?: boolean;
}

export interface ImpactDependent {
  path: string;
  /** Import steps from the nearest target (1 = imports a target directly). */
  depth: number;
  /** One shortest chain, from this file to a target: `via[0]` imports `via[1]`, and so on. */
  via: string[];
}

export interface ImpactResult {
  /** The changed files, working-tree relative, posix separators. */
  targets: string[];
  dependents: ImpactDependent[];
  /** Test files among the targets and dependents. */
  tests: string[];
  /** Specifiers that name a file of this tree (relative, alias, workspace, #import) but resolve to nothing. */
  unresolved: Array<{ from: string; specifier: string }>;
  /** Files that did not parse cleanly (their imports still count) and unreadable tsconfig files. */
  errors: Array<{ path: string; message: string }>;
  /** With `since`: modules and imported files deleted since that revision (their importers show in `unresolved`). */
  deleted: string[];
  /** The affected subgraph: edges from dependents to targets or other dependents. */
  edges: Edge[];
  stats: GraphStats & { ms: number };
}

export const DEFAULT_TEST_GLOBS = ['**/*.test.*', '**/*.spec.*', '**/__tests__/**', '**/test/**', '**/tests/**'];

/**
 * A matcher for test files: `.shadowgit` `tests` globs when set, else the defaults. A glob
 * without a slash matches a file name anywhere (like .gitignore).
 */
export function testMatcher(globs: string[] | undefined): (p: string) => boolean {
  const picomatch = require('picomatch') as typeof import('picomatch');
  const list = (globs && globs.length > 0 ? globs : DEFAULT_TEST_GLOBS).map((g) => (g.includes('/') ? g.replace(/^\.?\//, '') : `**/${g}`));
  return picomatch(list, { dot: true });
}

interface GivenPath {
  given: string;
  rel: string;
  directory: boolean;
}

/**
 * The paths to analyse, checked before the graph is built: each exists and is not ignored.
 * Whether a file is in the graph is known only after (see targetsFromPaths).
 */
async function checkPaths(sg: ShadowGit, paths: string[], cwd: string, tracked: ReadonlyMap<string, { mode: string }>): Promise<GivenPath[]> {
  const out: GivenPath[] = [];
  for (const given of paths) {
    const rel = sg.toWorktreePath(given, cwd);
    const entry = tracked.get(rel);
    if (entry?.mode === MODE_LINK) throw new ShadowGitError(`${given} is a symbolic link, and impact does not follow links; name the file it points to.`, 'ENOTMODULE');
    if (entry) {
      out.push({ given, rel, directory: false });
      continue;
    }
    const stat = await fsp.stat(path.join(sg.worktree, rel)).catch(() => undefined);
    if (!stat) throw new ShadowGitError(`${given} does not exist; name a file of the working tree (e.g. src/app.ts).`, 'ENOPATH');
    if (!stat.isDirectory()) throw new ShadowGitError(`${given} is ignored (by .gitignore, node_modules or "exclude" in .shadowgit), so it is not in the import graph.`, 'ENOTMODULE');
    out.push({ given, rel, directory: true });
  }
  return out;
}

const FOLLOWED = '.ts .tsx .mts .cts .js .jsx .mjs .cjs (and .d.ts, .json) files, and the files they import (.css, .svg…)';

function targetsFromPaths(given: GivenPath[], nodes: string[]): string[] {
  const nodeSet = new Set(nodes);
  const targets = new Set<string>();
  for (const g of given) {
    if (g.directory) {
      const prefix = g.rel === '' ? '' : `${g.rel}/`;
      const inside = nodes.filter((n) => n.startsWith(prefix));
      if (inside.length === 0) throw new ShadowGitError(`${g.given} is a directory with no modules or imported files in it: impact follows ${FOLLOWED}.`, 'ENOTMODULE');
      for (const n of inside) targets.add(n);
    } else if (nodeSet.has(g.rel)) targets.add(g.rel);
    else {
      const ext = extensionOf(g.rel);
      const named = ext ? `, and no import names a ${ext} file` : '';
      throw new ShadowGitError(`${g.given} is not a module${named}: impact follows ${FOLLOWED}.`, 'ENOTMODULE');
    }
  }
  return [...targets].sort(byPath);
}

/**
 * Walks importers breadth-first from the targets: every file that reaches a target through
 * imports, at its smallest depth, with one shortest chain each.
 */
export function walkDependents(edges: Edge[], targets: string[], options: { depth?: number; types?: boolean } = {}): { dependents: ImpactDependent[]; edges: Edge[] } {
  const types = options.types !== false;
  const maxDepth = options.depth ?? Infinity;
  const importers = new Map<string, Edge[]>();
  for (const e of edges) {
    if (!types && e.typeOnly) continue;
    const list = importers.get(e.to);
    if (list) list.push(e);
    else importers.set(e.to, [e]);
  }
  for (const list of importers.values()) list.sort((a, b) => byPath(a.from, b.from));
  const depth = new Map<string, number>();
  const next = new Map<string, string>();
  const queue: string[] = [];
  for (const t of targets) {
    depth.set(t, 0);
    queue.push(t);
  }
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    const d = depth.get(node)!;
    if (d >= maxDepth) continue;
    for (const e of importers.get(node) ?? []) {
      if (depth.has(e.from)) continue;
      depth.set(e.from, d + 1);
      next.set(e.from, node);
      queue.push(e.from);
    }
  }
  const dependents: ImpactDependent[] = [];
  for (const p of queue) {
    const d = depth.get(p)!;
    if (d === 0) continue;
    const via = [p];
    for (let at = next.get(p); at !== undefined; at = next.get(at)) via.push(at);
    dependents.push({ path: p, depth: d, via });
  }
  dependents.sort((a, b) => a.depth - b.depth || byPath(a.path, b.path));
  const sub: Edge[] = [];
  const seen = new Set<string>();
  for (const e of edges) {
    if (!(depth.get(e.from)! > 0) || !depth.has(e.to) || (!types && e.typeOnly)) continue;
    const key = `${e.from}\0${e.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sub.push(e);
  }
  return { dependents, edges: sub };
}

/**
 * Impact of changing `paths` (or every module changed since `since`): dependents with chains,
 * affected tests, unresolved specifiers and parse errors. Reads only; the impact cache in the
 * shadow repo's state is the one thing it writes.
 */
export async function impact(sg: ShadowGit, options: ImpactOptions): Promise<ImpactResult> {
  const started = performance.now();
  if (options.depth !== undefined && (!Number.isInteger(options.depth) || options.depth < 1)) throw new ShadowGitError('--depth must be a whole number of at least 1.', 'EUSAGE');
  const hasPaths = (options.paths ?? []).length > 0;
  if (hasPaths === (options.since !== undefined)) throw new ShadowGitError('name the files to analyse (e.g. `shadowgit impact src/app.ts`) or pass --since REV, not both.', 'EUSAGE');
  const tracked = await sg.trackedFiles();
  const given = options.since === undefined ? await checkPaths(sg, options.paths!, options.cwd ?? sg.worktree, tracked) : [];
  const changes = options.since === undefined ? [] : (await sg.diff(options.since)).changes;
  const graph = await buildGraph(sg, tracked);

  let targets: string[];
  const deleted: string[] = [];
  if (options.since !== undefined) {
    const nodeSet = new Set(graph.files);
    const changed = new Set<string>();
    for (const c of changes) {
      if (c.status === 'deleted') {
        if (isGraphFile(c.path) || graph.assetExtensions.has(extensionOf(c.path))) deleted.push(c.path);
      } else if (nodeSet.has(c.path)) changed.add(c.path);
    }
    targets = [...changed].sort(byPath);
  } else {
    targets = targetsFromPaths(given, graph.files);
  }

  const walked = walkDependents(graph.edges, targets, options);
  const isTest = testMatcher(sg.config.tests);
  const tests = [...targets, ...walked.dependents.map((d) => d.path)].filter(isTest).sort(byPath);
  return {
    targets,
    dependents: walked.dependents,
    tests,
    unresolved: graph.unresolved,
    errors: graph.errors,
    deleted,
    edges: walked.edges,
    stats: { ...graph.stats, ms: Math.round(performance.now() - started) },
  };
}
