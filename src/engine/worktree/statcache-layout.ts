// The stat cache file's byte layout (docs/statcache.md describes it in full) and the layout of
// one lstat result, declared once: statcache.ts encodes and decodes with these, statall.ts reads
// a cache file's path table with them before it is decoded, and test/unit/statcache-layout.test.ts
// checks native/statbatch.c against them.
//
// Only numbers and strings here: statall.ts declares every export of this module again, by the
// same name, at the top of its helper thread's source text (the functions it runs there cannot
// import).

/** The file's first four bytes (latin1). */
export const CACHE_MAGIC = 'SGSC';
/** Raised whenever the layout changes: a file of another version is ignored (one full scan). */
export const CACHE_VERSION = 4;

// Header: magic (4) | u32 version | root tree (20) | str excludes | str watch token | u32 dirs | u32 files | u32 rule files.
export const HEADER_VERSION_AT = 4;
export const HEADER_TREE_AT = 8;
/** Where the first variable-length field (the excludes string) starts. */
export const HEADER_STRINGS_AT = 28;
/** The three counts after the strings: dirs, files, rule files (u32 each). */
export const HEADER_COUNTS_BYTES = 12;

/** A str's length prefix (u16); the UTF-8 bytes follow it. */
export const STR_LENGTH_BYTES = 2;
/** Bytes of an object id as stored (binary SHA-1). */
export const OID_BYTES = 20;
/** The SHA-1 of everything before it, at the very end. */
export const CHECKSUM_BYTES = 20;
/** The smallest file that can be intact: the header with two empty strings, the path table's length, the checksum. */
export const MIN_CACHE_BYTES = 68;

// A directory's record after its path (str): u32 parent, u8 flags, f64 mtimeMs, f64 ctimeMs,
// f64 ino, u32 entries, tree (20), u32 files.
export const DIR_PARENT_AT = 0;
export const DIR_FLAGS_AT = 4;
export const DIR_MTIME_AT = 5;
export const DIR_CTIME_AT = 13;
export const DIR_INO_AT = 21;
export const DIR_ENTRIES_AT = 29;
export const DIR_TREE_AT = 33;
export const DIR_FILES_AT = 53;
export const DIR_RECORD_BYTES = 57;
/** `parent` of the root directory. */
export const NO_PARENT = 0xffffffff;
/** Flag bits: which ignore files the directory has (bits 0–1), whether stat and tree are set. */
export const DIR_IGNORE_FILES_MASK = 3;
export const DIR_HAS_STAT = 4;
export const DIR_HAS_TREE = 8;

// A file's record: f64 mtimeMs, f64 ctimeMs, f64 size, f64 ino, u8 mode code, oid (20).
export const FILE_MTIME_AT = 0;
export const FILE_CTIME_AT = 8;
export const FILE_SIZE_AT = 16;
export const FILE_INO_AT = 24;
export const FILE_MODE_AT = 32;
export const FILE_OID_AT = 33;
export const FILE_RECORD_BYTES = 53;

/** A rule (ignore) file's record after its path (str): f64 mtimeMs, f64 ctimeMs, f64 size, f64 ino, at a file record's offsets. */
export const RULE_RECORD_BYTES = 32;

// One lstat result in statAll's results (and native/statbatch.c's `results`): STAT_FIELDS
// doubles per path, in this order. A mode of MISSING or UNREADABLE means there is no stat.
export const STAT_MTIME = 0;
export const STAT_CTIME = 1;
export const STAT_SIZE = 2;
export const STAT_INO = 3;
export const STAT_MODE = 4;
export const STAT_FIELDS = 5;
