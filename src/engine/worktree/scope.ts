// A command's path scope (`restore --paths`, `diff -- <paths>`): worktree paths, posix and
// relative to the root, each naming itself and everything below it. Diff and checkout both
// ask it, so a path is in scope for one exactly when it is for the other.

/** `relPath` is one of `scope`'s paths or below one; every path is in scope when there is none. */
export function inScope(relPath: string, scope: string[] | undefined): boolean {
  if (!scope) return true;
  return scope.some((prefix) => prefix === '' || relPath === prefix || relPath.startsWith(`${prefix}/`));
}
