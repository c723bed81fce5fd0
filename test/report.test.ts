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
import { renderFigure, renderSvg, historyFigure, historySpec, labelSpec, perClassSpec, seedSpreadSpec, summarizeSeeds, closeDomain } from '../src/report/figures.js';
import { toDataFrame, frameRows, writeTable, readTable, readCsvRows, markdownTable, htmlTable } from '../src/report/tables.js';
import { notebookProfile } from '../src/run/profile.js';
import { isStandInRun } from '../src/report/report.js';
import { openRun, RunDirError, seedDocumentLabel } from '../src/run/rundir.js';
import { OKABE_ITO, THEME } from '../src/report/theme.js';

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
  // figures are embedded (the HTML stands alone); the Markdown links them
  assert.ok(html.includes(`<img src="data:image/png;base64,${PNG_SIGNATURE.toString('base64')}"`));
  assert.ok(!html.includes('src="sweep-lenet5-paper/'));
  assert.ok(html.includes('<tr class="standin"><td>Fig. 4</td>'));
  assert.ok(html.includes('<td>98.71</td>') || html.includes('>98.71</td>'));
});

test('one seed document, one section: a bare number (002, or 2 as read from CSV) is the same document as "seed 002"', (t) => {
  assert.equal(seedDocumentLabel('002'), 'seed 002');
  assert.equal(seedDocumentLabel(2), 'seed 002');
  assert.equal(seedDocumentLabel('seed 004'), 'seed 004');
  assert.equal(seedDocumentLabel('seed 001 (LeNet-5 compression)'), 'seed 001 (LeNet-5 compression)');
  const root = tmpDir(t);
  fakeRun(root, 'binary-genetic-mnist-quick', { profile: 'quick', comparison: ['002,§4.1.6,naive accuracy (%),10,10.8,quick,,1,wasm,k,c,h'] });
  fakeRun(root, 'binary-resnet-mnist-quick', { profile: 'quick', comparison: ['seed 002,Table 5.3,top-1 accuracy (%),97.6,89.8,quick,,1,wasm,k,c,h'] });
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tck.js'), 'report', '--json'], { encoding: 'utf8', env: { ...process.env, TCK_RESULTS_DIR: root } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!).seedDocuments, { 'seed 002': 2 });
  // and a run writes the one spelling
  const run = openRun({ command: 'binary', preset: 'x', profile: 'smoke', seed: 1, config: {}, out: path.join(root, 'written'), engine: { backend: 'cpu' } });
  run.writeComparison([{ seed_document: '002', table_or_figure: 'T', quantity: 'q', paper_value: 1, kit_value: 1, profile: 'smoke', note: '' }]);
  assert.match(fs.readFileSync(path.join(root, 'written', 'comparison.csv'), 'utf8').split('\n')[1], /^seed 002,/);
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

const TCK = path.join(ROOT, 'bin', 'tck.js');
function tck(root: string, args: string[]) {
  const r = spawnSync(process.execPath, [TCK, ...args], { encoding: 'utf8', env: { ...process.env, TCK_RESULTS_DIR: root } });
  assert.equal(r.status, 0, `tck ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** The Markdown of one `## ` section, from its heading to the next. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `no section "${heading}"`);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end < 0 ? undefined : end);
}

test('tck report: exploratory (custom) estimate runs get their own section and do not repeat the preset rows', (t) => {
  const root = tmpDir(t);
  // the preset runs reproduce.sh makes: 26 rows of seed 001 for LeNet-5 (MNIST), 10 for LeNet-5 (CIFAR-10)
  tck(root, ['estimate', '--model', 'lenet5', '--profile', 'quick']);
  tck(root, ['estimate', '--model', 'lenet5-cifar10', '--profile', 'quick']);
  // four exploratory estimates (profile custom): each used to add its 26 rows to seed 001's section again
  const custom = [['--weight-bits', '8,4,4,4,8'], ['--weight-bits', '4'], ['--weight-bits', '2', '--act-bits', '8'], ['--act-bits', '4']];
  for (const flags of custom) tck(root, ['estimate', '--model', 'lenet5', ...flags]);
  // two exploratory train runs with the same number that no preset run gave: listed once, naming both
  const row = 'seed 001,Table 5.3,top-1 accuracy (%),99.05,97.5,custom,,3,wasm,k,c,h';
  fakeRun(root, 'train-a-custom', { profile: 'custom', comparison: [row] });
  fakeRun(root, 'train-b-custom', { profile: 'custom', comparison: [row] });

  const r = tck(root, ['report', '--json']);
  const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(json.runs, 8);
  assert.deepEqual(json.seedDocuments, { 'seed 001': 36 });
  assert.equal(json.exploratoryRuns.length, 6);
  assert.deepEqual(json.exploratoryRows, { listed: 1, equalToPreset: 4 * 26, duplicates: 1 });

  const md = fs.readFileSync(path.join(root, 'REPORT.md'), 'utf8');
  const seed001 = section(md, 'Seed document: seed 001');
  const rows = seed001.split('\n').filter((l) => /^\| Table /.test(l));
  assert.equal(rows.length, 36, 'seed 001 keeps only its preset rows');
  assert.ok(rows.every((l) => l.includes('| quick (label only) | data-free |')), 'estimates are marked data-free, the profile a label');
  assert.ok(!seed001.includes('custom'));
  assert.match(md, /Rows marked \*\*data-free\*\* come from `tck estimate`/);

  const expl = section(md, 'Exploratory runs');
  assert.equal(expl.split('\n').filter((l) => /^### estimate-lenet5-[0-9a-f]{8}-custom$/.test(l)).length, 4);
  assert.ok(expl.includes('Command line: `tck estimate --model lenet5 --weight-bits 8,4,4,4,8`'));
  assert.match(expl, /\*\*data-free\*\*: computed from the architecture alone/);
  // no Table 5.1/5.2 row repeated; the one distinct number once, with both runs
  assert.equal(expl.split('\n').filter((l) => /^\| seed 001 \| Table 5\.[12] /.test(l)).length, 0);
  const distinct = expl.split('\n').filter((l) => l.startsWith('| seed 001 | Table 5.3 |'));
  assert.equal(distinct.length, 1);
  assert.ok(distinct[0].includes('`train-a-custom`, `train-b-custom`'), distinct[0]);
  assert.match(expl, /104 equal to a preset run's and 1 repeating another exploratory run's/);
  assert.equal(md.split('\n').filter((l) => /^\| Table 5\.2 \| float32 cycles /.test(l)).length, 1, 'a published row appears once in the whole report');

  // estimates leave no empty figures/ or checkpoint/ directories
  for (const d of fs.readdirSync(root).filter((d) => d.startsWith('estimate-'))) {
    assert.ok(!fs.existsSync(path.join(root, d, 'figures')), `${d}/figures`);
    assert.ok(!fs.existsSync(path.join(root, d, 'checkpoint')), `${d}/checkpoint`);
  }
});

test('REPORT.html is self-contained: figures embedded as data: URIs, no src pointing to a file', async (t) => {
  const root = tmpDir(t);
  fakeRun(root, 'train-lenet5-quick', { profile: 'quick' });
  const history = [0, 1, 2].map((e) => ({ epoch: e, loss: 1 / (e + 1), accuracy: 0.8 + 0.05 * e, valLoss: 1.2 / (e + 1), valAccuracy: 0.78 + 0.05 * e }));
  await historyFigure(history, { dir: path.join(root, 'train-lenet5-quick', 'figures'), testAccuracy: 0.9, profile: 'quick' });
  tck(root, ['report']);
  const html = fs.readFileSync(path.join(root, 'REPORT.html'), 'utf8');
  const srcs = [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]);
  assert.equal(srcs.length, 1);
  assert.ok(srcs.every((s) => s.startsWith('data:')), `src pointing to a file: ${srcs.filter((s) => !s.startsWith('data:')).join(', ')}`);
  const png = fs.readFileSync(path.join(root, 'train-lenet5-quick', 'figures', 'history.png'));
  assert.ok(html.includes(`src="data:image/png;base64,${png.toString('base64')}"`), 'the figure itself is in the HTML');
  const { width } = pngSize(png);
  assert.ok(html.includes(` width="${Math.round(width / 2)}"`), 'shown at its SVG size (the PNG is 2x)');
  assert.ok(!/href="[^"#]*\.(png|svg)"/.test(html), 'no links to figure files');
  // only SVG: embedded as SVG
  fs.rmSync(path.join(root, 'train-lenet5-quick', 'figures', 'history.png'));
  tck(root, ['report']);
  assert.match(fs.readFileSync(path.join(root, 'REPORT.html'), 'utf8'), /<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
});

async function compileVega(spec: Record<string, unknown>) {
  const vl = await import('vega-lite');
  return vl.compile(spec as never, { config: THEME as never }).spec as unknown as { legends?: Record<string, unknown>[]; [k: string]: unknown };
}

/** Every layer of a (possibly concatenated) vega-lite spec. */
function layers(spec: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const visit = (s: Record<string, unknown>) => {
    for (const k of ['hconcat', 'vconcat', 'concat', 'layer']) for (const c of (s[k] as Record<string, unknown>[] | undefined) ?? []) visit(c);
    if (s.mark) out.push(s);
  };
  visit(spec);
  return out;
}
const markType = (l: Record<string, unknown>) => (typeof l.mark === 'string' ? l.mark : (l.mark as { type: string }).type);

test('historySpec: training and validation series, the final test accuracy as a labelled rule, line legend swatches', async () => {
  const history = [0, 1, 2, 3].map((e) => ({ epoch: e, loss: 1 / (e + 1), accuracy: 0.9 + 0.02 * e, valLoss: 1.1 / (e + 1), valAccuracy: 0.89 + 0.02 * e }));
  const spec = historySpec(history, { title: 'h', testAccuracy: 0.9712, testLoss: 0.09 });
  const values = (spec.data as { values: { split: string; metric: string }[] }).values;
  for (const split of ['training', 'validation']) for (const metric of ['loss', 'accuracy']) assert.ok(values.some((v) => v.split === split && v.metric === metric), `${split} ${metric}`);
  const ls = layers(spec);
  const rules = ls.filter((l) => markType(l) === 'rule');
  assert.equal(rules.length, 2, 'test accuracy and test loss rules');
  const ruleValues = rules.map((l) => (l.data as { values: { value: number }[] }).values[0].value);
  assert.ok(ruleValues.some((v) => Math.abs(v - 97.12) < 1e-9));
  const labels = ls.filter((l) => markType(l) === 'text').map((l) => (l.data as { values: { label: string }[] }).values[0].label);
  assert.deepEqual(labels.sort(), ['test 0.09', 'test 97.12%']);
  // the line layer encodes the split by colour and by dash; its legend draws strokes
  const line = ls.find((l) => markType(l) === 'line')!;
  const enc = line.encoding as Record<string, { field?: string; legend?: { symbolType?: string } }>;
  assert.equal(enc.strokeDash.field, 'split');
  assert.equal(enc.color.legend?.symbolType, 'stroke');
  const compiled = await compileVega(spec);
  assert.equal(compiled.legends?.length, 1, 'one legend for colour and dash');
  const legend = compiled.legends![0];
  assert.equal(legend.symbolType, 'stroke');
  assert.equal(legend.stroke, 'color');
  assert.equal(legend.strokeDash, 'strokeDash');
  // in the SVG: the test label, and the legend's validation swatch is a dashed stroke
  const svg = await renderSvg(spec);
  assert.ok(svg.includes('test 97.12%'));
  const legendSvg = svg.slice(svg.indexOf('role-legend'));
  const swatches = [...legendSvg.matchAll(/<g class="mark-symbol role-legend-symbol"[^>]*><path ([^>]*)\/>/g)].map((m) => m[1]);
  assert.equal(swatches.length, 2);
  assert.ok(swatches.every((a) => /fill="none"|stroke="#/.test(a)));
  assert.ok(swatches.some((a) => a.includes(`stroke="${OKABE_ITO[1]}"`) && a.includes('stroke-dasharray')), 'validation swatch: orange and dashed');
  assert.ok(swatches.some((a) => a.includes(`stroke="${OKABE_ITO[0]}"`)), 'training swatch: blue');
  // a history without validation has one series; the old (history, title) call still works
  const plain = historySpec(history.map(({ epoch, loss, accuracy }) => ({ epoch, loss, accuracy })), 'plain');
  assert.deepEqual((plain.title as { text: string }).text, 'plain');
  assert.ok(!(plain.data as { values: { split: string }[] }).values.some((v) => v.split === 'validation'));
  assert.equal(layers(plain).filter((l) => markType(l) === 'rule').length, 0);
});

test('perClassSpec: an axis that shows the differences between classes near 98%, with value labels', async () => {
  const rows = [99.4, 99.3, 98.6, 98.9, 98.8, 98.5, 98.7, 98.2, 98.5, 97.8].map((a, k) => ({ digit: String(k), accuracy_pct: a }));
  const spec = perClassSpec(rows, { classField: 'digit', valueField: 'accuracy_pct', overall: 98.77, title: 'per digit' });
  const ls = layers(spec);
  const bar = ls.find((l) => markType(l) === 'bar')!;
  const y = (bar.encoding as { y: { scale: { domain: number[]; zero: boolean } } }).y;
  assert.equal(y.scale.zero, false);
  const [lo, hi] = y.scale.domain;
  assert.ok(lo >= 95 && lo <= 97.8 && hi <= 100 && hi > 99.4, `domain [${lo}, ${hi}]`);
  assert.deepEqual((bar.encoding as { y2: { datum: number } }).y2, { datum: lo }, 'bars start at the axis floor');
  const text = ls.find((l) => markType(l) === 'text' && !l.data)!;
  assert.equal((text.encoding as { text: { field: string; format: string } }).text.field, 'accuracy_pct');
  assert.ok(ls.some((l) => markType(l) === 'rule'), 'the overall accuracy as a rule');
  assert.match(String((spec.title as { subtitle: string[] }).subtitle), new RegExp(`axis starts at ${lo}, not 0`));
  const svg = await renderSvg(spec);
  for (const s of ['99.40', '97.80', 'overall']) assert.ok(svg.includes(s), `lacks ${s}`);
  // widely spread values keep a zero axis
  const wide = perClassSpec([{ class: 'a', accuracy: 40 }, { class: 'b', accuracy: 95 }]);
  assert.equal((layers(wide)[0].encoding as { y: { scale: { domain: number[] } } }).y.scale.domain[0], 0);
  assert.deepEqual(closeDomain([98.2, 98.6], { limits: [0, 100] }), [97.5, 99.5]);
});

test('seedSpreadSpec: mean and spread over seeds, as a band over a numeric x and as error bars over categories', async () => {
  const rows: Record<string, unknown>[] = [];
  for (const seed of [1, 2, 3]) for (const epoch of [1, 2]) for (const method of ['QAT', 'PTQ']) rows.push({ seed, epoch, method, acc: 90 + epoch + seed + (method === 'QAT' ? 1 : 0) });
  const summary = summarizeSeeds(rows, { x: 'epoch', y: 'acc', group: 'method' });
  const qat1 = summary.find((s) => s.x === 1 && s.group === 'QAT')!;
  assert.equal(qat1.n, 3);
  assert.equal(qat1.mean, 94);
  assert.equal(qat1.sd, 1);
  assert.deepEqual([qat1.lo, qat1.hi], [93, 95]);
  assert.deepEqual(summarizeSeeds(rows, { x: 'epoch', y: 'acc', group: 'method', spread: 'minmax' }).find((s) => s.x === 1 && s.group === 'QAT')!.hi, 95);

  const spec = seedSpreadSpec(rows, { x: 'epoch', y: 'acc', group: 'method', yTitle: 'accuracy (%)' });
  const ls = layers(spec);
  const band = ls.find((l) => markType(l) === 'area')!;
  const be = band.encoding as { y: { field: string }; y2: { field: string } };
  assert.deepEqual([be.y.field, be.y2.field], ['lo', 'hi']);
  const line = ls.find((l) => markType(l) === 'line')!;
  assert.equal((line.encoding as { y: { field: string } }).y.field, 'mean');
  assert.match(String((spec.title as { subtitle: string[] }).subtitle), /mean \(line\) and ± 1 standard deviation \(band\) over 3 seeds/);
  const compiled = await compileVega(spec);
  assert.equal(compiled.legends?.length, 1);
  assert.equal(compiled.legends![0].symbolType, 'stroke', 'the legend shows the mean lines');
  const svg = await renderSvg(spec);
  assert.ok(svg.includes('QAT') && svg.includes('PTQ'));

  const cat = seedSpreadSpec(rows.map((r) => ({ ...r, epoch: `epoch ${r.epoch}` })), { x: 'epoch', y: 'acc', group: 'method', spread: 'minmax' });
  const cl = layers(cat);
  assert.ok(cl.some((l) => markType(l) === 'rule' && (l.encoding as { y2?: { field: string } }).y2?.field === 'hi'), 'error bars from lo to hi');
  assert.ok(cl.some((l) => markType(l) === 'point' && (l.encoding as { y: { field: string } }).y.field === 'mean'));
  assert.match(String((cat.title as { subtitle: string[] }).subtitle), /lowest to highest seed \(bar\)/);
  await renderSvg(cat);
  assert.throws(() => seedSpreadSpec([{ epoch: 1, acc: 1 }], { x: 'epoch', y: 'acc' }), /no "seed" field/);
});

test('run directories make figures/ and checkpoint/ only when first written; a run that is not resumable has no checkpoint/', (t) => {
  const root = tmpDir(t);
  const base = { command: 'test', preset: 'lazy', profile: 'smoke', seed: 1, config: { x: 1 }, engine: { backend: 'cpu' } };
  const est = openRun({ ...base, out: path.join(root, 'estimate'), resumable: false });
  est.writeComparison([]);
  est.finish();
  assert.ok(!fs.existsSync(path.join(est.dir, 'figures')) && !fs.existsSync(path.join(est.dir, 'checkpoint')));
  assert.throws(() => est.checkpoints.save('x', { a: 1 }), RunDirError);
  assert.ok(!fs.existsSync(path.join(est.dir, 'checkpoint')));
  assert.equal(est.checkpoints.load('x'), null);
  const fig = est.figurePath('history.png');
  assert.equal(fig, path.join(est.dir, 'figures', 'history.png'));
  assert.ok(fs.statSync(path.join(est.dir, 'figures')).isDirectory(), 'figurePath makes figures/');
  // an empty checkpoint/ left by an older kit is removed when a non-resumable run reopens the directory
  fs.mkdirSync(path.join(est.dir, 'checkpoint'));
  openRun({ ...base, out: est.dir, resumable: false }).finish();
  assert.ok(!fs.existsSync(path.join(est.dir, 'checkpoint')));

  const train = openRun({ ...base, out: path.join(root, 'train') });
  assert.ok(!fs.existsSync(path.join(train.dir, 'checkpoint')) && !fs.existsSync(path.join(train.dir, 'figures')));
  train.checkpoints.save('fit', { epoch: 1, w: new Float32Array([1, 2]) });
  assert.ok(fs.existsSync(path.join(train.dir, 'checkpoint', 'fit.ckpt')));
  const again = openRun({ ...base, out: train.dir });
  assert.equal(again.resumed, true);
  assert.deepEqual(again.checkpoints.load<{ epoch: number }>('fit')?.epoch, 1);
});
