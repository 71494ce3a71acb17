/**
 * Fitting plain text to a terminal's width. Text here carries no colour codes: callers fit
 * first and colour after, so a cut never splits an escape sequence.
 */

/**
 * Columns to fit output on `stream` to: the terminal's; off a terminal (a pipe, a file)
 * $COLUMNS when set (as git does), else `fallback` (undefined: no limit).
 */
export function outputWidth(stream: NodeJS.WriteStream, fallback: number): number;
export function outputWidth(stream: NodeJS.WriteStream, fallback?: number): number | undefined;
export function outputWidth(stream: NodeJS.WriteStream, fallback?: number): number | undefined {
  if (stream.isTTY && stream.columns > 0) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : fallback;
}

// East Asian wide and fullwidth blocks, and emoji drawn as pictures: two columns each.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]/u;

function charWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns `text` takes on a terminal (one line, no control characters). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** `text` cut to at most `width` columns, ending in "…" when cut. */
export function truncateEnd(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

/** `text` cut from the start to at most `width` columns, beginning with "…" when cut (for paths: the end is what names them). */
export function truncateStart(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  const chars = [...text];
  let out = '';
  let used = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const w = charWidth(chars[i]!);
    if (used + w > width - 1) break;
    out = chars[i]! + out;
    used += w;
  }
  return `…${out}`;
}
