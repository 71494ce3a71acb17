// A 200 MiB file of zeros through snapshot and rollback with the real CLI, in `npm test`: its
// loose object is small on disk, only its header says it is large. Memory is measured by the
// process itself. (The 2 GiB round trip is in test/large, `npm run test:large`.)
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { BIN, git, makeSandbox, type Sandbox } from '../helpers/sandbox.js';
import { fileId, MIB, RSS_LIMIT_KIB, runMeasured, stamp } from '../helpers/huge.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('sg-huge-');
});
afterAll(async () => {
  await sb.cleanup();
});

test('a 200 MiB file of zeros, under 1 MiB deflated, is still inflated as a stream when rolled back', async () => {
  const file = path.join(sb.worktree, 'zeros.img');
  closeSync(openSync(file, 'w'));
  spawnSync('truncate', ['-s', String(200 * MIB), file]);
  const zeros = await fileId(file);
  const first = runMeasured(sb, ['snapshot', '-m', 'zeros']);
  const repo = JSON.parse(spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: sb.worktree, env: sb.env, encoding: 'utf8' }).stdout).repo as string;
  expect((git(repo, ['rev-parse', `${first.json.commit}:zeros.img`]) as string).trim()).toBe(zeros);
  // Small on disk: only its header says it is large.
  expect(statSync(path.join(repo, 'objects', zeros.slice(0, 2), zeros.slice(2))).size).toBeLessThan(MIB);

  stamp(file, 0, 7);
  runMeasured(sb, ['snapshot', '-m', 'stamped']);
  const rollback = runMeasured(sb, ['rollback', first.json.id]);
  expect(rollback.json.writtenPaths).toContain('zeros.img');
  // Inflated whole it took ~470 MiB (the content twice, plus its inflate buffers).
  expect(rollback.peakRssKiB).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  expect(await fileId(file)).toBe(zeros);
}, 5 * 60_000);
