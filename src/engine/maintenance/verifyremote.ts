import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_FILE } from '../config.js';
import { verifyRepository, type VerifyReport } from './verify.js';
import { NOTES_REF, SNAPSHOT_REF } from '../store/refs.js';
import { Repository } from '../store/repo.js';
import { adoptMachine, remoteMachines } from '../remote/clone.js';
import { advertisedRefs } from '../remote/discover.js';
import { fetchPack } from '../remote/fetchpack.js';
import { shownUrl, type Endpoint } from '../remote/http.js';
import type { TransferOptions } from '../remote/sendpack.js';

export interface MachineVerifyReport extends VerifyReport {
  machine: string;
}

export interface RemoteVerifyReport {
  ok: boolean;
  /** The remote's URL as shown (no credentials). */
  url: string;
  /** Objects the remote sent (each hashed as it arrived). */
  objectsFetched: number;
  /** One full verify per machine's chain, approvals and notes. */
  machines: MachineVerifyReport[];
  /** Refs outside the remote layout: fetched and hashed, not walked as snapshots. */
  otherRefs: string[];
}

/**
 * Fetches everything the remote holds into a temporary repository under the system temp
 * directory (removed afterwards, whatever happens) and runs the full verify there once per
 * machine, with that machine's chain, approvals and notes as the repository's own: every object
 * re-read and re-hashed, every commit, tree and tag parsed. An object the remote sends under
 * another id than the one its refs and trees name is missing here, and reported as such.
 */
export async function verifyRemote(endpoint: Endpoint, options: TransferOptions & { onVerified?: (objects: number) => void } = {}): Promise<RemoteVerifyReport> {
  const advertisement = await advertisedRefs(endpoint, 'git-upload-pack');
  const machines = remoteMachines(advertisement);
  const inLayout = new Set([...machines.values()].flatMap((m) => [`refs/heads/${m.name}`, `refs/notes/${m.name}`, ...[...m.tags.keys()].map((slug) => `refs/tags/${m.name}/${slug}`)]));
  const report: RemoteVerifyReport = { ok: true, url: shownUrl(endpoint), objectsFetched: 0, machines: [], otherRefs: [...advertisement.refs.keys()].filter((ref) => !inLayout.has(ref) && ref !== 'HEAD').sort() };
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'shadowgit-verify-remote-'));
  try {
    const worktree = path.join(tmp, 'tree');
    await fsp.mkdir(worktree);
    await fsp.writeFile(path.join(worktree, CONFIG_FILE), JSON.stringify({ repo: path.join(tmp, 'repo.git') }));
    const repo = await Repository.open({ worktree });
    await repo.ensureCreated();
    report.objectsFetched = (await fetchPack(repo, endpoint, [...new Set(advertisement.refs.values())], options)).objects;
    for (const machine of [...machines.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      for (const ref of [...(await repo.refs.list('refs/tags/')).keys(), NOTES_REF, SNAPSHOT_REF]) await repo.refs.delete(ref);
      await adoptMachine(repo, machine);
      const verified = await verifyRepository(repo, { onProgress: options.onVerified });
      report.machines.push({ machine: machine.name, ...verified });
      report.ok &&= verified.ok;
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return report;
}
