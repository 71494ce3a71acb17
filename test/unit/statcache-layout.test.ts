// The stat cache's byte layout and the lstat result layout are declared once, in
// statcache-layout.ts; the C helper cannot import it, so its constants are read from its source
// and held against the declaration here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as layout from '../../src/engine/worktree/statcache-layout.js';
import { ROOT } from '../helpers/sandbox.js';

const C_SOURCE = readFileSync(path.join(ROOT, 'native', 'statbatch.c'), 'utf8');
const C_DEFINES = new Map([...C_SOURCE.matchAll(/^#define\s+(\w+)\s+(\d+)\s*$/gm)].map((m) => [m[1]!, Number(m[2])]));
const declared = layout as Record<string, number | string>;

describe('native/statbatch.c against statcache-layout.ts', () => {
  test('defines every index of an lstat result, and the number of them, as declared', () => {
    const statNames = Object.keys(declared).filter((name) => name.startsWith('STAT_'));
    expect(statNames.sort()).toEqual(['STAT_CTIME', 'STAT_FIELDS', 'STAT_INO', 'STAT_MODE', 'STAT_MTIME', 'STAT_SIZE']);
    for (const name of statNames) expect([name, C_DEFINES.get(name)]).toEqual([name, declared[name]]);
  });

  test('every constant it shares a name with has the declared value', () => {
    const shared = [...C_DEFINES].filter(([name]) => name in declared);
    expect(shared.length).toBeGreaterThanOrEqual(6);
    for (const [name, value] of shared) expect([name, value]).toEqual([name, declared[name]]);
  });

  test('writes results only through the named indexes, and names their count in its error', () => {
    expect(C_SOURCE).not.toMatch(/\bout\[\d+\]/);
    for (const name of ['STAT_MTIME', 'STAT_CTIME', 'STAT_SIZE', 'STAT_INO', 'STAT_MODE']) expect(C_SOURCE).toContain(`out[${name}]`);
    expect(Number(/must hold (\d+) numbers per entry/.exec(C_SOURCE)?.[1])).toBe(layout.STAT_FIELDS);
  });
});

describe('statcache-layout.ts adds up', () => {
  test('the header: magic, version, root tree, then the strings', () => {
    expect(Buffer.byteLength(layout.CACHE_MAGIC, 'latin1')).toBe(layout.HEADER_VERSION_AT);
    expect(layout.HEADER_TREE_AT).toBe(layout.HEADER_VERSION_AT + 4);
    expect(layout.HEADER_STRINGS_AT).toBe(layout.HEADER_TREE_AT + layout.OID_BYTES);
    expect(layout.HEADER_COUNTS_BYTES).toBe(3 * 4);
    // Two empty strings, the counts, the path table's length, the checksum.
    expect(layout.MIN_CACHE_BYTES).toBe(layout.HEADER_STRINGS_AT + 2 * layout.STR_LENGTH_BYTES + layout.HEADER_COUNTS_BYTES + 4 + layout.CHECKSUM_BYTES);
  });

  test("a directory's record: u32 parent, u8 flags, three f64, u32 entries, tree, u32 files", () => {
    expect(layout.DIR_FLAGS_AT).toBe(layout.DIR_PARENT_AT + 4);
    expect(layout.DIR_MTIME_AT).toBe(layout.DIR_FLAGS_AT + 1);
    expect(layout.DIR_CTIME_AT).toBe(layout.DIR_MTIME_AT + 8);
    expect(layout.DIR_INO_AT).toBe(layout.DIR_CTIME_AT + 8);
    expect(layout.DIR_ENTRIES_AT).toBe(layout.DIR_INO_AT + 8);
    expect(layout.DIR_TREE_AT).toBe(layout.DIR_ENTRIES_AT + 4);
    expect(layout.DIR_FILES_AT).toBe(layout.DIR_TREE_AT + layout.OID_BYTES);
    expect(layout.DIR_RECORD_BYTES).toBe(layout.DIR_FILES_AT + 4);
    expect(layout.DIR_IGNORE_FILES_MASK & (layout.DIR_HAS_STAT | layout.DIR_HAS_TREE)).toBe(0);
    expect(layout.DIR_HAS_STAT & layout.DIR_HAS_TREE).toBe(0);
  });

  test("a file's record: four f64, u8 mode, oid; a rule file's is its first four f64", () => {
    expect([layout.FILE_MTIME_AT, layout.FILE_CTIME_AT, layout.FILE_SIZE_AT, layout.FILE_INO_AT, layout.FILE_MODE_AT]).toEqual([0, 8, 16, 24, 32]);
    expect(layout.FILE_OID_AT).toBe(layout.FILE_MODE_AT + 1);
    expect(layout.FILE_RECORD_BYTES).toBe(layout.FILE_OID_AT + layout.OID_BYTES);
    expect(layout.RULE_RECORD_BYTES).toBe(layout.FILE_MODE_AT);
  });

  test('holds only numbers and strings (the helper thread declares each again from its value)', () => {
    for (const [name, value] of Object.entries(declared)) expect([name, typeof value === 'number' || typeof value === 'string']).toEqual([name, true]);
  });
});
