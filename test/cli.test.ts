/**
 * The `tck` command as a user runs it (the built package, `bin/tck.js`): JSON summaries, run directories,
 * resume, config errors that name the field, usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/tmp.js';
import { tck } from './helpers/tck.js';



test('tck train --json writes a run directory and ends with one JSON summary; a rerun resumes to the same result', (t) => {
  const out = path.join(tmpDir(t), 'run');
  const args = ['train', '--model', 'lenet5', '--dataset', 'mnist', '--epochs', '2', '--subset', '600', '--seed', '3', '--out', out, '--json'];
  const a = tck(args);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.json, `last stdout line is not JSON: ${a.stdout}`);
  for (const k of ['testAccuracy', 'epochs', 'seed', 'backend', 'seconds']) assert.ok(k in a.json!, `missing ${k}`);
  assert.equal(a.json!.epochs, 2);
  assert.equal(a.json!.seed, 3);
  assert.equal(a.json!.backend, 'wasm');
  assert.ok((a.json!.testAccuracy as number) > 0.5);
  for (const f of ['config.json', 'provenance.json', 'log.jsonl', 'history.csv', 'result.json', 'comparison.csv', 'checkpoint/fit.ckpt', 'model/model.json']) {
    assert.ok(fs.existsSync(path.join(out, f)), `${f} missing`);
  }
  const prov = JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8'));
  assert.equal(prov.status, 'finished');
  assert.equal(prov.seed, 3);
  assert.equal(prov.engine.backend, 'wasm');
  assert.match(prov.datasets[0].files[0].sha256, /^[0-9a-f]{64}$/);
  const csv = fs.readFileSync(path.join(out, 'history.csv'), 'utf8').split('\n');
  assert.match(csv[0], /^epoch,loss,accuracy,.*,seed,backend,kit,commit,config_sha256$/);
  assert.equal(fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);

  // The same command on the finished run says so and repeats its result.
  const b = tck(args);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /is already finished \(test accuracy [\d.]+%\).*--fresh/);
  assert.equal(b.json!.testAccuracy, a.json!.testAccuracy);
  assert.equal(b.json!.alreadyFinished, true);
  // A run killed after its last epoch's checkpoint (status still running) resumes to the same result.
  const provFile = path.join(out, 'provenance.json');
  fs.writeFileSync(provFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(provFile, 'utf8')), status: 'running' }));
  const resumed = tck(args);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch 2/);
  assert.equal(resumed.json!.testAccuracy, a.json!.testAccuracy);
  fs.writeFileSync(provFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(provFile, 'utf8')), status: 'interrupted' }));

  // A corrupt checkpoint is named, with what to do, and without a stack trace; --fresh starts over.
  const ckpt = path.join(out, 'checkpoint', 'fit.ckpt');
  fs.writeFileSync(ckpt, fs.readFileSync(ckpt).subarray(0, 40));
  const broken = tck(args);
  assert.equal(broken.code, 1);
  assert.ok(broken.stderr.includes(`${ckpt}: `), broken.stderr);
  assert.match(broken.stderr, /corrupt checkpoint header|truncated checkpoint/);
  assert.match(broken.stderr, /--fresh/);
  assert.doesNotMatch(broken.stderr, /^\s+at /m);
  const fresh = tck([...args, '--fresh']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(fresh.json!.testAccuracy, a.json!.testAccuracy);

  const c = tck([...args.slice(0, -1).map((x) => (x === '3' ? '4' : x)), '--json']);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /different config \(first difference at "seed"\)/);
  assert.match(c.stderr, /--fresh/);
});

test('a bad config file is reported field by field with its path', (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'bad.json');
  fs.writeFileSync(file, JSON.stringify({ epochs: -1, optimizer: { name: 'adam', lr: 'fast' }, earlyStopping: { patience: 0 }, colour: 'red' }));
  const r = tck(['train', '--config', file, '--out', path.join(dir, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid config`));
  assert.match(r.stderr, /^ {2}epochs: .*>=1.*got -1$/m);
  assert.match(r.stderr, /^ {2}optimizer\.lr: must be a positive number, got "fast"$/m);
  assert.match(r.stderr, /^ {2}earlyStopping\.patience: /m);
  assert.match(r.stderr, /colour/);
  fs.writeFileSync(file, '{"epochs": 3,');
  const s = tck(['train', '--config', file]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /bad\.json: not valid JSON/);
});

test('usage errors exit 2; unknown datasets and models name the known ones; nothing is left in results', (t) => {
  const u = tck(['train', '--epoch', '3']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown option --epoch; did you mean --epochs\? \(see tck train --help\)/);
  const d = tck(['train', '--dataset', 'imagenet', '--out', path.join(tmpDir(t), 'x')]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--dataset: unknown dataset view "imagenet"; known: mnist, mnist32/);
  const zero = tck(['train', '--epochs', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--epochs: expected an integer >= 1, got "0"/);
  const m = tck(['train', '--model', 'lenet5-32', '--dataset', 'mnist', '--epochs', '1', '--out', path.join(tmpDir(t), 'y')]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /expects inputs of shape \[32,32,1\].*use --dataset mnist32/);
  // Wrong inputs fail before a run directory exists: no failed runs in results/ or in the report.
  const typo = path.join(tmpDir(t), 'typo');
  const n = tck(['train', '--model', 'lenet55', '--dataset', 'mnist', '--out', typo]);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /lenet55.*unknown model; built-in models are lenet5/);
  assert.equal(fs.existsSync(typo), false);
  assert.equal(fs.existsSync(path.join(tmpDir(t), 'y')), false);
  // Options that do not apply are errors, not silently ignored.
  const mom = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--momentum', '0.9']);
  assert.equal(mom.code, 1);
  assert.match(mom.stderr, /optimizer\.momentum \(--momentum\): applies to sgd only, but the optimizer is adam/);
  const pos = tck(['estimate', '--model', 'lenet5', '--weight-bits', '8', '4', '4']);
  assert.equal(pos.code, 2);
  assert.match(pos.stderr, /unexpected arguments "4" "4" \(a list is written with commas and no spaces/);
  assert.equal(tck(['estimate', '--model', 'lenet5', '--preset', 'x']).code, 2);
  assert.match(tck(['report', 'extra']).stderr, /unexpected argument "extra"/);
  assert.match(tck(['bench', '--only', 'lenet6-train']).stderr, /--only: unknown workload lenet6-train; known: lenet5-train/);
  const off = tck(['data', 'fetch', 'cifar10', '--offline']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /cifar10 cannot be obtained offline/);
  assert.equal(tck(['frobnicate']).code, 2);
});

test('--profile labels a preset\'s own settings: alone it is an error, with changed settings the run is custom', (t) => {
  const alone = tck(['train', '--model', 'lenet5', '--dataset', 'mnist', '--profile', 'smoke']);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--profile: only with --preset/);
  const out = path.join(tmpDir(t), 'p');
  const r = tck(['train', '--preset', 'lenet5-mnist', '--profile', 'smoke', '--subset', '300', '--seed', '2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /subset differs from preset lenet5-mnist, so the run is labelled custom/);
  assert.equal(r.json!.profile, 'custom');
  assert.equal(r.json!.trainSamples, 300);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8')).profile, 'custom');
});

test('tck data list --json and verify', () => {
  const l = tck(['data', 'list', '--json']);
  assert.equal(l.code, 0);
  const ids = (l.json!.datasets as { id: string; present: boolean }[]).map((d) => d.id);
  assert.deepEqual(ids.slice(0, 3), ['mnist', 'fashion-mnist', 'cardio']);
  assert.ok((l.json!.datasets as { id: string; present: boolean }[]).find((d) => d.id === 'mnist')!.present);
  const v = tck(['data', 'verify', 'mnist', '--json']);
  assert.equal(v.code, 0);
  assert.equal((v.json!.results as { ok: boolean }[])[0].ok, true);
});

test('--out never wipes or mixes into a directory that is not a run directory', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'thesis.tex'), 'precious');
  for (const args of [
    ['estimate', '--model', 'lenet5', '--out', dir],
    ['estimate', '--model', 'lenet5', '--out', dir, '--fresh'],
    ['train', '--model', 'lenet5', '--dataset', 'mnist', '--epochs', '1', '--subset', '100', '--out', dir, '--fresh'],
  ]) {
    const r = tck(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /is not empty and is not a tck run directory/);
  }
  assert.equal(fs.readFileSync(path.join(dir, 'thesis.tex'), 'utf8'), 'precious');
  // A run directory the kit wrote may be replaced with --fresh.
  const run = path.join(dir, 'run');
  assert.equal(tck(['estimate', '--model', 'lenet5', '--out', run]).code, 0);
  assert.equal(tck(['estimate', '--model', 'lenet5', '--out', run, '--fresh']).code, 0);
});

test('TCK_BACKEND chooses the backend of tck train; a failed rerun keeps the finished record', (t) => {
  const out = path.join(tmpDir(t), 'run');
  const args = ['train', '--model', 'mlp-30-8-2', '--dataset', 'wdbc', '--epochs', '2', '--batch-size', '32', '--out', out, '--json'];
  const a = tck(args, { TCK_BACKEND: 'cpu' });
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.json!.backend, 'cpu');
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).backend, 'cpu');
  // Same config, but the dataset is not where the rerun looks: it fails before touching the run directory.
  const provenance = () => JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8'));
  const before = provenance();
  const b = tck(args, { TCK_BACKEND: 'cpu', TCK_DATA_DIR: tmpDir(t) });
  assert.equal(b.code, 1);
  assert.match(b.stderr, /file breast_cancer\.csv is missing/);
  assert.deepEqual(provenance(), before);
  // A rerun of the finished run reports it and leaves its record (and results) as they are, whatever the
  // state of its checkpoint.
  fs.writeFileSync(path.join(out, 'checkpoint', 'fit.ckpt'), 'TCK1');
  const c = tck(args, { TCK_BACKEND: 'cpu' });
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /already finished/);
  assert.deepEqual(provenance(), before);
  assert.equal(tck(['train', '--epochs', '1', '--out', path.join(tmpDir(t), 'x')], { TCK_BACKEND: 'gpu' }).code, 1);
  assert.match(tck(['train', '--stand-in', '--epochs', '1'], {}).stderr, /--stand-in: tck train has no stand-in datasets/);
});

test('tck bench writes its run directory and ends with the JSON line', (t) => {
  const out = path.join(tmpDir(t), 'bench');
  const r = tck(['bench', '--only', 'mlp-train', '--repeats', '1', '--min-seconds', '0.05', '--no-torch', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json!.backend, 'wasm');
  assert.deepEqual((r.json!.results as { name: string }[]).map((x) => x.name), ['mlp-train']);
  assert.ok(((r.json!.results as { samplesPerSec: number }[])[0].samplesPerSec) > 100);
  assert.deepEqual(r.json!.torch, []);
  for (const f of ['bench.json', 'bench.csv', 'provenance.json', 'config.json']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.match(fs.readFileSync(path.join(out, 'bench.csv'), 'utf8'), /^workload,batch,kit_samples_per_sec/);
});
