// Preloaded into shadowgit when GNU time is missing: writes the process's peak RSS (KiB) on exit.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  writeFileSync(process.env.SHADOWGIT_BENCH_RSS_FILE, `${process.resourceUsage().maxRSS}\n`);
});
