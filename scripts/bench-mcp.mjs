#!/usr/bin/env node
// `npm run bench:mcp`: what an AI agent waits for on the MCP server's read tools (status,
// list_snapshots, diff): p50 and p95 of each call over one stdio session (the SDK's own client
// against `shadowgit mcp`), on a generated tree. Hook latency: `npm run bench:hooks`.
// Usage: node scripts/bench-mcp.mjs [--case medium|large] [--rounds N] [--out results.json] [--keep]
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateTree, TREE_SHAPES } from './bench/tree.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shadowgit');
const require = createRequire(import.meta.url);
const Table = require('cli-table3');

const { values: opts } = parseArgs({
  options: {
    case: { type: 'string', default: 'large' },
    rounds: { type: 'string', default: '15' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help || !TREE_SHAPES[opts.case]) {
  console.log(`node scripts/bench-mcp.mjs [--case ${Object.keys(TREE_SHAPES).join('|')}] [--rounds N] [--out FILE] [--keep]`);
  process.exit(opts.help ? 0 : 2);
}
const rounds = Number(opts.rounds);

const work = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-mcp-'));
const tree = path.join(work, 'tree');
const home = path.join(work, 'home');
// The environment as users have it (NODE_EXTRA_CA_CERTS included), without the bench's own node options.
const env = { ...process.env, SHADOWGIT_HOME: home, NO_COLOR: '1' };
delete env.NODE_OPTIONS;

function sg(args) {
  const result = spawnSync(BIN, ['-C', tree, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`shadowgit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

let edits = 0;
/** One edit, so the two snapshots the diff compares differ. */
const editOneFile = () => appendFileSync(path.join(tree, 'bench-edited.ts'), `export const edit${edits++} = ${edits};\n`);

async function measureMcp() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const transport = new StdioClientTransport({ command: BIN, args: ['-C', tree, 'mcp'], cwd: tree, env, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  const calls = {
    status: {},
    list_snapshots: { limit: 20 },
    diff: { from: 'latest~1', to: 'latest', stat: true },
  };
  const figures = {};
  try {
    for (const [tool, args] of Object.entries(calls)) {
      const times = [];
      for (let i = 0; i < rounds; i++) {
        const started = process.hrtime.bigint();
        const result = await client.callTool({ name: tool, arguments: args });
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (result.isError) throw new Error(`MCP ${tool} failed: ${JSON.stringify(result.content)}`);
      }
      figures[tool] = { p50: percentile(times, 50), p95: percentile(times, 95) };
    }
  } finally {
    await client.close();
  }
  return figures;
}

const ms = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`);

async function main() {
  process.stderr.write(`Generating the ${opts.case} tree…\n`);
  const manifest = generateTree(tree, TREE_SHAPES[opts.case]);
  sg(['snapshot', '-m', 'first']);
  editOneFile();
  sg(['snapshot', '-m', 'second']);
  process.stderr.write('MCP tools…\n');
  const mcp = await measureMcp();

  const mcpTable = new Table({ head: ['MCP tool (one session)', 'p50', 'p95'], style: { head: [], border: [] } });
  for (const [tool, figure] of Object.entries(mcp)) mcpTable.push([tool, ms(figure.p50), ms(figure.p95)]);
  console.log(`${opts.case} tree: ${manifest.files} files, ${rounds} rounds, node ${process.version}\n${mcpTable.toString()}`);
  if (opts.out) writeFileSync(opts.out, JSON.stringify({ case: opts.case, rounds, mcp }, null, 2));
}

main()
  .catch((err) => {
    console.error(`bench-mcp: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  });
