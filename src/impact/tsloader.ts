import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { readRegularFileSync, writeFileAtomic } from '../engine/fsutil.js';

/** The TypeScript compiler API, as ts-morph bundles it. */
export type TypeScript = typeof import('ts-morph').ts;

const require = createRequire(import.meta.url);

let loaded: TypeScript | undefined;
let loadMs = 0;
let pending: { script: vm.Script; file: string } | undefined;
let codeCacheUsed = false;
/** V8's code cache for the compiler takes some 10 MiB; a larger file there is not ours. */
const MAX_CODE_CACHE_BYTES = 64 * 1048576;

/** ts-morph's own copy of the compiler (`@ts-morph/common/dist/typescript.js`), found from ts-morph's location. */
function compilerFile(): string | undefined {
  try {
    const fromMorph = createRequire(require.resolve('ts-morph'));
    const file = path.join(path.dirname(fromMorph.resolve('@ts-morph/common')), 'typescript.js');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function codeCachePath(dir: string, file: string): string {
  const stat = statSync(file);
  const key = createHash('sha1').update(`${process.versions.v8}\0${process.arch}\0${file}\0${stat.size}\0${stat.mtimeMs}`).digest('hex').slice(0, 16);
  return path.join(dir, `typescript-${key}.v8`);
}

/**
 * Loads ts-morph's bundled TypeScript, once, only when a query needs it (a file to parse or a
 * specifier to resolve that the impact cache does not know). It loads the compiler module
 * ts-morph itself uses instead of all of ts-morph: the same `ts`, without ts-morph's wrappers
 * (~0.21 s instead of ~0.31 s here). With `codeCacheDir`, V8's compiled code for it is kept
 * there (`saveCodeCache`), which brings a later load to ~0.08 s. Falls back to
 * `(await import('ts-morph')).ts` if the file ever moves.
 */
export async function loadTypeScript(codeCacheDir?: string): Promise<TypeScript> {
  if (loaded) return loaded;
  const started = performance.now();
  const file = compilerFile();
  if (file) {
    try {
      const cacheFile = codeCacheDir ? codeCachePath(codeCacheDir, file) : undefined;
      let cachedData: Buffer | undefined;
      if (cacheFile) {
        try {
          cachedData = readRegularFileSync(cacheFile, { maxBytes: MAX_CODE_CACHE_BYTES });
        } catch {
          cachedData = undefined;
        }
      }
      const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
      const wrapper = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
      const mod = { exports: {} as unknown };
      wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
      const ts = mod.exports as TypeScript;
      if (typeof ts.createSourceFile !== 'function') throw new Error('not the compiler API');
      loaded = ts;
      codeCacheUsed = cachedData !== undefined && !script.cachedDataRejected;
      if (cacheFile && !codeCacheUsed) pending = { script, file: cacheFile };
    } catch {
      loaded = undefined;
    }
  }
  if (!loaded) loaded = (await import('ts-morph')).ts;
  loadMs = performance.now() - started;
  return loaded;
}

/**
 * Writes V8's code cache for the compiler after it has done its work (so the functions it
 * compiled lazily are in it too). Only when this process loaded without a usable cache.
 */
export async function saveCodeCache(): Promise<void> {
  if (!pending) return;
  const { script, file } = pending;
  pending = undefined;
  try {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true });
    for (const old of readdirSync(dir)) if (old.startsWith('typescript-') && old.endsWith('.v8') && old !== path.basename(file)) rmSync(path.join(dir, old), { force: true });
    await writeFileAtomic(file, script.createCachedData(), { durable: false });
  } catch {
    // Only a slower load next time.
  }
}

/** Whether this process loaded the compiler, how long that took (ms), and whether V8's code cache served it. */
export function typeScriptLoad(): { loaded: boolean; ms: number; codeCache: boolean } {
  return { loaded: loaded !== undefined, ms: Math.round(loadMs), codeCache: codeCacheUsed };
}
