// gc's deltas against native git (issue #22): 100 versions of a text file made with fast-import,
// packed by gc; native git verifies the packs and reads every object as the engine does, and
// the packs stay within 1.5x of native git gc on a copy. In test:seeded for npm test's time.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsck, git, makeSandbox, rememberEnv, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { ObjectStore } from '../../src/engine/store/objects.js';
import { ShadowGit } from '../../src/shadowgit.js';

let sb: Sandbox;
const restoreHome = rememberEnv('SHADOWGIT_HOME');
afterEach(async () => {
  restoreHome();
  await sb.cleanup();
});

test('gc stores text versions and trees as deltas: packs native git verifies, every object reads back as git reads it, within 1.5x of native git gc', async () => {
  sb = makeSandbox('sg-gc-delta-');
  process.env.SHADOWGIT_HOME = sb.home;
  // Two snapshots of a file in a subdirectory: the stat cache then names that subdirectory's tree
  // too, and the file's versions must still be grouped by their path in the snapshots.
  const guide = Array.from({ length: 100 }, (_, i) => `step ${i}: read the guide\n`).join('');
  await writeTree(sb.worktree, { 'README.md': 'start\n', 'docs/guide/a.md': guide });
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  await sg.snapshot();
  await writeTree(sb.worktree, { 'docs/guide/a.md': `${guide}one more step\n` });
  await sg.snapshot();
  const { repo } = await sg.status();
  const olderGuide = (git(repo, ['rev-parse', 'HEAD~1:docs/guide/a.md']) as string).trim();
  // 100 versions of a 100 KB text file a few lines apart, and of a small file in a deeper directory,
  // committed with native git (fast-import) and unpacked into loose objects, as snapshots leave them.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const line = () => `${Array.from({ length: 6 }, () => Math.floor(random() * 1e6).toString(36)).join(' ')}\n`;
  const lines = Array.from({ length: 3500 }, line);
  const stream: Buffer[] = [];
  const data = (content: string | Buffer) => stream.push(Buffer.from(`data ${Buffer.byteLength(content)}\n`), Buffer.from(content), Buffer.from('\n'));
  for (let v = 0; v < 100; v++) {
    for (let e = 0; e < 4; e++) lines[Math.floor(random() * lines.length)] = line();
    stream.push(Buffer.from(`commit refs/heads/versions\ncommitter T <t@example.com> ${1_700_000_000 + v} +0000\n`));
    data(`version ${v}\n`);
    stream.push(Buffer.from('M 100644 inline big.txt\n'));
    data(lines.join(''));
    stream.push(Buffer.from('M 100644 inline src/lib/small.txt\n'));
    data(`small ${v}\n`);
    // Neighbours that never change, so that the tree holding small.txt is worth a delta.
    for (let n = 0; n < 8 && v === 0; n++) {
      stream.push(Buffer.from(`M 100644 inline src/lib/neighbour-${n}.txt\n`));
      data(`neighbour ${n}\n`);
    }
  }
  execFileSync('git', ['--git-dir', repo, 'fast-import', '--quiet'], { input: Buffer.concat(stream) });
  const [imported] = (await fsp.readdir(path.join(repo, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
  const pack = await fsp.readFile(path.join(repo, 'objects', 'pack', imported!));
  for (const ext of ['.pack', '.idx']) await fsp.rm(path.join(repo, 'objects', 'pack', imported!.replace('.pack', ext)));
  execFileSync('git', ['--git-dir', repo, 'unpack-objects', '-q'], { input: pack });
  const native = path.join(sb.dir, 'native.git');
  await fsp.cp(repo, native, { recursive: true });

  await sg.gc({ graceMs: 0 });
  fsck(repo);
  const packs = (await fsp.readdir(path.join(repo, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
  const verified = packs.map((name) => git(repo, ['verify-pack', '-v', path.join(repo, 'objects', 'pack', name)]) as string).join('');
  // verify-pack lists a delta with its depth and base: "<id> <type> <size> <packed> <offset> <depth> <base>".
  const deltas = verified.split('\n').filter((l) => / \d+ [0-9a-f]{40}$/.test(l));
  expect(deltas.filter((l) => l.includes(' blob ')).length).toBeGreaterThanOrEqual(90);
  expect(deltas.filter((l) => l.includes(' tree ')).length).toBeGreaterThan(0);
  expect(deltas.some((l) => l.startsWith(`${olderGuide} blob `))).toBe(true);
  expect(Math.max(...deltas.map((l) => Number(l.split(' ').at(-2))))).toBeLessThanOrEqual(50);

  // Every object, as native git reads it, reads back identical through the engine.
  const all = git(repo, ['cat-file', '--batch-all-objects', '--batch'], { encoding: 'buffer' }) as Buffer;
  const store = new ObjectStore(repo);
  let objects = 0;
  for (let at = 0; at < all.length; objects++) {
    const eol = all.indexOf(10, at);
    const [oid, type, size] = all.toString('latin1', at, eol).split(' ');
    const content = all.subarray(eol + 1, eol + 1 + Number(size));
    const read = await store.read(oid!);
    expect(read.type).toBe(type);
    expect(read.content.equals(content)).toBe(true);
    at = eol + 1 + Number(size) + 1;
  }
  expect(objects).toBeGreaterThan(400);

  execFileSync('git', ['--git-dir', native, 'gc', '-q'], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  const packBytes = async (gitdir: string) => {
    const dir = path.join(gitdir, 'objects', 'pack');
    let total = 0;
    for (const name of (await fsp.readdir(dir)).filter((n) => n.endsWith('.pack'))) total += (await fsp.stat(path.join(dir, name))).size;
    return total;
  };
  expect(await packBytes(repo)).toBeLessThanOrEqual(1.5 * (await packBytes(native)));
}, 120_000);
