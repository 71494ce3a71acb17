import fc from 'fast-check';
import { table } from '../../src/cli/output.js';

describe('tables drawn in chunks', () => {
  // cli-table3 is quadratic in rows, so long tables are drawn in chunks of the same widths and joined.
  test('a table drawn in chunks is the table drawn at once, wrapped or not', () => {
    const cell = fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }), fc.constantFrom('src/deep/path/to/file.ts', 'two\nlines', 'ünïcode ✓', '2026-12-07 04:41'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 2, max: 9 }), fc.option(fc.integer({ min: 30, max: 120 }), { nil: undefined }), fc.infiniteStream(cell), (columns, count, chunkRows, width, cells) => {
        const head = Array.from({ length: columns }, (_, i) => `col${i}`);
        const rows = Array.from({ length: count }, () => head.map(() => cells.next().value as string));
        expect(table(head, rows, { width, chunkRows })).toBe(table(head, rows, { width, chunkRows: Infinity }));
      }),
      { numRuns: 60, seed: 22 },
    );
  });
});
