import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import { displayWidth } from './fit.js';
import type { SkippedPath } from '../engine/worktree/scan.js';

const require = createRequire(import.meta.url);

/** Colours only on a terminal, and never with NO_COLOR (picocolors checks both). */
export const color: typeof import('picocolors') = require('picocolors');

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${color.yellow('warning:')} ${line}\n`);
}

export function warnSkipped(skipped: SkippedPath[]): void {
  for (const s of skipped.slice(0, 20)) warn(`skipped ${s.path} (${s.reason})`);
  if (skipped.length > 20) warn(`…and ${skipped.length - 20} more skipped paths (see --json)`);
}

/**
 * A table in the terminal's style; plain borders so it survives copy-paste and pipes. With
 * `width`, columns wider than their share are wrapped (long paths after a `/`) so that the
 * whole table fits in that many columns; `colWidths` (padding included) sets each column's
 * width, and cells wrap to it.
 */
export function table(head: string[], rows: string[][], options: { width?: number; colWidths?: number[]; chunkRows?: number } = {}): string {
  const Table = require('cli-table3') as typeof import('cli-table3');
  // Fitted widths wrap here (paths after a `/`); given widths leave wrapping to cli-table3.
  const fitted = options.colWidths ? undefined : options.width === undefined ? undefined : fitColumns(head, rows, options.width);
  const cells = fitted ? rows.map((row) => row.map((cell, i) => wrapText(cell, fitted[i]! - CELL_PADDING))) : rows;
  const render = (chunk: string[][], withHead: boolean, widths: number[] | undefined) => {
    const t = new Table({ head: withHead ? head.map((h) => color.bold(h)) : [], style: { head: [], border: [] }, wordWrap: !fitted, ...(widths && { colWidths: widths }) });
    t.push(...chunk);
    return t.toString();
  };
  const chunk = options.chunkRows ?? TABLE_CHUNK;
  if (cells.length <= chunk) return render(cells, true, options.colWidths ?? fitted);
  // cli-table3 lays a table out in time quadratic in its rows (each cell is checked against
  // every row above it for spans): 20,000 rows took a minute. Chunks of the same column widths,
  // drawn separately and joined where one's bottom border meets the next one's top, look the same.
  const widths = options.colWidths ?? fitted ?? head.map((h, i) => Math.max(cellWidth(h), ...cells.map((r) => cellWidth(r[i] ?? ''))) + CELL_PADDING);
  const parts: string[] = [];
  for (let start = 0; start < cells.length; start += chunk) {
    const lines = render(cells.slice(start, start + chunk), start === 0, widths).split('\n');
    if (start > 0) lines[0] = lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
    if (start + chunk < cells.length) lines.pop();
    parts.push(lines.join('\n'));
  }
  return parts.join('\n');
}

/** Rows cli-table3 lays out at once (see table(); `chunkRows` changes it for tests). */
const TABLE_CHUNK = 50;

/** cli-table3's padding: one space either side of a cell. */
const CELL_PADDING = 2;
const MIN_COLUMN = 8;
/** Columns the widest line of a cell takes, its colour codes left out. */
const cellWidth = (text: string) => Math.max(0, ...stripVTControlCharacters(text).split('\n').map(displayWidth));

/**
 * Column widths (padding included) that fit `width` once the borders are drawn, or undefined
 * when the table fits as it is: the widest columns give up space first, none below its header.
 */
function fitColumns(head: string[], rows: string[][], width: number): number[] | undefined {
  const natural = head.map((h, i) => Math.max(cellWidth(h), ...rows.map((r) => cellWidth(r[i] ?? ''))) + CELL_PADDING);
  const available = width - (head.length + 1);
  if (natural.reduce((a, b) => a + b, 0) <= available) return undefined;
  const least = head.map((h, i) => Math.min(natural[i]!, Math.max(cellWidth(h) + CELL_PADDING, MIN_COLUMN)));
  const capped = (cap: number) => natural.map((n, i) => Math.max(least[i]!, Math.min(n, cap)));
  let cap = Math.max(...natural);
  while (cap > 0 && capped(cap).reduce((a, b) => a + b, 0) > available) cap--;
  return capped(cap);
}

/** `text` wrapped to `width` columns at spaces; a longer word is cut after a `/` where it can be. */
function wrapText(text: string, width: number): string {
  // Coloured cells are short labels; cutting one would split its escape codes.
  if (text.includes('\x1b') || width < 1) return text;
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (let word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length <= width) {
        line += ` ${word}`;
        continue;
      }
      if (line) lines.push(line);
      while (word.length > width) {
        const slash = word.lastIndexOf('/', width - 1);
        const cut = slash > 0 ? slash + 1 : width;
        lines.push(word.slice(0, cut));
        word = word.slice(cut);
      }
      line = word;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** Characters that act on a terminal instead of showing, and those that look like nothing or reorder a line. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

/**
 * `text` with every control, invisible or bidirectional character written as a visible escape
 * (`\n`, `\e`, `\u{FEFF}`): a file name or a parser's message quoting a file can neither
 * move the cursor, colour the terminal, break a table's row nor hide in it.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => NAMED_ESCAPES[c] ?? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`);
}

export function relativeTime(date: Date | string, now = Date.now()): string {
  const seconds = Math.round((now - new Date(date).getTime()) / 1000);
  if (seconds < 45) return `${Math.max(seconds, 0)}s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.round(hours / 24)}d ago`;
}

export function absoluteTime(date: Date | string): string {
  const d = new Date(date);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function short(commit: string): string {
  return commit.slice(0, 10);
}

/**
 * A one-line progress counter on stderr, only in a terminal and never with --json; throttled
 * so drawing never costs more than the work it reports.
 */
export function progress(label: string, json: boolean, unit = 'files'): { update: (n: number) => void; done: () => void } {
  if (json || !process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(n: number) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      drawn = true;
      process.stderr.write(`\r${label} ${n.toLocaleString('en-US')} ${unit}…`);
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}

/** What a shell reports for a process killed by SIGPIPE (128 + 13), as for `git log | head -1`. */
export const EXIT_CLOSED_PIPE = 141;

/**
 * Output into a pipe whose reader has gone (`shadowgit diff | head -1`) ends the run quietly, as
 * git's death by SIGPIPE does: node ignores that signal, so the write fails with EPIPE instead,
 * which would otherwise be an unhandled error with a stack trace. Every write shadowgit makes
 * survives being killed at any point, so stopping here leaves what a kill would.
 */
export function stopQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(EXIT_CLOSED_PIPE);
    });
  }
}

/** A moment as a wall clock shows it: `22:41:07` today, with the date on another day. */
export function clockTime(date: Date | string, now = new Date()): string {
  const d = new Date(date);
  const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return d.toDateString() === now.toDateString() ? time : `${absoluteTime(d).slice(0, 10)} ${time}`;
}
