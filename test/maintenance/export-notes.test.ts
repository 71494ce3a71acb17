import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { diskFiles, expectSameFiles, exportedFiles, git, gitTreeFiles, makeSandbox, runCli, runJson, writeTree, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
afterEach(async () => sb.cleanup());

async function sampleTree(): Promise<void> {
  await writeTree(sb.worktree, { 'src/app.ts': 'export const x = 1;\n', 'bin/tool': '#!/bin/sh\nexit 0\n', 'data/blob.bin': Buffer.from([0, 1, 2, 255, 254]), 'docs/deep/er/readme.md': '# hi\n' });
  await fsp.chmod(path.join(sb.worktree, 'bin/tool'), 0o755);
  await fsp.symlink('../src/app.ts', path.join(sb.worktree, 'docs/app-link.ts'));
}

test('export writes a directory, a .tar and a .tar.gz equal to the snapshot (modes, symlinks); a non-empty target needs --force', async () => {
  sb = makeSandbox('sg-export-');
  await sampleTree();
  const snap = runJson(sb, ['snapshot', '-m', 'release']);
  runJson(sb, ['approve', 'Ready']);
  await writeTree(sb.worktree, { 'src/app.ts': 'changed after the snapshot\n', 'extra.txt': 'not in the snapshot\n' });
  const { repo } = runJson(sb, ['status']);
  const expected = gitTreeFiles(repo, snap.commit);

  const dir = path.join(sb.dir, 'out');
  // A restrictive umask (inherited by the CLI) must not leak into the export's modes.
  const umask = process.umask(0o077);
  let result;
  try {
    result = runJson(sb, ['export', 'Ready', dir]);
  } finally {
    process.umask(umask);
  }
  expect(result).toMatchObject({ id: snap.id, commit: snap.commit, format: 'directory', files: 4, symlinks: 1, out: dir });
  expectSameFiles(await exportedFiles(dir), expected);
  for (const sub of ['docs', 'docs/deep', 'docs/deep/er', 'bin']) expect((await fsp.stat(path.join(dir, sub))).mode & 0o777).toBe(0o755);
  // Files carry the snapshot's date.
  expect((await fsp.stat(path.join(dir, 'src/app.ts'))).mtime.toISOString()).toBe(runJson(sb, ['show', snap.id]).date);

  for (const name of ['snap.tar', 'snap.tar.gz']) {
    const archive = path.join(sb.dir, name);
    expect(runJson(sb, ['export', snap.id, archive]).format).toBe(name.endsWith('.gz') ? 'tar.gz' : 'tar');
    const unpacked = path.join(sb.dir, `unpacked-${name}`);
    await fsp.mkdir(unpacked);
    execFileSync('tar', ['-xf', archive, '-C', unpacked]);
    expectSameFiles(await diskFiles(unpacked), expected);
  }

  // Refusals: a non-empty directory or an existing archive is left as it is.
  await writeTree(dir, { 'mine.txt': 'precious\n' });
  const refused = runCli(sb, ['export', 'latest', dir]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/already exists and is not empty; choose another place, or pass --force/);
  expect(await fsp.readFile(path.join(dir, 'mine.txt'), 'utf8')).toBe('precious\n');
  expect(runCli(sb, ['export', 'latest', path.join(sb.dir, 'snap.tar')]).code).toBe(1);
  // --force replaces the directory with a clean copy.
  runJson(sb, ['export', 'latest', dir, '--force']);
  expectSameFiles(await exportedFiles(dir), expected);
  // An empty directory is fine without --force; a relative OUT is relative to the current directory, -C's when given.
  await fsp.mkdir(path.join(sb.dir, 'empty'));
  const relative = runJson(sb, ['-C', sb.worktree, 'export', 'latest', '../empty'], { cwd: path.dirname(sb.dir) });
  expect(relative.out).toBe(path.join(sb.dir, 'empty'));
  expectSameFiles(await exportedFiles(relative.out), expected);
  expect(runCli(sb, ['export', 'nosuchrev', path.join(sb.dir, 'x')]).stderr).toMatch(/no snapshot, commit or approved revision matches "nosuchrev"/);
});

test('notes are git notes native git reads; show prints message, trailers, note and changed files; prune --no-gc defers reclaiming', async () => {
  sb = makeSandbox('sg-notes-');
  await writeTree(sb.worktree, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
  const first = runJson(sb, ['snapshot', '-m', 'first', '--note', 'Prompt: make it work']);
  expect(first.noted).toBe(true);
  await writeTree(sb.worktree, { 'a.txt': 'a2\n', 'c.txt': 'c\n' });
  await fsp.rm(path.join(sb.worktree, 'b.txt'));
  const transcript = 'user: please refactor\nassistant: done — renamed 3 files\n';
  await writeTree(sb.dir, { 'chat.txt': transcript });
  const second = runJson(sb, ['snapshot', '-m', 'second', '--note-file', path.join(sb.dir, 'chat.txt')]);
  // No change: the note is appended to the latest snapshot's note.
  runJson(sb, ['snapshot', '--note', 'follow-up remark']);
  // `-` reads the note from stdin.
  const piped = runCli(sb, ['snapshot', '--note-file', '-'], { input: 'piped in on stdin\n' });
  expect(piped.code).toBe(0);
  const { repo } = runJson(sb, ['status']);

  expect(git(repo, ['notes', 'show', first.commit])).toBe('Prompt: make it work\n');
  expect(git(repo, ['notes', 'show', second.commit])).toBe(`${transcript}\nfollow-up remark\n\npiped in on stdin\n`);
  expect((git(repo, ['notes', 'list']) as string).trim().split('\n')).toHaveLength(2);

  const shown = runJson(sb, ['show', second.id]);
  expect(shown).toMatchObject({
    id: second.id,
    commit: second.commit,
    parent: first.commit,
    message: 'second',
    trigger: 'manual',
    trailers: { 'Shadowgit-Id': second.id, 'Shadowgit-Trigger': 'manual', 'Shadowgit-Changes': '+1 ~1 -1' },
    note: `${transcript}\nfollow-up remark\n\npiped in on stdin\n`,
    changes: [
      { path: 'a.txt', status: 'modified' },
      { path: 'b.txt', status: 'deleted' },
      { path: 'c.txt', status: 'added' },
    ],
  });
  const text = runCli(sb, ['show', first.id]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`snapshot ${first.id}`);
  expect(text.stdout).toContain('Shadowgit-Trigger: manual');
  expect(text.stdout).toMatch(/Note:\n {4}Prompt: make it work/);
  expect(text.stdout).toMatch(/A a\.txt\nA b\.txt/);
  expect(runJson(sb, ['show']).id).toBe(second.id);

  const missing = runCli(sb, ['snapshot', '--note-file', path.join(sb.dir, 'nope.txt')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/cannot read the note file .*nope\.txt \(ENOENT\); check the path/);
  const both = runCli(sb, ['snapshot', '--note', 'x', '--note-file', 'y']);
  expect(both.code).toBe(2);

  // With no policy anywhere the default applies (and keeps both); --no-gc leaves the objects for later.
  expect(runJson(sb, ['prune', '--dry-run'])).toMatchObject({ policySource: 'default', policy: { keepLast: 50, keepHourly: 24, keepDaily: 7, keepWeekly: 4 }, removed: 0 });
  const pruned = runJson(sb, ['prune', '--keep-last', '1', '--no-gc']);
  expect(pruned).toMatchObject({ removed: 1, kept: 1 });
  expect(pruned.gc).toBeUndefined();
  expect(git(repo, ['cat-file', '-t', first.commit])).toBe('commit\n');
  expect((git(repo, ['notes', 'list']) as string).trim().split('\n')).toHaveLength(1);
  runJson(sb, ['gc', '--grace', '0']);
  expect(() => git(repo, ['cat-file', '-e', first.commit])).toThrow();
});
