/**
 * Concurrent writers: four processes run snapshot / approve / list / status in loops on one
 * working tree while a fifth edits files. No snapshot may be lost, the chain must stay linear,
 * no object may be corrupt, and every refusal must be the clear "another shadowgit is writing"
 * message (a wait that then succeeds is fine).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { makeSandbox, writeTree } from '../../helpers/sandbox.js';
import { diskTree, fsckStrict, makeScratch, refsOf, snapshotChain } from './native.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { seededRandom, shadowgit, type Run } from './run.js';

const OPS = ['snapshot', 'approve', 'list', 'status'] as const;
const LOCKED = /^shadowgit: another shadowgit is writing to this repository \(.+\); try again when it finishes\.$/;

export async function concurrencyScenario(options: { rounds: number; seed: number; lockTimeoutMs?: number }): Promise<ScenarioRow> {
  const row = emptyRow('concurrent writers (4 processes + an editor)');
  const sandbox = makeSandbox('sg-concurrent-');
  const work = sandbox.worktree;
  // Short enough that some waits time out, so the refusal path is exercised too.
  const env = { ...sandbox.env, SHADOWGIT_LOCK_TIMEOUT: String(options.lockTimeoutMs ?? 1500) };
  try {
    await writeTree(work, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`src/f${i}.txt`, `initial ${i}\n`])));
    const created: Array<{ commit: string; by: string }> = [];
    const tags: Array<{ ref: string; commit: string }> = [];
    let running = true;

    const random = seededRandom(options.seed);
    const editor = (async () => {
      for (let n = 0; running; n++) {
        const i = Math.floor(random() * 30);
        const file = path.join(work, 'src', `f${i}.txt`);
        if (random() < 0.2) await fsp.rm(file, { force: true });
        else await fsp.writeFile(file, `edit ${n} of f${i}\n`.repeat(1 + Math.floor(random() * 50)));
        await new Promise((resolve) => setTimeout(resolve, 5 + random() * 20));
      }
    })();

    const judge = (op: string, run: Run, extra: () => string[]) => {
      const problems: string[] = [];
      if (run.code === 0) problems.push(...extra());
      else if (!(op === 'snapshot' || op === 'approve') || !LOCKED.test(run.stderr.trim())) problems.push(`${op} failed (exit ${run.code ?? run.signal}): ${run.stderr.trim().slice(0, 300)}`);
      tally(row, problems);
    };
    const worker = async (w: number) => {
      for (let r = 0; r < options.rounds; r++) {
        const op = OPS[(w + r) % OPS.length]!;
        const args = op === 'approve' ? ['approve', `w${w} r${r}`, '--json'] : op === 'snapshot' ? ['snapshot', '-m', `w${w} r${r}`, '--json'] : [op, '--json'];
        const run = await shadowgit(args, { cwd: work, env });
        judge(op, run, () => {
          try {
            const out = JSON.parse(run.stdout);
            if (op === 'snapshot' && out.created) created.push({ commit: out.commit, by: `w${w} r${r}` });
            if (op === 'approve') tags.push({ ref: `refs/tags/${out.tag}`, commit: out.commit });
            return [];
          } catch {
            return [`${op} printed something that is not one JSON document: ${run.stdout.slice(0, 200)}`];
          }
        });
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    running = false;
    await editor;

    // The shared state, judged once: counted as one more trial.
    const problems: string[] = [];
    const last = await shadowgit(['snapshot', '--json'], { cwd: work, env });
    if (last.code !== 0) problems.push(`the final snapshot failed: ${last.stderr.trim()}`);
    const gitdir = JSON.parse((await shadowgit(['status', '--json'], { cwd: work, env })).stdout).repo as string;
    const chain = await snapshotChain(gitdir);
    const onChain = new Set(chain.map((c) => c.commit));
    const lost = created.filter((c) => !onChain.has(c.commit));
    if (lost.length > 0) problems.push(`${lost.length} reported snapshot(s) are not on the chain (${lost.slice(0, 3).map((c) => c.by).join(', ')})`);
    if (chain.some((c) => c.parents > 1) || chain.filter((c) => c.parents === 0).length !== 1) problems.push('the snapshot chain is not linear');
    const refs = await refsOf(gitdir);
    const lostTags = tags.filter((t) => !refs.has(t.ref) || !onChain.has(t.commit));
    if (lostTags.length > 0) problems.push(`${lostTags.length} approval(s) are missing or point off the chain`);
    const fsck = await fsckStrict(gitdir);
    if (!fsck.ok) problems.push(`git fsck --strict: ${fsck.output.slice(0, 300)}`);
    const scratch = await makeScratch(path.join(sandbox.dir, 'scratch.git'));
    if (chain[0]?.tree !== (await diskTree(scratch, work))) problems.push('the last snapshot is not the working tree');
    tally(row, problems, { snapshots: lost.length + lostTags.length });
  } finally {
    await sandbox.cleanup();
  }
  return row;
}
