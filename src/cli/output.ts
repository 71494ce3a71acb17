import { createRequire } from 'node:module';
import type { SkippedPath } from '../engine/scan.js';

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

/** A table in the terminal's style; plain borders so it survives copy-paste and pipes. */
export function table(head: string[], rows: string[][]): string {
  const Table = require('cli-table3') as typeof import('cli-table3');
  const t = new Table({ head: head.map((h) => color.bold(h)), style: { head: [], border: [] }, wordWrap: true });
  t.push(...rows);
  return t.toString();
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
