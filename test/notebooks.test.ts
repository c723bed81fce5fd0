/**
 * `npm run notebooks` (scripts/notebooks.ts) on notebooks written here: a failing cell makes it exit non-zero
 * and print that cell's error, and later cells do not run; a passing notebook imports the kit by its package
 * name, reads the profile, displays a figure, and leaves an executed copy with its outputs.
 * Skipped, with the reason, when Jupyter (Debian's python3-nbclient) or tslab is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpDir } from './helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function jupyterMissing(): string | false {
  const py = process.env.TCK_JUPYTER_PYTHON ?? '/usr/bin/python3';
  if (spawnSync(py, ['-c', 'import nbclient, nbformat, jupyter_client'], { stdio: 'ignore' }).status !== 0) {
    return `Jupyter is not installed (${py} cannot import nbclient); run bash scripts/setup.sh`;
  }
  if (!fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'tslab'))) return 'tslab is not installed; run npm ci';
  return false;
}
const skip = jupyterMissing();

/**
 * The notebooks must live inside the project so that `tiny-compression-kit` resolves (through
 * node_modules/tiny-compression-kit -> ..), as it does for notebooks/: use a folder under node_modules/.cache.
 */
function notebookDir(t: { after: (fn: () => void) => void }): string {
  const base = path.join(ROOT, 'node_modules', '.cache', 'tck-test-notebooks');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'nb-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeNotebook(file: string, cells: string[]): void {
  const nb = {
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `cell-${i}`, metadata: {}, source, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
}

function runNotebooks(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'notebooks.ts'), '--no-build', ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, TCK_BACKEND: 'wasm' },
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
const text = (o: Output) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''));

test('a failing cell makes npm run notebooks exit non-zero, shows that cell and its error, and runs no later cell', { skip }, (t) => {
  const dir = notebookDir(t);
  const out = tmpDir(t);
  const nb = path.join(dir, 'fails.ipynb');
  writeNotebook(nb, [
    "console.log('first cell ran');",
    "const answer: number = 42;\nif (answer === 42) throw new Error('deliberate failure 4711 in the second cell');",
    "console.log('third cell ran');",
  ]);
  const r = runNotebooks(['--profile', 'smoke', '--out', out, nb]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stderr, /Cell 2 of .*fails\.ipynb failed:/);
  assert.match(r.stderr, /\| if \(answer === 42\) throw new Error/, 'the failing cell source is shown');
  assert.match(r.stderr, /Error: deliberate failure 4711 in the second cell/, 'the error text is shown');
  assert.match(r.stderr, /fails\.ipynb failed at code cell 2/);
  assert.doesNotMatch(r.out, /third cell ran/);
  const executed = JSON.parse(fs.readFileSync(path.join(out, 'fails.ipynb'), 'utf8')) as { cells: { outputs: Output[] }[] };
  assert.match(executed.cells[0].outputs.map(text).join(''), /first cell ran/);
  assert.match(executed.cells[1].outputs.map(text).join(''), /deliberate failure 4711/);
  assert.equal(executed.cells[2].outputs.length, 0);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.notebooks[0].status, 'failed');
  assert.match(summary.notebooks[0].error, /deliberate failure 4711/);

  // a type error stops the run the same way, with the compiler's message
  const typed = path.join(dir, 'type-error.ipynb');
  writeNotebook(typed, ["const n: number = 'not a number';"]);
  const r2 = runNotebooks(['--out', out, typed]);
  assert.equal(r2.code, 1, r2.out);
  assert.match(r2.stderr, /Type 'string' is not assignable to type 'number'/);
});

test('a passing notebook imports the kit by name, reads the profile, and leaves an executed copy with outputs', { skip }, (t) => {
  const dir = notebookDir(t);
  const out = tmpDir(t);
  const nb = path.join(dir, 'passes.ipynb');
  writeNotebook(nb, [
    "import * as tslab from 'tslab';\nimport { notebookProfile, kitVersion, renderFigure, toDataFrame, htmlTable } from 'tiny-compression-kit';\nconsole.log(`profile=${notebookProfile()} kit=${kitVersion().name}`);",
    "const df = toDataFrame([{ bits: 2, accuracy: 91.5 }, { bits: 8, accuracy: 99.1 }]);\ntslab.display.html(htmlTable(df));",
    "import { esmImport } from 'tiny-compression-kit';\nconst vega = await esmImport<any>('vega');\nconsole.log(`vega ${vega.version} View=${typeof vega.View}`);",
    "const fig = await renderFigure({ data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative', title: 'x (units)' }, y: { field: 'y', type: 'quantitative', title: 'y (units)' } } });\ntslab.display.png(fig.png);",
  ]);
  const r = runNotebooks(['--profile', 'smoke', '--out', out, nb]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.stdout, /profile=smoke kit=tiny-compression-kit/);
  assert.match(r.stderr, /passes\.ipynb passed in/);
  assert.ok(!fs.readFileSync(nb, 'utf8').includes('profile=smoke'), 'the source notebook is left as it was');
  const executed = JSON.parse(fs.readFileSync(path.join(out, 'passes.ipynb'), 'utf8')) as { cells: { outputs: Output[] }[] };
  assert.match(executed.cells[0].outputs.map(text).join(''), /profile=smoke/);
  assert.ok(executed.cells[1].outputs.some((o) => o.data?.['text/html'] && String(o.data['text/html']).includes('<table>')));
  assert.match(executed.cells[2].outputs.map(text).join(''), /vega 6\.\d+\.\d+ View=function/, 'an ESM-only package (vega 6) loads in tslab through esmImport');
  const png = executed.cells[3].outputs.find((o) => o.data?.['image/png'])?.data?.['image/png'];
  assert.ok(typeof png === 'string' && Buffer.from(png, 'base64').subarray(1, 4).toString() === 'PNG', 'an inline PNG figure');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.notebooks[0].status, 'passed');
  assert.equal(summary.notebooks[0].profile, 'smoke');
});
