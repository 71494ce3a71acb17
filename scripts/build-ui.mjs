#!/usr/bin/env node
// Bundles the browser UI (web/) into dist/web/: index.html, app.js and app.css (Pico's and
// diff2html's CSS with the page's own), minified. `shadowgit ui` serves these files from the
// package; nothing is fetched at run time, so the UI works offline. dist/ui/ is tsc's output
// for src/ui/, the server: the two never share a folder.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'web', 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // Fonts or images a stylesheet names go inline: the page asks the server for nothing else.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
  legalComments: 'eof',
  logLevel: 'warning',
});
await copyFile(join(root, 'web', 'index.html'), join(out, 'index.html'));
