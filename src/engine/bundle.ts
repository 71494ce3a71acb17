import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { ShadowGit } from '../shadowgit.js';
import type { DoctorReport } from './doctor.js';
import { tempPathFor } from './fsutil.js';
import { readWatcher } from './watchquery.js';

const OPLOG_TAIL = 200;

/**
 * Writes a diagnostics bundle (.tar.gz) for a bug report: versions, platform, config, status, the
 * op log tail, watcher state and doctor's findings. Paths appear; file contents never do.
 */
export async function writeBundle(sg: ShadowGit, file: string, report: DoctorReport): Promise<string[]> {
  const { create } = await import('tar');
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const repo = sg.repository;
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
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return names;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
