import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { DoctorReport } from './doctor.js';
import { ShadowGitError } from '../errors.js';
import { tempPathFor } from '../fsutil.js';
import type { LoggedOp } from '../snapshot/rewrites.js';
import type { Repository } from '../store/repo.js';
import { readWatcher } from '../worktree/watchstate.js';

const OPLOG_TAIL = 200;

/**
 * Refuses a bundle name that is not a .tar.gz, and a place where something already is, unless
 * `force` (then only a regular file, never a directory or a link). Called before doctor starts,
 * so a refused bundle leaves everything as it was, `--fix` included.
 */
export async function checkBundleTarget(file: string, force: boolean): Promise<void> {
  if (!/\.(tar\.gz|tgz)$/i.test(file)) throw new ShadowGitError(`--bundle ${file}: a diagnostics bundle is a gzipped tarball; give a name ending in .tar.gz or .tgz.`, 'EUSAGE');
  const target = path.resolve(file);
  const parent = await fsp.stat(path.dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new ShadowGitError(`cannot write the bundle ${file}: ${path.dirname(target)} is not a directory; create it, or choose another place.`, 'ENOTDIR');
  const stat = await fsp.lstat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!stat) return;
  if (!stat.isFile()) throw new ShadowGitError(`${file} already exists and is not a regular file; choose another name for the bundle.`, 'EEXISTS');
  if (!force) throw new ShadowGitError(`${file} already exists; choose another name, or pass --force to replace it.`, 'EEXISTS');
}

/** What the bundle reports besides doctor's findings, as the facade gives it (`status`, `log`). */
export interface BundleSources {
  status(): Promise<object>;
  operations(options: { limit: number }): Promise<LoggedOp[]>;
}

/**
 * Writes a diagnostics bundle (.tar.gz) for a bug report: versions, platform, config, status, the
 * op log tail, watcher state and doctor's findings. Paths appear; file contents never do. An
 * existing file is replaced only with `force` (see checkBundleTarget).
 */
export async function writeBundle(repo: Repository, sg: BundleSources, file: string, report: DoctorReport, force = false): Promise<string[]> {
  const { create } = await import('tar');
  const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };
  const parts: Record<string, unknown> = {
    'manifest.json': { shadowgit: version, node: process.version, platform: process.platform, arch: process.arch, release: os.release(), createdAt: new Date().toISOString() },
    'config.json': repo.config,
    'status.json': await sg.status().catch((err: Error) => ({ error: err.message })),
    'doctor.json': report,
  };
  const watcher = await readWatcher(repo);
  if (watcher) parts['watch.json'] = watcher;
  const staging = await fsp.mkdtemp(path.join(os.tmpdir(), 'shadowgit-bundle-'));
  try {
    for (const [name, value] of Object.entries(parts)) await fsp.writeFile(path.join(staging, name), `${JSON.stringify(value, null, 2)}\n`);
    const ops = await sg.operations({ limit: OPLOG_TAIL });
    await fsp.writeFile(path.join(staging, 'oplog.jsonl'), ops.map((op) => `${JSON.stringify(op)}\n`).join(''));
    const names = [...Object.keys(parts), 'oplog.jsonl'].sort();
    const target = path.resolve(file);
    const tmp = tempPathFor(target);
    try {
      await create({ gzip: true, file: tmp, cwd: staging, portable: true }, names);
      // Without --force a hard link, not a rename: a file that appeared meanwhile stays.
      await (force ? fsp.rename(tmp, target) : fsp.link(tmp, target));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ShadowGitError(`${file} appeared while the bundle was written; choose another name, or pass --force to replace it.`, 'EEXISTS');
      throw err;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return names;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
