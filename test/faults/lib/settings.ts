/** Knobs of the full run, from the environment (documented in docs/reliability.md). */
export const FULL = {
  /** Trials per command in the crash scenarios. */
  trials: Number(process.env.FAULT_TRIALS ?? 200),
  /** Rounds of the concurrent-writers scenario. */
  rounds: Number(process.env.FAULT_ROUNDS ?? 50),
  seed: Number(process.env.FAULT_SEED ?? 1),
  jobs: Number(process.env.FAULT_JOBS ?? 2),
};
