import type { CheckoutReport } from '../reports.js';
import type { Repository } from '../store/repo.js';
import { checkCriticalFiles, checkOnDisk, ContentChecker, HealthHistory, type SnapshotRef } from './doctor.js';

export interface RecoverReport {
  /** Files brought back, each with the snapshot its healthy copy came from. */
  restored: Array<{ path: string; problem: string; from: SnapshotRef }>;
  /** Damaged files no snapshot holds a healthy copy of. */
  unrecoverable: Array<{ path: string; problem: string }>;
  /** Named files that were healthy already (left alone). */
  healthy: string[];
  /** One restore per source snapshot, each after its own pre-restore snapshot. */
  restores: CheckoutReport[];
}

/** The facade's restore: it takes the lock, snapshots the state before, and logs the operation. */
export type RestoreFiles = (rev: string, paths: string[], options: { cwd: string }) => Promise<CheckoutReport>;

/**
 * Restores each damaged critical file (or each of `paths`, worktree-relative, whether critical
 * or not) from the newest snapshot where it was healthy, through the facade's `restore`, so a
 * pre-restore snapshot keeps the damaged state too.
 */
export async function recoverFiles(repo: Repository, restore: RestoreFiles, paths?: string[]): Promise<RecoverReport> {
  await repo.requireExisting();
  const checker = new ContentChecker();
  const damaged = paths
    ? await Promise.all(paths.map(async (p) => ({ path: p, problem: await checkOnDisk(repo, checker, p) })))
    : await checkCriticalFiles(repo, checker);
  const report: RecoverReport = { restored: [], unrecoverable: [], healthy: [], restores: [] };
  const history = new HealthHistory(repo, checker);
  const bySnapshot = new Map<string, { from: SnapshotRef; files: Array<{ path: string; problem: string }> }>();
  for (const file of damaged) {
    if (!file.problem) {
      if (paths) report.healthy.push(file.path);
      continue;
    }
    const source = await history.newestHealthy(file.path);
    if (!source) {
      report.unrecoverable.push({ path: file.path, problem: file.problem });
      continue;
    }
    const group = bySnapshot.get(source.commit) ?? { from: { id: source.id, commit: source.commit, date: source.date.toISOString() }, files: [] };
    group.files.push({ path: file.path, problem: file.problem });
    bySnapshot.set(source.commit, group);
  }
  for (const { from, files } of bySnapshot.values()) {
    report.restores.push(await restore(from.commit, files.map((f) => f.path), { cwd: repo.worktree }));
    for (const f of files) report.restored.push({ ...f, from });
  }
  return report;
}
