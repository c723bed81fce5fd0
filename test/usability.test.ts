/**
 * A researcher's path through the CLI: compression from flags and config files, the shipped examples at smoke
 * size, `tck export` checked against tfjs, unique custom run directories, and Ctrl-C / SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tmpDir } from './helpers/tmp.js';
import { tck, TCK, ROOT } from './helpers/tck.js';
import { applyCompression, quantizerByName } from '../src/experiments/compression.js';
import { lenet5 } from '../src/models/zoo.js';

const EXAMPLES = path.join(ROOT, 'examples');
const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

test('every example config trains at smoke (tck train --config examples/<each>.json --profile smoke)', (t) => {
  const configs = fs.readdirSync(EXAMPLES).filter((f) => readJson(path.join(EXAMPLES, f)).profiles);
  assert.deepEqual(configs.sort(), ['binary-lenet5.json', 'qat-lenet5-4bit.json', 'train-mlp-cardio.json']);
  for (const f of configs) {
    const out = path.join(tmpDir(t), f);
    const r = tck(['train', '--config', path.join('examples', f), '--profile', 'smoke', '--out', out, '--json', '--quiet']);
    assert.match(String(r.json?.preset), new RegExp(`^${f.replace('.json', '')}-smoke-[0-9a-f]{8}$`));
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    // a config file is not a kit preset: its runs are exploratory, named by the file and its profile
    assert.equal(r.json!.profile, 'custom');
    assert.equal(r.json!.configProfile, 'smoke');
    assert.ok(fs.existsSync(path.join(out, 'architecture.json')) && fs.existsSync(path.join(out, 'model', 'model.json')), f);
    const acc = (r.json!.testAccuracy ?? r.json!.valAccuracy) as number;
    assert.ok(acc > 0.2, `${f}: learnt something at smoke size (accuracy ${acc})`);
  }
  // The architecture example on its own, and the compression it carries reaches the estimators.
  const out = path.join(tmpDir(t), 'arch');
  const r = tck(['train', '--model', 'examples/mlp-cardio.json', '--dataset', 'cardio', '--epochs', '1', '--out', out, '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json!.model, 'mlp-cardio-4bit');
  // 21x32 + 32x16 weights and their 48 biases at 4 bits, 16x10 weights and 10 biases at 8 bits (the estimators
  // store a bias at its layer's weight width unless it has its own quantizer, src/hw/bits.ts)
  assert.equal(r.json!.storageBytes, ((21 * 32 + 32 * 16 + 48) * 4 + (16 * 10 + 10) * 8) / 8);
});

test('tck export: the integer model of a trained run predicts exactly what tfjs predicts (4-bit QAT and binary LeNet-5)', (t) => {
  for (const f of ['qat-lenet5-4bit.json', 'binary-lenet5.json']) {
    const out = path.join(tmpDir(t), f);
    const r = tck(['train', '--config', path.join('examples', f), '--profile', 'smoke', '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const e = tck(['export', '--run', out, '--samples', '500', '--json']);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.json!.checked, 500);
    assert.equal(e.json!.agree, 500, `${f}: integer inference and tfjs disagree on ${500 - (e.json!.agree as number)} rows`);
    assert.equal(e.json!.integerAccuracy, e.json!.tfjsAccuracy);
    assert.ok(fs.existsSync(e.json!.header as string) && fs.readFileSync(e.json!.header as string, 'utf8').includes('conv2_weights'));
    assert.ok(readJson(path.join(out, 'export', 'check.json')).git, 'check.json carries provenance');
  }
  const notRun = tck(['export', '--run', tmpDir(t)]);
  assert.equal(notRun.code, 1);
  assert.match(notRun.stderr, /no config\.json; export takes the run directory of a finished tck train run/);
  assert.equal(tck(['export']).code, 2);
});

test('compression flags: quantizers, per-layer widths, pruning and clustering reach the trained model; bad recipes are clear errors', (t) => {
  const out = path.join(tmpDir(t), 'c');
  const r = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--subset', '500', '--epochs', '1', '--weight-bits', '8,4,4,4,8', '--inputs', '8bit', '--prune', '0.5', '--out', out, '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const arch = readJson(path.join(out, 'architecture.json')).architecture;
  assert.deepEqual(
    arch.layers.filter((l: { kernelQuantizer?: { bits: number } }) => l.kernelQuantizer).map((l: { kernelQuantizer: { bits: number } }) => l.kernelQuantizer.bits),
    [8, 4, 4, 4, 8],
  );
  assert.equal(arch.layers.filter((l: { prune?: boolean }) => l.prune).length, 5);
  assert.equal(arch.layers[0].inputQuantizer, undefined, 'the first layer reads the data');
  assert.ok(arch.layers[2].inputQuantizer, 'later layers get the input quantizer');
  const c = path.join(tmpDir(t), 'k');
  assert.equal(tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--subset', '300', '--epochs', '1', '--cluster', '4', '--out', c, '--quiet']).code, 0);
  assert.ok(readJson(path.join(c, 'architecture.json')).architecture.layers.some((l: { clusters?: number }) => l.clusters === 4));

  const wrongLength = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--weight-bits', '8,4']);
  assert.equal(wrongLength.code, 1);
  assert.match(wrongLength.stderr, /weightBits: 2 widths for 5 conv2d\/dense layers \(conv1, conv2, fc1, fc2, fc3\)/);
  const afterRelu = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--inputs', 'binary']);
  assert.match(afterRelu.stderr, /layer conv2 gets a sign input quantizer, but its input comes after the ReLU of conv1/);
  const badQ = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--weights', 'quaternary']);
  assert.match(badQ.stderr, /--weights: unknown quantizer "quaternary"; expected binary, ternary, <n>bit/);
  assert.throws(() => applyCompression(lenet5(), { layers: { fc9: { kernelQuantizer: null } } }, 10), /no conv2d\/dense layer "fc9" in lenet5; its layers: conv1, conv2, fc1, fc2, fc3/);
  // keepFirstLast leaves the edges in float; per-layer overrides come last.
  const k = applyCompression(lenet5(), { weights: quantizerByName('ternary', 'weights', 'x'), keepFirstLast: true, layers: { fc3: { kernelQuantizer: { kind: 'affine', bits: 8 } } } }, 10);
  assert.deepEqual(
    k.arch.layers.flatMap((l) => (l.kind === 'conv2d' || l.kind === 'dense' ? [l.kernelQuantizer?.kind ?? 'float'] : [])),
    ['float', 'ternary', 'ternary', 'ternary', 'affine'],
  );
});

test('custom runs get their own directories; a config file with profiles names its runs', (t) => {
  const results = tmpDir(t);
  const env = { TCK_RESULTS_DIR: results };
  const base = ['train', '--model', 'lenet5', '--dataset', 'mnist', '--subset', '200', '--epochs', '1', '--quiet'];
  assert.equal(tck([...base, '--seed', '1'], env).code, 0);
  assert.equal(tck([...base, '--seed', '2'], env).code, 0);
  assert.equal(tck([...base, '--seed', '2', '--weights', 'binary'], env).code, 0);
  const dirs = fs.readdirSync(results).sort();
  assert.equal(dirs.length, 3, dirs.join(', '));
  const before = new Set(dirs);
  for (const d of dirs) assert.match(d, /^train-lenet5-mnist-[0-9a-f]{8}-custom$/);
  const again = tck([...base.filter((a) => a !== '--quiet'), '--seed', '2'], env);
  const one = tck([...base.filter((a) => a !== '--quiet'), '--seed', '3'], env);
  assert.match(one.stderr, /after 1 epoch \(/, 'singular: "1 epoch", not "1 epochs"');
  assert.doesNotMatch(one.stderr, /1 epochs/);
  assert.match(again.stderr, /is already finished/);
  assert.equal(fs.readdirSync(results).filter((d) => !before.has(d)).length, 1, 'only the seed-3 run added a directory');
  const noProfiles = tck(['train', '--config', 'examples/mlp-cardio.json', '--profile', 'smoke']);
  assert.equal(noProfiles.code, 2);
  assert.match(noProfiles.stderr, /--profile: only with --preset .* or a config file with "profiles"/);
});

test('SIGTERM during tck train: provenance says interrupted, the message says how to resume, the rerun resumes', { timeout: 300_000 }, async (t) => {
  const out = path.join(tmpDir(t), 'run');
  const args = ['train', '--model', 'lenet5', '--dataset', 'mnist', '--subset', '1000', '--epochs', '30', '--out', out];
  const child = spawn(process.execPath, [TCK, ...args], { env: { ...process.env, TCK_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 1200 && !/epoch 2\/30 /.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(stderr, /epoch 2\/30 /, 'training started');
  child.kill('SIGTERM');
  assert.equal(await exited, 143);
  assert.match(stderr, /SIGTERM: stopped\. The checkpoint after epoch \d+ is saved in .*\nTo resume, run the same command again: tck train --model lenet5/);
  const prov = readJson(path.join(out, 'provenance.json'));
  assert.equal(prov.status, 'interrupted');
  const resumed = tck([...args, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch \d+/);
  assert.equal(readJson(path.join(out, 'provenance.json')).status, 'finished');
});

test('docs/reference.md is generated from the schemas and current: every layer kind, quantizer kind and config field', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'reference.ts'), '--check'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, `${r.stderr}: run npm run docs and commit docs/reference.md`);
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'reference.md'), 'utf8');
  const { LayerSpecSchema } = await import('../src/models/schema.js');
  const { QUANTIZER_KIND_NAMES } = await import('../src/quant/config.js');
  const { z } = await import('zod');
  const layerKinds = (z.toJSONSchema(LayerSpecSchema, { unrepresentable: 'any', io: 'input' }).anyOf as { properties: { kind: { const: string } } }[]).map((o) => o.properties.kind.const);
  assert.ok(layerKinds.length >= 10);
  for (const k of [...layerKinds, ...QUANTIZER_KIND_NAMES]) assert.ok(text.includes(`### \`${k}\``), `no section for ${k}`);
  for (const f of ['compression.weightBits', 'optimizer.lr', 'earlyStopping.patience', 'data.split', 'hooks']) assert.ok(text.includes(`\`${f}`), `no row for ${f}`);
});
