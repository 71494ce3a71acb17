import { promises as fsp } from 'node:fs';

export const OPLOG = 'oplog.jsonl';
const MAX_BYTES = 1024 * 1024;

export interface OpRecord {
  time: string;
  op: string;
  args: Record<string, unknown>;
  commits: string[];
  durationMs: number;
  outcome: 'ok' | 'error';
  error?: string;
}

/**
 * Appends one JSON line per operation. At 1 MiB the log is rotated to `oplog.1.jsonl` (one
 * generation kept), so it never grows without bound.
 */
export async function appendOp(file: string, record: OpRecord): Promise<void> {
  const stat = await fsp.stat(file).catch(() => undefined);
  if (stat && stat.size > MAX_BYTES) await fsp.rename(file, file.replace(/\.jsonl$/, '.1.jsonl'));
  await fsp.appendFile(file, `${JSON.stringify(record)}\n`);
}

export async function readOps(file: string): Promise<OpRecord[]> {
  const texts = await Promise.all([fsp.readFile(file.replace(/\.jsonl$/, '.1.jsonl'), 'utf8').catch(() => ''), fsp.readFile(file, 'utf8').catch(() => '')]);
  const records: OpRecord[] = [];
  for (const line of texts.join('').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as OpRecord);
    } catch {
      // A line cut short by a crash is skipped.
    }
  }
  return records;
}
