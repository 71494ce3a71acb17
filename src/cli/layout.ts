// Listings that fit the terminal (list, sessions): a few table layouts from the widest down, each
// tried against the width, and plain lines when even the narrowest table does not fit.
import { displayWidth } from './fit.js';
import { table } from './output.js';

export interface Column<T> {
  head: string;
  /** The cell, plain text (lines separated by \n); coloured after the widths are settled. */
  cell: (item: T) => string;
  paint?: (text: string) => string;
  /** Wraps to fit (the others keep their natural width); the value is the narrowest it may get. */
  shrinkTo?: number;
}

export interface Layout<T> {
  columns: Column<T>[];
  /** Not tried below this width, even when it would fit. */
  from?: number;
}

/** Columns a cell's widest line takes, with the table's padding of one either side. */
function naturalWidth<T>(column: Column<T>, items: T[]): number {
  const lines = [column.head, ...items.map(column.cell)].flatMap((text) => text.split('\n'));
  return Math.max(...lines.map(displayWidth)) + 2;
}

/**
 * Column widths that fit `width` (borders included), taking from the widest shrinkable column
 * first; undefined when even their narrowest does not fit.
 */
function fitColumns<T>(columns: Column<T>[], items: T[], width: number): number[] | undefined {
  const widths = columns.map((c) => naturalWidth(c, items));
  for (let excess = widths.reduce((a, b) => a + b, 0) + columns.length + 1 - width; excess > 0; excess--) {
    const shrinkable = columns.flatMap((c, i) => (c.shrinkTo !== undefined && widths[i]! > c.shrinkTo + 2 ? [i] : []));
    if (shrinkable.length === 0) return undefined;
    widths[shrinkable.reduce((a, b) => (widths[b]! > widths[a]! ? b : a))]!--;
  }
  return widths;
}

/** `items` in the first of `layouts` that fits `width`, else as `lines` draws them. */
export function renderFitted<T>(layouts: Layout<T>[], items: T[], width: number, lines: (items: T[], width: number) => string): string {
  for (const { columns, from = 0 } of layouts) {
    if (width < from) continue;
    const widths = fitColumns(columns, items, width);
    if (!widths) continue;
    const rows = items.map((item) => columns.map((c) => (c.paint ?? String)(c.cell(item))));
    return table(
      columns.map((c) => c.head),
      rows,
      { colWidths: widths },
    );
  }
  return lines(items, width);
}
