/**
 * Seed 000 experiment 1, the compression sweep (`tck sweep`): the networks and their cost columns against the
 * reference code's own numbers, the Pareto front, the protocol's statistics from job records, the findings
 * checker, the stand-in view, the command's errors, and a smoke sweep killed with SIGKILL while its workers
 * train, which the rerun completes to the same results.csv as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { tmpDir } from './helpers/tmp.js';
import { tck, TCK } from './helpers/tck.js';
import { SWEEP_DEFAULTS, SWEEP_WEIGHTS, SWEEP_ACTIVATIONS, SWEEP_DATA, type SweepConfig, type SweepWeights, type SweepActivation } from '../src/experiments/sweep/config.js';
import { sweepPlan, sweepCombinations } from '../src/experiments/sweep/jobs.js';
import { sweepPresetConfig } from '../src/experiments/sweep/run.js';
import { estimateSweepSeconds, measuredTiming, sweepWork } from '../src/experiments/sweep/cost.js';
import { sweepCost } from '../src/experiments/sweep/complexity.js';
import { onParetoFront, summarizeSweep, type SweepRow } from '../src/experiments/sweep/summary.js';
import { checkSweepFindings, sweepComparison } from '../src/experiments/sweep/findings.js';
import { resolveBits } from '../src/hw/bits.js';
import { parseJobSpec } from '../src/experiments/job.js';
import { loadView } from '../src/data/views.js';
import { isPresent, getEntry } from '../src/data/registry.js';
import type { JobRecord } from '../src/experiments/runner.js';

const lenet: SweepConfig = { ...SWEEP_DEFAULTS, model: 'lenet5', data: 'mini-mnist32', batchSize: 50 };
const vgg: SweepConfig = { ...SWEEP_DEFAULTS, model: 'vgg7', data: 'mini-cifar10', batchSize: 100 };

/**
 * The reference code's complexity for each combination: its `NNArchitectureComplexityEvaluator` run on its
 * experiment-1 builders (`LeNet5Builder` on 32x32x1, `VGGNetBuilder` on 32x32x3, conv and FC bit width 4) at
 * HEAD 030197f of DiceNameIsMy/vut-ip1-nn-quantization, with torch stubbed out (the heuristic is plain Python).
 * Rows: weights binary, ternary, nbits, none; columns: activation none, binary, binary-ReSTE, ReLU.
 */
const REFERENCE: Record<'lenet5' | 'vgg7', Record<SweepWeights, number[]>> = {
  lenet5: {
    binary: [92005, 110043, 110043, 272385],
    ternary: [183589, 201627, 201627, 363969],
    nbits: [366757, 384795, 384795, 547137],
    none: [2931109, 2949147, 2949147, 3111489],
  },
  vgg7: {
    binary: [241397688, 242386370, 242386370, 251284508],
    ternary: [482794936, 483783618, 483783618, 492681756],
    nbits: [965589432, 966578114, 966578114, 975476252],
    none: [7724712376, 7725701058, 7725701058, 7734599196],
  },
};

/**
 * Seed 000 Appendix A transcribed line by line (`get_conv_complexity`, then the FC `get_complexity` from the first
 * hidden FC layer on) on the reference's experiment-1 layer lists, with the coefficients of anchors.md §1.6:
 * weights none 32, n-bit N (4), binary 1, ternary 2; activation none 0, binary 1, ReSTE 1, ReLU 10. An arithmetic
 * check of REFERENCE that shares no code with the kit's estimator.
 */
function appendixA(model: 'lenet5' | 'vgg7', w: SweepWeights, a: SweepActivation): number {
  const wc = { binary: 1, ternary: 2, nbits: 4, none: 32 }[w];
  const ac = { none: 0, binary: 1, 'binary-reste': 1, relu: 10 }[a];
  const convs = model === 'lenet5'
    ? [{ ch: 6, k: 5, pad: 0, pool: true }, { ch: 16, k: 5, pad: 0, pool: true }]
    : [128, 128, 256, 256, 512, 512].map((ch, i) => ({ ch, k: 3, pad: 1, pool: i % 2 === 1 }));
  let c = 0;
  let dim = 32;
  let inCh = model === 'lenet5' ? 1 : 3;
  for (const l of convs) {
    const out = Math.floor((dim - (Math.floor(l.k / 2) + l.pad)) / 1); // stride 1
    c += inCh * out ** 2 * l.ch * wc + out ** 2 * l.ch * ac;
    if (l.pool) c += Math.floor(out / 2) ** 2;
    dim = out; // pooling does not shrink the next layer (the reference's arithmetic)
    inCh = l.ch;
  }
  const fc = model === 'lenet5' ? [120, 84, 10] : [1024, 10];
  for (let i = 1; i < fc.length; i++) c += fc[i - 1] * fc[i] * wc + fc[i] * ac;
  return c;
}

test('the reference table is the Appendix A arithmetic, and the 16 combinations differ', () => {
  for (const model of ['lenet5', 'vgg7'] as const) {
    for (const w of SWEEP_WEIGHTS) {
      SWEEP_ACTIVATIONS.forEach((a, i) => assert.equal(REFERENCE[model][w][i], appendixA(model, w, a), `${model} ${w}/${a}`));
    }
    assert.equal(new Set(Object.values(REFERENCE[model]).flat()).size, 12); // STE and ReSTE cost the same (§3.1)
  }
});

test('the complexity column equals the reference code for all 16 combinations of LeNet5 and of VGG7, from each network\'s own bit widths', () => {
  for (const c of [lenet, vgg]) {
    const combos = sweepCombinations(c);
    assert.equal(combos.length, 16);
    for (const combo of combos) {
      const bits = resolveBits(combo.architecture);
      const want = { binary: 1, ternary: 2, nbits: 4, none: 32 }[combo.weights];
      // the hidden layers carry the combination's real width (from their quantizers); the output layer is full precision
      assert.deepEqual(bits.layers.slice(0, -1).map((l) => l.weightBits), bits.layers.slice(0, -1).map(() => want), `${combo.weights}/${combo.activation}`);
      assert.equal(bits.layers.at(-1)!.weightBits, 32);
      const expected = REFERENCE[c.model][combo.weights][SWEEP_ACTIVATIONS.indexOf(combo.activation)];
      assert.equal(sweepCost(combo.architecture).complexityReference, expected, `${c.model} ${combo.weights}/${combo.activation}`);
    }
  }
  // The corrected heuristic counts true MACs (k^2, pooling shrinks the next layer, flatten -> FC): far more.
  const full = sweepCombinations(lenet).find((x) => x.weights === 'none' && x.activation === 'relu')!;
  assert.ok(sweepCost(full.architecture).complexityCorrected > 4 * sweepCost(full.architecture).complexityReference);
});

test('the networks are the reference builders: quantizers per layer type, BatchNorm, input quantization, plain output layer', () => {
  const arch = (w: SweepWeights, a: SweepActivation) => sweepCombinations(lenet).find((x) => x.weights === w && x.activation === a)!.architecture;
  const b = arch('binary', 'binary');
  const conv1 = b.layers.find((l) => l.name === 'conv1') as { kernelQuantizer?: unknown; bias?: boolean };
  const fc1 = b.layers.find((l) => l.name === 'fc1') as { kernelQuantizer?: unknown };
  assert.deepEqual(conv1.kernelQuantizer, { kind: 'binary', scale: 'channel', grad: 'identity' }); // TWN code's Conv2dBinary
  assert.deepEqual(fc1.kernelQuantizer, { kind: 'binary', scale: 'none', grad: 'identity' }); // BinaryNet's LinearBinary
  assert.equal(conv1.bias, false);
  assert.deepEqual(b.layers[0], { kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: 1 }, name: 'input_quant' });
  assert.deepEqual(b.layers.find((l) => l.name === 'act1'), { kind: 'quantize', quantizer: { kind: 'sign', grad: 'identity' }, name: 'act1' });
  assert.deepEqual(arch('ternary', 'binary-reste').layers.find((l) => l.name === 'conv2'), {
    kind: 'conv2d', filters: 16, kernel: 5, padding: 'valid', bias: false, init: 'torchDefault', name: 'conv2', kernelQuantizer: { kind: 'ternary', deltaFactor: 0.75, perChannel: true },
  });
  assert.deepEqual(arch('nbits', 'relu').layers[0], { kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: 4 }, name: 'input_quant' });
  const plain = arch('none', 'none');
  assert.equal(plain.layers.some((l) => l.kind === 'quantize' || l.kind === 'activation'), false);
  assert.equal(plain.layers.filter((l) => l.kind === 'batchnorm').length, 4);
  assert.deepEqual(plain.layers.at(-1), { kind: 'dense', units: 10, init: 'torchDefault', name: 'output' });
});

test('the plan: 16 x k x R cross-validation jobs on the seed\'s settings, valid job specs, the reference data', () => {
  const plan = sweepPlan(lenet, 'wasm');
  assert.equal(plan.jobs.length, 16 * 5 * 3);
  const j = parseJobSpec(plan.jobs[7]);
  assert.deepEqual(j.data.split, { kind: 'cv', k: 5, fold: 2, repeat: 1, valFraction: 0.1 });
  assert.deepEqual(j.train, { epochs: 30, batchSize: 50, optimizer: { name: 'adam', lr: 0.001, weightDecay: 0.00001 }, earlyStopping: { patience: 5, monitor: 'val_loss' } });
  assert.deepEqual((j.data.source as { subset: unknown }).subset, { n: 4000, mode: 'first' });
  assert.equal(parseJobSpec(sweepPlan(vgg, 'wasm').jobs[0]).train.batchSize, 100);
  // the presets at paper are the seed's settings: mini-MNIST the first 4,000 images, mini-CIFAR10 the first 8,000 (§2.1.4)
  const paperL = sweepPresetConfig('lenet5-mnist32', 'paper');
  const paperV = sweepPresetConfig('vgg7-cifar10', 'paper');
  assert.deepEqual([paperL.subset, paperL.epochs, paperL.batchSize, paperL.protocol, paperL.patience], [{ n: 4000, mode: 'first' }, 30, 50, { k: 5, repeats: 3, valFraction: 0.1 }, 5]);
  assert.deepEqual([paperV.subset, paperV.width, paperV.batchSize, paperV.data], [{ n: 8000, mode: 'first' }, 1, 100, 'mini-cifar10']);
  assert.equal(sweepPresetConfig('vgg7-cifar10', 'paper', { standIn: true }).data, 'mini-fashion-mnist32x3');
  assert.throws(() => sweepPresetConfig('lenet5-mnist32', 'smoke', { standIn: true }), /--stand-in: mini-mnist32 is available offline/);
  // every combination has its own jobs (distinct specs), and the same config gives the same plan
  assert.equal(new Set(plan.jobs.map((x) => JSON.stringify(x.model))).size, 16);
  assert.deepEqual(sweepPlan(lenet, 'wasm').jobs, plan.jobs);
});

test('Pareto front: maximise accuracy, minimise cost; dominated, tied and failed points', () => {
  const pts = [
    { acc: 0.9, cost: 100 }, // front
    { acc: 0.95, cost: 200 }, // front
    { acc: 0.94, cost: 300 }, // dominated by the second
    { acc: 0.95, cost: 250 }, // same accuracy, costlier: dominated
    { acc: 0.99, cost: 1000 }, // front
    { acc: null, cost: 10 }, // failed: never on the front, dominates nothing
    { acc: 0.9, cost: 100 }, // exact tie with the first: both stay
  ];
  assert.deepEqual(onParetoFront(pts), [true, true, false, false, true, false, true]);
});

/** A record of one fold job (only what the summary reads). */
function rec(index: number, heldOut: number, testAcc: number, epochs = 3): JobRecord {
  return { index, key: `k${index}`, label: `job ${index}`, fromLedger: false, outcome: { status: 'ok', result: { metrics: { heldOutAccuracy: heldOut, testAccuracy: testAcc }, epochs, timing: { seconds: 1 } }, meta: {} } } as unknown as JobRecord;
}

test('the table from job records: cvBest / cvMean / cvStd over repeats, the selected model\'s test accuracy, a failed fold', () => {
  const c: SweepConfig = { ...lenet, weights: ['binary', 'none'], activations: ['relu'], protocol: { k: 2, repeats: 2, valFraction: 0.1 } };
  const plan = sweepPlan(c, 'wasm');
  assert.equal(plan.jobs.length, 8);
  // binary/relu: repeat 0 folds 0.8, 0.9 (mean 0.85), repeat 1 folds 0.7, 0.8 (mean 0.75)
  const records = [rec(0, 0.8, 0.71), rec(1, 0.9, 0.72), rec(2, 0.7, 0.73), rec(3, 0.8, 0.74), rec(4, 0.95, 0.9), rec(5, 0.95, 0.9), rec(6, 0.95, 0.9), rec(7, 0.95, 0.9)];
  records[6] = { ...records[6], outcome: { status: 'failed', error: { name: 'TrainingError', message: 'loss is NaN', expected: true }, retryable: false, meta: {} } } as unknown as JobRecord;
  const rows = summarizeSweep(plan, records, 'lenet5');
  const r = rows[0];
  assert.ok(Math.abs(r.cvBest! - 0.85) < 1e-12);
  assert.ok(Math.abs(r.cvMean! - 0.8) < 1e-12);
  assert.ok(Math.abs(r.cvStd! - 0.05) < 1e-12);
  assert.equal(r.testAccuracy, 0.72); // best repeat (0), best fold (1)
  assert.equal(r.status, 'ok');
  assert.equal(r.pareto, true);
  assert.equal(rows[1].status, 'failed');
  assert.match(rows[1].error, /loss is NaN/);
  assert.equal(rows[1].cvBest, null);
  assert.equal(rows[1].pareto, false); // a failed combination is never on the front
  assert.equal(rows[1].complexityReference, 3111489); // its cost is still known
});

test('cost: measured seconds per sample, epoch and MAC, and the paper estimate scaled from them', () => {
  const c: SweepConfig = { ...lenet, weights: ['binary', 'none'], activations: ['relu'], subset: { n: 1000, mode: 'first' }, epochs: 2, protocol: { k: 2, repeats: 1, valFraction: 0.1 } };
  const plan = sweepPlan(c, 'wasm');
  const ok = (i: number) => ({ ...rec(i, 0.9, 0.9, 2), outcome: { status: 'ok', result: { metrics: {}, epochs: 2, trainSamples: 450, timing: { seconds: 3 } }, meta: {} } }) as unknown as JobRecord;
  const records = plan.jobs.map((_, i) => ok(i));
  const t = measuredTiming(plan, records)!;
  assert.deepEqual([t.jobs, t.trainSeconds], [4, 12]);
  // every job trained all its epochs on 450 rows (1000 x 1/2 x 0.9): the estimate of the same config is the measured time
  assert.ok(Math.abs(estimateSweepSeconds(c, t, 1) - 12) < 1e-9);
  assert.ok(Math.abs(estimateSweepSeconds(c, t, 2) - 6) < 1e-9);
  // the paper profile: 240 jobs x 30 epochs x 2880 rows at 3 s per 900 sample-epochs (every LeNet5 has the same MACs)
  assert.ok(Math.abs(estimateSweepSeconds(sweepPresetConfig('lenet5-mnist32', 'paper'), t, 1) - (240 * 30 * 2880 * 3) / 900) < 1e-6);
  // VGG7 at full width is about 4x the work of half width (MACs grow with the width squared)
  const half = sweepPresetConfig('vgg7-cifar10', 'paper');
  const ratio = sweepWork(half) / sweepWork({ ...half, width: 0.5 });
  assert.ok(ratio > 3.5 && ratio < 4.1, `ratio ${ratio}`);
  // failed jobs are not timed; no finished job: no timing
  records[0] = { ...records[0], outcome: { status: 'failed', error: { name: 'TrainingError', message: 'NaN', expected: true }, retryable: false, meta: {} } } as unknown as JobRecord;
  assert.equal(measuredTiming(plan, records)!.jobs, 3);
  assert.equal(measuredTiming(plan, records.map(() => records[0])), null);
});

/** A full table with the given cvBest (in %) per combination; Pareto membership computed as the sweep does. */
function table(acc: (w: SweepWeights, a: SweepActivation) => number | null): SweepRow[] {
  const rows = sweepCombinations(lenet).map((combo) => {
    const a = acc(combo.weights, combo.activation);
    return {
      model: 'lenet5', weights: combo.weights, activation: combo.activation, status: a === null ? 'failed' : 'ok', cvBest: a === null ? null : a / 100,
      cvMean: null, cvStd: null, testAccuracy: null, epochsMean: null, ...sweepCost(combo.architecture), pareto: false, paretoCorrected: false, error: '',
    } as SweepRow;
  });
  const front = onParetoFront(rows.map((r) => ({ acc: r.cvBest, cost: r.complexityReference })));
  return rows.map((r, i) => ({ ...r, pareto: front[i] }));
}

test('findings: what the seed reports is recognised when the table shows it, refused when it does not, undecided with a failure', () => {
  // A table shaped like seed 000 Figs. 3.1/3.2: ReLU leads, no activation 2.2 points behind, STE above ReSTE in
  // 3 of 4 compressions, front binary/none + three ReLU models, binary/none 2.3 points below binary/relu.
  const paperLike: Record<SweepWeights, number[]> = {
    // activation none, binary, binary-reste, relu
    binary: [95.0, 88, 85, 97.3],
    ternary: [94.0, 87, 84, 97.6],
    nbits: [96.0, 89, 86, 98.0],
    none: [97.0, 90, 91, 97.9],
  };
  const at = (t: Record<SweepWeights, number[]>) => (w: SweepWeights, a: SweepActivation) => t[w][SWEEP_ACTIVATIONS.indexOf(a)];
  const f = Object.fromEntries(checkSweepFindings(table(at(paperLike))).map((x) => [x.id, x]));
  assert.equal(f['relu-leads'].holds, true);
  assert.equal(f['none-close-behind-cheaper'].holds, true, f['none-close-behind-cheaper'].detail);
  assert.equal(f['uncompressed-costliest'].holds, true);
  assert.equal(f['ste-beats-reste'].holds, false); // none/binary-reste (91) beats none/binary (90)
  assert.equal(f['ste-beats-reste'].kitValue, '3 of 4');
  assert.equal(f['pareto-mostly-relu'].holds, true, f['pareto-mostly-relu'].detail);
  assert.equal(f['pareto-mostly-relu'].kitValue, '3 of 4');
  assert.equal(f['cheap-non-relu-pareto-point'].holds, true, f['cheap-non-relu-pareto-point'].detail);
  assert.equal(f['cheap-non-relu-pareto-point'].kitValue, 2.3);

  // The same with STE ahead everywhere, and with uncompressed models without activation leading.
  const steWins = structuredClone(paperLike);
  steWins.none[2] = 89;
  assert.equal(checkSweepFindings(table(at(steWins))).find((x) => x.id === 'ste-beats-reste')!.holds, true);
  const noneLeads = structuredClone(paperLike);
  noneLeads.none[0] = 99.5;
  noneLeads.binary[0] = 92; // 5.3 points below binary/relu: not "about 2.3"
  noneLeads.ternary[0] = 91; // stays dominated by binary/none
  const g = Object.fromEntries(checkSweepFindings(table(at(noneLeads))).map((x) => [x.id, x]));
  assert.equal(g['relu-leads'].holds, false);
  assert.match(g['relu-leads'].detail, /most accurate: none\/none \(99\.50%\)/);
  assert.equal(g['cheap-non-relu-pareto-point'].holds, false);
  assert.equal(g['pareto-mostly-relu'].kitValue, '3 of 5'); // binary/none, binary/relu, ternary/relu, nbits/relu, none/none
  assert.match(g['cheap-non-relu-pareto-point'].detail, /non-ReLU Pareto point none\/none .* -1\.60 points lower/);

  // One failed combination: the accuracy findings are undecided, never "holds".
  const h = checkSweepFindings(table((w, a) => (w === 'ternary' && a === 'relu' ? null : at(paperLike)(w, a))));
  for (const id of ['relu-leads', 'none-close-behind-cheaper', 'pareto-mostly-relu', 'cheap-non-relu-pareto-point']) assert.equal(h.find((x) => x.id === id)!.holds, null, id);
  assert.equal(h.find((x) => x.id === 'uncompressed-costliest')!.holds, true); // a property of the heuristic alone
});

test('comparison.csv: a row per finding, Table 2.4\'s wall time, and the paper estimate when there is one', () => {
  const findings = checkSweepFindings(table(() => 90));
  const plain = sweepComparison(findings, { profile: 'quick', model: 'lenet5', standIn: false, wallSeconds: 1800 });
  assert.equal(plain.length, findings.length + 1);
  assert.deepEqual([plain.at(-1)!.paper_value, plain.at(-1)!.kit_value], [11, 0.5]);
  const est = sweepComparison(findings, { profile: 'smoke', model: 'vgg7', standIn: true, wallSeconds: 60, paperEstimate: { seconds: 7_200_000, threads: 2 } });
  const row = est.at(-1)!;
  assert.equal(est.length, findings.length + 2);
  assert.deepEqual([row.paper_value, row.kit_value], ['did not finish (§2.2)', 2000]);
  assert.match(String(row.note), /2 thread\(s\).*far too high.*STAND-IN/);
});

test('the stand-in view: Fashion-MNIST padded to 32x32, three equal channels, the first n images, a test subset', async () => {
  const v = await loadView(SWEEP_DATA['mini-fashion-mnist32x3'].view({ n: 50, mode: 'first' }, { n: 20, mode: 'first' }), 1);
  assert.deepEqual(v.train.shape, [32, 32, 3]);
  assert.equal(v.train.y.length, 50);
  assert.equal(v.test!.y.length, 20);
  assert.deepEqual(Array.from(v.train.y.slice(0, 8)), [9, 0, 0, 3, 0, 2, 7, 2]); // the file's first labels
  const px = (i: number, ch: number) => v.train.x[i * 3 + ch];
  for (let i = 0; i < 32 * 32; i += 37) assert.ok(px(i, 0) === px(i, 1) && px(i, 1) === px(i, 2));
  assert.ok(px(0, 0) < 0); // a padded corner: black, normalised
  assert.equal(SWEEP_DATA['mini-fashion-mnist32x3'].standIn, true);
});

test('tck sweep: usage errors exit 2, a bad config names the field, missing CIFAR-10 says how to get it (before any run directory)', (t) => {
  const dir = tmpDir(t);
  const none = tck(['sweep']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /a preset is required.*lenet5-mnist32\|vgg7-cifar10/);
  const unknown = tck(['sweep', '--preset', 'lenet5']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown sweep preset "lenet5"; known: lenet5-mnist32, vgg7-cifar10/);
  const standIn = tck(['sweep', '--preset', 'lenet5-mnist32', '--stand-in', '--out', path.join(dir, 'x')]);
  assert.equal(standIn.code, 2);
  assert.match(standIn.stderr, /--stand-in: mini-mnist32 is available offline/);
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ protocol: { k: 1, repeats: 1, valFraction: 0.1 }, weights: ['binary', 'fp8'] }));
  const b = tck(['sweep', '--preset', 'lenet5-mnist32', '--config', bad, '--out', path.join(dir, 'y')]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /protocol\.k: /);
  assert.match(b.stderr, /weights\.1: /);
  assert.equal(fs.existsSync(path.join(dir, 'y')), false);
  if (!isPresent(getEntry('cifar10'))) {
    const out = path.join(dir, 'vgg');
    const c = tck(['sweep', '--preset', 'vgg7-cifar10', '--profile', 'smoke', '--out', out]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /dataset cifar10: .*tck data fetch cifar10/);
    assert.match(c.stderr, /--stand-in/);
    assert.doesNotMatch(c.stderr, /^\s+at /m);
    assert.equal(fs.existsSync(out), false);
  }
});

test('tck sweep vgg7-cifar10 --stand-in (smoke, 4 of the 16 combinations): runs on the stand-in, marked STAND-IN in provenance, tables and figures', { timeout: 300_000 }, (t) => {
  // Four combinations keep the test short; the whole smoke preset runs in CI through reproduce.sh.
  const dir = tmpDir(t);
  const out = path.join(dir, 'vgg');
  const cfg = path.join(dir, 'four.json');
  fs.writeFileSync(cfg, JSON.stringify({ weights: ['binary', 'none'], activations: ['none', 'relu'] }));
  const r = tck(['sweep', '--preset', 'vgg7-cifar10', '--profile', 'smoke', '--stand-in', '--config', cfg, '--out', out, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json!.standIn, true);
  assert.equal(r.json!.profile, 'custom');
  assert.match(r.json!.preset as string, /^vgg7-cifar10-stand-in-[0-9a-f]{8}$/);
  assert.deepEqual((r.json!.rows as SweepRow[]).map((x) => `${x.weights}/${x.activation}`), ['binary/none', 'binary/relu', 'none/none', 'none/relu']);
  assert.ok((r.json!.rows as SweepRow[]).every((x) => x.status === 'ok' && x.cvBest! >= 0 && x.cvBest! <= 1));
  const prov = JSON.parse(fs.readFileSync(path.join(out, 'provenance.json'), 'utf8'));
  assert.equal(prov.standIn, true);
  assert.equal(prov.datasets[0].id, 'fashion-mnist');
  assert.match(fs.readFileSync(path.join(out, 'comparison.csv'), 'utf8'), /STAND-IN/);
  assert.match(fs.readFileSync(path.join(out, 'figures', 'accuracy-complexity.svg'), 'utf8'), /STAND-IN/);
  for (const f of ['accuracy-complexity', 'pareto-front', 'accuracy-complexity-corrected']) assert.ok(fs.statSync(path.join(out, 'figures', `${f}.png`)).size > 10_000, f);
});

test('a smoke sweep killed with SIGKILL while its workers train resumes to the same results.csv as an uninterrupted run', { timeout: 600_000 }, async (t) => {
  const dir = tmpDir(t);
  const killed = path.join(dir, 'killed');
  const clean = path.join(dir, 'clean');
  const args = (out: string) => [TCK, 'sweep', '--preset', 'lenet5-mnist32', '--profile', 'smoke', '--out', out, '--workers', '2', '--quiet'];
  const env = { ...process.env, TCK_BACKEND: 'wasm' };
  const proc = spawn(process.execPath, args(killed), { env, stdio: 'ignore' });
  const ledger = path.join(killed, 'ledger');
  const count = () => (fs.existsSync(ledger) ? fs.readdirSync(ledger).filter((f) => f.endsWith('.ckpt')).length : 0);
  for (let i = 0; i < 6000 && count() < 6; i++) await new Promise((r) => setTimeout(r, 20));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  const finished = count();
  assert.ok(finished >= 6 && finished < 32, `killed with ${finished} of 32 jobs finished`);
  // jobs were in flight on the workers when the process died
  const events = fs.readFileSync(path.join(killed, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.ok(events.filter((e) => e.type === 'job-start').length > events.filter((e) => e.type === 'job-done').length, 'no job was running at the kill');
  assert.equal(fs.existsSync(path.join(killed, 'results.csv')), false);

  const rerun = spawnSync(process.execPath, [...args(killed), '--json'], { env, encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  const s = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!);
  assert.equal(s.jobs.reused, finished, 'the finished jobs come from the ledger');
  assert.equal(s.jobs.ran, 32 - finished, 'only the unfinished jobs are trained');
  const full = spawnSync(process.execPath, [...args(clean), '--json'], { env, encoding: 'utf8' });
  assert.equal(full.status, 0, full.stderr);
  const a = fs.readFileSync(path.join(killed, 'results.csv'), 'utf8');
  const b = fs.readFileSync(path.join(clean, 'results.csv'), 'utf8');
  assert.equal(a.trim().split('\n').length, 17);
  assert.equal(a, b);
  // the table is not a constant: the combinations reach different accuracies
  const rows = JSON.parse(fs.readFileSync(path.join(clean, 'results.json'), 'utf8')).rows as SweepRow[];
  assert.ok(new Set(rows.map((r) => r.cvBest)).size > 4);
  assert.deepEqual(rows.map((r) => `${r.weights}/${r.activation}`), SWEEP_WEIGHTS.flatMap((w) => SWEEP_ACTIVATIONS.map((x) => `${w}/${x}`)));
  // the same command on the finished run reports it and changes nothing
  const again = spawnSync(process.execPath, [...args(clean), '--json'], { env, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout.trim().split('\n').at(-1)!).alreadyFinished, true);
  assert.equal(fs.readFileSync(path.join(clean, 'results.csv'), 'utf8'), b);
});
