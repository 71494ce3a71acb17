#!/usr/bin/env node
/**
 * `npm run ui:screenshots`: the README's pictures of the browser UI, taken from a real run. It
 * builds a small TypeScript project at a fixed path in the temp directory, records snapshots
 * through the real CLI (by hand, by the watcher, by an agent's hooks, an approval), leaves an edit
 * unrecorded, starts `shadowgit ui` on it and has Debian's headless chromium (playwright-core)
 * photograph the timeline, a comparison with its diff, a file's history, a snapshot's tree with a
 * file open, the impact graph and health at a fixed viewport, locale and time zone into
 * docs/images/ui-*.png. Needs a build (`npm run build`) and /usr/bin/chromium.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shadowgit');
const OUT = path.join(ROOT, 'docs', 'images');
const VIEWPORT = { width: 1280, height: 800 };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A fixed place, not a random temp dir: the header shows the worktree's path and health the
// shadow repository's, so a retake differs from the last take only where the run itself does
// (snapshot ids, dates, free disk space).
const dir = path.join(realpathSync(os.tmpdir()), 'shadowgit-ui-demo');
await fsp.rm(dir, { recursive: true, force: true });
await fsp.mkdir(dir);
const work = path.join(dir, 'demo-app');
const env = { ...process.env, SHADOWGIT_HOME: path.join(dir, 'home'), NO_COLOR: '1', TZ: 'UTC' };
delete env.NODE_OPTIONS;

function cli(args, input = '') {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env, input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}
const json = (args) => JSON.parse(cli(['--json', ...args]));

async function write(files) {
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(work, rel)), { recursive: true });
    await fsp.writeFile(path.join(work, rel), text);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What an agent's hook sends on stdin (Claude Code's fields). */
const hook = (event, fields) => cli(['hook', 'claude', event], JSON.stringify({ session_id: '3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c', hook_event_name: event, cwd: work, ...fields }));

/** Runs the watcher until it has recorded one snapshot of `edit`. */
async function watcherSnapshot(edit) {
  const before = json(['list']).length;
  const watcher = spawn(process.execPath, [BIN, 'watch', '--debounce', '0.5'], { cwd: work, env, stdio: 'ignore' });
  try {
    await sleep(1500);
    await edit();
    for (let i = 0; i < 100 && json(['list']).length === before; i++) await sleep(200);
  } finally {
    watcher.kill('SIGINT');
    await new Promise((resolve) => watcher.once('exit', resolve));
  }
}

async function makeHistory() {
  await write({
    'package.json': '{ "name": "demo-app", "type": "module" }\n',
    'README.md': '# demo-app\n\nA calculator.\n',
    'src/math.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
    'src/format.ts': "import { add } from './math.js';\n\nexport const sum = (xs: number[]) => `${xs.reduce(add, 0)}`;\n",
    'src/index.ts': "import { sum } from './format.js';\n\nconsole.log(sum([1, 2, 3]));\n",
    'test/math.test.ts': "import { add } from '../src/math.js';\n\nif (add(2, 2) !== 4) throw new Error('add');\n",
    'test/format.test.ts': "import { sum } from '../src/format.js';\n\nif (sum([1, 2]) !== '3') throw new Error('sum');\n",
  });
  cli(['snapshot', '-m', 'initial import']);
  await write({ 'src/math.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport function sub(a: number, b: number): number {\n  return a - b;\n}\n' });
  cli(['snapshot', '-m', 'subtraction']);
  cli(['approve', 'tests pass', '-m', 'add and sub covered']);
  await watcherSnapshot(() => write({ 'README.md': '# demo-app\n\nA calculator: add, sub.\n\n```sh\nnode src/index.ts\n```\n' }));
  hook('UserPromptSubmit', { prompt: 'Add multiplication and division, with tests' });
  await write({
    'src/math.ts':
      'export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport function sub(a: number, b: number): number {\n  return a - b;\n}\n\nexport function mul(a: number, b: number): number {\n  return a * b;\n}\n\nexport function div(a: number, b: number): number {\n  if (b === 0) throw new RangeError(\'division by zero\');\n  return a / b;\n}\n',
  });
  hook('PreToolUse', { tool_name: 'Write', tool_input: { file_path: path.join(work, 'test/mul.test.ts') } });
  await write({ 'test/mul.test.ts': "import { div, mul } from '../src/math.js';\n\nif (mul(2, 3) !== 6 || div(6, 3) !== 2) throw new Error('mul/div');\n" });
  hook('UserPromptSubmit', { prompt: 'Round the sum to two decimals' });
  // Left unrecorded: what the impact graph and a comparison with the live tree show.
  await write({ 'src/math.ts': (await fsp.readFile(path.join(work, 'src/math.ts'), 'utf8')).replace('return a + b;', 'return Math.round((a + b) * 100) / 100;') });
}

/** `shadowgit ui --no-open --json`: its URL once printed. */
async function startUi() {
  const child = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { cwd: work, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`shadowgit ui exited ${code}`)));
  });
  return { child, ...JSON.parse(line) };
}

await makeHistory();
const snapshots = json(['list']);
const byMessage = (m) => snapshots.find((s) => s.message === m).id;
const ui = await startUi();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
  await page.goto(ui.url);
  await fsp.mkdir(OUT, { recursive: true });
  const shoot = async (name, hash, ready) => {
    await page.goto(`${new URL(ui.url).origin}/${hash}`);
    await ready();
    // Relative times and the graph's layout settle.
    await sleep(500);
    await page.screenshot({ path: path.join(OUT, `ui-${name}.png`) });
    console.log(`docs/images/ui-${name}.png`);
  };
  await shoot('timeline', '#/timeline', () => page.getByTestId('snapshot-row').nth(snapshots.length - 1).waitFor());
  await shoot('compare', `#/compare?from=${byMessage('subtraction')}&path=src/math.ts&layout=split`, () => page.getByTestId('diff').locator('.d2h-ins').first().waitFor());
  await shoot('history', '#/history?path=src/math.ts', () => page.getByTestId('version-row').nth(2).waitFor());
  await shoot('browse', '#/browse?rev=latest&path=src/math.ts', () => page.getByTestId('file-text').waitFor());
  await shoot('impact', '#/impact', async () => {
    await page.getByTestId('impact-graph').locator('canvas').first().waitFor();
    // A node picked through the list beside the graph (the same as a click on it) opens its panel.
    const list = page.getByText('The files as a list');
    await list.click();
    await page.getByRole('button', { name: 'src/math.ts', exact: true }).click();
    await list.click();
    await page.getByTestId('impact-node').waitFor();
  });
  await shoot('health', '#/health', () => page.getByTestId('health-component').first().waitFor());
  if (problems.length > 0) throw new Error(`the page reported errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
  ui.child.kill('SIGTERM');
  await fsp.rm(dir, { recursive: true, force: true });
}
