import { encodeTree, MODE_FILE, decodeTree } from '../../src/engine/store/gitformat.js';
import { entryNameProblem, escapedName, symlinkTargetProblem, treeEntriesProblem } from '../../src/engine/worktree/names.js';

/** The one naming policy (names.ts) the scan, the checkout and verify share. */

const oid = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';

test('names a checkout refuses: empty, dot, dot-dot, a slash, a NUL, .git in any case; a backslash is ordinary on POSIX', () => {
  for (const name of ['', '.', '..', 'a/b', 'a\0b', '.git', '.Git', '.GIT', '.gIt']) expect(entryNameProblem(name)).toBeDefined();
  for (const name of ['back\\slash', '\\', '.git.', '.gitx', 'git', '...', '-rf', 'a\uFFFD', 'x'.repeat(255)]) expect(entryNameProblem(name)).toBeUndefined();
});

test('symlink targets a checkout cannot write: empty, a NUL, over 4095 bytes, not UTF-8', () => {
  expect(symlinkTargetProblem(Buffer.alloc(0))).toMatch(/empty/);
  expect(symlinkTargetProblem(Buffer.from('a\0b'))).toMatch(/NUL/);
  expect(symlinkTargetProblem(Buffer.alloc(4096, 'a'))).toMatch(/4096 bytes/);
  expect(symlinkTargetProblem(Buffer.from([0x61, 0xff]))).toMatch(/not valid UTF-8/);
  expect(symlinkTargetProblem(Buffer.alloc(4095, 'a'))).toBeUndefined();
  expect(symlinkTargetProblem(Buffer.from('../a\uFFFD/\\b'))).toBeUndefined();
});

test('a tree is refused for a refused name, a name twice, or a name that is not UTF-8 (even beside the real U+FFFD name it decodes to)', () => {
  const tree = (...names: Buffer[]) => Buffer.concat(names.map((name) => Buffer.concat([Buffer.from(`${MODE_FILE} `), name, Buffer.from('\0'), Buffer.from(oid, 'hex')])));
  const problem = (content: Buffer) => treeEntriesProblem(content, decodeTree(content));
  expect(problem(encodeTree([{ name: 'a', mode: MODE_FILE, oid }, { name: 'a\uFFFD', mode: MODE_FILE, oid }]))).toBeUndefined();
  expect(problem(tree(Buffer.from('.GIT')))).toMatch(/"\.GIT"/);
  expect(problem(tree(Buffer.from('a'), Buffer.from('a')))).toMatch(/"a" twice/);
  expect(problem(tree(Buffer.from([0x61, 0xff])))).toBe('the name "a\\xff", which is not valid UTF-8');
  expect(problem(tree(Buffer.from('a\uFFFD'), Buffer.from([0x62, 0xfe])))).toMatch(/"b\\xfe"/);
});

test('a name shown with the bytes that are not UTF-8, and control characters, as \\xNN; valid sequences as they are', () => {
  expect(escapedName(Buffer.from([0x61, 0xff]))).toBe('a\\xff');
  expect(escapedName(Buffer.from([0xff, 0x0a, 0x09, 0x7f, 0x41]))).toBe('\\xff\\x0a\\x09\\x7fA');
  expect(escapedName(Buffer.from('caf\u00e9 \u{1F600} a\uFFFD'))).toBe('caf\u00e9 \u{1F600} a\uFFFD');
  // A four-byte sequence cut short, an overlong encoding, an encoded surrogate.
  expect(escapedName(Buffer.from([0xf0, 0x9f, 0x98, 0x41]))).toBe('\\xf0\\x9f\\x98A');
  expect(escapedName(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
  expect(escapedName(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
});
