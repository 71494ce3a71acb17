import path from 'node:path';
import { createRequire } from 'node:module';
import type { Ignore } from 'ignore';
import { NotRegularFileError, readRegularFile } from '../fsutil.js';

// Required, not imported: importing a CommonJS package from ESM makes Node parse its source
// for export names first, a cost on every command's start-up.
const ignore: typeof import('ignore') = createRequire(import.meta.url)('ignore');

/** Excluded unless a project's own ignore file re-includes them (like git's info/exclude). */
export const DEFAULT_EXCLUDES = ['node_modules/'];
export const IGNORE_FILES = ['.gitignore', '.shadowgitignore'];
/**
 * Larger ignore files are not read (git stops at 100 MiB): 4 MiB is some 100,000 patterns,
 * each a regular expression tested against every path.
 */
const MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024;

/** An ignore file whose rules are not applied, and why (relative path, one phrase). */
export type UnreadIgnoreFile = (relPath: string, reason: string) => void;

interface Level {
  rules: Ignore;
  /**
   * Every pattern ends in "/", so the level can only match directories: a file inside a
   * directory the scan entered is never matched by it, and testing files is skipped (most of
   * the matching cost when only the default `node_modules/` applies).
   */
  dirOnly: boolean;
  /**
   * Paths are tested relative to this directory. It starts as the ignore file's own directory
   * and moves down to any directory this level ignores but a deeper level re-included: the
   * `ignore` package also matches a path's ancestors, and git never asks a level about the
   * contents of a directory that level excluded.
   */
  base: string;
}

function onlyDirectoryPatterns(patterns: string[]): boolean {
  return patterns.every((line) => {
    const pattern = line.trim();
    return pattern === '' || pattern.startsWith('#') || pattern.endsWith('/');
  });
}

function level(patterns: string[], base: string): Level {
  return { rules: ignore({ allowRelativePaths: true }).add(patterns), base, dirOnly: onlyDirectoryPatterns(patterns) };
}

function relativeTo(base: string, relPath: string): string {
  return base === '' ? relPath : relPath.slice(base.length + 1);
}

/**
 * The ignore rules in force inside one directory: its own .gitignore/.shadowgitignore, its
 * parents', up to the root, then the lowest-precedence defaults and config excludes. The deepest
 * level with a matching rule decides, as in git.
 */
export class DirRules {
  private constructor(
    private readonly dir: string,
    /** Deepest (highest precedence) first. */
    private readonly levels: Level[],
  ) {}

  static root(excludes: string[]): DirRules {
    return new DirRules('', [level([...DEFAULT_EXCLUDES, ...excludes], '')]);
  }

  /**
   * Rules for `relDir`, a directory found not ignored, reading its ignore files if any. Only a
   * regular file is read: a FIFO would block the scan forever, a device fill memory, and a
   * symlink is not followed (neither does git). One that cannot be read ignores nothing and is
   * passed to `onUnread`.
   */
  async child(worktree: string, relDir: string, names: ReadonlySet<string>, onUnread?: UnreadIgnoreFile): Promise<DirRules> {
    const texts: string[] = [];
    for (const name of IGNORE_FILES) {
      if (!names.has(name)) continue;
      try {
        const data = await readRegularFile(path.join(worktree, relDir, name), { maxBytes: MAX_IGNORE_FILE_BYTES });
        if (data) texts.push(data.toString('utf8'));
      } catch (err) {
        onUnread?.(relDir ? `${relDir}/${name}` : name, `ignore rules not read: ${err instanceof NotRegularFileError ? err.problem : (err as Error).message}`);
      }
    }
    const levels = relDir === this.dir ? this.levels : this.levels.map((l) => (l.rules.test(`${relativeTo(l.base, relDir)}/`).ignored ? { ...l, base: relDir } : l));
    if (texts.length === 0) return levels === this.levels ? this : new DirRules(relDir, levels);
    return new DirRules(relDir, [level(texts.join('\n').split(/\r?\n/), relDir), ...levels]);
  }

  ignores(relPath: string, isDir: boolean): boolean {
    for (const level of this.levels) {
      if (!isDir && level.dirOnly) continue;
      const local = relativeTo(level.base, relPath);
      const result = level.rules.test(isDir ? `${local}/` : local);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}
