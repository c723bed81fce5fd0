/**
 * Seed 004's study from the command line: `tck compress` (a smoke run of layer-significance on the stand-in
 * pairs: tables as CSV and Markdown, figures as SVG and PNG, comparison.csv marked stand-in, resume of a
 * finished run), its config resolution and errors, Table 4.6's memory reductions by the kit's estimator, and
 * `tck analyze id` on a trained run.
 *
 * The commands run from the sources (src/cli/main.ts through tsx), so the test does not depend on a build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpDir } from './helpers/tmp.js';
import { readCsvRows } from '../src/report/tables.js';
import { isPresent, getEntry } from '../src/data/registry.js';
import { compressPresetConfig, storage, STORAGE_RULES, QUANTNET, TABLE_4_6, MIXED_DESIGNS, STAND_IN_VIEWS } from '../src/experiments/compress/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');

/** Runs `tck <args>` from the sources; the JSON summary is the last stdout line. */
function tckSrc(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv.slice(1));`, ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, TCK_BACKEND: 'wasm' },
    timeout: 240_000,
  });
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    json = null;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

test('compress presets: deep merge over seed 004 §4.1 defaults, stand-in pairs, labels; errors name what is wrong', () => {
  const { config, label } = compressPresetConfig('pipelines', 'smoke', { standIn: true });
  assert.equal(label, 'pipelines-stand-in');
  assert.equal(config.standIn, true);
  assert.equal(config.source, STAND_IN_VIEWS.source);
  assert.equal(config.target, STAND_IN_VIEWS.target);
  // The profile sets train.epochs only: batch 64, Adam 1e-3, patience 5 and the 80:20 split stay (§4.1.3).
  assert.deepEqual(config.train, { epochs: 1, batchSize: 64, lr: 1e-3, patience: 5, valFraction: 0.2 });
  assert.deepEqual(config.parts, ['quantization', 'pruning', 'clustering', 'pipelines']);
  const paper = compressPresetConfig('layer-significance', 'paper').config;
  assert.equal(paper.repeats, 20);
  assert.equal(paper.source, 'cifar10-cat-dog');
  assert.equal(paper.id.delta, 20);
  assert.equal(paper.standIn, false);
  assert.throws(() => compressPresetConfig('nope', 'smoke'), /unknown compress preset "nope"; known: layer-significance, pipelines/);
  assert.throws(() => compressPresetConfig('pipelines', 'fast' as 'smoke'), /unknown profile "fast"/);
});

test('Table 4.6 memory reductions follow from the kit\'s parameter counts (every parameter of a layer at its precision)', () => {
  // The printed rows joined to their designs in order (src/hw/published.ts holds the precisions and reductions).
  assert.deepEqual(TABLE_4_6.xnor.precisions, [32, 1, 1, 1]);
  assert.deepEqual(TABLE_4_6['binary-linear1'].precisions, [32, 32, 1, 32]);
  assert.deepEqual(TABLE_4_6['twonn-hybrid'].precisions, [32, 1, 2, 2]);
  assert.equal(TABLE_4_6['twonn-hybrid'].sd, 65.8);
  for (const d of MIXED_DESIGNS) {
    const p = TABLE_4_6[d];
    const bits = [...p.precisions, 32];
    const r = storage(QUANTNET, (_l, i) => STORAGE_RULES.precision(bits[i])).reduction;
    // The seed prints two decimals; binary conv1 (1.0016) is printed as 1.01.
    assert.ok(Math.abs(r - p.reduction) <= 0.01 * p.reduction, `${d}: kit ${r.toFixed(3)} vs paper ${p.reduction}`);
  }
});

test('tck compress layer-significance --profile smoke --stand-in: tables (CSV, Markdown), figures (SVG, PNG), comparison.csv marked stand-in; a rerun reads the finished run', { timeout: 300_000 }, (t) => {
  const out = path.join(tmpDir(t), 'ls');
  const r = tckSrc(['compress', '--preset', 'layer-significance', '--profile', 'smoke', '--stand-in', '--out', out, '--json', '--workers', 'in-process']);
  assert.equal(r.code, 0, r.stderr);
  const s = r.json!;
  assert.equal(s.standIn, true);
  assert.equal(s.preset, 'layer-significance-stand-in');
  assert.equal(s.failed, 0);
  assert.deepEqual(s.tables, ['fig-4.1', 'table-4.5', 'significance', 'table-4.6']);
  for (const name of s.tables as string[]) {
    assert.ok(readCsvRows(path.join(out, `${name}.csv`)).length > 0, `${name}.csv has rows`);
    const md = fs.readFileSync(path.join(out, `${name}.md`), 'utf8');
    assert.match(md, /STAND-IN/);
    assert.match(md, /^\| /m);
  }
  assert.deepEqual((s.figures as string[]).slice().sort(), ['fig-3.3-twonn-profile', 'fig-4.1-layer-sensitivity', 'fig-4.2-pca-curves', 'fig-4.3-id-profiles-target', 'fig-4.4-significance-criteria']);
  for (const f of s.figures as string[]) {
    assert.match(fs.readFileSync(path.join(out, 'figures', `${f}.svg`), 'utf8'), /<svg/);
    assert.equal(fs.readFileSync(path.join(out, 'figures', `${f}.png`)).subarray(1, 4).toString(), 'PNG');
  }
  // Table 4.5 (IDs) and Table 4.6 (accuracies, memory reductions): the seed's value beside the kit's.
  const cmp = readCsvRows(path.join(out, 'comparison.csv'));
  assert.ok(cmp.length >= 40);
  assert.ok(cmp.every((c) => /STAND-IN/.test(String(c.note)) && c.profile === 'smoke' && c.seed_document === 'seed 004'));
  assert.ok(cmp.every((c) => typeof c.paper_value === 'number' && typeof c.kit_value === 'number'), 'every published number got a kit value');
  const xnor = cmp.find((c) => c.table_or_figure === 'Table 4.6' && /memory reduction/.test(String(c.quantity)) && /conv2=binary linear1=binary linear2=binary/.test(String(c.quantity)))!;
  assert.equal(xnor.paper_value, 30.42);
  assert.ok(Math.abs((xnor.kit_value as number) - 30.42) < 0.01);
  // The ID profile: 5 representations, positive finite TwoNN, PCA within the channel count.
  const t45 = readCsvRows(path.join(out, 'table-4.5.csv'));
  assert.deepEqual(t45.map((x) => x.layer), ['input', 'conv1', 'conv2', 'linear1', 'linear2']);
  for (const row of t45) {
    assert.ok((row.sd_twonn_kit as number) > 0 && (row.td_twonn_kit as number) > 0, `${row.layer} TwoNN`);
    assert.ok((row.sd_pca_kit as number) >= 1);
  }
  const t46 = readCsvRows(path.join(out, 'table-4.6.csv'));
  assert.equal(t46.length, 7);
  assert.ok(t46.every((x) => typeof x.sd_kit === 'number' && typeof x.td_kit === 'number'), 'every design trained on SD and fine-tuned on TD');
  const prov = JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8'));
  assert.equal(prov.standIn, true);
  assert.equal(prov.status, 'finished');
  assert.ok(prov.datasets.length >= 1);
  const runs = readCsvRows(path.join(out, 'runs.csv'));
  assert.ok(runs.length >= 10 && runs.every((x) => x.status === 'ok'));

  const again = tckSrc(['compress', '--preset', 'layer-significance', '--profile', 'smoke', '--stand-in', '--out', out, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json!.alreadyFinished, true);
  assert.deepEqual(again.json!.tables, s.tables);
  assert.match(again.stderr, /already finished/);
});

test('tck compress: usage and data errors before a run directory exists', (t) => {
  const dir = tmpDir(t);
  const none = tckSrc(['compress']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /a preset is required: tck compress --preset <layer-significance\|pipelines>/);
  const bad = tckSrc(['compress', '--preset', 'layer-signif', '--out', path.join(dir, 'a')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown compress preset "layer-signif"/);
  const cfg = path.join(dir, 'bad.json');
  fs.writeFileSync(cfg, JSON.stringify({ id: { delta: -1 }, repeats: 0 }));
  const c = tckSrc(['compress', '--preset', 'pipelines', '--profile', 'smoke', '--stand-in', '--config', cfg, '--out', path.join(dir, 'b')]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /id\.delta: /);
  assert.match(c.stderr, /repeats: /);
  assert.equal(fs.existsSync(path.join(dir, 'b')), false);
  if (!isPresent(getEntry('cifar10'))) {
    const out = path.join(dir, 'cifar');
    const m = tckSrc(['compress', '--preset', 'pipelines', '--profile', 'smoke', '--out', out]);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /dataset cifar10: .*tck data fetch cifar10/);
    assert.match(m.stderr, /source pair of seed 004's study.*--stand-in/);
    assert.equal(fs.existsSync(out), false);
  }
});

test('tck analyze id --run <trained run> --dataset <d> --json: per-layer TwoNN and PCA dimensions and the significant layers', { timeout: 120_000 }, (t) => {
  const dir = tmpDir(t);
  const run = path.join(dir, 'train');
  const tr = tckSrc(['train', '--model', 'quantnet', '--dataset', STAND_IN_VIEWS.source, '--epochs', '1', '--subset', '200', '--out', run, '--quiet', '--json']);
  assert.equal(tr.code, 0, tr.stderr);
  const outFile = path.join(dir, 'id.json');
  const r = tckSrc(['analyze', 'id', '--run', run, '--dataset', STAND_IN_VIEWS.target, '--points', '150', '--channel-points', '500', '--out', outFile, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = r.json as { points: number; dataset: string; layers: Record<string, unknown>[]; designs: { twonnHybrid: string; pcaHybrid: string }; significance: { twonn: { layer: string; criterion: number; significant: boolean }[] } };
  assert.equal(s.dataset, STAND_IN_VIEWS.target);
  assert.equal(s.points, 150);
  assert.deepEqual(s.layers.map((l) => [l.layer, l.shape]), [['input', '32x32x3'], ['conv1', '16x16x32'], ['conv2', '8x8x64'], ['linear1', '128'], ['linear2', '16']]);
  for (const l of s.layers) {
    assert.ok(Number.isFinite(l.twonn) && (l.twonn as number) > 0, `${l.layer} twonn ${l.twonn}`);
    assert.ok((l.pcaChannel as number) >= 1 && (l.pcaChannel as number) <= (l.channelDim as number), `${l.layer} pca`);
    assert.ok((l.pcaFlat as number) >= 1 && (l.pcaFlat as number) < 150, `${l.layer} pca of 150 flattened points`);
    assert.ok((l.channelPoints as number) <= 500);
  }
  // The significance criterion is |ID_l - ID_(l-1)| of the printed profile.
  const tw = s.significance.twonn;
  assert.equal(tw.length, 4);
  tw.forEach((x, i) => assert.ok(Math.abs(x.criterion - Math.abs((s.layers[i + 1].twonn as number) - (s.layers[i].twonn as number))) < 1e-9));
  assert.match(s.designs.twonnHybrid, /^f[12]{3}f$/);
  assert.match(r.stderr, /layer\s+shape\s+TwoNN/);
  const written = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  assert.equal(written.kit.name, 'tiny-compression-kit');
  assert.deepEqual(written.layers, s.layers);
  // Errors: a dataset of another shape, a directory that is not a train run, a missing subcommand.
  const shape = tckSrc(['analyze', 'id', '--run', run, '--dataset', 'mnist']);
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /samples of shape \[28, 28, 1\] do not fit the model quantnet/);
  const norun = tckSrc(['analyze', 'id', '--run', dir]);
  assert.equal(norun.code, 1);
  assert.match(norun.stderr, /no config\.json; analyze id takes the run directory of a finished tck train run/);
  assert.equal(tckSrc(['analyze', '--run', run]).code, 2);
});
