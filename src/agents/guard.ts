// `shadowgit hook --guard`: which shell commands a person should confirm. The list is a set of
// JavaScript regular expressions searched anywhere in the command (so `cd x && rm -rf y`
// counts); `.shadowgit`'s "hooks": {"destructive": […]} replaces it. A false alarm costs one
// question; a miss costs nothing shadowgit cannot undo, since the snapshot is taken anyway.

/** The built-in list: commands that delete or overwrite work in the tree. */
export const DEFAULT_DESTRUCTIVE: readonly string[] = [
  // rm (git rm too) with -r, -rf, -fr, -R or --recursive, other options before it
  String.raw`\brm\s+(?:-\S+\s+)*(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)\b`,
  String.raw`\bgit\b.*\breset\b.*--hard\b`,
  // git clean -f, -fd, -xdf, --force
  String.raw`\bgit\b.*\bclean\b.*(?:\s-[a-zA-Z]*f|--force\b)`,
  // git checkout -- PATH, git checkout ., git checkout HEAD -- .
  String.raw`\bgit\b.*\bcheckout\b.*\s(?:--|\.)(?:\s|$)`,
  String.raw`\bgit\b.*\b(?:checkout|switch)\b.*(?:\s-f\b|--force\b|--discard-changes\b)`,
  // git restore PATH discards changes; --staged alone only unstages them
  String.raw`\bgit\b.*\brestore\b(?!.*--staged)`,
  String.raw`\bgit\b.*\bstash\s+(?:drop|clear)\b`,
  String.raw`\bfind\b.*\s-delete\b`,
  String.raw`\bRemove-Item\b.*\s-Recurse\b`,
  String.raw`\bshred\b`,
];

/** The first pattern `command` matches (its source), or undefined; a pattern that does not compile matches nothing. */
export function destructiveMatch(command: string, patterns: readonly string[]): string | undefined {
  return patterns.find((source) => {
    try {
      return new RegExp(source).test(command);
    } catch {
      return false;
    }
  });
}
