import { promises as fsp } from 'node:fs';
import type { Rewrites } from './rewrites.js';

export const OPLOG = 'oplog.jsonl';
const MAX_BYTES = 1024 * 1024;

/** Every operation the log records; `log --op` accepts exactly these. */
export const OPERATIONS = ['snapshot', 'approve', 'rollback', 'restore', 'undo', 'abandon-interrupted', 'guard', 'safe-edit', 'prune', 'gc'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface OpRecord {
  time: string;
  /** An Operation (a log written by another version may hold others). */
  op: string;
  args: Record<string, unknown>;
  commits: string[];
  durationMs: number;
  outcome: 'ok' | 'error';
  error?: string;
}

/** The record of an operation that started at `started` (ms) and ends now. */
export function opRecord(op: Operation, args: Record<string, unknown>, started: number, result: { commits: string[]; error?: string }): OpRecord {
  const record: OpRecord = { time: new Date(started).toISOString(), op, args, commits: result.commits, durationMs: Date.now() - started, outcome: result.error === undefined ? 'ok' : 'error' };
  if (result.error !== undefined) record.error = result.error;
  return record;
}

/**
 * Appends one JSON line per operation. Past 1 MiB the log is rotated to `oplog.1.jsonl` (one
 * generation kept), so it never grows without bound.
 */
export async function appendOp(file: string, record: OpRecord): Promise<void> {
  const stat = await fsp.stat(file).catch(() => undefined);
  if (stat && stat.size > MAX_BYTES) await fsp.rename(file, file.replace(/\.jsonl$/, '.1.jsonl'));
  // A line torn by a crash must not swallow this record: start on a fresh line.
  const torn = stat && stat.size > 0 && stat.size <= MAX_BYTES && !(await endsWithNewline(file, stat.size));
  await fsp.appendFile(file, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
}

async function endsWithNewline(file: string, size: number): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 10;
  } finally {
    await handle.close();
  }
}

export interface ReadOpsOptions {
  /** Only these operations (e.g. ["guard", "rollback"]). */
  ops?: string[];
  /** Only the newest N records (after filtering). */
  limit?: number;
}

/** The logged operations, oldest first, from the rotated generation and the current file. */
export async function readOps(file: string, options: ReadOpsOptions = {}): Promise<OpRecord[]> {
  const texts = await Promise.all([fsp.readFile(file.replace(/\.jsonl$/, '.1.jsonl'), 'utf8').catch(() => ''), fsp.readFile(file, 'utf8').catch(() => '')]);
  let records: OpRecord[] = [];
  for (const line of texts.join('').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as OpRecord);
    } catch {
      // A line cut short by a crash is skipped.
    }
  }
  if (options.ops && options.ops.length > 0) records = records.filter((r) => options.ops!.includes(r.op));
  if (options.limit !== undefined) records = records.slice(Math.max(0, records.length - options.limit));
  return records;
}

/** A logged operation with the commits it names as they are named now. */
export interface LoggedOp extends OpRecord {
  /** Per entry of `commits`: the commit naming that snapshot now (a prune may have rewritten it), or null when a prune removed it. */
  currentCommits: Array<string | null>;
}

export function withCurrentCommits(record: OpRecord, rewrites: Rewrites): LoggedOp {
  const commits = Array.isArray(record.commits) ? record.commits : [];
  const current = (commit: string) => {
    const fate = rewrites.follow(commit);
    return 'commit' in fate ? fate.commit : null;
  };
  return { ...record, currentCommits: commits.map(current) };
}
