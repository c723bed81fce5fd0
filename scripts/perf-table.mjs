#!/usr/bin/env node
// Rewrites the README's performance table (between <!-- perf-table:start --> and <!-- perf-table:end -->) from
// a `tck bench` result:  npm run perf-table -- results/bench-wasm-custom/bench.json [--readme README.md] [--print] [--partial]
// It refuses a run without a ratio for every row of the table unless --partial.
// The input is a run's bench.json or a file holding `tck bench --json`'s last stdout line. Run through tsx
// (the npm script does), so it uses src/ as it is, without a build.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { perfTableSection, updatePerfTable } from '../src/report/perf-table.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run perf-table -- <bench.json> [--readme README.md] [--print] [--partial]';

function main() {
  let args;
  try {
    args = parseArgs({ options: { readme: { type: 'string' }, print: { type: 'boolean' }, partial: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (e) {
    throw new Error(`${e.message}\n${USAGE}`);
  }
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  if (args.positionals.length !== 1) throw new Error(USAGE);
  const file = path.resolve(args.positionals[0]);
  if (!fs.existsSync(file)) throw new Error(`${args.positionals[0]}: no such file (run npm run bench first; it writes results/bench-<backend>-custom/bench.json)`);
  const text = fs.readFileSync(file, 'utf8').trim();
  let bench;
  try {
    bench = JSON.parse(text.split('\n').at(-1).startsWith('{"') ? text.split('\n').at(-1) : text);
  } catch (e) {
    throw new Error(`${args.positionals[0]}: not a bench JSON (${e.message})`);
  }
  // The run directory the figures come from, relative to the kit when it is inside it.
  const dir = path.dirname(file);
  const rel = path.relative(ROOT, dir);
  const runDir = path.basename(file) === 'bench.json' ? (rel && !rel.startsWith('..') ? rel : dir) : bench.runDir;
  if (args.values.print) {
    console.log(perfTableSection(bench, { runDir }));
    return;
  }
  const readme = path.resolve(args.values.readme ?? path.join(ROOT, 'README.md'));
  const changed = updatePerfTable(readme, bench, { runDir, partial: args.values.partial });
  console.log(changed ? `${path.relative(process.cwd(), readme) || readme}: performance table rewritten from ${args.positionals[0]}` : `${readme}: performance table already up to date`);
}

try {
  main();
} catch (e) {
  console.error(`perf-table: ${e.message}`);
  process.exit(1);
}
