// Edge cases of the stat cache: every shortcut that skips reading a file must never skip a change.
import { spawn } from 'node:child_process';
import { promises as fsp, utimesSync } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/index.js';
import { ObjectStore, hashObject } from '../../src/engine/store/objects.js';
import { recordTree } from '../../src/engine/snapshot/record.js';
import { scanWorktree, type ScanResult } from '../../src/engine/worktree/scan.js';
import { StatCache } from '../../src/engine/worktree/statcache.js';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-perf-', (s) => (sb = s), { setHome: true });

const blobId = (text: string | Buffer) => hashObject('blob', Buffer.from(text));

/** The blob id native git records for `file` in the latest snapshot. */
function recordedBlob(gitdir: string, file: string): { mode: string; oid: string } | undefined {
  const line = (git(gitdir, ['ls-tree', 'HEAD', '--', file]) as string).trim();
  if (!line) return undefined;
  const [mode, , oid] = line.split(/\s+/);
  return { mode: mode!, oid: oid! };
}

/** Every file of the scan, found by path, so a test can give it the stat it wants. */
function scannedFile(scan: ScanResult, rel: string) {
  const found = scan.root.files.find((f) => f.path === rel);
  if (!found) throw new Error(`${rel} not scanned`);
  return found;
}

describe('the racy-entry rule (engine level, stat made identical on purpose)', () => {
  /**
   * A rewrite in the same timestamp tick as the previous write leaves mtime, ctime, size and
   * inode unchanged. The test gives the second scan exactly the cached stat, so only the racy
   * rule (file modified in the tick the cache was written) can notice the new content.
   */
  async function rewriteWithIdenticalStat(cacheWrittenAt: (fileMtimeMs: number) => Date): Promise<{ recorded: string; cachedEntry: string }> {
    const gitdir = path.join(sb.dir, 'store.git');
    git(gitdir, ['init', '--bare', '-q']);
    const store = new ObjectStore(gitdir);
    await writeTree(sb.worktree, { 'a.txt': 'AAAA\n' });
    const first = await recordTree(sb.worktree, await scanWorktree(sb.worktree, []), StatCache.empty(), store);
    const cacheFile = path.join(sb.dir, 'statcache');
    await first.cache.save(cacheFile);
    const entry = first.cache.files.get('a.txt')!;
    utimesSync(cacheFile, cacheWrittenAt(entry.mtimeMs), cacheWrittenAt(entry.mtimeMs));

    await fsp.writeFile(path.join(sb.worktree, 'a.txt'), 'BBBB\n');
    const scan = await scanWorktree(sb.worktree, []);
    const file = scannedFile(scan, 'a.txt');
    Object.assign(file, { mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, size: entry.size, ino: entry.ino });
    const second = await recordTree(sb.worktree, scan, await StatCache.load(cacheFile), store);
    return { recorded: second.files.get('a.txt')!.oid, cachedEntry: entry.oid };
  }

  test('a same-size rewrite in the tick the cache was written is hashed again', async () => {
    // Cache written in the same millisecond as the file (at or before its mtime): racy.
    const { recorded } = await rewriteWithIdenticalStat((mtimeMs) => new Date(Math.floor(mtimeMs)));
    expect(recorded).toBe(blobId('BBBB\n'));
  });

  test('control: with the cache written a tick later, an identical stat is trusted (so the rule above is what catches it)', async () => {
    const { recorded, cachedEntry } = await rewriteWithIdenticalStat((mtimeMs) => new Date(mtimeMs + 10_000));
    expect(recorded).toBe(cachedEntry);
    expect(recorded).toBe(blobId('AAAA\n'));
  });

  test('a damaged cache file is ignored (everything re-hashed), never trusted', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'AAAA\n' });
    const first = await recordTree(sb.worktree, await scanWorktree(sb.worktree, []), StatCache.empty(), undefined);
    const cacheFile = path.join(sb.dir, 'statcache');
    await first.cache.save(cacheFile);
    const bytes = await fsp.readFile(cacheFile);
    bytes[bytes.length - 30] ^= 0xff;
    await fsp.writeFile(cacheFile, bytes);
    const loaded = await StatCache.load(cacheFile);
    expect(loaded.files.size).toBe(0);
  });
});

describe('stat cache edge cases, recorded and checked with native git', () => {
  test('same-size rewrites right after a snapshot are always recorded (real clock, 15 tries)', async () => {
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    for (let i = 0; i < 15; i++) {
      const before = `v${String(i).padStart(3, '0')}a\n`;
      const after = `v${String(i).padStart(3, '0')}b\n`;
      await writeTree(sb.worktree, { 'f.txt': before });
      await sg.snapshot();
      // Immediately: often in the same coarse timestamp tick as the write and the cache save.
      await fsp.writeFile(path.join(sb.worktree, 'f.txt'), after);
      const report = await sg.snapshot();
      expect(report.created).toBe(true);
      expect(recordedBlob(sg.repoPath, 'f.txt')?.oid).toBe(blobId(after));
    }
  });

  test('a chmod-only change is recorded, both ways', async () => {
    await writeTree(sb.worktree, { 'tool.sh': '#!/bin/sh\necho hi\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    await sg.snapshot();
    expect(recordedBlob(sg.repoPath, 'tool.sh')?.mode).toBe('100644');
    await fsp.chmod(path.join(sb.worktree, 'tool.sh'), 0o755);
    const exec = await sg.snapshot();
    expect(exec.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
    expect(recordedBlob(sg.repoPath, 'tool.sh')?.mode).toBe('100755');
    await fsp.chmod(path.join(sb.worktree, 'tool.sh'), 0o644);
    await sg.snapshot();
    expect(recordedBlob(sg.repoPath, 'tool.sh')?.mode).toBe('100644');
    fsck(sg.repoPath);
  });

  test('a file replaced by a directory (and back, by rollback) is recorded and restored exactly', async () => {
    await writeTree(sb.worktree, { 'x': 'a file\n', 'keep.txt': 'k\n' });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const asFile = await sg.snapshot();
    await fsp.rm(path.join(sb.worktree, 'x'));
    await writeTree(sb.worktree, { 'x/inner.txt': 'now a directory\n' });
    const asDir = await sg.snapshot();
    expect(asDir.changes).toEqual({ added: 1, modified: 0, deleted: 1 });
    expectSameFiles(gitTreeFiles(sg.repoPath, asDir.commit), await diskFiles(sb.worktree));
    expect(recordedBlob(sg.repoPath, 'x')?.mode).toBe('040000');
    await sg.rollback(asFile.id);
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(sg.repoPath, asFile.commit));
    // The stat cache written by the rollback must describe the tree as it is now.
    const again = await sg.snapshot();
    const treeOf = (commit: string) => (git(sg.repoPath, ['rev-parse', `${commit}^{tree}`]) as string).trim();
    expect(treeOf(again.commit)).toBe(treeOf(asFile.commit));
    expect((await sg.snapshot()).created).toBe(false);
    fsck(sg.repoPath);
  });

  test('a file that grows between the scan and the read is recorded with the stat of what was read', async () => {
    await writeTree(sb.worktree, { 'log.txt': 'line 1\n' });
    const scan = await scanWorktree(sb.worktree, []);
    await fsp.appendFile(path.join(sb.worktree, 'log.txt'), 'line 2\n');
    const gitdir = path.join(sb.dir, 'store.git');
    git(gitdir, ['init', '--bare', '-q']);
    const recorded = await recordTree(sb.worktree, scan, StatCache.empty(), new ObjectStore(gitdir));
    expect(recorded.files.get('log.txt')!.oid).toBe(blobId('line 1\nline 2\n'));
    // The cache holds the size read (14), not the scan's (7): a later scan trusts it correctly.
    expect(recorded.cache.files.get('log.txt')!.size).toBe(14);
    fsck(gitdir);
  });

  test('a file written to during the snapshot ends up recorded with its final content', async () => {
    await writeTree(sb.worktree, { 'busy.log': '', ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`pad/${i}.txt`, `file ${i}\n`])) });
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const busy = path.join(sb.worktree, 'busy.log');
    // A separate process appends 64 KiB blocks while snapshots run.
    const writer = spawn(process.execPath, ['-e', `const fs=require('fs');const b=Buffer.alloc(65536,'x');for(let i=0;i<400;i++)fs.appendFileSync(${JSON.stringify(busy)},b);`]);
    const finished = new Promise((resolve) => writer.on('exit', resolve));
    const during: string[] = [];
    while (writer.exitCode === null) {
      const report = await sg.snapshot();
      during.push(report.commit);
    }
    await finished;
    await sg.snapshot();
    const final = await fsp.readFile(busy);
    expect(final.length).toBe(400 * 65536);
    expect(recordedBlob(sg.repoPath, 'busy.log')?.oid).toBe(blobId(final));
    // Whatever was recorded mid-write is a consistent prefix of the final file, never torn.
    for (const commit of during) {
      const blob = git(sg.repoPath, ['cat-file', 'blob', `${commit}:busy.log`], { encoding: 'buffer' }) as Buffer;
      expect(final.subarray(0, blob.length).equals(blob)).toBe(true);
    }
    fsck(sg.repoPath);
  });
});
