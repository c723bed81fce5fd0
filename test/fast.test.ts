/**
 * The fast path (src/fast/) against the tfjs reference path: same initial weights, same batches (the same
 * `fitTrainee` loop and shuffle stream), a few Adam steps; the per-step losses and the final weights must agree
 * within a stated tolerance for every quantizer family the fast path takes. Also: the same spec on the fast
 * path gives identical bits, `auto` chooses the path from the spec, and a job says which path ran.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/engine/backend.js';
import { rngStream } from '../src/engine/random.js';
import type { Dataset } from '../src/data/types.js';
import type { Architecture, LayerSpec } from '../src/models/arch.js';
import { buildModel } from '../src/models/build.js';
import { fitTrainee, modelTrainee, readWeights, type FitOptions, type FitState, type Trainee } from '../src/train/fit.js';
import { fastPathSupport, fastTrainee } from '../src/fast/net.js';
import { nativeBlasStatus } from '../src/engine/native-blas.js';
import { runJob, trainingPath } from '../src/experiments/run-job.js';
import { parseJobSpec } from '../src/experiments/job.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Gaussian blobs: `classes` centres in `d` dimensions, unit noise. */
function blobs(n: number, d: number, classes: number, seed: number): Dataset {
  const rng = rngStream(seed, 'data');
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => 2 * rng.normal()));
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[y[i]][j] + rng.normal();
  }
  return { id: `blobs-${seed}`, x, y, shape: [d], classNames: Array.from({ length: classes }, (_, c) => `c${c}`) };
}

const mlp = (name: string, layers: LayerSpec[], head: Architecture['head'] = 'softmax', input = [12]): Architecture => ({ name, input, layers, head });

/** One architecture per quantizer family the fast path takes (kernel, bias and input quantizers, quantize layers). */
const FAMILIES: Architecture[] = [
  mlp('float', [{ kind: 'dense', units: 16, activation: 'relu' }, { kind: 'dense', units: 8, activation: 'tanh' }, { kind: 'dense', units: 4 }]),
  mlp('binary-sign', [
    { kind: 'dense', units: 16, bias: false, init: 'torchDefault', kernelQuantizer: { kind: 'binary', scale: 'none' } },
    { kind: 'batchnorm' },
    { kind: 'quantize', quantizer: { kind: 'sign', grad: 'clipped' } },
    { kind: 'dense', units: 4, kernelQuantizer: { kind: 'binary', scale: 'channel', grad: 'clipped' } },
  ]),
  mlp('ternary-reste', [
    { kind: 'dense', units: 16, bias: false, kernelQuantizer: { kind: 'ternary', deltaFactor: 0.75, perChannel: true } },
    { kind: 'batchnorm' },
    { kind: 'quantize', quantizer: { kind: 'reste', o: 3, t: 1.5 } },
    { kind: 'dense', units: 4, kernelQuantizer: { kind: 'ternary' } },
  ]),
  mlp('nbits-reference', [
    { kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: 4 } },
    { kind: 'dense', units: 16, bias: false, kernelQuantizer: { kind: 'nbits-reference', bits: 3 } },
    { kind: 'batchnorm' },
    { kind: 'dropout', rate: 0 },
    { kind: 'activation', fn: 'relu' },
    { kind: 'dense', units: 4, kernelQuantizer: { kind: 'nbits-reference', bits: 2 } },
  ]),
  mlp('affine', [
    { kind: 'dense', units: 16, activation: 'relu', kernelQuantizer: { kind: 'affine', bits: 4, perChannel: true }, biasQuantizer: { kind: 'affine', bits: 8 } },
    { kind: 'dense', units: 4, inputQuantizer: { kind: 'affine', bits: 8, symmetric: false }, kernelQuantizer: { kind: 'affine', bits: 6, symmetric: false, signed: true } },
  ]),
  mlp('scaled-uniform', [
    { kind: 'dense', units: 16, kernelQuantizer: { kind: 'scaled-uniform', bits: 2 } },
    { kind: 'quantize', quantizer: { kind: 'uniform-activation', bits: 2 } },
    { kind: 'dense', units: 4, kernelQuantizer: { kind: 'scaled-uniform', bits: 3, alpha: 'least-squares', grad: 'xnor' } },
  ]),
  mlp('fixed-point-sigmoid-head', [
    { kind: 'dense', units: 16, activation: 'sigmoid' },
    { kind: 'dense', units: 8, kernelQuantizer: { kind: 'fixed-point', bits: 8, fractionBits: 6 } },
    { kind: 'hardtanh', shift: 0.5 },
    { kind: 'dense', units: 1, inputQuantizer: { kind: 'fixed-point', bits: 16, fractionBits: 8 } },
  ], 'sigmoid'),
  mlp('image-flatten', [
    { kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: 8 } },
    { kind: 'flatten' },
    { kind: 'dense', units: 8, activation: 'relu' },
    { kind: 'dense', units: 4 },
  ], 'softmax', [2, 3, 2]),
  // Convolutional networks (images [H, W, C], channels last): valid and same padding, strides 1 and 2, odd sizes,
  // pooling windows that overlap or run past the edge, batchnorm over every axis but the channels.
  mlp('conv-float', [
    { kind: 'conv2d', filters: 5, kernel: 3, activation: 'relu' },
    { kind: 'maxpool', size: 2 },
    { kind: 'conv2d', filters: 6, kernel: 3, padding: 'same', bias: false },
    { kind: 'batchnorm' },
    { kind: 'activation', fn: 'relu' },
    { kind: 'maxpool', size: 3, stride: 2, padding: 'same' },
    { kind: 'flatten' },
    { kind: 'dense', units: 4 },
  ], 'softmax', [9, 9, 2]),
  mlp('conv-binary-ternary', [
    { kind: 'conv2d', filters: 8, kernel: 3, padding: 'same', bias: false, kernelQuantizer: { kind: 'binary', scale: 'channel' } },
    { kind: 'batchnorm' },
    { kind: 'quantize', quantizer: { kind: 'sign', grad: 'clipped' } },
    { kind: 'conv2d', filters: 4, kernel: 3, stride: 2, padding: 'same', bias: false, kernelQuantizer: { kind: 'ternary', perChannel: true } },
    // (a batchnorm before the sign: the sums of +-1 inputs times ternary weights are often exactly 0, where a
    // one-ulp difference in summation order flips the sign; no bias before it, whose gradient would be 0 plus
    // rounding noise that Adam turns into full steps)
    { kind: 'batchnorm' },
    { kind: 'quantize', quantizer: { kind: 'reste', o: 3, t: 1.5 } },
    { kind: 'flatten' },
    { kind: 'dense', units: 4 },
  ], 'softmax', [7, 6, 1]),
  mlp('conv-affine-nbits', [
    { kind: 'conv2d', filters: 3, kernel: 2, stride: 2, activation: 'relu', inputQuantizer: { kind: 'affine', bits: 8, symmetric: false }, kernelQuantizer: { kind: 'affine', bits: 4, perChannel: true }, biasQuantizer: { kind: 'affine', bits: 8 } },
    { kind: 'conv2d', filters: 4, kernel: 3, padding: 'same', activation: 'relu', kernelQuantizer: { kind: 'nbits-reference', bits: 4 } },
    { kind: 'maxpool', size: 2, stride: 1 },
    { kind: 'flatten' },
    { kind: 'dense', units: 4, kernelQuantizer: { kind: 'scaled-uniform', bits: 3 } },
  ], 'softmax', [8, 8, 3]),
];

/** Trains with `make` for `epochs` on `train`, recording every step's loss. */
async function run(make: () => Trainee, train: Dataset, epochs: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const t = make();
  const losses: number[] = [];
  const spy: Trainee = { ...t, step: (...a) => { const r = t.step(...a); losses.push(r.loss); return r; }, dispose: () => undefined };
  const o: FitOptions = { epochs, batchSize: 32, optimizer: { name: 'adam', lr: 0.01, weightDecay: 1e-4 }, seed: 7, head: 'softmax' };
  await fitTrainee(spy, train, o);
  const weights = t.readWeights() as Float32Array[];
  t.dispose();
  return { losses, weights };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// Tolerances: losses within 1e-4 over 4 steps; weights within 1e-3 absolute (Adam steps are lr = 0.01, so this
// is a tenth of one step: a weight that moved differently in any step would exceed it).
// The native GEMM (OpenBLAS) runs only products above a size these networks never reach; 'native' sends every
// product of the convolutional families to it (skipped, visibly, where it is not built).
const NATIVE = nativeBlasStatus();
for (const [arch, kernels] of FAMILIES.flatMap((a): [Architecture, 'auto' | 'js' | 'native'][] => [[a, 'auto'], [a, 'js'], ...(a.input.length === 3 ? [[a, 'native'] as [Architecture, 'native']] : [])])) {
  const label = kernels === 'js' ? 'JavaScript' : kernels === 'native' ? 'native GEMM' : 'default';
  test(`fast path (${label} kernels) equals the tfjs path: ${arch.name}`, { skip: kernels === 'native' && !NATIVE.available ? NATIVE.reason : false }, async () => {
    assert.equal(fastPathSupport(arch), null);
    const classes = arch.head === 'sigmoid' ? 2 : 4;
    const d = arch.input.reduce((a, b) => a * b, 1);
    const raw = blobs(128, d, classes, 3);
    const train: Dataset = { ...raw, shape: arch.input };
    const head = arch.head;
    const opts = { optimizer: { name: 'adam' as const, lr: 0.01, weightDecay: 1e-4 }, head };
    const m1 = buildModel(arch, { seed: 11 });
    const m2 = buildModel(arch, { seed: 11 });
    assert.deepEqual(readWeights(m1), readWeights(m2));
    const ref = await run(() => modelTrainee(m1, opts), train, 1);
    let trainee: ReturnType<typeof fastTrainee> | null = null;
    const fast = await run(() => (trainee = fastTrainee(arch, m2, { ...opts, batchSize: 32, ...(kernels === 'native' ? { kernels: 'auto', nativeMinMacs: 0 } : { kernels }) })), train, 1);
    if (kernels === 'native') assert.equal(trainee!.kernels, 'simd+openblas', 'the products ran on the native GEMM');
    assert.equal(ref.losses.length, 4);
    const dl = maxDiff(ref.losses, fast.losses);
    assert.ok(dl < 1e-4, `${arch.name}: losses differ by ${dl}: ${ref.losses.map((v) => v.toFixed(5))} vs ${fast.losses.map((v) => v.toFixed(5))}`);
    ref.weights.forEach((w, i) => {
      const dw = maxDiff(w, fast.weights[i]);
      assert.ok(dw < 1e-3, `${arch.name}: weight ${i} differs by ${dw}`);
    });
    m1.dispose();
    m2.dispose();
  });
}

test('the SIMD Adam kernel gives the bits of the JavaScript loop (every weight-decay mode), per array and fused over all arrays', async (t) => {
  const { createArrayOptimizer } = await import('../src/train/optimizers.js');
  const { createGemm, WASM_GEMM_AVAILABLE } = await import('../src/fast/simd.js');
  const { WA } = await import('../src/engine/wasm-writer.js');
  if (!WASM_GEMM_AVAILABLE) return t.skip('this engine has no wasm SIMD: the JavaScript loop runs instead');
  const memory = new WA!.Memory({ initial: 2 });
  const gemm = createGemm(memory)!;
  let off = 0;
  const alloc = (n: number) => {
    const v = new Float32Array(memory.buffer, off, n);
    off += Math.ceil((4 * n) / 16) * 16;
    return v;
  };
  const rng = rngStream(5, 'adam');
  for (const cfg of [{ name: 'adam' as const, lr: 0.01 }, { name: 'adam' as const, lr: 0.003, weightDecay: 0.01 }, { name: 'adam' as const, lr: 0.02, weightDecay: 0.1, decoupled: true }]) {
    const sizes = [7, 16, 1];
    const w1 = sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
    const w2 = w1.map((w) => {
      const a = alloc(w.length);
      a.set(w);
      return a;
    });
    const g2 = sizes.map((n) => alloc(n));
    const slots = sizes.map((n) => [alloc(n), alloc(n)]);
    // The fused form: weights, gradients and each slot kind in one run each, laid out alike (as src/fast/net.ts
    // allocates them), zeros in the padding between arrays; one kernel call updates them all.
    const run = () => sizes.map((n) => alloc(n));
    const [w3, g3, m3, v3] = [run(), run(), run(), run()];
    w3.forEach((w, i) => w.set(w1[i]));
    const span = (l: Float32Array[]) => new Float32Array(memory.buffer, l[0].byteOffset, (l[l.length - 1].byteOffset - l[0].byteOffset) / 4 + Math.ceil(l[l.length - 1].length / 4) * 4);
    const js = createArrayOptimizer(cfg);
    const simd = createArrayOptimizer(cfg, { slots, adamKernel: (...a) => gemm.adam(...a) });
    const fused = createArrayOptimizer(cfg, { slots: sizes.map((_, i) => [m3[i], v3[i]]), adamKernel: (...a) => gemm.adam(...a), fused: { weights: span(w3), grads: span(g3), m: span(m3), v: span(v3) } });
    for (let step = 0; step < 5; step++) {
      const g1 = sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
      g1.forEach((g, i) => g2[i].set(g));
      g1.forEach((g, i) => g3[i].set(g));
      js.apply(w1, g1, cfg.lr);
      simd.apply(w2, g2, cfg.lr);
      fused.apply(w3, g3, cfg.lr);
    }
    w1.forEach((w, i) => assert.deepEqual(Array.from(w2[i]), Array.from(w), `${JSON.stringify(cfg)}: weights ${i}`));
    w1.forEach((w, i) => assert.deepEqual(Array.from(w3[i]), Array.from(w), `${JSON.stringify(cfg)}: fused, weights ${i}`));
    assert.deepEqual(simd.getState(), js.getState());
    assert.deepEqual(fused.getState(), js.getState());
    // the padding between the arrays stayed zero
    for (const l of [w3, m3, v3]) for (let i = 0; i + 1 < l.length; i++) assert.ok(new Float32Array(memory.buffer, l[i].byteOffset + 4 * l[i].length, (l[i + 1].byteOffset - l[i].byteOffset) / 4 - l[i].length).every((x) => x === 0));
  }
});

const jobOf = (model: unknown, extra: Record<string, unknown> = {}) =>
  parseJobSpec({
    model,
    data: { source: { synthetic: { kind: 'blobs', n: 300, shape: [12], classes: 3, seed: 4 } }, split: { kind: 'holdout', valFraction: 0.2 } },
    train: { epochs: 3, batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, earlyStopping: { patience: 2 } },
    seed: 3,
    backend: 'wasm',
    output: { weights: true },
    ...extra,
  });

test('auto takes the fast path for the networks it trains and the tfjs path otherwise; a job says which ran', async () => {
  const dense = FAMILIES[1];
  const lenet = { name: 'tiny-cnn', input: [8, 8, 1], head: 'softmax', layers: [{ kind: 'conv2d', filters: 2, kernel: 3 }, { kind: 'avgpool', size: 2 }, { kind: 'flatten' }, { kind: 'dense', units: 3 }] };
  assert.deepEqual(trainingPath(jobOf(dense), dense), { path: 'fast', reason: null });
  assert.equal(trainingPath(jobOf(dense, { path: 'tfjs' }), dense).path, 'tfjs');
  const hooked = jobOf(dense, { hooks: [{ kind: 'cyclic-precision', weights: { min: 3, max: 8, cycles: 2 } }] });
  assert.match(String(trainingPath(hooked, dense).reason), /training hooks/);
  const conv = trainingPath(jobOf(lenet), lenet as Architecture);
  assert.equal(conv.path, 'tfjs');
  assert.match(String(conv.reason), /avgpool layers/);
  assert.throws(() => trainingPath(jobOf(lenet, { path: 'fast' }), lenet as Architecture), /path "fast" cannot train this job: layer avgpool_1: avgpool layers/);
  assert.deepEqual(trainingPath(jobOf(FAMILIES[8]), FAMILIES[8]), { path: 'fast', reason: null });
  const r1 = await runJob(jobOf(dense));
  const r2 = await runJob(jobOf(dense));
  assert.equal(r1.path, 'fast');
  const { timing: _a, ...d1 } = r1;
  const { timing: _b, ...d2 } = r2;
  assert.deepEqual(d1, d2, 'same spec on the fast path: identical results and weights');
  const ref = await runJob(jobOf(dense, { path: 'tfjs' }));
  assert.equal(ref.path, 'tfjs');
  assert.ok(Math.abs((ref.metrics.valAccuracy ?? 0) - (r1.metrics.valAccuracy ?? 0)) <= 0.1, `validation accuracy: tfjs ${ref.metrics.valAccuracy}, fast ${r1.metrics.valAccuracy}`);
});

test('a convolutional job on the fast path gives the same bits twice, also through the native GEMM', async () => {
  const arch = FAMILIES[9]; // conv-binary-ternary: batchnorm on images, strides 1 and 2, quantizers
  const job = () =>
    parseJobSpec({
      model: arch,
      data: { source: { synthetic: { kind: 'blobs', n: 160, shape: arch.input, classes: 4, seed: 5 } }, split: { kind: 'holdout', valFraction: 0.25 } },
      train: { epochs: 2, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 } },
      seed: 9,
      backend: 'wasm',
      output: { weights: true },
    });
  const r1 = await runJob(job());
  const r2 = await runJob(job());
  assert.equal(r1.path, 'fast');
  const { timing: _a, ...d1 } = r1;
  const { timing: _b, ...d2 } = r2;
  assert.deepEqual(d1, d2);
  if (!NATIVE.available) return;
  const train: Dataset = { ...blobs(96, arch.input.reduce((a, b) => a * b, 1), 4, 6), shape: arch.input };
  const twice = await Promise.all([0, 1].map(async () => {
    const m = buildModel(arch, { seed: 2 });
    const r = await run(() => fastTrainee(arch, m, { optimizer: { name: 'adam', lr: 0.01 }, head: 'softmax', batchSize: 32, nativeMinMacs: 0 }), train, 2);
    m.dispose();
    return r;
  }));
  assert.deepEqual(twice[0], twice[1], 'the native GEMM gives the same bits on every run');
});

test('the fast path resumes from an epoch checkpoint to the bits of an uninterrupted run', async () => {
  const arch = FAMILIES[2];
  const train: Dataset = blobs(200, 12, 4, 8);
  const opts = { optimizer: { name: 'adam' as const, lr: 0.01 }, head: 'softmax' as const, batchSize: 32 };
  const fitOpts: FitOptions = { epochs: 4, batchSize: 32, optimizer: opts.optimizer, seed: 2, head: 'softmax' };
  const full = fastTrainee(arch, buildModel(arch, { seed: 1 }), opts);
  await fitTrainee({ ...full, dispose: () => undefined }, train, fitOpts);
  let saved: FitState | null = null;
  const first = fastTrainee(arch, buildModel(arch, { seed: 1 }), opts);
  await assert.rejects(
    fitTrainee(first, train, {
      ...fitOpts,
      checkpoint: { load: () => null, save: (s) => (saved = structuredClone(s)) },
      onEvent: (e) => {
        if (e.type === 'epoch' && e.log.epoch === 1) throw new Error('killed');
      },
    }),
    /killed/,
  );
  assert.equal(saved!.epochsDone, 2);
  const second = fastTrainee(arch, buildModel(arch, { seed: 1 }), opts);
  await fitTrainee({ ...second, dispose: () => undefined }, train, { ...fitOpts, checkpoint: { load: () => saved, save: () => undefined } });
  assert.deepEqual(second.readWeights(), full.readWeights());
  assert.deepEqual(second.optimizerState(), full.optimizerState());
});

test('a diverging training on the fast path fails with the training error that names epoch, batch and learning rate', async () => {
  const arch = FAMILIES[0];
  const spec = jobOf(arch, { train: { epochs: 2, batchSize: 32, optimizer: { name: 'sgd', lr: 1e30 } } });
  assert.equal(trainingPath(spec, arch).path, 'fast');
  await assert.rejects(runJob(spec), (e: Error) => e.name === 'TrainingError' && /loss became (NaN|Infinity) at epoch 1, batch \d+\/\d+ \(learning rate 1e\+30/.test(e.message));
});
