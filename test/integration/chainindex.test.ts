// The chain index (issue #22) against native git as the oracle: after snapshots, a prune, a
// rollback, an index deleted, cut mid-line or replaced by junk, and a ref moved by native git
// behind shadowgit's back, `list` and resolving a revision give what `git log --first-parent`
// says the chain is, and the index file, once caught up, names exactly that chain.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ShadowGit } from '../../src/index.js';
import { git, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
// Native git makes commits here with no user configuration.
Object.assign(process.env, { GIT_AUTHOR_NAME: 'native', GIT_AUTHOR_EMAIL: 'native@localhost', GIT_COMMITTER_NAME: 'native', GIT_COMMITTER_EMAIL: 'native@localhost' });
useSandbox('sg-chainindex-', (s) => (sb = s), { setHome: true });

/** The chain as native git reads it, newest first: commit and snapshot id (the commit's first 8 characters when it has no id trailer). */
function oracle(gitdir: string): Array<{ commit: string; id: string }> {
  const out: string = git(gitdir, ['log', '--first-parent', '--format=%H %(trailers:key=Shadowgit-Id,valueonly,separator=)', 'refs/heads/snapshots']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, id] = line.split(' ') as [string, string | undefined];
      return { commit, id: id || commit.slice(0, 8) };
    });
}

const indexFile = (sg: ShadowGit) => path.join(sg.repoPath, 'shadowgit', 'chain-index');

/** list, the index file it leaves and resolving ids, hash prefixes and latest~N all agree with the oracle. */
async function expectAgrees(sg: ShadowGit): Promise<void> {
  const chain = oracle(sg.repoPath);
  expect((await sg.list()).map((s) => ({ commit: s.commit, id: s.id }))).toEqual(chain);
  const lines = (await fsp.readFile(indexFile(sg), 'utf8')).split('\n').slice(1, -1);
  expect(lines.map((line) => line.slice(0, 40)).reverse()).toEqual(chain.map((s) => s.commit));
  expect((await sg.list({ limit: 2 })).map((s) => s.commit)).toEqual(chain.slice(0, 2).map((s) => s.commit));
  for (const [k, s] of chain.entries()) {
    if (k > 3 && k < chain.length - 1) continue;
    expect((await sg.resolve(s.id)).commit).toBe(s.commit);
    expect((await sg.resolve(s.commit.slice(0, 12))).commit).toBe(s.commit);
    expect((await sg.resolve(`latest~${k}`)).commit).toBe(s.commit);
  }
  await expect(sg.resolve(`latest~${chain.length}`)).rejects.toMatchObject({ code: 'EBADREV' });
}

let edits = 0;
async function snapshot(sg: ShadowGit): Promise<void> {
  edits++;
  await writeTree(sb.worktree, { [`f${edits % 3}.txt`]: `edit ${edits}\n` });
  expect((await sg.snapshot()).created).toBe(true);
}

describe('chain index', () => {
  test('agrees with native git after snapshots, prune, rollback, damage to the index and refs moved by native git', async () => {
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    for (let i = 0; i < 7; i++) await snapshot(sg);
    await expectAgrees(sg);
    // A snapshot appends one line to the index list left (it is not rebuilt).
    const before = await fsp.readFile(indexFile(sg), 'utf8');
    await snapshot(sg);
    const after = await fsp.readFile(indexFile(sg), 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length).slice(0, 40)).toBe(oracle(sg.repoPath)[0]!.commit);
    await expectAgrees(sg);

    await sg.prune({ policy: { keepLast: 3 }, gc: false });
    await expectAgrees(sg);
    await sg.rollback('latest~2');
    await expectAgrees(sg);

    await fsp.rm(indexFile(sg));
    await expectAgrees(sg);
    const text = await fsp.readFile(indexFile(sg), 'utf8');
    await fsp.writeFile(indexFile(sg), text.slice(0, text.length - 30));
    await expectAgrees(sg);
    await fsp.writeFile(indexFile(sg), 'not an index\n\u0000\u0001junk');
    await expectAgrees(sg);
    // A line of the right shape naming its commit as another snapshot: list reads what it shows and builds the index again.
    const lines = (await fsp.readFile(indexFile(sg), 'utf8')).split('\n');
    lines[2] = `${lines[2]!.slice(0, 41)}zzzzzzzz${lines[2]!.slice(49)}`;
    await fsp.writeFile(indexFile(sg), lines.join('\n'));
    await expectAgrees(sg);
    // The same forgery in a line no command shows or resolves: verify reads every commit and drops the index.
    const forged = (await fsp.readFile(indexFile(sg), 'utf8')).split('\n');
    forged[1] = `${forged[1]!.slice(0, 41)}zzzzzzzz${forged[1]!.slice(49)}`;
    await fsp.writeFile(indexFile(sg), forged.join('\n'));
    expect((await sg.verify()).ok).toBe(true);
    await expect(fsp.access(indexFile(sg))).rejects.toMatchObject({ code: 'ENOENT' });
    await expectAgrees(sg);
    // A line of the right shape, but a line too many: the stale tip is caught up from the ref.
    await fsp.appendFile(indexFile(sg), `${'0'.repeat(40)} zzzzzzzz\t\t\tmanual\t0\t0 0 0\t\t\t\t\tforged\n`);
    await expectAgrees(sg);

    // Native git moves the ref back, then on to commits shadowgit never made (one without an id).
    const chain = oracle(sg.repoPath);
    git(sg.repoPath, ['update-ref', 'refs/heads/snapshots', chain[2]!.commit]);
    await expectAgrees(sg);
    const tree = git(sg.repoPath, ['rev-parse', `${chain[2]!.commit}^{tree}`]).trim();
    const withId = git(sg.repoPath, ['commit-tree', tree, '-p', chain[2]!.commit, '-m', 'by native git\n\nShadowgit-Id: nnnnnnnn\nShadowgit-Trigger: native'], {}).trim();
    const withoutId = git(sg.repoPath, ['commit-tree', tree, '-p', withId, '-m', 'no trailers']).trim();
    git(sg.repoPath, ['update-ref', 'refs/heads/snapshots', withoutId]);
    await expectAgrees(sg);
    expect((await sg.list({ limit: 2 })).map((s) => [s.id, s.trigger, s.message])).toEqual([
      [withoutId.slice(0, 8), 'manual', 'no trailers'],
      ['nnnnnnnn', 'native', 'by native git'],
    ]);
    // And a snapshot on top of them appends to the index again.
    await snapshot(sg);
    await expectAgrees(sg);
  });

  test('random sequences of snapshot, prune, rollback and damage to the index agree with native git', async () => {
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await snapshot(sg);
    const step = fc.oneof(
      fc.constant({ op: 'snapshot' as const }),
      fc.record({ op: fc.constant('prune' as const), keep: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('rollback' as const), back: fc.integer({ min: 0, max: 3 }) }),
      fc.constant({ op: 'delete' as const }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 5 }), async (steps) => {
        for (const s of steps) {
          const length = oracle(sg.repoPath).length;
          if (s.op === 'snapshot') await snapshot(sg);
          else if (s.op === 'prune') await sg.prune({ policy: { keepLast: s.keep }, gc: false });
          else if (s.op === 'rollback') await sg.rollback(`latest~${Math.min(s.back, length - 1)}`);
          else if (s.op === 'delete') await fsp.rm(indexFile(sg), { force: true });
          else {
            const text = await fsp.readFile(indexFile(sg)).catch(() => Buffer.alloc(0));
            await fsp.writeFile(indexFile(sg), text.subarray(0, Math.floor(text.length * s.at)));
          }
          await expectAgrees(sg);
        }
      }),
      { numRuns: 3, seed: 22 },
    );
  });
});
