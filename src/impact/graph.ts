import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NotRegularFileError, readRegularFile, readRegularFileSync, writeFileAtomic } from '../engine/fsutil.js';
import { hashObject } from '../engine/store/objects.js';
import { MODE_LINK, type FlatTree } from '../engine/store/gitformat.js';
import type { ShadowGit } from '../shadowgit.js';
import { EDGE_KINDS, extensionOf, extractSpecifiers, extractStylesheetImports, isGraphFile, isParsedFile, isStylesheet, type EdgeKind, type Extracted, type Specifier } from './extract.js';
import { isResolutionInput, resolutionKey, Resolver, UNRESOLVED, withoutQuery } from './resolve.js';
import { loadTypeScript, saveCodeCache, typeScriptLoad, type TypeScript } from './tsloader.js';
import type { FileSet } from './workspaces.js';

const require = createRequire(import.meta.url);

export const IMPACT_CACHE = 'impact-cache.json';
/** Directory (in the shadow repo's state) for V8's compiled code of the TypeScript compiler. */
export const CODE_CACHE_DIR = 'impact-v8cache';
/** Bump when what extractSpecifiers or Resolver produce changes meaning. */
const FORMAT = 5;
/**
 * A larger module is generated or bundled code: parsing it would cost seconds for no local
 * imports, so it is not even read, and reported as not parsed.
 */
const MAX_PARSE_BYTES = 4 * 1048576;
/** package.json, pnpm-workspace.yaml and lerna.json larger than this are not read. */
const MAX_MANIFEST_BYTES = 4 * 1048576;
/** The impact cache is rebuilt rather than read when larger (it takes some 200 bytes per file). */
const MAX_CACHE_BYTES = 256 * 1048576;
const EXTERNAL_INDEX = -1;
const UNRESOLVED_INDEX = -2;

/** One resolved reference between two files of the tree. */
export interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  typeOnly: boolean;
}

export interface GraphStats {
  /** Files in the graph (sources, JSON, and the other files imports name: stylesheets, images…). */
  files: number;
  /** Files parsed in this run (content new to the cache). */
  parsed: number;
  /** Files whose specifiers came from the cache. */
  reused: number;
  /** Specifiers resolved through the compiler in this run (the rest came from the cache). */
  resolved: number;
  /** Whether this run loaded the TypeScript compiler, and how long that took. */
  typescript: { loaded: boolean; ms: number; codeCache: boolean };
  /** Whether the cache had to be dropped entirely, and why. */
  cacheReset?: string;
}

export interface ImportGraph {
  /** Modules and assets, sorted. */
  files: string[];
  /** Extensions (`.css`) of the files besides modules that imports name: those files are in the graph. */
  assetExtensions: ReadonlySet<string>;
  edges: Edge[];
  unresolved: Array<{ from: string; specifier: string }>;
  errors: Array<{ path: string; message: string }>;
  stats: GraphStats;
}

type CachedSpec = [string, number];
type CachedFile = [oid: string, specs: CachedSpec[], error?: string];

interface CacheData {
  format: number;
  extractor: string;
  files: Record<string, CachedFile>;
  inputs: string;
  /**
   * Directory → (resolutionKey → index of the target in the sorted module list, EXTERNAL_INDEX
   * or UNRESOLVED_INDEX). Indices are stable because the memo is dropped when that list changes.
   */
  resolutions: Record<string, Record<string, number>>;
  /** Problems found reading tsconfig files, kept as long as the resolutions are. */
  configErrors: Array<{ path: string; message: string }>;
}

const encodeSpec = (s: Specifier): CachedSpec => [s.specifier, EDGE_KINDS.indexOf(s.kind) | (s.typeOnly ? 16 : 0)];
const decodeSpec = ([specifier, code]: CachedSpec): Specifier => ({ specifier, kind: EDGE_KINDS[code & 15] ?? 'import', typeOnly: (code & 16) !== 0 });

function extractorId(): string {
  let morph = 'unknown';
  try {
    morph = (require('ts-morph/package.json') as { version: string }).version;
  } catch {
    // the version only keys the cache
  }
  return `${FORMAT}/ts-morph@${morph}`;
}

async function loadCache(file: string, extractor: string): Promise<{ data: CacheData; reset?: string }> {
  const empty = (reset?: string) => ({ data: { format: FORMAT, extractor, files: {}, inputs: '', resolutions: {}, configErrors: [] }, reset });
  let text: string;
  try {
    const data = await readRegularFile(file, { maxBytes: MAX_CACHE_BYTES });
    if (!data) return empty('no cache yet');
    text = data.toString('utf8');
  } catch (err) {
    return empty(err instanceof NotRegularFileError ? `cache ${err.problem}` : 'unreadable cache');
  }
  try {
    const data = JSON.parse(text) as CacheData;
    if (data.format !== FORMAT || data.extractor !== extractor || typeof data.files !== 'object' || typeof data.resolutions !== 'object') return empty('cache from another version');
    return { data };
  } catch {
    return empty('damaged cache');
  }
}

/**
 * Files of the working tree for the resolver: membership from the file list, content read
 * from disk (package.json and tsconfig files are small and few). A file that is not a regular
 * file now (swapped since the scan, or a symlink) or is too large reads as absent and goes to
 * `problems`.
 */
function fileSetOf(worktree: string, files: ReadonlySet<string>, problems: Array<{ path: string; message: string }>): FileSet {
  const texts = new Map<string, string | undefined>();
  const readText = (rel: string) => {
    if (!texts.has(rel)) {
      let text: string | undefined;
      try {
        text = readRegularFileSync(path.join(worktree, rel), { maxBytes: MAX_MANIFEST_BYTES })?.toString('utf8');
      } catch (err) {
        if (err instanceof NotRegularFileError) problems.push({ path: rel, message: `not read: ${err.problem}` });
        text = undefined;
      }
      texts.set(rel, text);
    }
    return texts.get(rel);
  };
  const json = new Map<string, Record<string, unknown> | undefined>();
  return {
    has: (rel) => files.has(rel),
    readText,
    readJson: (rel) => {
      if (!json.has(rel)) {
        let value: Record<string, unknown> | undefined;
        try {
          const parsed = JSON.parse(readText(rel) ?? 'null') as unknown;
          value = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
        } catch {
          value = undefined;
        }
        json.set(rel, value);
      }
      return json.get(rel);
    },
  };
}

/**
 * The specifiers of one file. A file nested too deeply for the parser's recursion (1000
 * parentheses overflow the stack) is reported as not analysed instead of ending the whole run.
 */
function extractOrReport(ts: TypeScript, p: string, content: Buffer): Extracted {
  try {
    return extractSpecifiers(ts, p, content.toString('utf8'));
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { specifiers: [], error: `not analysed: ${err.message} (nested too deeply for the parser?), its imports are not followed` };
  }
}

export const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The extensions of the files besides modules that some specifier names (`./a.css?inline`,
 * `@/logo.svg`, `./App.vue`): every tracked file with one of them is a node of the graph, so the
 * node list — and with it the resolution memo — does not change when a file of a kind nothing
 * imports (a README) comes or goes.
 */
function assetExtensionsOf(specsOf: Map<string, Specifier[]>): Set<string> {
  const extensions = new Set<string>();
  for (const specs of specsOf.values()) {
    for (const s of specs) {
      const file = withoutQuery(s.specifier);
      const ext = extensionOf(file);
      if (ext.length > 1 && !isGraphFile(file)) extensions.add(ext);
    }
  }
  return extensions;
}

/**
 * The import graph of the working tree: its modules (sources and JSON) and the other files
 * they import (stylesheets, images, workers named with a bundler query). Symlinks are not
 * followed. Specifiers are read from a parse-only syntax tree and cached by blob id;
 * resolutions are cached by (directory, kind, specifier without query) and dropped as a whole
 * when any tsconfig/jsconfig, package.json, pnpm-workspace.yaml or lerna.json changes, or when
 * a node is added or removed (either can change what a specifier means). The compiler is
 * loaded only when something is not in the cache.
 */
export async function buildGraph(sg: ShadowGit, tracked: FlatTree): Promise<ImportGraph> {
  const worktree = sg.worktree;
  const cacheFile = sg.statePath(IMPACT_CACHE);
  const codeCacheDir = (await sg.initialized()) ? sg.statePath(CODE_CACHE_DIR) : undefined;
  const extractor = extractorId();
  const { data: cache, reset } = await loadCache(cacheFile, extractor);
  let dirty = false;

  const files: string[] = [];
  for (const [p, entry] of tracked) if (entry.mode !== MODE_LINK) files.push(p);
  const modules = files.filter(isGraphFile).sort(byPath);
  const moduleSet = new Set(modules);

  const cachedFiles = new Map(Object.entries(cache.files));
  const specsOf = new Map<string, Specifier[]>();
  const errors: Array<{ path: string; message: string }> = [];
  let reused = 0;
  let ts: TypeScript | undefined;
  let parsed = 0;
  const remember = (p: string, oid: string, extracted: Extracted) => {
    specsOf.set(p, extracted.specifiers);
    if (extracted.error) errors.push({ path: p, message: extracted.error });
    cachedFiles.set(p, [oid, extracted.specifiers.map(encodeSpec), ...(extracted.error ? [extracted.error] : [])] as CachedFile);
    dirty = true;
  };
  /** The specifiers of `paths`, from the cache or parsed (the compiler loads for a module, not for a stylesheet). */
  const readSpecifiers = async (paths: string[]) => {
    const toParse: string[] = [];
    for (const p of paths) {
      const hit = cachedFiles.get(p);
      if (hit && Array.isArray(hit) && Array.isArray(hit[1]) && hit[0] === tracked.get(p)?.oid) {
        specsOf.set(p, hit[1].map(decodeSpec));
        if (hit[2]) errors.push({ path: p, message: hit[2] });
        reused++;
      } else toParse.push(p);
    }
    // Synchronous reads: these files are small, and a thread-pool round trip per file costs more than the read.
    for (const p of toParse) {
      let content: Buffer | undefined;
      let unreadable: string | undefined;
      try {
        content = readRegularFileSync(path.join(worktree, p), { maxBytes: MAX_PARSE_BYTES });
      } catch (err) {
        if (err instanceof NotRegularFileError && err.reason === 'too large') {
          // Never read, so cached under the id the scan recorded.
          remember(p, tracked.get(p)!.oid, { specifiers: [], error: `not parsed: ${err.problem} (generated code?), its imports are not followed` });
          continue;
        }
        unreadable = (err as Error).message;
      }
      if (!content) {
        errors.push({ path: p, message: `cannot read: ${unreadable ?? 'deleted since the scan'}` });
        specsOf.set(p, []);
        continue;
      }
      parsed++;
      const extracted = isStylesheet(p) ? extractStylesheetImports(content.toString('utf8')) : extractOrReport((ts ??= await loadTypeScript(codeCacheDir)), p, content);
      // Keyed by the id of the bytes actually parsed, so a file edited since the scan is parsed again next time.
      remember(p, hashObject('blob', content), extracted);
    }
  };
  await readSpecifiers(modules.filter(isParsedFile));
  let assetExtensions = assetExtensionsOf(specsOf);
  // Stylesheets are read once an import names one: their @imports lead from a stylesheet to the modules importing another.
  if (assetExtensions.has('.css')) {
    await readSpecifiers(files.filter(isStylesheet).sort(byPath));
    assetExtensions = assetExtensionsOf(specsOf);
  }
  for (const p of cachedFiles.keys()) {
    if (!specsOf.has(p)) {
      cachedFiles.delete(p);
      dirty = true;
    }
  }

  const nodes = [...modules, ...files.filter((p) => !moduleSet.has(p) && assetExtensions.has(extensionOf(p)))].sort(byPath);
  const nodeSet = new Set(nodes);
  const inputs = createHash('sha1');
  for (const [p, entry] of [...tracked].filter(([p]) => isResolutionInput(p)).sort(([a], [b]) => (a < b ? -1 : 1))) inputs.update(`${p}\0${entry.oid}\n`);
  inputs.update('\0files\n');
  for (const p of nodes) inputs.update(`${p}\n`);
  const inputsId = inputs.digest('hex');
  // Outer level a Map (directory names are arbitrary); inner keys start with a two-letter prefix, so never "__proto__".
  let resolutions = new Map<string, Record<string, number>>(Object.entries(cache.resolutions));
  let configErrors = Array.isArray(cache.configErrors) ? cache.configErrors : [];
  if (cache.inputs !== inputsId) {
    if (resolutions.size > 0) dirty = true;
    resolutions = new Map();
    configErrors = [];
  }
  const indexOf = new Map<string, number>();
  nodes.forEach((p, i) => indexOf.set(p, i));

  let resolver: Resolver | undefined;
  const manifestProblems: Array<{ path: string; message: string }> = [];
  const edges: Edge[] = [];
  const unresolved: Array<{ from: string; specifier: string }> = [];
  for (const p of nodes) {
    const specs = specsOf.get(p);
    if (!specs) continue;
    for (const s of specs) {
      // `./worker?worker` and `./worker?url` are the same file, resolved once.
      const file = withoutQuery(s.specifier);
      const [dir, key] = resolutionKey(p, file, s.kind);
      let memo = resolutions.get(dir);
      if (!memo) resolutions.set(dir, (memo = {}));
      let index = Object.hasOwn(memo, key) ? memo[key] : undefined;
      let target: string | undefined;
      if (typeof index !== 'number' || index >= nodes.length) {
        if (!resolver) {
          ts ??= await loadTypeScript(codeCacheDir);
          resolver = new Resolver(ts, worktree, nodeSet, fileSetOf(worktree, new Set(tracked.keys()), manifestProblems));
        }
        target = resolver.resolve(p, file, s.kind);
        index = target === UNRESOLVED ? UNRESOLVED_INDEX : target === '' ? EXTERNAL_INDEX : indexOf.get(target) ?? UNRESOLVED_INDEX;
        memo[key] = index;
        dirty = true;
      }
      target = index >= 0 ? nodes[index] : index === UNRESOLVED_INDEX ? UNRESOLVED : '';
      if (target === UNRESOLVED) unresolved.push({ from: p, specifier: s.specifier });
      else if (target && target !== p) edges.push({ from: p, to: target, kind: s.kind, typeOnly: s.typeOnly });
    }
  }
  if (resolver) {
    const seen = new Set(configErrors.map((e) => `${e.path}\0${e.message}`));
    for (const e of [...resolver.configErrors, ...manifestProblems]) if (!seen.has(`${e.path}\0${e.message}`)) configErrors.push(e);
  }
  errors.push(...configErrors);

  if (dirty) {
    const out: CacheData = { format: FORMAT, extractor, files: Object.fromEntries(cachedFiles), inputs: inputsId, resolutions: Object.fromEntries([...resolutions].filter(([, memo]) => Object.keys(memo).length > 0)), configErrors };
    try {
      // Created as any command creates it (locked, logged), so the cache has somewhere to go.
      if (!(await sg.initialized())) await sg.init();
      await fsp.mkdir(path.dirname(cacheFile), { recursive: true });
      // Not fsynced: losing the cache only costs a re-parse.
      await writeFileAtomic(cacheFile, JSON.stringify(out), { durable: false });
      await saveCodeCache();
    } catch {
      // A read-only shadow repo still gets an answer, just not a cached one.
    }
  }

  errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files: nodes,
    assetExtensions,
    edges,
    unresolved,
    errors,
    stats: { files: nodes.length, parsed, reused, resolved: resolver?.resolved ?? 0, typescript: typeScriptLoad(), ...(reset && reset !== 'no cache yet' ? { cacheReset: reset } : {}) },
  };
}
