/**
 * Figures (SVG and PNG files in the kit's style), tables (DataFrame <-> CSV, Markdown), the notebook profile,
 * and `tck report` on a results directory made here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpDir } from './helpers/tmp.js';
import { renderFigure, historyFigure, labelSpec } from '../src/report/figures.js';
import { toDataFrame, frameRows, writeTable, readTable, readCsvRows, markdownTable, htmlTable } from '../src/report/tables.js';
import { notebookProfile } from '../src/run/profile.js';
import { isStandInRun } from '../src/report/report.js';
import { openRun } from '../src/run/rundir.js';
import { OKABE_ITO } from '../src/report/theme.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(buf: Buffer): { width: number; height: number } {
  assert.ok(buf.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('renderFigure writes an SVG with the axis titles and theme, and a 2x PNG', async (t) => {
  const dir = tmpDir(t);
  const rows = [
    { bits: 2, accuracy: 91.5, method: 'PTQ' },
    { bits: 4, accuracy: 97.9, method: 'PTQ' },
    { bits: 2, accuracy: 96.1, method: 'QAT' },
    { bits: 4, accuracy: 98.8, method: 'QAT' },
  ];
  const fig = await renderFigure(
    {
      title: 'Accuracy after quantisation',
      data: { values: rows },
      width: 320,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'bits', type: 'quantitative', title: 'weight precision (bits)' },
        y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
        color: { field: 'method', type: 'nominal', title: 'method' },
      },
    },
    { dir, name: 'quant', profile: 'quick', standIn: true },
  );
  assert.deepEqual(fig.files, { svg: path.join(dir, 'quant.svg'), png: path.join(dir, 'quant.png') });
  const svg = fs.readFileSync(fig.files.svg!, 'utf8');
  assert.equal(svg, fig.svg);
  assert.match(svg, /^<svg/);
  for (const s of ['weight precision (bits)', 'test accuracy (%)', 'Accuracy after quantisation', 'profile: quick', 'STAND-IN DATA']) assert.ok(svg.includes(s), `SVG lacks "${s}"`);
  assert.match(svg, /font-family="DejaVu Sans/);
  assert.ok(svg.includes(OKABE_ITO[0]) && svg.includes(OKABE_ITO[1]), 'series drawn in the Okabe-Ito palette');
  const png = fs.readFileSync(fig.files.png!);
  assert.ok(png.length > 10_000, `PNG is only ${png.length} bytes`);
  const { width, height } = pngSize(png);
  const svgWidth = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
  assert.equal(width, Math.round(svgWidth * 2), 'PNG at twice the SVG size');
  assert.ok(width > 600 && height > 400, `PNG ${width}x${height}`);
  assert.ok(Buffer.from(fig.png).equals(png));
});

test('historyFigure shows loss and accuracy per epoch with units; labelSpec keeps a title object', async (t) => {
  const dir = tmpDir(t);
  const history = [0, 1, 2].map((e) => ({ epoch: e, loss: 1 / (e + 1), accuracy: 0.8 + 0.05 * e, valLoss: 1.2 / (e + 1), valAccuracy: 0.78 + 0.05 * e }));
  const fig = await historyFigure(history, { dir, title: 'run: training history', profile: 'smoke' });
  for (const s of ['epoch', 'loss (cross-entropy, nats)', 'accuracy (%)', 'training', 'validation', 'profile: smoke']) assert.ok(fig.svg.includes(s), `lacks ${s}`);
  assert.ok(fs.existsSync(path.join(dir, 'history.png')) && fs.existsSync(path.join(dir, 'history.svg')));
  const s = labelSpec({ title: { text: 'T', subtitle: 'given' } }, { profile: 'paper' }) as { title: { text: string; subtitle: string[] } };
  assert.deepEqual(s.title, { text: 'T', subtitle: ['given', 'profile: paper'] });
  await assert.rejects(renderFigure({ mark: 'bar' }, { name: '../escape' }), /figure name/);
});

test('tables: rows -> DataFrame -> CSV -> DataFrame round trip; run CSVs carry provenance; Markdown and HTML', (t) => {
  const dir = tmpDir(t);
  const rows = [
    { model: 'LeNet-5, 4 bit', params: 44426, accuracy: 0.9871, note: 'a "quoted" note' },
    { model: 'VGG7 | pruned', params: 1200000, accuracy: null, note: '' },
  ];
  const df = toDataFrame(rows);
  assert.deepEqual(df.columns, ['model', 'params', 'accuracy', 'note']);
  assert.deepEqual(df.shape, [2, 4]);
  const file = writeTable(dir, 'table', df);
  assert.equal(file, path.join(dir, 'table.csv'));
  const back = frameRows(readTable(file));
  assert.deepEqual(back, [rows[0], { ...rows[1], note: null }]);
  assert.equal(toDataFrame([], ['a', 'b']).shape[1], 2);

  const run = openRun({ command: 'test', preset: 'tables', profile: 'smoke', seed: 7, config: { x: 1 }, out: path.join(dir, 'run'), engine: { backend: 'cpu' } });
  const runFile = writeTable(run, 'results', rows);
  const csv = readCsvRows(runFile);
  assert.equal(csv[0].model, 'LeNet-5, 4 bit');
  assert.equal(csv[0].seed, 7);
  assert.equal(csv[0].backend, 'cpu');
  assert.match(String(csv[0].config_sha256), /^[0-9a-f]{64}$/);

  const md = markdownTable(rows);
  assert.match(md, /^\| model \| params \| accuracy \| note \|\n\|---\|---:\|---:\|---\|\n/);
  assert.ok(md.includes('VGG7 \\| pruned'));
  assert.ok(md.includes('| 0.9871 |'));
  const html = htmlTable(df, { caption: 'c <1>' });
  assert.ok(html.includes('<caption>c &lt;1&gt;</caption>') && html.includes('a &quot;quoted&quot; note'));
});

test('notebookProfile: TCK_PROFILE, else smoke under CI, else quick; a bad value is an error', () => {
  assert.equal(notebookProfile({ TCK_PROFILE: 'paper', CI: 'true' }), 'paper');
  assert.equal(notebookProfile({ CI: 'true' }), 'smoke');
  assert.equal(notebookProfile({ CI: 'false' }), 'quick');
  assert.equal(notebookProfile({}), 'quick');
  assert.throws(() => notebookProfile({ TCK_PROFILE: 'fast' }), /TCK_PROFILE: expected one of smoke, quick, paper, got "fast"/);
});

test('isStandInRun reads the stand-in flag from provenance, config, argv or dataset ids', () => {
  assert.equal(isStandInRun({ standIn: true }, {}), true);
  assert.equal(isStandInRun({}, { 'stand-in': true }), true);
  assert.equal(isStandInRun({ argv: ['nas', '--stand-in'] }, null), true);
  assert.equal(isStandInRun({ datasets: [{ id: 'vertebral-stand-in', files: [] }] }, null), true);
  assert.equal(isStandInRun({ standIn: false, argv: ['train'] }, { dataset: 'mnist' }), false);
});

function writeJson(file: string, v: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

function fakeRun(root: string, name: string, o: { profile: string; standIn?: boolean; comparison?: string[]; figure?: boolean }) {
  const dir = path.join(root, name);
  writeJson(path.join(dir, 'config.json'), { model: 'lenet5', ...(o.standIn ? { standIn: true } : {}) });
  writeJson(path.join(dir, 'provenance.json'), {
    kit: { name: 'tiny-compression-kit', version: '0.1.0' },
    git: { commit: 'abcdef0123456789abcdef0123456789abcdef01', dirty: false },
    command: name.split('-')[0],
    preset: 'p',
    profile: o.profile,
    seed: 3,
    argv: [],
    engine: { backend: 'wasm' },
    datasets: [{ id: 'mnist', files: [{ path: '/x/train-images-idx3-ubyte', sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' }] }],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:02:00.000Z',
    status: 'finished',
  });
  const header = 'seed_document,table_or_figure,quantity,paper_value,kit_value,profile,note,seed,backend,kit,commit,config_sha256';
  fs.writeFileSync(path.join(dir, 'comparison.csv'), [header, ...(o.comparison ?? [])].join('\n') + '\n');
  if (o.figure) {
    fs.mkdirSync(path.join(dir, 'figures'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'figures', 'history.png'), PNG_SIGNATURE);
    fs.writeFileSync(path.join(dir, 'figures', 'history.svg'), '<svg/>');
  }
}

test('tck report gathers run directories into REPORT.md and REPORT.html by seed document, marking stand-in runs', (t) => {
  const root = tmpDir(t);
  fakeRun(root, 'sweep-lenet5-paper', { profile: 'paper', figure: true, comparison: ['"seed 001 (LeNet-5 compression)",Table 2,top-1 accuracy (%),99.05,98.71,paper,,3,wasm,k,c,h'] });
  fakeRun(root, 'nas-vertebral-quick', { profile: 'quick', standIn: true, comparison: ['seed 003 (printed NAS),Fig. 4,area (mm2),12.5,14.1,quick,stand-in data,3,wasm,k,c,h'] });
  fakeRun(root, 'train-mlp-smoke', { profile: 'smoke', figure: true });
  fs.mkdirSync(path.join(root, 'notebooks'));
  writeJson(path.join(root, 'notebooks', 'summary.json'), { notebooks: [{ name: '00-quickstart.ipynb', source: 'notebooks/00-quickstart.ipynb', executed: 'notebooks/00-quickstart.ipynb', profile: 'smoke', status: 'passed', seconds: 7.2, finishedAt: '2026-01-01T00:03:00Z' }] });

  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tck.js'), 'report', '--json'], { encoding: 'utf8', env: { ...process.env, TCK_RESULTS_DIR: root } });
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(json.runs, 3);
  assert.deepEqual(json.seedDocuments, { 'seed 001 (LeNet-5 compression)': 1, 'seed 003 (printed NAS)': 1 });
  assert.deepEqual(json.standInRuns, ['nas-vertebral-quick']);
  assert.equal(json.markdown, path.join(root, 'REPORT.md'));

  const md = fs.readFileSync(path.join(root, 'REPORT.md'), 'utf8');
  assert.match(md, /^## Seed document: seed 001 \(LeNet-5 compression\)$/m);
  assert.match(md, /^\| Table 2 \| top-1 accuracy \(%\) \| 99\.05 \| 98\.71 \| -0\.34 \| paper \| published \| `sweep-lenet5-paper` \|/m);
  assert.match(md, /^\| Fig\. 4 \| area \(mm2\) \| 12\.5 \| 14\.1 \| 1\.6 \| quick \| \*\*STAND-IN\*\* \| `nas-vertebral-quick` \| stand-in data \|$/m);
  assert.match(md, /!\[sweep-lenet5-paper history\]\(sweep-lenet5-paper\/figures\/history\.png\)/);
  assert.match(md, /^## Other runs$/m);
  assert.match(md, /^### train-mlp-smoke$/m);
  assert.match(md, /train-mlp-smoke\/figures\/history\.png/);
  assert.match(md, /\| `notebooks\/00-quickstart\.ipynb` \| smoke \| passed \|/);
  assert.match(md, /abcdef0123/);
  assert.match(md, /ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db/);
  assert.match(md, /2\.0 min/);

  const html = fs.readFileSync(path.join(root, 'REPORT.html'), 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(html.includes('<img src="sweep-lenet5-paper/figures/history.png"'));
  assert.ok(html.includes('<tr class="standin"><td>Fig. 4</td>'));
  assert.ok(html.includes('<td>98.71</td>') || html.includes('>98.71</td>'));
});

test('tck report on an empty results directory still writes a report', (t) => {
  const root = tmpDir(t);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tck.js'), 'report'], { encoding: 'utf8', env: { ...process.env, TCK_RESULTS_DIR: root } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(root, 'REPORT.md'), 'utf8'), /No run directories yet/);
});

test('tck train writes figures/history.svg and history.png into its run directory', (t) => {
  const out = path.join(tmpDir(t), 'run');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tck.js'), 'train', '--model', 'lenet5', '--dataset', 'mnist', '--epochs', '1', '--subset', '300', '--out', out, '--quiet'], {
    encoding: 'utf8',
    env: { ...process.env, TCK_BACKEND: 'wasm' },
  });
  assert.equal(r.status, 0, r.stderr);
  const png = fs.readFileSync(path.join(out, 'figures', 'history.png'));
  pngSize(png);
  const svg = fs.readFileSync(path.join(out, 'figures', 'history.svg'), 'utf8');
  for (const s of ['training history', 'epoch', 'accuracy (%)', 'profile: custom']) assert.ok(svg.includes(s), `lacks ${s}`);
});
