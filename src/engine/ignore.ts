import { promises as fsp } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Excluded unless a project's own ignore file re-includes them (like git's info/exclude). */
export const DEFAULT_EXCLUDES = ['node_modules/'];
const IGNORE_FILES = ['.gitignore', '.shadowgitignore'];

/**
 * The ignore rules in force inside one directory: its own .gitignore/.shadowgitignore, then its
 * parent's, up to the root, then the lowest-precedence defaults and config excludes. The deepest
 * level with a matching rule decides, as in git.
 */
export class DirRules {
  private constructor(
    private readonly base: string,
    private readonly rules: Ignore | undefined,
    private readonly parent: DirRules | undefined,
  ) {}

  static root(excludes: string[]): DirRules {
    return new DirRules('', ignore({ allowRelativePaths: true }).add([...DEFAULT_EXCLUDES, ...excludes]), undefined);
  }

  /** Rules for `relDir` (a child of this directory), reading its ignore files if any. */
  async child(worktree: string, relDir: string, names: ReadonlySet<string>): Promise<DirRules> {
    const texts: string[] = [];
    for (const name of IGNORE_FILES) {
      if (!names.has(name)) continue;
      try {
        texts.push(await fsp.readFile(path.join(worktree, relDir, name), 'utf8'));
      } catch {
        // An unreadable ignore file ignores nothing; the file itself is reported by the scan.
      }
    }
    if (texts.length === 0) return this.base === relDir ? this : new DirRules(relDir, undefined, this);
    return new DirRules(relDir, ignore({ allowRelativePaths: true }).add(texts.join('\n')), this);
  }

  ignores(relPath: string, isDir: boolean): boolean {
    for (let level: DirRules | undefined = this; level; level = level.parent) {
      if (!level.rules) continue;
      const local = level.base === '' ? relPath : relPath.slice(level.base.length + 1);
      const result = level.rules.test(isDir ? `${local}/` : local);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}
