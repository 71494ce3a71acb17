import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, fsck, gitTreeFiles, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-crash-', (s) => (sb = s));

const files = (root: string) => diskFiles(root, (_rel, name) => name === '.git' || name === 'node_modules');

describe('a rollback killed half-way', () => {
  test('leaves a journal; the next command records the half-written state and finishes it', async () => {
    const v1: Record<string, string> = {};
    for (let i = 0; i < 10; i++) v1[`f${i}.txt`] = `version one ${i}`;
    await writeTree(sb.worktree, v1);
    const target = runJson(sb, ['snapshot']);
    const targetFiles = await files(sb.worktree);
    const v2: Record<string, string> = {};
    for (let i = 0; i < 10; i++) v2[`f${i}.txt`] = `version two ${i}`;
    await writeTree(sb.worktree, v2);
    const before = await files(sb.worktree);

    const killed = runCli(sb, ['rollback', target.id, '--yes'], { env: { SHADOWGIT_FAULT: 'worktree-file:4' } });
    expect(killed.code).not.toBe(0);
    const { repo } = runJson(sb, ['status']);
    await expect(fsp.access(path.join(repo, 'shadowgit', 'journal.json'))).resolves.toBeUndefined();

    // The finished rollback's tree is its target, recorded already: the snapshot records nothing.
    const next = runJson(sb, ['snapshot']);
    expect(next).toMatchObject({ created: false, id: target.id, commit: target.commit });
    expectSameFiles(await files(sb.worktree), targetFiles);
    await expect(fsp.access(path.join(repo, 'shadowgit', 'journal.json'))).rejects.toThrow();
    const list: Array<{ trigger: string; commit: string }> = runJson(sb, ['list']);
    const triggers = list.map((s) => s.trigger);
    // Files are written concurrently, so the kill may come before any rename finished; the
    // half-written state is recorded only when it differs from the pre-rollback snapshot.
    expect([['interrupted', 'pre-rollback', 'manual'], ['pre-rollback', 'manual']]).toContainEqual(triggers);
    expectSameFiles(gitTreeFiles(repo, next.commit), targetFiles);
    // The state before the rollback is intact in its pre-rollback snapshot.
    expectSameFiles(gitTreeFiles(repo, list[triggers.indexOf('pre-rollback')]!.commit), before);
    const interrupted = list.find((s) => s.trigger === 'interrupted');
    if (interrupted) {
      for (const [file, entry] of gitTreeFiles(repo, interrupted.commit)) {
        expect([before.get(file)!.content.toString(), targetFiles.get(file)!.content.toString()]).toContain(entry.content.toString());
      }
    }
    fsck(repo);
  });
});
