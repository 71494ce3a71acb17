// Types of tree.mjs's exports that the TypeScript tests import (test/helpers/edits.ts and others).
/** A seeded pseudo-random generator: each call returns the next number in [0, 1). */
export function prng(seed: number): () => number;
