import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { appendOp, opRecord, readOps } from '../../src/engine/store/oplog.js';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-oplog-', (s) => (sb = s));

test('the op log rotates past 1 MiB, keeps one generation, skips a torn line, and filters', async () => {
  const file = path.join(sb.dir, 'oplog.jsonl');
  const padding = 'x'.repeat(1000);
  const total = 2500; // ~2.6 MB of records: at least two rotations
  for (let i = 0; i < total; i++) {
    await appendOp(file, opRecord(i % 10 === 0 ? 'guard' : 'snapshot', { i, padding }, Date.now(), i % 10 === 0 ? { commits: [], error: 'exit 1' } : { commits: ['c'.repeat(40)] }));
  }
  const [current, rotated] = await Promise.all([fsp.stat(file), fsp.stat(path.join(sb.dir, 'oplog.1.jsonl'))]);
  expect(current.size).toBeLessThanOrEqual(1024 * 1024 + 2048);
  expect(rotated.size).toBeLessThanOrEqual(1024 * 1024 + 2048);
  expect((await fsp.readdir(sb.dir)).filter((n) => n.startsWith('oplog')).sort()).toEqual(['oplog.1.jsonl', 'oplog.jsonl']);

  await fsp.appendFile(file, '{"time":"2026-'); // a crash mid-append
  await appendOp(file, opRecord('snapshot', { i: total }, Date.now(), { commits: [] }));
  const all = await readOps(file);
  const indexes = all.map((r) => r.args.i as number);
  expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, k) => total + 1 - indexes.length + k)); // the newest, in order
  expect(indexes.length).toBeGreaterThan(1000);
  expect(indexes[indexes.length - 1]).toBe(total); // the record after the torn line survived
  expect(all[all.length - 2]).toMatchObject({ op: 'snapshot', outcome: 'ok', commits: ['c'.repeat(40)] });

  const guards = await readOps(file, { ops: ['guard'], limit: 3 });
  expect(guards.map((r) => r.args.i)).toEqual([total - 30, total - 20, total - 10]);
  expect(guards.every((r) => r.outcome === 'error' && r.error === 'exit 1')).toBe(true);
});
