import { statSync } from 'node:fs';
import path from 'node:path';
import type { ts as TSNamespace } from 'ts-morph';
import { NotRegularFileError, readRegularFileSync } from '../engine/fsutil.js';
import type { EdgeKind } from './extract.js';
import type { TypeScript } from './tsloader.js';
import { discoverWorkspaces, mapTargets, probeSource, resolvePackageSubpath, splitPackageSpecifier, type FileSet, type WorkspacePackage } from './workspaces.js';

/** A resolution: a tracked path, EXTERNAL (a package outside the tree) or UNRESOLVED. */
export const EXTERNAL = '';
export const UNRESOLVED = '?';

/**
 * The file part of a specifier: without a bundler query (`./worker?worker`, `./a.css?inline`,
 * `./x?worker&url`) or a `#hash`, which name a way of loading the same file. A leading `#` is a
 * package `#import`, not a hash.
 */
export function withoutQuery(spec: string): string {
  const at = spec.slice(1).search(/[?#]/);
  return at < 0 ? spec : spec.slice(0, at + 1);
}

/** A URL with a scheme (`https:`, `data:`) or a host (`//cdn…`), which names no file of the tree. */
const isRemote = (spec: string) => /^[a-z][a-z0-9+.-]*:/i.test(spec) || spec.startsWith('//');

/**
 * The declaration file name the compiler probes for a specifier with an extension it does not
 * know (`./a.css` → `./a.d.css.ts`), so that it finds a file of any type through the same
 * relative, `paths` and `baseUrl` lookups as a module.
 */
const ASSET_DECLARATION = /^(.*)\.d(\.[^./]+)\.ts$/;

/** Names of files whose content changes how specifiers resolve. */
export function isResolutionInput(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return base === 'package.json' || base === 'pnpm-workspace.yaml' || base === 'lerna.json' || /^(?:ts|js)config(?:\..*)?\.json$/.test(base);
}

/**
 * Where a resolution is memoised: under the containing directory (which fixes the nearest
 * tsconfig and package.json), then a two-letter prefix — the file's own module format by
 * extension (m, c, or -) and the kind of reference (s static, r require, d dynamic, p path
 * reference, u URL, y stylesheet @import) — followed by the specifier.
 */
export function resolutionKey(from: string, specifier: string, kind: EdgeKind): [dir: string, key: string] {
  const slash = from.lastIndexOf('/');
  const dir = slash < 0 ? '' : from.slice(0, slash);
  const ext = from.slice(from.lastIndexOf('.'));
  const format = ext === '.mts' || ext === '.mjs' ? 'm' : ext === '.cts' || ext === '.cjs' ? 'c' : '-';
  const how = kind === 'require' || kind === 'import-equals' ? 'r' : kind === 'dynamic' ? 'd' : kind === 'reference' ? 'p' : kind === 'url' ? 'u' : kind === 'css-import' ? 'y' : 's';
  return [dir, `${format}${how}${specifier}`];
}

interface ProjectConfig {
  /** Path of the tsconfig (relative), or '' for the defaults. */
  file: string;
  options: TSNamespace.CompilerOptions;
  cache: TSNamespace.ModuleResolutionCache;
  /** Options for a second try: allowJs, bundler resolution, same paths/baseUrl. */
  fallback: TSNamespace.CompilerOptions;
  fallbackCache: TSNamespace.ModuleResolutionCache;
  pathPatterns: Array<[string, string]>;
  outToRoot: Array<[string, string]>;
}

/** tsconfig files (and what they extend) larger than this are not read. */
const MAX_CONFIG_BYTES = 4 * 1048576;

/** The first answer `probe` gives for `dir` or a directory above it, nearest first. */
function upFrom<T>(dir: string, probe: (d: string) => T | undefined): T | undefined {
  for (let d = dir; ; ) {
    const found = probe(d);
    if (found !== undefined) return found;
    if (d === '') return undefined;
    const slash = d.lastIndexOf('/');
    d = slash < 0 ? '' : d.slice(0, slash);
  }
}

const isRelative = (s: string) => s === '.' || s === '..' || s.startsWith('./') || s.startsWith('../') || s.startsWith('/');

/**
 * Resolves specifiers like the TypeScript compiler does (`ts.resolveModuleName`, one module
 * resolution cache per tsconfig sharing one package.json cache), against the tracked files
 * only: the host answers `fileExists` from the file list, so nothing in node_modules is ever
 * a result and no directory is listed. Workspace packages and `#imports` that the compiler
 * cannot reach without node_modules are mapped to their source here. `files` holds the modules
 * and the other files the graph follows (stylesheets, images: see assetBehind).
 */
export class Resolver {
  private readonly configs = new Map<string, ProjectConfig>();
  private readonly configByDir = new Map<string, ProjectConfig>();
  private readonly dirs = new Set<string>();
  private readonly host: TSNamespace.ModuleResolutionHost;
  private readonly packageJsonCache: TSNamespace.PackageJsonInfoCache;
  private readonly canonical: (s: string) => string;
  private workspaces?: Map<string, WorkspacePackage>;
  private readonly rootPrefix: string;
  readonly configErrors: Array<{ path: string; message: string }> = [];
  /** How many specifiers went through the compiler's resolver in this process. */
  resolved = 0;

  constructor(
    private readonly ts: TypeScript,
    private readonly root: string,
    private readonly files: ReadonlySet<string>,
    private readonly fileSet: FileSet,
  ) {
    this.rootPrefix = root.endsWith('/') ? root : `${root}/`;
    for (const f of files) {
      for (let i = f.lastIndexOf('/'); i > 0; i = f.lastIndexOf('/', i - 1)) {
        const d = f.slice(0, i);
        if (this.dirs.has(d)) break;
        this.dirs.add(d);
      }
    }
    const sensitive = ts.sys.useCaseSensitiveFileNames;
    this.canonical = sensitive ? (s) => s : (s) => s.toLowerCase();
    const rel = (abs: string) => this.toRel(abs);
    this.host = {
      fileExists: (abs) => {
        const r = rel(abs);
        return r !== undefined && (files.has(r) || this.assetBehind(r) !== undefined);
      },
      directoryExists: (abs) => {
        const r = rel(abs);
        return r !== undefined && (r === '' || this.dirs.has(r));
      },
      readFile: (abs) => {
        const r = rel(abs);
        return r !== undefined && files.has(r) ? fileSet.readText(r) : undefined;
      },
      realpath: (abs) => abs,
      getCurrentDirectory: () => root,
      getDirectories: () => [],
      useCaseSensitiveFileNames: sensitive,
    };
    this.packageJsonCache = ts.createModuleResolutionCache(root, this.canonical).getPackageJsonInfoCache();
  }

  private toRel(abs: string): string | undefined {
    if (abs.startsWith(this.rootPrefix)) {
      const r = abs.slice(this.rootPrefix.length);
      if (!r.includes('\\') && !r.includes('/./') && !r.includes('/../') && !r.startsWith('../') && !r.startsWith('./')) return r.endsWith('/') ? r.slice(0, -1) : r;
    }
    if (abs === this.root) return '';
    const r = path.relative(this.root, abs);
    if (r.startsWith('..') || path.isAbsolute(r)) return undefined;
    return path.sep === '/' ? r : r.split(path.sep).join('/');
  }

  /** The file of the graph a probed `x.d.EXT.ts` stands for (`x.EXT`), see ASSET_DECLARATION. */
  private assetBehind(rel: string): string | undefined {
    const m = ASSET_DECLARATION.exec(rel);
    const asset = m ? m[1]! + m[2]! : undefined;
    return asset !== undefined && this.files.has(asset) ? asset : undefined;
  }

  private abs(rel: string): string {
    return path.join(this.root, rel);
  }

  /** The nearest tsconfig.json (else jsconfig.json) above `dir`, parsed once. */
  configFor(dir: string): ProjectConfig {
    const known = this.configByDir.get(dir);
    if (known) return known;
    let file = '';
    for (let d = dir; ; ) {
      const prefix = d ? `${d}/` : '';
      if (this.files.has(`${prefix}tsconfig.json`)) file = `${prefix}tsconfig.json`;
      else if (this.files.has(`${prefix}jsconfig.json`)) file = `${prefix}jsconfig.json`;
      if (file || d === '') break;
      const slash = d.lastIndexOf('/');
      d = slash < 0 ? '' : d.slice(0, slash);
    }
    let config = this.configs.get(file);
    if (!config) {
      config = this.loadConfig(file);
      this.configs.set(file, config);
    }
    this.configByDir.set(dir, config);
    return config;
  }

  /**
   * What the compiler reads while parsing the tsconfig `file`: the file and its `extends` chain,
   * which may lead into node_modules (often through symlinks) or anywhere on the disk. Only
   * regular files are read, with a size cap: a FIFO there would block forever, /dev/zero fill
   * memory. Such a file does not exist for the compiler, and is reported as a problem of `file`.
   */
  private configHost(file: string): TSNamespace.ParseConfigHost {
    const refused = new Set<string>();
    const refuse = (p: string, problem: string) => {
      if (refused.has(p)) return;
      refused.add(p);
      this.configErrors.push({ path: file, message: `${this.toRel(p) ?? p} is ${problem}, so it is not read` });
    };
    return {
      useCaseSensitiveFileNames: this.ts.sys.useCaseSensitiveFileNames,
      // Only compilerOptions matter, never the file list.
      readDirectory: () => [],
      fileExists: (p) => {
        let stat;
        try {
          stat = statSync(p, { throwIfNoEntry: false });
        } catch {
          return false;
        }
        if (stat && !stat.isFile() && !stat.isDirectory()) refuse(p, 'not a regular file');
        return stat?.isFile() ?? false;
      },
      readFile: (p) => {
        try {
          return readRegularFileSync(p, { followSymlinks: true, maxBytes: MAX_CONFIG_BYTES })?.toString('utf8');
        } catch (err) {
          if (err instanceof NotRegularFileError) refuse(p, err.problem);
          return undefined;
        }
      },
    };
  }

  /** The compiler options of the tsconfig `file`, or undefined when it cannot be read; its problems go to configErrors. */
  private parseConfig(file: string, absFile: string): TSNamespace.CompilerOptions | undefined {
    const ts = this.ts;
    const host = this.configHost(file);
    const read = ts.readConfigFile(absFile, host.readFile);
    if (read.error) {
      this.configErrors.push({ path: file, message: ts.flattenDiagnosticMessageText(read.error.messageText, ' ') });
      return undefined;
    }
    const parsed = ts.parseJsonConfigFileContent(read.config, host, path.dirname(absFile), undefined, absFile);
    for (const d of parsed.errors) {
      // 18003: "No inputs were found" — expected, since no directory is listed.
      if (d.code !== 18003) this.configErrors.push({ path: file, message: ts.flattenDiagnosticMessageText(d.messageText, ' ') });
    }
    return parsed.options;
  }

  private loadConfig(file: string): ProjectConfig {
    const ts = this.ts;
    let options: TSNamespace.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowJs: true };
    if (file) {
      const absFile = this.abs(file);
      try {
        options = this.parseConfig(file, absFile) ?? options;
      } catch (err) {
        // The compiler's JSON parser recurses once per nesting level, as deep as the file goes.
        if (!(err instanceof RangeError)) throw err;
        this.configErrors.push({ path: file, message: `not analysed: ${err.message} (nested too deeply for the parser?), the default options apply` });
      }
    }
    options = { ...options, resolveJsonModule: true, noDtsResolution: false };
    const fallback: TSNamespace.CompilerOptions = { ...options, allowJs: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowArbitraryExtensions: true };
    const pathPatterns: Array<[string, string]> = Object.keys(options.paths ?? {}).map((p) => {
      const star = p.indexOf('*');
      return star < 0 ? [p, '\0'] : [p.slice(0, star), p.slice(star + 1)];
    });
    const outToRoot: Array<[string, string]> = [];
    if (file && options.outDir) {
      const dir = path.posix.dirname(file) === '.' ? '' : path.posix.dirname(file);
      const out = this.toRel(options.outDir);
      const rootDir = options.rootDir ? this.toRel(options.rootDir) : dir;
      if (out !== undefined && rootDir !== undefined) outToRoot.push([out, rootDir]);
    }
    return {
      file,
      options,
      cache: ts.createModuleResolutionCache(this.root, this.canonical, options, this.packageJsonCache),
      fallback,
      fallbackCache: ts.createModuleResolutionCache(this.root, this.canonical, fallback, this.packageJsonCache),
      pathPatterns,
      outToRoot,
    };
  }

  private matchesPaths(config: ProjectConfig, spec: string): boolean {
    return config.pathPatterns.some(([prefix, suffix]) => (suffix === '\0' ? spec === prefix : spec.startsWith(prefix) && spec.endsWith(suffix)));
  }

  private compile(spec: string, fromAbs: string, options: TSNamespace.CompilerOptions, cache: TSNamespace.ModuleResolutionCache, mode: TSNamespace.ResolutionMode): string | undefined {
    this.resolved++;
    const result = this.ts.resolveModuleName(spec, fromAbs, options, this.host, cache, undefined, mode);
    const file = result.resolvedModule?.resolvedFileName;
    if (!file) return undefined;
    const rel = this.toRel(file);
    if (rel === undefined) return undefined;
    // The file itself, not declarations written for it (a CSS module's `.d.css.ts`).
    return this.assetBehind(rel) ?? (this.files.has(rel) ? rel : undefined);
  }

  private modeFor(config: ProjectConfig, fromAbs: string, kind: EdgeKind): TSNamespace.ResolutionMode {
    const ts = this.ts;
    if (kind === 'require' || kind === 'import-equals') return ts.ModuleKind.CommonJS;
    if (kind === 'dynamic') return ts.ModuleKind.ESNext;
    const mr = config.options.moduleResolution;
    if (mr === ts.ModuleResolutionKind.Node16 || mr === ts.ModuleResolutionKind.NodeNext) return ts.getImpliedNodeFormatForFile(fromAbs, this.packageJsonCache, this.host, config.options);
    if (fromAbs.endsWith('.cts') || fromAbs.endsWith('.cjs')) return ts.ModuleKind.CommonJS;
    return ts.ModuleKind.ESNext;
  }

  private workspaceMap(): Map<string, WorkspacePackage> {
    if (!this.workspaces) {
      const manifests = [...this.files].filter((f) => f === 'package.json' || f.endsWith('/package.json'));
      this.workspaces = discoverWorkspaces(this.fileSet, manifests);
    }
    return this.workspaces;
  }

  private conditionsFor(kind: EdgeKind): Set<string> {
    if (kind === 'css-import') return new Set(['style', 'source', 'development', 'default']);
    return new Set(['source', 'development', 'types', 'typings', kind === 'require' || kind === 'import-equals' ? 'require' : 'import', 'module', 'node', 'default']);
  }

  /** The package containing `dir` when it is named `name` (a package importing itself by name). */
  private selfPackage(dir: string, name: string): WorkspacePackage | undefined {
    for (let d = dir; ; ) {
      const manifest = d ? `${d}/package.json` : 'package.json';
      if (this.files.has(manifest)) {
        const json = this.fileSet.readJson(manifest);
        return json && json.name === name ? { name, dir: d, manifest: json } : undefined;
      }
      if (d === '') return undefined;
      const slash = d.lastIndexOf('/');
      d = slash < 0 ? '' : d.slice(0, slash);
    }
  }

  /** The nearest package.json with an `imports` field, for `#name` specifiers. */
  private resolveHashImport(fromDir: string, spec: string, kind: EdgeKind): string | undefined {
    for (let d = fromDir; ; ) {
      const manifest = d ? `${d}/package.json` : 'package.json';
      if (this.files.has(manifest)) {
        const json = this.fileSet.readJson(manifest);
        if (json && json.imports) {
          const config = this.configFor(d);
          for (const t of mapTargets(json.imports, spec, this.conditionsFor(kind))) {
            if (!t.startsWith('./')) return undefined;
            const found = probeSource(this.fileSet, d, t, config.outToRoot);
            if (found) return found;
          }
          return undefined;
        }
      }
      if (d === '') return undefined;
      const slash = d.lastIndexOf('/');
      d = slash < 0 ? '' : d.slice(0, slash);
    }
  }

  /**
   * `new URL(spec, import.meta.url)`: a URL relative to the module (`/x` from the project root,
   * as for imports), so only the exact file counts. A URL that names no file of the graph is
   * not followed and not reported: such URLs often name directories, or files made at run time.
   */
  private resolveUrl(dir: string, spec: string): string {
    const at = (base: string, rel: string) => {
      const p = path.posix.normalize(path.posix.join(base, rel));
      return this.files.has(p) ? p : undefined;
    };
    return (spec.startsWith('/') ? upFrom(dir, (d) => at(d, `.${spec}`)) : at(dir, spec)) ?? EXTERNAL;
  }

  /**
   * Resolves one specifier of `from` (a tracked path), without its query (see withoutQuery):
   * a tracked path, EXTERNAL or UNRESOLVED.
   */
  resolve(from: string, spec: string, kind: EdgeKind): string {
    const slash = from.lastIndexOf('/');
    const dir = slash < 0 ? '' : from.slice(0, slash);
    if (isRemote(spec)) return EXTERNAL;
    if (kind === 'url') return this.resolveUrl(dir, spec);
    if (kind === 'reference') {
      const p = path.posix.normalize(path.posix.join(dir, spec));
      for (const candidate of [p, `${p}.ts`, `${p}.d.ts`, `${p}.tsx`]) if (this.files.has(candidate)) return candidate;
      return UNRESOLVED;
    }
    const config = this.configFor(dir);
    const fromAbs = this.abs(from);
    const mode = this.modeFor(config, fromAbs, kind);
    if (kind === 'css-import') {
      // A bare name in CSS is a relative URL first (so postcss-import and Vite read it), then a package or an alias.
      const local = isRelative(spec) || spec.startsWith('#') ? undefined : this.compile(`./${spec}`, fromAbs, config.fallback, config.fallbackCache, undefined);
      if (local) return local;
    }
    const bare = !isRelative(spec);
    // Without baseUrl or a matching `paths` entry, the compiler could only find a bare
    // specifier in node_modules, which this host never shows: skip the walk up the tree.
    const compilerCanResolve = !bare || spec.startsWith('#') || config.options.baseUrl !== undefined || this.matchesPaths(config, spec);
    const direct = compilerCanResolve ? this.compile(spec, fromAbs, config.options, config.cache, mode) : undefined;
    if (direct) return direct;
    if (bare) {
      if (spec.startsWith('#')) return this.resolveHashImport(dir, spec, kind) ?? UNRESOLVED;
      const [name, sub] = splitPackageSpecifier(spec);
      const pkg = this.workspaceMap().get(name) ?? this.selfPackage(dir, name);
      if (pkg) {
        const pkgConfig = this.configFor(pkg.dir);
        return resolvePackageSubpath(this.fileSet, pkg, sub, this.conditionsFor(kind), pkgConfig.outToRoot) ?? UNRESOLVED;
      }
      if (this.matchesPaths(config, spec)) return this.compile(spec, fromAbs, config.fallback, config.fallbackCache, undefined) ?? UNRESOLVED;
      return EXTERNAL;
    }
    const fallback = this.compile(spec, fromAbs, config.fallback, config.fallbackCache, undefined);
    if (fallback) return fallback;
    // Not a path inside the tree: bundlers (Vite) read `/x` from the project root, a directory above the importer.
    if (spec.startsWith('/')) return upFrom(dir, (d) => this.compile(`.${spec}`, path.join(this.root, d, 'index.ts'), config.fallback, config.fallbackCache, undefined)) ?? UNRESOLVED;
    return UNRESOLVED;
  }
}
