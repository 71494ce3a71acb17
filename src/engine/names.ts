/**
 * What a snapshot may record and a checkout may write: one policy, used by the scan, the
 * checkout, and verify, so nothing is recorded that cannot be restored.
 */

/** Linux's PATH_MAX: readlink never returns more, and symlink(2) refuses longer targets. */
export const MAX_SYMLINK_TARGET_BYTES = 4095;

/** Why `target` (a symlink blob's content) cannot be written as a symlink, or undefined if it can. */
export function symlinkTargetProblem(target: Buffer): string | undefined {
  if (target.length === 0) return 'an empty symlink target';
  if (target.includes(0)) return 'a NUL byte in a symlink target';
  if (target.length > MAX_SYMLINK_TARGET_BYTES) return `a symlink target of ${target.length} bytes (at most ${MAX_SYMLINK_TARGET_BYTES})`;
  return undefined;
}
