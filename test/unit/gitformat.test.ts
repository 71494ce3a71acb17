import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeCommit, decodeTree, encodeCommit, encodeTree, MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, parseTrailers, messageBody, type TreeEntry } from '../../src/engine/store/gitformat.js';
import { hashObject } from '../../src/engine/store/objects.js';

const oid = (n: number) => n.toString(16).padStart(40, '0');

describe('tree format', () => {
  test('sorts entries as git does (directories compare as name + "/") and hashes like git mktree', () => {
    const entries: TreeEntry[] = [
      { name: 'foo.txt', mode: MODE_FILE, oid: oid(1) },
      { name: 'foo', mode: MODE_TREE, oid: 'b'.repeat(40) },
      { name: 'foo-bar', mode: MODE_EXEC, oid: oid(2) },
      { name: 'Zeta', mode: MODE_LINK, oid: oid(3) },
      { name: 'ä', mode: MODE_FILE, oid: oid(4) },
    ];
    const encoded = encodeTree(entries);
    expect(decodeTree(encoded).map((e) => e.name)).toEqual(['Zeta', 'foo-bar', 'foo.txt', 'foo', 'ä']);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-unit-'));
    try {
      execFileSync('git', ['init', '-q', '--bare', dir]);
      const listing = entries.map((e) => `${e.mode === MODE_TREE ? '040000 tree' : `${e.mode} blob`} ${e.oid}\t${e.name}`).join('\n');
      const native = execFileSync('git', ['--git-dir', dir, 'mktree', '--missing'], { input: `${listing}\n`, encoding: 'utf8' }).trim();
      expect(hashObject('tree', encoded)).toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a truncated tree', () => {
    const encoded = encodeTree([{ name: 'a', mode: MODE_FILE, oid: oid(1) }]);
    expect(() => decodeTree(encoded.subarray(0, encoded.length - 3))).toThrow(/truncated/);
  });
});

describe('commit format', () => {
  test('round-trips and keeps trailers apart from the body', () => {
    const sig = { name: 'shadowgit', email: 'shadowgit@localhost', timestamp: 1700000000, tzOffset: -330 };
    const message = 'subject line\n\nbody text\n\nShadowgit-Id: kmnopqrs\nShadowgit-Trigger: manual\n';
    const commit = decodeCommit(encodeCommit({ tree: oid(9), parents: [oid(8)], author: sig, committer: sig, message }));
    expect(commit.parents).toEqual([oid(8)]);
    expect(commit.author.tzOffset).toBe(-330);
    expect(parseTrailers(commit.message)).toEqual({ 'Shadowgit-Id': 'kmnopqrs', 'Shadowgit-Trigger': 'manual' });
    expect(messageBody(commit.message)).toBe('subject line\n\nbody text');
  });
});
