import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createDelta, indexBase } from '../../src/engine/store/delta.js';
import { applyDelta } from '../../src/engine/store/delta.js';

/** The delta encoder against the decoder the fetch path uses (git's format, both ways). */

const roundTrip = (base: Buffer, target: Buffer) => applyDelta(base, createDelta(indexBase(base), target)!, (problem) => new Error(problem));

/** A target made of the base's pieces, edited: what versions of a text file look like. */
const edited = fc
  .tuple(fc.uint8Array({ minLength: 0, maxLength: 4000 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 300 }), fc.uint8Array({ maxLength: 200 })), { maxLength: 12 }))
  .map(([bytes, edits]) => {
    const base = Buffer.from(bytes);
    let target = Buffer.from(base);
    for (const [at, cut, insert] of edits) {
      const pos = target.length === 0 ? 0 : at % target.length;
      target = Buffer.concat([target.subarray(0, pos), Buffer.from(insert), target.subarray(pos + cut)]);
    }
    return { base, target };
  });

describe('git delta encoder', () => {
  test('apply(base, encode(base, target)) is target for random and edited pairs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (base, target) => roundTrip(Buffer.from(base), Buffer.from(target)).equals(Buffer.from(target))), { numRuns: 200 });
    fc.assert(fc.property(edited, ({ base, target }) => roundTrip(base, target).equals(target)), { numRuns: 300 });
  });

  test('edge cases: empty, identical, fully different, copies past 64 KiB, long inserts', () => {
    const big = randomBytes(300_000);
    const cases: Array<[Buffer, Buffer]> = [
      [Buffer.alloc(0), Buffer.alloc(0)],
      [Buffer.alloc(0), randomBytes(500)],
      [randomBytes(500), Buffer.alloc(0)],
      [big, big],
      [randomBytes(1000), randomBytes(1000)],
      [Buffer.alloc(200_000, 'a'), Buffer.alloc(150_000, 'a')],
      // Exactly 0x10000 copied: the copy that is written without size bytes.
      [big, big.subarray(0, 0x10000)],
      [big, Buffer.concat([big.subarray(1000, 1000 + 0x10000 * 2), randomBytes(1000), big.subarray(5)])],
    ];
    for (const [base, target] of cases) expect(roundTrip(base, target).equals(target)).toBe(true);
    // Identical content costs a few bytes; a one-line edit of a large text a few dozen.
    expect(createDelta(indexBase(big), big)!.length).toBeLessThan(64);
    const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i} of a text file\n`).join(''));
    const changed = Buffer.from(text.toString().replace('line 10000 of', 'line ten thousand of'));
    expect(createDelta(indexBase(text), changed)!.length).toBeLessThan(100);
    // Past maxSize the encoder gives up rather than building a useless delta.
    expect(createDelta(indexBase(randomBytes(1000)), randomBytes(1000), 500)).toBeUndefined();
  });
});
