/**
 * Training: optimiser and schedule formulas, bit-identical determinism, resume equals an uninterrupted run,
 * clear NaN errors, the cross-validation protocol, the model zoo's parameter counts, and LeNet-5 accuracy on
 * a 5k MNIST subset.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../src/engine/backend.js';
import { rngStream } from '../src/engine/random.js';
import type { Dataset } from '../src/data/types.js';
import { loadView } from '../src/data/views.js';
import { miniSubset } from '../src/data/split.js';
import { architectureByName, mlp } from '../src/models/zoo.js';
import { countParams, describeLayers, ArchitectureError } from '../src/models/arch.js';
import { buildModel } from '../src/models/build.js';
import { summarize, formatSummary } from '../src/models/summary.js';
import { fit, TrainingError, type FitState } from '../src/train/fit.js';
import { evaluate } from '../src/train/evaluate.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { lossOf, predictedClasses, countCorrect } from '../src/train/batches.js';
import { learningRateAt } from '../src/train/schedules.js';
import { summarizeFolds, cvSplits } from '../src/train/cv.js';
import { crossValidate, cvJobs } from '../src/experiments/cv.js';
import { inProcessExecutor } from '../src/experiments/executor.js';
import { openLedger } from '../src/experiments/ledger.js';
import { jobKey } from '../src/experiments/job.js';
import { tmpDir } from './helpers/tmp.js';
import fs from 'node:fs';
import path from 'node:path';
import { encodeCheckpoint, decodeCheckpoint } from '../src/run/checkpoint.js';
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Two well-separated Gaussian blobs per class in `d` dimensions. */
function blobs(n: number, d: number, classes: number, seed: number): Dataset {
  const rng = rngStream(seed, 'data');
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() * 0.5 + (j % classes === y[i] ? 3 : 0);
  }
  return { id: 'blobs', x, y, shape: [d], classNames: Array.from({ length: classes }, (_, i) => `c${i}`) };
}

const weightsOf = (m: LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('Adam and SGD follow the PyTorch update rules (hand-computed steps)', () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} != ${b}`);
  const w = tf.variable(tf.scalar(1));
  const adam = createOptimizer({ name: 'adam', lr: 0.1 });
  // f = w^2-like gradients 2, 1, -0.5. Step 1: m_hat = g, v_hat = g^2, so w -= lr * g / (|g| + eps) = 1 - 0.1.
  adam.apply([w], [tf.scalar(2)], 0.1);
  close(w.dataSync()[0], 0.9);
  // Step 2: m = 0.18 + 0.1 = 0.28, v = 0.999 * 0.004 + 0.001 = 0.004996; m_hat = 0.28 / 0.19 = 1.473684,
  // v_hat = 0.004996 / 0.001999 = 2.499250; w = 0.9 - 0.1 * 1.473684 / 1.580902 = 0.806782.
  adam.apply([w], [tf.scalar(1)], 0.1);
  close(w.dataSync()[0], 0.806782);
  // Step 3: m = 0.202, v = 0.005241004; m_hat = 0.745387, v_hat = 1.748750; w = 0.806782 - 0.056366.
  adam.apply([w], [tf.scalar(-0.5)], 0.1);
  close(w.dataSync()[0], 0.750416);
  adam.dispose();
  const v = tf.variable(tf.scalar(1));
  const sgd = createOptimizer({ name: 'sgd', lr: 0.1, momentum: 0.9 });
  sgd.apply([v], [tf.scalar(2)], 0.1); // buf = 2, w = 0.8
  sgd.apply([v], [tf.scalar(1.6)], 0.1); // buf = 0.9 * 2 + 1.6 = 3.4, w = 0.46
  close(v.dataSync()[0], 0.46);
  const u = tf.variable(tf.scalar(1));
  const wd = createOptimizer({ name: 'sgd', lr: 0.1, weightDecay: 0.5 });
  wd.apply([u], [tf.scalar(0)], 0.1); // g = 0 + 0.5 * 1, w = 1 - 0.05
  close(u.dataSync()[0], 0.95);
  const n = tf.variable(tf.scalar(1));
  const nesterov = createOptimizer({ name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true });
  nesterov.apply([n], [tf.scalar(2)], 0.1); // buf = 2, step = 2 + 0.9 * 2 = 3.8, w = 0.62
  nesterov.apply([n], [tf.scalar(1)], 0.1); // buf = 2.8, step = 1 + 2.52 = 3.52, w = 0.268
  close(n.dataSync()[0], 0.268);
  const a = tf.variable(tf.scalar(1));
  const adamw = createOptimizer({ name: 'adam', lr: 0.1, weightDecay: 0.5, decoupled: true });
  adamw.apply([a], [tf.scalar(2)], 0.1); // torch.optim.AdamW: w = 1 * (1 - 0.1 * 0.5) - 0.1 = 0.85
  close(a.dataSync()[0], 0.85);
  const l2 = tf.variable(tf.scalar(1));
  const adamL2 = createOptimizer({ name: 'adam', lr: 0.1, weightDecay: 0.5 });
  adamL2.apply([l2], [tf.scalar(-0.25)], 0.1); // g = -0.25 + 0.5 = 0.25 > 0: the step is -0.1 (sign of g)
  close(l2.dataSync()[0], 0.9);
  assert.throws(() => createOptimizer({ name: 'adam', lr: -1 }), /optimizer\.lr: must be a positive number/);
  [v, u, n, a, l2].forEach((t: Variable) => t.dispose());
  w.dispose();
});

test('optimizer state: saving after k steps and restoring into a new optimiser continues identically', () => {
  for (const [cfg, jsMaxSize] of [
    [{ name: 'adam', lr: 0.01, weightDecay: 0.1 }, Infinity],
    [{ name: 'adam', lr: 0.01, weightDecay: 0.1 }, 0],
    [{ name: 'sgd', lr: 0.05, momentum: 0.9 }, Infinity],
    [{ name: 'sgd', lr: 0.05, momentum: 0.9 }, 0],
  ] as const) {
    const grads = (k: number) => [tf.tensor2d([[Math.sin(k), 0.5], [-1, k / 10]]), tf.tensor1d([k % 3, -0.25])];
    const make = () => [tf.variable(tf.tensor2d([[0.1, -0.2], [0.3, 0.4]])), tf.variable(tf.tensor1d([0, 1]))];
    const straight = make();
    const o1 = createOptimizer(cfg, jsMaxSize);
    for (let k = 0; k < 6; k++) o1.apply(straight, grads(k), cfg.lr);
    const split = make();
    const o2 = createOptimizer(cfg, jsMaxSize);
    for (let k = 0; k < 3; k++) o2.apply(split, grads(k), cfg.lr);
    const saved = o2.getState();
    const o3 = createOptimizer(cfg, jsMaxSize);
    o3.setState(saved, split);
    for (let k = 3; k < 6; k++) o3.apply(split, grads(k), cfg.lr);
    assert.deepEqual(split.map((t) => Array.from(t.dataSync())), straight.map((t) => Array.from(t.dataSync())), cfg.name);
    if (cfg.name === 'adam') assert.throws(() => createOptimizer({ name: 'sgd', lr: 1 }).setState(saved, split), /state is for adam, not sgd/);
    [...straight, ...split].forEach((t) => t.dispose());
    [o1, o2, o3].forEach((o) => o.dispose());
  }
});

test('optimizer updates: the JavaScript loop and the tfjs ops give the same bits (every rule and option)', () => {
  const configs = [
    { name: 'adam', lr: 1e-3 },
    { name: 'adam', lr: 3e-3, weightDecay: 1e-2 },
    { name: 'adam', lr: 3e-3, weightDecay: 1e-2, decoupled: true, beta1: 0.8, epsilon: 1e-6 },
    { name: 'sgd', lr: 0.05 },
    { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    { name: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decoupled: true },
  ] as const;
  const rng = rngStream(7, 'optimizer-forms');
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale * 10 ** -rng.int(8));
  for (const cfg of configs) {
    const start = [values(30, 0.1), values(7, 0.1)];
    const shapes = [[5, 6], [7]];
    const steps = Array.from({ length: 4 }, () => [values(30, 1), values(7, 1)]);
    const run = (jsMaxSize: number) => {
      const vars = start.map((a, i) => tf.variable(tf.tensor(a, shapes[i])));
      const o = createOptimizer(cfg, jsMaxSize);
      for (const [k, gs] of steps.entries()) {
        const g = gs.map((a, i) => tf.tensor(a, shapes[i]));
        o.apply(vars, g, cfg.lr * (1 + k / 10));
        g.forEach((t) => t.dispose());
      }
      const out = { weights: vars.map((v) => Array.from(v.dataSync())), state: o.getState() };
      vars.forEach((v) => v.dispose());
      o.dispose();
      return out;
    };
    const loop = run(Infinity);
    const ops = run(0);
    assert.deepEqual(loop.weights, ops.weights, `${JSON.stringify(cfg)}: weights`);
    assert.deepEqual(loop.state, ops.state, `${JSON.stringify(cfg)}: state`);
    assert.notDeepEqual(loop.weights, start.map((a) => Array.from(a)), 'the weights moved');
  }
});

test('lossOf: the values and gradients of tf.losses softmax and sigmoid cross-entropy; predicted classes as argMax', () => {
  const logits = tf.tensor2d([[2, -1, 0.5], [0.1, 0.1, -3], [-2, 4, 4], [30, -30, 0]]);
  const labels = Int32Array.from([0, 2, 1, 1]);
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat();
  // Softmax: the same ops in the same order as tf.losses, so the same bits.
  const kit = tf.grad((x: Tensor) => lossOf('softmax', onehot, x))(logits);
  const ref = tf.grad((x: Tensor) => tf.losses.softmaxCrossEntropy(onehot, x) as Tensor)(logits);
  assert.equal(lossOf('softmax', onehot, logits).dataSync()[0], (tf.losses.softmaxCrossEntropy(onehot, logits) as Tensor).dataSync()[0]);
  assert.deepEqual(Array.from(kit.dataSync()), Array.from(ref.dataSync()));
  const z = tf.tensor2d([[-3], [0.2], [40], [-40]]);
  const t = tf.tensor2d([[0], [1], [0], [0]]);
  assert.ok(Math.abs(lossOf('sigmoid', t, z).dataSync()[0] - (tf.losses.sigmoidCrossEntropy(t, z) as Tensor).dataSync()[0]) < 1e-5);
  const kz = tf.grad((x: Tensor) => lossOf('sigmoid', t, x))(z).dataSync();
  const rz = tf.grad((x: Tensor) => tf.losses.sigmoidCrossEntropy(t, x) as Tensor)(z).dataSync();
  kz.forEach((g, i) => assert.ok(Math.abs(g - rz[i]) < 1e-6, `sigmoid grad ${i}`));
  // Ties go to the first maximum, as tf.argMax: row 2 predicts 1.
  assert.deepEqual(Array.from(predictedClasses('softmax', logits.dataSync(), 4)), Array.from(tf.argMax(logits, 1).dataSync()));
  assert.equal(countCorrect('softmax', logits.dataSync(), labels), 2); // rows 0 and 2
  assert.deepEqual(Array.from(predictedClasses('sigmoid', z.dataSync(), 4)), [0, 1, 1, 0]);
});

test('cosine annealing with warm restarts and step decay', () => {
  const s = { kind: 'cosine' as const, period: 10, mult: 2, minLr: 0 };
  assert.equal(learningRateAt(s, 1, 0), 1);
  assert.ok(Math.abs(learningRateAt(s, 1, 5) - 0.5) < 1e-12);
  assert.equal(learningRateAt(s, 1, 10), 1); // restart
  assert.ok(Math.abs(learningRateAt(s, 1, 20) - 0.5) < 1e-12); // second period lasts 20 epochs
  assert.equal(learningRateAt({ kind: 'step', every: 3, gamma: 0.1 }, 1, 6.5), 0.1 * 0.1);
  assert.equal(learningRateAt(undefined, 0.01, 100), 0.01);
});

test('built-in architectures have the seeds\' parameter counts, and the built models agree', () => {
  const cases: [string, number][] = [
    ['lenet5', 44426], // seed 001 Table 5.1: 173.5 KiB at 32 bits
    ['lenet5-cifar10', 62006], // seed 001 Table 5.1: 242.2 KiB
    ['quantnet', 545889], // seed 004 Table 4.1 total
    ['mlp-21-32-16-10', 21 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10],
  ];
  for (const [name, params] of cases) {
    const arch = architectureByName(name);
    assert.equal(countParams(arch), params, name);
    const m = buildModel(arch, { seed: 1 });
    assert.equal(m.countParams(), params, `${name} built`);
    m.dispose();
  }
  const q = summarize(architectureByName('quantnet'));
  assert.deepEqual(q.rows.filter((r) => r.params > 0).map((r) => r.params), [896, 18496, 524416, 2064, 17]);
  assert.match(formatSummary(q), /linear1 .* 524,416/);
  const vgg = buildModel(architectureByName('vgg7'), { seed: 1 });
  assert.equal(vgg.countParams(), countParams(architectureByName('vgg7')) + summarize(architectureByName('vgg7')).stateValues);
  vgg.dispose();
});

test('impossible architectures fail before building, naming the layer', () => {
  const tooBig = { name: 'x', input: [4, 4, 1], head: 'softmax' as const, layers: [{ kind: 'conv2d' as const, filters: 2, kernel: 5 }, { kind: 'flatten' as const }] };
  assert.throws(() => describeLayers(tooBig), (e: unknown) => e instanceof ArchitectureError && /layer 0 \(conv2d_0\): kernel 5x5 is larger than its 4x4 input/.test((e as Error).message));
  const noFlatten = { name: 'y', input: [4, 4, 1], head: 'softmax' as const, layers: [{ kind: 'dense' as const, units: 3 }] };
  assert.throws(() => buildModel(noFlatten, { seed: 1 }), /layer 0 \(dense_0\): needs a vector input; add a flatten layer/);
  assert.throws(() => architectureByName('resnet99'), /unknown model/);
  assert.throws(() => architectureByName('mlp-21-32-3', { classes: 10 }), /gives 3 outputs but the data has 10 classes; use mlp-21-32-10/);
});

test('same seed gives bit-identical weights (dropout included); another seed differs', async () => {
  const data = blobs(256, 8, 3, 1);
  const arch = mlp(8, { hidden: [16, 8], classes: 3, dropout: 0.2, batchnorm: true });
  const run = async (seed: number) => {
    const m = buildModel(arch, { seed });
    await fit(m, data, { epochs: 1, batchSize: 32, optimizer: { name: 'adam', lr: 1e-2 }, seed, head: 'softmax' });
    const w = weightsOf(m);
    m.dispose();
    return w;
  };
  const before = tf.memory().numTensors;
  const a = await run(1);
  const b = await run(1);
  const c = await run(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(tf.memory().numTensors, before, 'training leaked tensors');
});

test('two 1-epoch LeNet-5 runs with the same seed give bit-identical weights', async () => {
  const data = miniSubset((await loadView('mnist', 1)).train, 500, 'first');
  const run = async (seed: number) => {
    const m = buildModel(architectureByName('lenet5'), { seed });
    await fit(m, data, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed, head: 'softmax' });
    const w = weightsOf(m);
    m.dispose();
    return w;
  };
  const a = await run(3);
  assert.deepEqual(a, await run(3));
  assert.notDeepEqual(a, await run(4));
});

test('a run interrupted after an epoch and resumed ends with the uninterrupted result', async () => {
  const data = blobs(300, 6, 3, 2);
  const validation = blobs(90, 6, 3, 3);
  const arch = mlp(6, { hidden: [12], classes: 3, dropout: 0.1 });
  const opts = { epochs: 4, batchSize: 16, optimizer: { name: 'adam' as const, lr: 1e-2 }, seed: 5, head: 'softmax' as const, validation, earlyStopping: { patience: 3 } };
  const straight = buildModel(arch, { seed: 5 });
  const r1 = await fit(straight, data, opts);
  let stored: FitState | null = null;
  const first = buildModel(arch, { seed: 5 });
  // The "kill": the process dies right after epoch 2's checkpoint is written (stored as bytes, like on disk).
  await assert.rejects(
    fit(first, data, {
      ...opts,
      checkpoint: {
        load: () => null,
        save: (s) => {
          stored = decodeCheckpoint<FitState>(encodeCheckpoint(s), 'mem');
          if (s.epochsDone === 2) throw new Error('killed');
        },
      },
    }),
    /killed/,
  );
  const resumedModel = buildModel(arch, { seed: 99 }); // different init: everything must come from the checkpoint
  const r2 = await fit(resumedModel, data, { ...opts, checkpoint: { load: () => stored, save: () => {} } });
  assert.deepEqual(weightsOf(resumedModel), weightsOf(straight));
  assert.deepEqual(r2.history.map((h) => h.loss), r1.history.map((h) => h.loss));
  [straight, first, resumedModel].forEach((m) => m.dispose());
});

test('a NaN loss stops training with a located error', async () => {
  const data = blobs(64, 4, 2, 4);
  data.x[5] = NaN;
  const m = buildModel(mlp(4, { hidden: [4], classes: 2 }), { seed: 1 });
  await assert.rejects(
    fit(m, data, { epochs: 2, batchSize: 64, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax' }),
    (e: unknown) => e instanceof TrainingError && /loss became NaN at epoch 1, batch 1\/1/.test((e as Error).message) && /dataset blobs/.test((e as Error).message),
  );
  m.dispose();
});

test('cross-validation: cvBest/cvMean/cvStd over repeats, test accuracy of the selected fold model, resumable from the ledger', async (t) => {
  const dir = tmpDir(t);
  const base = {
    model: mlp(6, { hidden: [8], classes: 3 }) as never,
    data: { source: { synthetic: { kind: 'blobs' as const, n: 150, shape: [6], classes: 3, seed: 7, test: 60 } } },
    train: { epochs: 8, batchSize: 16, optimizer: { name: 'adam' as const, lr: 1e-2 }, earlyStopping: { patience: 5 } },
    seed: 1,
    backend: 'wasm' as const,
  };
  const p = { k: 3, repeats: 2, valFraction: 0.1 };
  const ledger = openLedger(path.join(dir, 'ledger'));
  const r = await crossValidate(base, p, { executor: inProcessExecutor(), ledger, quiet: true });
  assert.equal(r.folds.length, 6);
  assert.equal(r.repeatMeans.length, 2);
  assert.equal(r.cvBest, Math.max(...r.repeatMeans));
  assert.ok(r.cvBest >= r.cvMean && r.cvMean > 0.9, `separable blobs: cvMean ${r.cvMean}`);
  assert.ok(r.testAccuracy !== null && r.testAccuracy > 0.9);
  // Resume from a ledger holding the first 4 folds: same numbers, only 2 folds trained.
  const keys = ledger.keys();
  const ordered = cvJobs(base, p).map((j) => jobKey(j));
  for (const k of ordered.slice(4)) fs.rmSync(path.join(ledger.dir, `${k}.ckpt`));
  assert.equal(ledger.keys().length, 4);
  let trained = 0;
  const r2 = await crossValidate(base, p, { executor: inProcessExecutor(), ledger, quiet: true, onRecord: (x) => void (trained += x.fromLedger ? 0 : 1) });
  assert.equal(trained, 2);
  assert.deepEqual(r2.repeatMeans, r.repeatMeans);
  assert.equal(r2.testAccuracy, r.testAccuracy);
  assert.deepEqual(ledger.keys(), keys);
  // The protocol's statistics by hand: m = [0.8, 0.9] -> best 0.9, mean 0.85, population std 0.05.
  const s = summarizeFolds(
    [0.8, 0.8, 0.9, 0.9].map((accuracy, i) => ({ repeat: i >> 1, fold: i & 1, accuracy, testAccuracy: i, epochs: 1, seconds: 0 })),
    2,
    2,
  );
  assert.ok(Math.abs(s.cvBest - 0.9) < 1e-12 && Math.abs(s.cvMean - 0.85) < 1e-12 && Math.abs(s.cvStd - 0.05) < 1e-12);
  assert.deepEqual(s.selected, { repeat: 1, fold: 0 });
});

test('cross-validation splits: early stopping never sees the held-out fold', () => {
  const y = Int32Array.from({ length: 97 }, (_, i) => i % 3);
  for (const r of [0, 1]) {
    const splits = cvSplits(y, 5, 1, r, 0.1);
    const tested = new Set<number>();
    for (const sp of splits) {
      const held = new Set(sp.test);
      for (const i of sp.validation) assert.ok(!held.has(i), 'a validation row is in the held-out fold');
      for (const i of sp.train) assert.ok(!held.has(i) && !sp.validation.includes(i), 'a training row is held out or validation');
      assert.equal(sp.train.length + sp.validation.length + sp.test.length, 97);
      assert.ok(sp.validation.length >= 3, 'every class has validation rows');
      sp.test.forEach((i) => tested.add(i));
    }
    assert.equal(tested.size, 97, 'the held-out folds partition the data');
  }
  assert.deepEqual([...cvSplits(y, 5, 1, 0, 0.1)[2].test], [...cvSplits(y, 5, 1, 1, 0.1)[2].test], 'folds are shared by repeats');
  assert.notDeepEqual([...cvSplits(y, 5, 1, 0, 0.1)[2].validation], [...cvSplits(y, 5, 1, 1, 0.1)[2].validation]);
  assert.equal(cvSplits(y, 5, 1, 0, 0)[0].validation.length, 0);
});

test('LeNet-5 on a 5k MNIST subset passes 95% test accuracy', async () => {
  const v = await loadView('mnist', 1);
  const train = miniSubset(v.train, 5000, 'stratified', rngStream(1, 'data'));
  const arch = architectureByName('lenet5');
  const m = buildModel(arch, { seed: 1 });
  await fit(m, train, { epochs: 4, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax' });
  const acc = evaluate(m, v.test!, 'softmax').accuracy;
  m.dispose();
  assert.ok(acc > 0.95, `test accuracy ${acc}`);
});
