// A long snapshot history made in seconds: `count` commits in shadowgit's commit format
// (Shadowgit-Id, -Trigger, -Changes trailers; every `agentEvery`th one a hook's, with agent,
// session and event trailers) written by native `git fast-import` onto refs/heads/snapshots, on
// top of its current tip. Each commit keeps the tip's tree, so a snapshot or rollback afterwards
// sees the working tree it recorded. Needs node and git only.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { prng } from './tree.mjs';

const ID_ALPHABET = 'klmnopqrstuvwxyz';

/**
 * Appends `count` snapshots to the chain of the shadow repository `gitdir` (it must have a tip:
 * take one `shadowgit snapshot` first). Options: `seed` (ids), `startTime` (unix seconds of the
 * first; default a year ago), `step` (seconds between snapshots, default 30), `agentEvery`
 * (every Nth snapshot is a hook's, default 4; 0 for none), `sessions` (how many agent sessions
 * they rotate through, default 50), `loose` (default true: the objects are unpacked, as shadowgit
 * keeps them until gc; false leaves fast-import's pack). Returns the new tip commit.
 */
export function makeHistory(gitdir, count, options = {}) {
  const git = (args, input) => execFileSync('git', ['--git-dir', gitdir, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
  const tip = git(['rev-parse', '--verify', 'refs/heads/snapshots']);
  const random = prng(options.seed ?? 22);
  const step = options.step ?? 30;
  const agentEvery = options.agentEvery ?? 4;
  const sessions = options.sessions ?? 50;
  let time = options.startTime ?? Math.floor(Date.now() / 1000) - 365 * 24 * 3600;
  const chunks = [];
  for (let i = 0; i < count; i++, time += step) {
    let id = '';
    for (let k = 0; k < 8; k++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
    const byAgent = agentEvery > 0 && i % agentEvery === 0;
    const trigger = byAgent ? (i % (agentEvery * 3) === 0 ? 'agent-prompt' : 'agent-edit') : 'watch';
    const trailers = [`Shadowgit-Id: ${id}`, `Shadowgit-Trigger: ${trigger}`, 'Shadowgit-Changes: +0 ~1 -0'];
    if (byAgent) trailers.push('Shadowgit-Agent: claude', `Shadowgit-Session: session-${String(Math.floor(i / agentEvery) % sessions).padStart(4, '0')}-${'0123456789abcdef'.repeat(2)}`, `Shadowgit-Event: ${trigger === 'agent-prompt' ? 'UserPromptSubmit' : 'PostToolUse'}`);
    const message = `${trigger} snapshot\n\n${trailers.join('\n')}\n`;
    chunks.push(`commit refs/heads/snapshots\ncommitter shadowgit <shadowgit@localhost> ${time} +0000\ndata ${Buffer.byteLength(message)}\n${message}${i === 0 ? `from ${tip}\n` : ''}\n`);
  }
  const packDir = path.join(gitdir, 'objects', 'pack');
  const packsBefore = new Set(existsSync(packDir) ? readdirSync(packDir) : []);
  git(['fast-import', '--quiet', '--force'], chunks.join(''));
  if (options.loose ?? true) {
    // fast-import writes a pack; shadowgit keeps objects loose until gc: unpack it (from outside
    // the repository, else unpack-objects finds every object already there and writes none).
    for (const name of readdirSync(packDir).filter((n) => n.endsWith('.pack') && !packsBefore.has(n))) {
      const aside = path.join(gitdir, `${name}.aside`);
      renameSync(path.join(packDir, name), aside);
      rmSync(path.join(packDir, name.replace(/\.pack$/, '.idx')));
      execFileSync('git', ['--git-dir', gitdir, 'unpack-objects', '-q'], { input: readFileSync(aside), maxBuffer: 1 << 30 });
      rmSync(aside);
    }
  }
  return git(['rev-parse', 'refs/heads/snapshots']);
}
