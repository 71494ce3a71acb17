import { jest } from '@jest/globals';
import { Volume, createFsFromVolume } from 'memfs';

// The op log is plain file appends: an in-memory filesystem shows its rotation exactly.
const vol = new Volume();
const memfs = createFsFromVolume(vol);
jest.unstable_mockModule('node:fs', () => ({ ...memfs, default: memfs, promises: memfs.promises }));
const { appendOp, readOps } = await import('../../src/engine/store/oplog.js');

const record = (i: number) => ({ time: new Date(0).toISOString(), op: 'snapshot', args: { i, pad: 'x'.repeat(2000) }, commits: [], durationMs: 1, outcome: 'ok' as const });

describe('operation log', () => {
  beforeEach(() => {
    vol.reset();
    vol.mkdirSync('/state', { recursive: true });
  });

  test('appends one JSON line per operation and reads them back in order', async () => {
    for (let i = 0; i < 3; i++) await appendOp('/state/oplog.jsonl', record(i));
    const ops = await readOps('/state/oplog.jsonl');
    expect(ops.map((o) => o.args.i)).toEqual([0, 1, 2]);
    expect(String(vol.readFileSync('/state/oplog.jsonl')).split('\n').filter(Boolean)).toHaveLength(3);
  });

  test('rotates past 1 MiB and never keeps more than two generations', async () => {
    for (let i = 0; i < 1200; i++) await appendOp('/state/oplog.jsonl', record(i));
    const files = vol.readdirSync('/state').sort();
    expect(files).toEqual(['oplog.1.jsonl', 'oplog.jsonl']);
    const total = files.reduce((sum, f) => sum + vol.statSync(`/state/${f}`).size, 0);
    expect(total).toBeLessThan(2.1 * 1024 * 1024);
    const ops = await readOps('/state/oplog.jsonl');
    expect(ops[ops.length - 1]!.args.i).toBe(1199);
  });

  test('skips a line cut short by a crash', async () => {
    await appendOp('/state/oplog.jsonl', record(1));
    vol.appendFileSync('/state/oplog.jsonl', '{"time":"2026');
    expect((await readOps('/state/oplog.jsonl')).map((o) => o.args.i)).toEqual([1]);
  });
});
