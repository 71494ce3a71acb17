/** One row of the reliability table, and where the full run collects them. */
import { appendFileSync } from 'node:fs';

export interface ScenarioRow {
  scenario: string;
  trials: number;
  failures: number;
  snapshotsLost: number;
  bytesLost: number;
  /** The first few failures, said plainly, for the log (not the table). */
  notes: string[];
  /** Cases that could not run here, with the reason (printed, never counted as passes). */
  skipped?: string[];
}

export function emptyRow(scenario: string): ScenarioRow {
  return { scenario, trials: 0, failures: 0, snapshotsLost: 0, bytesLost: 0, notes: [] };
}

/** Counts one trial; `problems` empty means it passed. */
export function tally(row: ScenarioRow, problems: string[], lost: { snapshots?: number; bytes?: number } = {}): void {
  row.trials += 1;
  row.snapshotsLost += lost.snapshots ?? 0;
  row.bytesLost += lost.bytes ?? 0;
  if (problems.length === 0) return;
  row.failures += 1;
  if (row.notes.length < 8) row.notes.push(problems.join('; '));
}

/**
 * Hands a finished row to the full run's table (FAULTS_RESULTS names a JSON-lines file) and
 * prints its failures and skips, so they are seen even in a plain jest run.
 */
export function publish(row: ScenarioRow): ScenarioRow {
  if (process.env.FAULTS_RESULTS) appendFileSync(process.env.FAULTS_RESULTS, `${JSON.stringify(row)}\n`);
  const lines = [...row.notes.map((n) => `  failure: ${n}`), ...(row.skipped ?? []).map((s) => `  skipped: ${s}`)];
  if (lines.length > 0) process.stderr.write(`${row.scenario} (${row.failures}/${row.trials} failed)\n${lines.join('\n')}\n`);
  return row;
}
