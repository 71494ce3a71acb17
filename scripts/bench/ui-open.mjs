#!/usr/bin/env node
// One opening of the browser UI as a user has it, timed from inside: `shadowgit ui` started on
// TREE, then what the page asks first (the session, one page of the timeline, health's quick
// parts are not on the first screen), then stopped. Prints one JSON line:
// { startMs: until the URL was printed, firstPageMs: the timeline's first page after that, shown, total }.
// Usage: node scripts/bench/ui-open.mjs BIN TREE [LIMIT]
import { spawn } from 'node:child_process';

const [bin, tree, limit = '100'] = process.argv.slice(2);
const started = performance.now();
const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_OPTIONS;
const child = spawn(bin, ['-C', tree, 'ui', '--no-open', '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const exited = new Promise((resolve) => child.on('exit', resolve));
const line = await new Promise((resolve, reject) => {
  let text = '';
  child.stdout.on('data', (chunk) => {
    text += chunk;
    if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
  });
  child.on('exit', (code) => reject(new Error(`shadowgit ui exited ${code} before printing its URL`)));
});
const startMs = performance.now() - started;
const { url } = JSON.parse(line);
const token = new URL(url).searchParams.get('token');
const origin = new URL(url).origin;
const get = async (path) => {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const pageStarted = performance.now();
await get('/api/session');
const page = await get(`/api/timeline?limit=${limit}`);
const firstPageMs = performance.now() - pageStarted;
child.kill('SIGTERM');
await exited;
process.stdout.write(`${JSON.stringify({ startMs, firstPageMs, openMs: startMs + firstPageMs, shown: page.snapshots.length, total: page.total })}\n`);
