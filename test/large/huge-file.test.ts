// A 2 GiB file through snapshot, change, snapshot and rollback with the real CLI
// (`npm run test:large`, which CI runs after `npm test`): the file is sparse (real bytes in four
// places) so the run takes tens of seconds, not minutes, yet every byte of it is hashed, deflated,
// inflated and written. Memory is measured by each process itself; native git reads the ids and
// the stored bytes back.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { BIN, git, makeSandbox, type Sandbox } from '../helpers/sandbox.js';
import { fileId, MIB, RSS_LIMIT_KIB, runMeasured, stamp, storedId } from '../helpers/huge.js';

const SIZE = 2 * 1024 ** 3;

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('sg-huge-');
});
afterAll(async () => {
  await sb.cleanup();
});

test('a 2 GiB file: snapshot and rollback stay under 256 MiB of memory and native git reads back the same bytes', async () => {
  const file = path.join(sb.worktree, 'huge.bin');
  closeSync(openSync(file, 'w'));
  // Sparse, with real bytes at the start, the middle and the very end.
  spawnSync('truncate', ['-s', String(SIZE), file]);
  for (const offset of [0, SIZE / 2, SIZE - MIB]) stamp(file, offset, offset / MIB);
  const original = await fileId(file);

  const first = runMeasured(sb, ['snapshot', '-m', 'huge']);
  expect(first.json.created).toBe(true);
  expect(first.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  const repo = JSON.parse(spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' }).stdout).repo as string;
  expect((git(repo, ['rev-parse', `${first.json.commit}:huge.bin`]) as string).trim()).toBe(original);
  expect(Number((git(repo, ['cat-file', '-s', original]) as string).trim())).toBe(SIZE);
  expect(await storedId(repo, original, SIZE)).toBe(original);

  stamp(file, SIZE / 4, 99);
  const changed = await fileId(file);
  const second = runMeasured(sb, ['snapshot', '-m', 'changed']);
  expect(second.json.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
  expect((git(repo, ['rev-parse', `${second.json.commit}:huge.bin`]) as string).trim()).toBe(changed);

  const rollback = runMeasured(sb, ['rollback', first.json.id]);
  expect(rollback.json.written).toBe(1);
  expect(rollback.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(statSync(file).size).toBe(SIZE);
  expect(await fileId(file)).toBe(original);
  // Every object and ref is there and well-formed (the blobs' bytes were proven above).
  git(repo, ['fsck', '--strict', '--connectivity-only', '--no-progress']);
}, 10 * 60_000);
