/**
 * Writes docs/reference.md from the kit's schemas (src/report/reference.ts). `--check`: exit 1 when the file
 * differs from what the schemas give (the test suite runs this check).
 *
 *   npm run docs [-- --check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReference } from '../src/report/reference.js';
import { TrainConfigSchema } from '../src/cli/train.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'reference.md');
const text = renderReference(TrainConfigSchema);
if (process.argv.includes('--check')) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`docs/reference.md is out of date with the schemas: run npm run docs\n`);
    process.exit(1);
  }
  process.stderr.write('docs/reference.md is up to date\n');
} else {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
