import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { openForAppend, readFileIfExists, syncDirectory } from '../fsutil.js';

const MAX_BYTES = 1024 * 1024;

/** Every operation the log records; `log --op` accepts exactly these. */
export const OPERATIONS = ['snapshot', 'approve', 'rollback', 'restore', 'undo', 'abandon-interrupted', 'guard', 'safe-edit', 'init', 'prune', 'gc', 'remote-add', 'remote-remove', 'push', 'fetch', 'remote-prune', 'clone'] as const;
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
  await appendJsonLine(file, record);
}

/** Appends `value` as one line of JSON; `durable` fsyncs the file (and its directory, which may have just got it). */
export async function appendJsonLine(file: string, value: unknown, options: { durable?: boolean } = {}): Promise<void> {
  const handle = await openForAppend(file);
  try {
    const { size } = await handle.stat();
    // A line torn by a crash must not swallow this one: start on a fresh line.
    const torn = size > 0 && (await handle.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] !== 0x0a;
    await handle.write(`${torn ? '\n' : ''}${JSON.stringify(value)}\n`);
    if (options.durable) await handle.sync();
  } finally {
    await handle.close();
  }
  if (options.durable) await syncDirectory(path.dirname(file));
}

/** The values of a JSON-lines text; a line cut short by a crash (the last one, without its newline, or any that does not parse) is skipped. */
export function parseJsonLines(text: string): unknown[] {
  const values: unknown[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    if (!line.trim()) continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      // Torn, and followed by later lines.
    }
  }
  return values;
}

export interface ReadOpsOptions {
  /** Only these operations (e.g. ["guard", "rollback"]). */
  ops?: string[];
  /** Only the newest N records (after filtering). */
  limit?: number;
}

/** The logged operations, oldest first, from the rotated generation and the current file. */
export async function readOps(file: string, options: ReadOpsOptions = {}): Promise<OpRecord[]> {
  const texts = await Promise.all([file.replace(/\.jsonl$/, '.1.jsonl'), file].map(async (f) => (await readFileIfExists(f))?.toString('utf8') ?? ''));
  let records = parseJsonLines(texts.join('')) as OpRecord[];
  if (options.ops && options.ops.length > 0) records = records.filter((r) => options.ops!.includes(r.op));
  if (options.limit !== undefined) records = records.slice(Math.max(0, records.length - options.limit));
  return records;
}
