import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/index.js';
import { diskFiles, expectSameFiles, fingerprint, fsck, git, gitTreeFiles, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-test-', (s) => (sb = s), { setHome: true });

/** A tree with every kind of entry the issue names. */
async function awkwardTree(root: string): Promise<void> {
  await writeTree(root, {
    'README.md': '# project\n',
    'src/deep/nested/dir/leaf.ts': 'export const leaf = 1;\n',
    'bin/tool.sh': '#!/bin/sh\necho hi\n',
    'assets/blob.bin': Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) % 256)),
    'ünïcødé/файл 名前.txt': 'unicode\n',
    'with space/a file.txt': 'spaces\n',
    'empty.txt': '',
    '.gitignore': 'build/\n*.log\n!keep.log\n!fixtures/node_modules/\n',
    'build/out.js': 'ignored build output\n',
    'debug.log': 'ignored\n',
    'keep.log': 'kept by negation\n',
    'node_modules/dep/index.js': 'ignored by default\n',
    'fixtures/node_modules/pkg/index.js': 're-included fixture\n',
    'vendor/lib/.git/HEAD': 'ref: refs/heads/main\n',
    'vendor/lib/lib.c': 'int main(){}\n',
  });
  await fsp.chmod(path.join(root, 'bin/tool.sh'), 0o755);
  await fsp.symlink('../README.md', path.join(root, 'src/readme-link'));
  await fsp.symlink('/definitely/outside', path.join(root, 'dangling'));
  execFileSync('git', ['init', '-q', root]);
}

/** What native git should see: the disk minus ignored paths and every .git. */
function recordedOnDisk(root: string) {
  const ignored = new Set(['build', 'debug.log', '.git', 'node_modules']);
  return diskFiles(root, (rel, name) => name === '.git' || ignored.has(rel) || rel === 'node_modules');
}

describe('snapshot', () => {
  test('records every kind of entry so native git reads back the same bytes and modes', async () => {
    await awkwardTree(sb.worktree);
    const userGitBefore = await fingerprint(path.join(sb.worktree, '.git'));
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const result = await sg.snapshot({ message: 'first' });

    expect(result.created).toBe(true);
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(result.skipped).toEqual([]);
    fsck(sg.repoPath);
    const recorded = gitTreeFiles(sg.repoPath, 'refs/heads/snapshots');
    expectSameFiles(recorded, await recordedOnDisk(sb.worktree));
    expect(recorded.get('bin/tool.sh')!.mode).toBe('100755');
    expect(recorded.get('src/readme-link')!.mode).toBe('120000');
    expect(recorded.get('src/readme-link')!.content.toString()).toBe('../README.md');
    expect(recorded.has('fixtures/node_modules/pkg/index.js')).toBe(true);
    expect(recorded.has('vendor/lib/lib.c')).toBe(true);
    expect([...recorded.keys()].some((p) => p.split('/').includes('.git'))).toBe(false);
    expect(result.changes).toEqual({ added: recorded.size, modified: 0, deleted: 0 });
    expect(await fingerprint(path.join(sb.worktree, '.git'))).toBe(userGitBefore);
  });

  test('the shadow repo lives outside the tree, mode 0700, with its own git config', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.snapshot();
    expect(sg.repoPath.startsWith(sb.home)).toBe(true);
    expect((await fsp.stat(sg.repoPath)).mode & 0o777).toBe(0o700);
    expect(git(sg.repoPath, ['config', 'core.filemode']).trim()).toBe('true');
    expect(git(sg.repoPath, ['config', 'core.symlinks']).trim()).toBe('true');
    expect(git(sg.repoPath, ['rev-parse', '--is-bare-repository']).trim()).toBe('true');
  });

  test('no commit when nothing changed; counts added, modified and deleted', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a', 'b.txt': 'b', 'c/d.txt': 'd' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    const again = await sg.snapshot();
    expect(again.created).toBe(false);
    expect(again.commit).toBe(first.commit);

    await writeTree(sb.worktree, { 'a.txt': 'A!', 'e.txt': 'new' });
    await fsp.rm(path.join(sb.worktree, 'c'), { recursive: true });
    const second = await sg.snapshot({ message: 'edit' });
    expect(second.created).toBe(true);
    expect(second.changes).toEqual({ added: 1, modified: 1, deleted: 1 });
    expect(git(sg.repoPath, ['rev-parse', `${second.commit}^`]).trim()).toBe(first.commit);
    const log = git(sg.repoPath, ['log', '--format=%s%n%(trailers:key=Shadowgit-Trigger,valueonly)']);
    expect(log).toContain('edit');
    expect(log).toContain('manual');
    fsck(sg.repoPath);
  });

  test('a chmod-only change and a same-size rewrite are both recorded', async () => {
    await writeTree(sb.worktree, { 'x.sh': 'echo 1\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.snapshot();
    await fsp.chmod(path.join(sb.worktree, 'x.sh'), 0o755);
    const chmodded = await sg.snapshot();
    expect(chmodded.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
    await fsp.writeFile(path.join(sb.worktree, 'x.sh'), 'echo 2\n');
    const rewritten = await sg.snapshot();
    expect(rewritten.created).toBe(true);
    expect(git(sg.repoPath, ['show', `${rewritten.commit}:x.sh`])).toBe('echo 2\n');
  });

  test('special files are skipped with a reason and the snapshot completes', async () => {
    await writeTree(sb.worktree, { 'ok.txt': 'fine' });
    execFileSync('mkfifo', [path.join(sb.worktree, 'pipe')]);
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const result = await sg.snapshot();
    expect(result.created).toBe(true);
    expect(result.skipped).toEqual([{ path: 'pipe', reason: 'not a regular file, directory or symlink' }]);
    expect([...gitTreeFiles(sg.repoPath, result.commit).keys()]).toEqual(['ok.txt']);
  });

  test('.shadowgitignore and config excludes apply; a bad config names the line and key', async () => {
    await writeTree(sb.worktree, {
      '.shadowgitignore': 'secret.txt\n',
      '.shadowgit': '{\n  // comments allowed\n  "exclude": ["tmp/"]\n}\n',
      'secret.txt': 's',
      'tmp/x': 'x',
      'kept.txt': 'k',
    });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const result = await sg.snapshot();
    expect([...gitTreeFiles(sg.repoPath, result.commit).keys()].sort()).toEqual(['.shadowgit', '.shadowgitignore', 'kept.txt']);

    await writeTree(sb.worktree, { '.shadowgit': '{\n  "exclude": [],\n  "retension": {}\n}\n' });
    await expect(ShadowGit.open({ worktree: sb.worktree })).rejects.toThrow(/\.shadowgit:3: unknown key "retension"/);
  });
});

describe('snapshots an agent hook asked for', () => {
  test('carry the agent as trailers native git reads, and a prompt records even when nothing changed', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    const provenance = { agent: 'claude', session: 'sess-1', event: 'UserPromptSubmit', promptId: 'p\n1' };
    const prompt = await sg.snapshot({ trigger: 'agent-prompt', message: 'before: fix it', provenance, recordUnchanged: true });
    expect(prompt.created).toBe(true);
    const gitdir = sg.repoPath;
    expect(git(gitdir, ['rev-parse', `${prompt.commit}^{tree}`])).toBe(git(gitdir, ['rev-parse', `${first.commit}^{tree}`]));
    expect(git(gitdir, ['log', '-1', '--format=%(trailers:key=Shadowgit-Agent,key=Shadowgit-Session,key=Shadowgit-Event,key=Shadowgit-Prompt,valueonly,separator=|)', prompt.commit]).trim()).toBe('claude|sess-1|UserPromptSubmit|p 1');
    expect((await sg.resolve(prompt.id)).agent).toEqual({ agent: 'claude', session: 'sess-1', event: 'UserPromptSubmit', promptId: 'p 1' });
    expect((await sg.resolve(first.id)).agent).toBeUndefined();
    // Without recordUnchanged an unchanged tree records nothing, agent or not.
    expect((await sg.snapshot({ trigger: 'agent-tool', provenance: { ...provenance, event: 'PreToolUse', tool: 'Bash' } })).created).toBe(false);
    fsck(gitdir);
  });
});

describe('an ignore file whose rules cannot be read', () => {
  test('is recorded, and the snapshot that reads its directory says its rules were not applied (a symlinked .gitignore: git does not follow it either)', async () => {
    await writeTree(sb.worktree, { 'rules.txt': 'secret.txt\n', 'secret.txt': 'kept\n', 'sub/a.txt': 'a\n' });
    await fsp.symlink('../rules.txt', path.join(sb.worktree, 'sub/.gitignore'));
    await fsp.writeFile(path.join(sb.worktree, 'sub/secret.txt'), 'recorded: the rules were not read\n');
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    expect(first.warnings).toEqual([expect.stringMatching(/^the ignore file sub\/\.gitignore is recorded, but its rules were not applied \(not a regular file\), so files it would ignore were recorded too/)]);
    const recorded = git(sg.repoPath, ['ls-tree', '-r', '--name-only', first.commit]).trim().split('\n');
    expect(recorded).toEqual(expect.arrayContaining(['sub/.gitignore', 'sub/secret.txt', 'secret.txt']));
    // Said whenever its directory is read again: not for a snapshot taken whole from the stat cache.
    expect((await sg.snapshot()).warnings).toEqual([]);
    await fsp.writeFile(path.join(sb.worktree, 'sub/b.txt'), 'b\n');
    expect((await sg.snapshot()).warnings).toEqual([expect.stringMatching(/^the ignore file sub\/\.gitignore is recorded/)]);
    // A rollback's safety snapshot says so too (its warnings reach the report, and the CLI).
    await fsp.writeFile(path.join(sb.worktree, 'sub/c.txt'), 'c\n');
    const back = await sg.rollback(first.id);
    expect(back.preRollback?.created).toBe(true);
    expect(back.warnings).toEqual([expect.stringMatching(/^the ignore file sub\/\.gitignore is recorded/)]);
  });
});
