#!/usr/bin/env node
// Entry point for `sovereign <command>`; the CLI itself lives in src/cli (compiled to dist/).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('sovereign: not built yet; run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(2);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
