// Deterministic working trees for the benchmark: the same seed always gives the same bytes,
// so the shadowgit copy and the native-git copy are identical and runs are comparable.
import { mkdirSync, writeFileSync, symlinkSync, chmodSync, openSync, writeSync, ftruncateSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** mulberry32: tiny, fast, good enough to shape a file tree. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random) {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Incompressible bytes (binaries), from the same generator so they are reproducible. */
export function randomBytes(random, size) {
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = (random() * 4294967296) >>> 0;
  return Buffer.from(words.buffer, 0, size);
}

const VOCAB = (
  'import export const let function return if else for while await async class interface type ' +
  'string number boolean undefined null true false this new extends implements public private ' +
  'readonly static get set yield switch case break continue default throw try catch finally ' +
  'value result options config path file tree node index item entry count total name data'
).split(' ');

/** A pool of source-like text: files are slices of it, so they compress like real code. */
function textPool(random, size) {
  const parts = [];
  let length = 0;
  while (length < size) {
    const words = 3 + Math.floor(random() * 9);
    let line = '  '.repeat(Math.floor(random() * 4));
    for (let w = 0; w < words; w++) line += `${VOCAB[Math.floor(random() * VOCAB.length)]}${random() < 0.2 ? `_${Math.floor(random() * 1000)}` : ''} `;
    line += random() < 0.5 ? ';\n' : '{\n';
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join(''));
}

export const TREE_SHAPES = {
  medium: { files: 10_000, dirs: 1_300, binaries: 3, seed: 10_000 },
  large: { files: 45_000, dirs: 6_000, binaries: 6, seed: 45_000 },
  /** Issue #22's monorepo: `npm run bench -- --scale`. */
  scale: { files: 300_000, dirs: 40_000, binaries: 10, seed: 300_000 },
};

const EXTENSIONS = ['.ts', '.ts', '.ts', '.js', '.json', '.md', '.css', '.tsx', '.txt'];
const MEDIAN_SIZE = 2048;
const MAX_SIZE = 1024 * 1024;

/**
 * Writes a tree of `shape` under `root` and returns its manifest (the regular text files, the
 * only ones mutations touch). Sizes are log-normal (median 2 KiB, tail cut at 1 MiB), about 15%
 * of files duplicate an earlier file's content, a few multi-MiB binaries, ~3% executables and
 * ~0.5% symlinks.
 */
export function generateTree(root, shape) {
  const random = prng(shape.seed);
  const pool = textPool(random, 2 * MAX_SIZE + 4096);
  const dirs = [''];
  const depth = new Map([['', 0]]);
  for (let d = 1; d < shape.dirs; d++) {
    // Prefer recent, shallow parents: gives a bushy tree about 6–8 levels deep.
    let parent = dirs[Math.floor(random() ** 0.7 * dirs.length)];
    while (depth.get(parent) >= 8) parent = path.posix.dirname(parent) === '.' ? '' : path.posix.dirname(parent);
    const dir = parent ? `${parent}/d${d}` : `d${d}`;
    dirs.push(dir);
    depth.set(dir, depth.get(parent) + 1);
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  const textFiles = [];
  const contents = [];
  let bytes = 0;
  for (let i = 0; i < shape.files; i++) {
    const dir = dirs[Math.floor(random() * dirs.length)];
    const name = `f${i}${EXTENSIONS[Math.floor(random() * EXTENSIONS.length)]}`;
    const rel = dir ? `${dir}/${name}` : name;
    const full = path.join(root, rel);
    const roll = random();
    if (roll < 0.005 && textFiles.length > 0) {
      const target = textFiles[Math.floor(random() * textFiles.length)];
      symlinkSync(path.posix.relative(dir || '.', target), full);
      continue;
    }
    let content;
    if (roll < 0.155 && contents.length > 0) content = contents[Math.floor(random() * contents.length)];
    else {
      const size = Math.min(MAX_SIZE, Math.max(16, Math.round(MEDIAN_SIZE * Math.exp(1.2 * normal(random)))));
      const start = Math.floor(random() * (pool.length - size));
      content = Buffer.concat([Buffer.from(`// ${rel}\n`), pool.subarray(start, start + size)]);
      if (contents.length < 4096) contents.push(content);
      else contents[Math.floor(random() * contents.length)] = content;
    }
    writeFileSync(full, content);
    bytes += content.length;
    if (random() < 0.03) chmodSync(full, 0o755);
    textFiles.push(rel);
  }
  for (let b = 0; b < shape.binaries; b++) {
    const size = (2 + Math.floor(random() * 7)) * 1024 * 1024;
    writeFileSync(path.join(root, `asset-${b}.bin`), randomBytes(random, size));
    bytes += size;
  }
  return { files: shape.files + shape.binaries, dirs: shape.dirs, bytes, textFiles };
}

/** Rewrites `count` text files chosen by `seed`; identical on every copy of the tree. */
export function mutateFiles(roots, manifest, count, seed) {
  const random = prng(seed);
  const chosen = new Set();
  while (chosen.size < Math.min(count, manifest.textFiles.length)) chosen.add(manifest.textFiles[Math.floor(random() * manifest.textFiles.length)]);
  for (const rel of chosen) {
    for (const root of roots) {
      const full = path.join(root, rel);
      writeFileSync(full, Buffer.concat([readFileSync(full), Buffer.from(`// edit ${seed}\n`)]));
    }
  }
  return [...chosen];
}

export const HUGE_SIZE = 2 * 1024 * 1024 * 1024;

/**
 * One 2 GiB file, made quickly: sparse, with 1 MiB of random bytes every 128 MiB so the content
 * is not all zeros (hashing and deflate still see every byte).
 */
export function generateHugeFile(file, seed) {
  const random = prng(seed);
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, HUGE_SIZE);
    for (let offset = 0; offset < HUGE_SIZE; offset += 128 * 1024 * 1024) writeSync(fd, randomBytes(random, 1024 * 1024), 0, 1024 * 1024, offset);
  } finally {
    closeSync(fd);
  }
}

/** Overwrites 1 MiB in the middle of the huge file (same size, new content). */
export function touchHugeFile(file, seed) {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(prng(seed), 1024 * 1024), 0, 1024 * 1024, HUGE_SIZE / 2 + 4096);
  } finally {
    closeSync(fd);
  }
}
