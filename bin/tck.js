#!/usr/bin/env node
// Entry point of the `tck` command: runs the built CLI (npm install builds dist/ through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A reader that stops early (`tck data list | head -1`) closes the pipe: that is not an error of tck, so stop
// quietly (with the exit status so far) instead of dying on an unhandled EPIPE. Other stream errors still throw.
let pipeClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE' || (pipeClosed && e.code === 'ERR_STREAM_DESTROYED')) {
      pipeClosed = true;
      process.exit(process.exitCode ?? 0);
    }
    throw e;
  });
}

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('tck: the kit is not built yet; run "npm install" (or "npm run build") in the kit directory\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
