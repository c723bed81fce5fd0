#!/usr/bin/env node
// Entry point of the `tck` command: runs the built CLI (npm install builds dist/ through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('tck: the kit is not built yet; run "npm install" (or "npm run build") in the kit directory\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
