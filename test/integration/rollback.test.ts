import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { ShadowGit } from '../../src/index.js';
import { diskFiles, expectSameFiles, fingerprint, fsck, git, gitTreeFiles, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-test-', (s) => (sb = s), { setHome: true });

const recorded = (root: string) => diskFiles(root, (rel, name) => name === '.git' || rel === 'node_modules' || rel === 'build');

describe('rollback', () => {
  test('returns the tree byte-for-byte to the target, after recording the state before it', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one', 'dir/b.txt': 'b', 'gone.txt': 'will be deleted later', '.gitignore': 'build/\n', 'node_modules/x.js': 'dep', 'build/out.js': 'out' });
    execFileSync('git', ['init', '-q', sb.worktree]);
    const userGit = await fingerprint(path.join(sb.worktree, '.git'));
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const target = await sg.snapshot({ message: 'target' });
    const targetFiles = await recorded(sb.worktree);

    await writeTree(sb.worktree, { 'a.txt': 'two', 'new/c.txt': 'c', 'build/out.js': 'out 2', 'node_modules/x.js': 'dep 2' });
    await fsp.rm(path.join(sb.worktree, 'gone.txt'));
    const before = await recorded(sb.worktree);

    const result = await sg.rollback(target.id);
    expectSameFiles(await recorded(sb.worktree), targetFiles);
    expect(result.preRollback!.created).toBe(true);
    expectSameFiles(gitTreeFiles(sg.repoPath, result.preRollback!.commit), before);
    expect(result.writtenPaths.sort()).toEqual(['a.txt', 'gone.txt']);
    expect(result.deletedPaths).toEqual(['new/c.txt']);
    await expect(fsp.access(path.join(sb.worktree, 'new'))).rejects.toThrow();
    // Ignored files and the user's .git are untouched.
    expect(await fsp.readFile(path.join(sb.worktree, 'build/out.js'), 'utf8')).toBe('out 2');
    expect(await fsp.readFile(path.join(sb.worktree, 'node_modules/x.js'), 'utf8')).toBe('dep 2');
    expect(await fingerprint(path.join(sb.worktree, '.git'))).toBe(userGit);
    fsck(sg.repoPath);

    // undo goes back to the pre-rollback state; undo again redoes the rollback.
    await sg.undo();
    expectSameFiles(await recorded(sb.worktree), before);
    await sg.undo();
    expectSameFiles(await recorded(sb.worktree), targetFiles);
  });

  test('handles file↔directory swaps, modes and symlinks in both directions', async () => {
    await writeTree(sb.worktree, { 'x/inner.txt': 'x was a dir', y: 'y was a file', 'run.sh': 'echo' });
    await fsp.symlink('y', path.join(sb.worktree, 'link'));
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    const firstFiles = await recorded(sb.worktree);

    await fsp.rm(path.join(sb.worktree, 'x'), { recursive: true });
    await fsp.rm(path.join(sb.worktree, 'y'));
    await writeTree(sb.worktree, { x: 'x is a file now', 'y/inner.txt': 'y is a dir now' });
    await fsp.chmod(path.join(sb.worktree, 'run.sh'), 0o755);
    await fsp.rm(path.join(sb.worktree, 'link'));
    await fsp.writeFile(path.join(sb.worktree, 'link'), 'link is a file now');
    const second = await sg.snapshot();
    const secondFiles = await recorded(sb.worktree);

    await sg.rollback(first.commit.slice(0, 7));
    expectSameFiles(await recorded(sb.worktree), firstFiles);
    expect((await fsp.lstat(path.join(sb.worktree, 'link'))).isSymbolicLink()).toBe(true);
    await sg.rollback(second.id);
    expectSameFiles(await recorded(sb.worktree), secondFiles);
    expect((await fsp.stat(path.join(sb.worktree, 'run.sh'))).mode & 0o111).toBe(0o111);
  });

  test('writes blobs it verified in memory and streams a large one, byte-exact against native git', async () => {
    // Incompressible 3 MiB: its loose object is above the size that is inflated as a stream.
    const large = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < large.length; i += 32) createHash('sha256').update(String(i)).digest().copy(large, i);
    await writeTree(sb.worktree, { 'big.bin': large, 'same/a.txt': 'shared', 'same/b.txt': 'shared', 'same/c.txt': 'shared', 'solo.txt': 'solo' });
    await fsp.symlink('same/a.txt', path.join(sb.worktree, 'link'));
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const target = await sg.snapshot({ message: 'target' });

    await writeTree(sb.worktree, { 'big.bin': 'small now', 'same/a.txt': 'x', 'same/b.txt': 'y', 'same/c.txt': 'z', 'solo.txt': 'changed' });
    await fsp.rm(path.join(sb.worktree, 'link'));
    await fsp.writeFile(path.join(sb.worktree, 'link'), 'a file now');

    const result = await sg.rollback(target.id);
    expect(result.writtenPaths.sort()).toEqual(['big.bin', 'link', 'same/a.txt', 'same/b.txt', 'same/c.txt', 'solo.txt']);
    expectSameFiles(await recorded(sb.worktree), gitTreeFiles(sg.repoPath, target.commit));
    expect((await fsp.readFile(path.join(sb.worktree, 'big.bin'))).equals(large)).toBe(true);
    expect(await fsp.readlink(path.join(sb.worktree, 'link'))).toBe('same/a.txt');
    fsck(sg.repoPath);
  });

  test('a nested repository: its files roll back, its .git is never written or recorded', async () => {
    await writeTree(sb.worktree, { 'vendor/lib/lib.c': 'v1', 'top.txt': 't1' });
    execFileSync('git', ['init', '-q', path.join(sb.worktree, 'vendor/lib')]);
    execFileSync('git', ['-C', path.join(sb.worktree, 'vendor/lib'), 'add', '.']);
    const nestedGit = path.join(sb.worktree, 'vendor/lib/.git');
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    expect([...gitTreeFiles(sg.repoPath, first.commit).keys()].sort()).toEqual(['top.txt', 'vendor/lib/lib.c']);
    await writeTree(sb.worktree, { 'vendor/lib/lib.c': 'v2', 'vendor/lib/new.c': 'n' });
    const nestedBefore = await fingerprint(nestedGit);

    await sg.rollback(first.id);
    expect(await fsp.readFile(path.join(sb.worktree, 'vendor/lib/lib.c'), 'utf8')).toBe('v1');
    await expect(fsp.access(path.join(sb.worktree, 'vendor/lib/new.c'))).rejects.toThrow();
    expect(await fingerprint(nestedGit)).toBe(nestedBefore);
    await expect(fsp.access(path.join(sb.worktree, 'vendor/lib/.git_disabled'))).rejects.toThrow();
  });

  test('never writes through a working-tree symlink that points outside', async () => {
    await writeTree(sb.worktree, { 'd/f.txt': 'inside' });
    const outside = path.join(sb.dir, 'outside');
    await fsp.mkdir(outside);
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const target = await sg.snapshot();
    await fsp.rm(path.join(sb.worktree, 'd'), { recursive: true });
    await fsp.symlink(outside, path.join(sb.worktree, 'd'));

    await sg.rollback(target.id);
    expect(await fsp.readdir(outside)).toEqual([]);
    expect((await fsp.lstat(path.join(sb.worktree, 'd'))).isDirectory()).toBe(true);
    expect(await fsp.readFile(path.join(sb.worktree, 'd/f.txt'), 'utf8')).toBe('inside');
  });

  test('restore brings back single files and directories, after a pre-restore snapshot', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a1', 'b.txt': 'b1', 'lib/x.ts': 'x1', 'lib/y.ts': 'y1' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    await writeTree(sb.worktree, { 'a.txt': 'a2', 'b.txt': 'b2', 'lib/x.ts': 'x2', 'lib/z.ts': 'z2' });

    const result = await sg.restore(first.id, ['a.txt', 'lib']);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('a1');
    expect(await fsp.readFile(path.join(sb.worktree, 'b.txt'), 'utf8')).toBe('b2');
    expect(await fsp.readFile(path.join(sb.worktree, 'lib/x.ts'), 'utf8')).toBe('x1');
    await expect(fsp.access(path.join(sb.worktree, 'lib/z.ts'))).rejects.toThrow();
    expect(git(sg.repoPath, ['show', `${result.preRollback!.commit}:lib/z.ts`])).toBe('z2');
    expect(git(sg.repoPath, ['log', '-1', '--format=%(trailers:key=Shadowgit-Trigger,valueonly)', result.preRollback!.commit]).trim()).toBe('pre-restore');
    await expect(sg.restore(first.id, ['nope.txt'])).rejects.toThrow(/nope\.txt is in neither snapshot/);
  });

  test('bad revisions are refused and change nothing', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.snapshot();
    const before = await fingerprint(sb.worktree);
    const head = git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']).trim();
    for (const rev of ['nosuchname', 'deadbeef', 'latest~5', 'zzzz']) {
      await expect(sg.rollback(rev)).rejects.toThrow(/shadowgit list/);
    }
    expect(await fingerprint(sb.worktree)).toBe(before);
    expect(git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']).trim()).toBe(head);
  });

  test('right after a snapshot, that snapshot is the way back and the stat cache left matches the target', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'one', 'd/b.txt': 'b' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const target = await sg.snapshot();
    await writeTree(sb.worktree, { 'a.txt': 'two', 'd/c.txt': 'c' });
    const latest = await sg.snapshot();
    const result = await sg.rollback(target.id);
    expect(result.preRollback).toEqual({ id: latest.id, commit: latest.commit, created: false });
    expect(git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']).trim()).toBe(latest.commit);
    // The cache made from the first scan must describe the tree as written: it is the target
    // again (the tree's base), so nothing new is recorded.
    const again = await sg.snapshot();
    expect({ created: again.created, id: again.id, tree: git(sg.repoPath, ['rev-parse', `${again.commit}^{tree}`]).trim() }).toEqual({ created: false, id: target.id, tree: git(sg.repoPath, ['rev-parse', `${target.commit}^{tree}`]).trim() });
    expect(git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']).trim()).toBe(latest.commit);
    expect((await sg.status()).changes).toEqual({ added: [], modified: [], deleted: [] });
  });
});

/** Writes a raw object the way git stores it; native git tools refuse to make hostile trees. */
async function writeRawObject(gitdir: string, type: string, content: Buffer): Promise<string> {
  const body = Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]);
  const oid = createHash('sha1').update(body).digest('hex');
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, zlib.deflateSync(body));
  return oid;
}

describe('hostile and damaged snapshots', () => {
  test('a tampered tree entry with ".." is refused before anything is written', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'a' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.snapshot();
    const blob = await writeRawObject(sg.repoPath, 'blob', Buffer.from('pwned'));
    const tree = await writeRawObject(sg.repoPath, 'tree', Buffer.concat([Buffer.from('100644 ..\0'), Buffer.from(blob, 'hex')]));
    const head = git(sg.repoPath, ['rev-parse', 'refs/heads/snapshots']).trim();
    const commit = await writeRawObject(sg.repoPath, 'commit', Buffer.from(`tree ${tree}\nparent ${head}\nauthor x <x@x> 1700000000 +0000\ncommitter x <x@x> 1700000000 +0000\n\nevil\n`));
    await fsp.writeFile(path.join(sg.repoPath, 'refs/heads/snapshots'), `${commit}\n`);
    const before = await fingerprint(sb.worktree);
    const snapshotsBefore = git(sg.repoPath, ['rev-list', '--count', 'refs/heads/snapshots']);

    await expect(sg.rollback(commit)).rejects.toThrow(/tampered/);
    expect(await fingerprint(sb.worktree)).toBe(before);
    expect(git(sg.repoPath, ['rev-list', '--count', 'refs/heads/snapshots'])).toBe(snapshotsBefore);
    expect(await fsp.readdir(sb.dir)).toEqual(['home', 'work']);
  });

  test('a missing blob stops the rollback before the working tree is touched', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'original' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const first = await sg.snapshot();
    await writeTree(sb.worktree, { 'a.txt': 'changed' });
    await sg.snapshot();
    const oid = git(sg.repoPath, ['rev-parse', `${first.commit}:a.txt`]).trim();
    await fsp.rm(path.join(sg.repoPath, 'objects', oid.slice(0, 2), oid.slice(2)));

    await expect(sg.rollback(first.id)).rejects.toThrow(new RegExp(`${oid}.*a\\.txt.*missing.*verify`));
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('changed');
  });
});
