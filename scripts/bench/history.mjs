// Long snapshot histories for the scale bench (issue #22), made with native `git fast-import` in
// shadowgit's commit format: thousands of snapshots in seconds, where recording them one by one
// would take hours. Needs node and git only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prng } from './tree.mjs';
import { gitEnv } from './measure.mjs';

export const SNAPSHOT_REF = 'refs/heads/snapshots';
const ID_ALPHABET = 'klmnopqrstuvwxyz';

/**
 * Appends `count` snapshots to the chain of the shadow repository `gitdir` (a real one: made by
 * `shadowgit snapshot`, so its ref, config and state files are shadowgit's own). Snapshot i
 * rewrites `history/h<i mod files>.txt`, with Shadowgit-Id (8 letters k–z, unique),
 * Shadowgit-Trigger and Shadowgit-Changes trailers as src/engine/snapshot/history.ts reads them,
 * committer dates `interval` seconds apart ending now. Every `agentEvery`th snapshot (default 4;
 * 0 for none) is an agent hook's, with agent, session and event trailers, rotating through
 * `sessions` sessions (default 50). `loose` (default true) unpacks fast-import's pack, as shadowgit
 * keeps objects loose until gc. With `worktree`, the touched files are written there as the new
 * tip has them, so the working tree matches the latest snapshot.
 * Returns the new snapshots oldest first: `ids` and `commits`.
 */
export function makeHistory(gitdir, count, { seed = count, files = 20, interval = 30, agentEvery = 4, sessions = 50, loose = true, worktree } = {}) {
  const git = (args, input) => execFileSync('git', ['--git-dir', gitdir, ...args], { env: gitEnv, input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const base = git(['rev-parse', SNAPSHOT_REF]).trim();
  const random = prng(seed);
  const used = new Set();
  const newId = () => {
    for (;;) {
      let id = '';
      for (let i = 0; i < 8; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
  const start = Math.floor(Date.now() / 1000) - count * interval;
  const ids = [];
  const latest = new Map();
  const chunks = [];
  for (let i = 0; i < count; i++) {
    const id = newId();
    ids.push(id);
    const file = `history/h${i % files}.txt`;
    const content = `version ${i} of ${file}\n`;
    const changes = latest.has(file) ? '+0 ~1 -0' : '+1 ~0 -0';
    latest.set(file, content);
    const byAgent = agentEvery > 0 && i % agentEvery === 0;
    const trigger = byAgent ? (i % (agentEvery * 3) === 0 ? 'agent-prompt' : 'agent-edit') : 'watch';
    const trailers = [`Shadowgit-Id: ${id}`, `Shadowgit-Trigger: ${trigger}`, `Shadowgit-Changes: ${changes}`];
    if (byAgent) {
      const session = `session-${String(Math.floor(i / agentEvery) % sessions).padStart(4, '0')}-${'0123456789abcdef'.repeat(2)}`;
      trailers.push('Shadowgit-Agent: claude', `Shadowgit-Session: ${session}`, `Shadowgit-Event: ${trigger === 'agent-prompt' ? 'UserPromptSubmit' : 'PostToolUse'}`);
    }
    const message = `${trigger} snapshot ${i + 1}\n\n${trailers.join('\n')}\n`;
    chunks.push(
      `commit ${SNAPSHOT_REF}\nmark :${i + 1}\ncommitter shadowgit <shadowgit@localhost> ${start + i * interval} +0000\n` +
        `data ${Buffer.byteLength(message)}\n${message}${i === 0 ? `from ${base}\n` : ''}` +
        `M 100644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  const marks = path.join(gitdir, `bench-marks-${process.pid}`);
  const packDir = path.join(gitdir, 'objects', 'pack');
  const packsBefore = new Set(existsSync(packDir) ? readdirSync(packDir) : []);
  try {
    git(['fast-import', '--quiet', `--export-marks=${marks}`], chunks.join(''));
    const byMark = new Map(readFileSync(marks, 'utf8').trim().split('\n').map((line) => line.slice(1).split(' ').map((v, k) => (k === 0 ? Number(v) : v))));
    const commits = ids.map((_, i) => byMark.get(i + 1));
    if (git(['rev-parse', SNAPSHOT_REF]).trim() !== commits[count - 1]) throw new Error(`fast-import left ${SNAPSHOT_REF} elsewhere than the last generated commit`);
    if (loose) {
      // Unpacked from outside the repository, else unpack-objects finds every object already there and writes none.
      for (const name of readdirSync(packDir).filter((n) => n.endsWith('.pack') && !packsBefore.has(n))) {
        const aside = path.join(gitdir, `${name}.aside`);
        renameSync(path.join(packDir, name), aside);
        rmSync(path.join(packDir, name.replace(/\.pack$/, '.idx')));
        execFileSync('git', ['--git-dir', gitdir, 'unpack-objects', '-q'], { env: gitEnv, input: readFileSync(aside), maxBuffer: 1 << 30 });
        rmSync(aside);
      }
    }
    if (worktree) {
      for (const [file, content] of latest) {
        mkdirSync(path.dirname(path.join(worktree, file)), { recursive: true });
        writeFileSync(path.join(worktree, file), content);
      }
    }
    return { ids, commits };
  } finally {
    rmSync(marks, { force: true });
  }
}
