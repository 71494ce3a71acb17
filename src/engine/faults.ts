/**
 * Deterministic crash points for the fault-injection suite. With SHADOWGIT_FAULT="step:N" the
 * process kills itself (SIGKILL, no cleanup) the Nth time it reaches `step`; unset, this is a
 * no-op costing one comparison. Steps: object, tree, commit, ref, journal, worktree-file, statcache,
 * pack, gc-delete, prune-journal, prune-rewrites (a prune appended its rewrites record; no ref
 * has moved yet), prune-ref, safe-write (the list the fault suite walks: test/faults/lib/crash.ts),
 * and worktree-dir (a checkout made a directory), lock-wait (about to wait for the lock).
 * "step:N:stop" stops the process (SIGSTOP) there instead, for a test to change the tree under
 * it at a known moment and then SIGCONT it.
 */
const spec = process.env.SHADOWGIT_FAULT;
const [faultStep, faultCountText, faultAction] = spec ? spec.split(':') : [];
const faultAt = Number(faultCountText ?? 1);
let reached = 0;

export async function faultPoint(step: string): Promise<void> {
  if (step !== faultStep) return;
  reached += 1;
  if (reached === faultAt) process.kill(process.pid, faultAction === 'stop' ? 'SIGSTOP' : 'SIGKILL');
}
