/**
 * The compression library: every quantizer's forward values (hand-computed), gradient rule (tf.grad),
 * idempotence and distinct-value count; quantized layers (save/load), clustering and cluster-preserving
 * training, pruning, post-training quantization, seed 002's schedules, integer export against tfjs, and short
 * QAT runs on a 5k MNIST subset.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initEngine, tf } from '../src/engine/backend.js';
import { rngStream } from '../src/engine/random.js';
import { loadView } from '../src/data/views.js';
import { miniSubset } from '../src/data/split.js';
import type { Dataset } from '../src/data/types.js';
import type { Architecture, LayerSpec } from '../src/models/arch.js';
import { buildModel } from '../src/models/build.js';
import { saveModel, loadModel } from '../src/models/io.js';
import { fit } from '../src/train/fit.js';
import { evaluate, predictClasses } from '../src/train/evaluate.js';
import {
  makeQuantizer,
  maxDistinctValues,
  quantizerBits,
  quantizerCodes,
  validateQuantizer,
  type QuantizerConfig,
  type QuantizerConfigOf,
  type QuantizerKind,
  QuantizerConfigSchema,
  QuantizerError,
  QUANTIZER_KINDS,
  QUANTIZER_KIND_NAMES,
  QUANTIZER_OPS,
  QuantDense,
  isQuantLayer,
  sparsityAt,
  recuTau,
  recuClamp,
  cyclicBits,
  quantizeGradient,
} from '../src/quant/index.js';
import {
  clusterModel,
  distinctValues,
  kmeans1d,
  magnitudeMask,
  structuredMask,
  applyPruning,
  pruningHooks,
  sparsityReport,
  cyclicPrecisionHooks,
  calibrate,
  staticInputQuantizers,
  transferWeights,
  postTrainingQuantize,
  PTQ_SCHEMES,
  exportModel,
  integerInference,
  toCHeader,
  writeExport,
  qatArchitecture,
} from '../src/compress/index.js';
import type { FitState } from '../src/train/fit.js';
import { encodeCheckpoint, decodeCheckpoint } from '../src/run/checkpoint.js';
import type { Tensor, LayersModel } from '@tensorflow/tfjs';
import { tmpDir } from './helpers/tmp.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const q = (c: QuantizerConfig, values: number[], shape = [values.length]) =>
  tf.tidy(() => Array.from(makeQuantizer(c)(tf.tensor(values, shape)).dataSync()));
const grad = (c: QuantizerConfig, values: number[], dy: number[], shape = [values.length]) =>
  tf.tidy(() => Array.from(tf.grad((x: Tensor) => tf.sum(tf.mul(makeQuantizer(c)(x), tf.tensor(dy, shape))))(tf.tensor(values, shape)).dataSync()));
function close(actual: number[], expected: number[], tol = 1e-6, what = '') {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `${what}[${i}]: ${a} != ${expected[i]}`));
}

test('binary: plain sign, per-tensor and per-channel alpha; identity and clipped STE', () => {
  const x = [0.3, -0.2, 0, -1.5];
  close(q({ kind: 'binary' }, x), [1, -1, 1, -1]);
  close(q({ kind: 'binary', scale: 'tensor' }, x), [0.5, -0.5, 0.5, -0.5]); // mean|x| = 2/4
  // [in=2, out=2]: channel 0 = (1, 3) -> alpha 2; channel 1 = (-4, 2) -> alpha 3.
  close(q({ kind: 'binary', scale: 'channel' }, [1, -4, 3, 2], [2, 2]), [2, -3, 2, 3]);
  close(grad({ kind: 'binary' }, x, [1, 2, 3, 4]), [1, 2, 3, 4]);
  close(grad({ kind: 'binary', grad: 'clipped' }, x, [1, 2, 3, 4]), [1, 2, 3, 0]);
});

test('ternary (TWN): Delta = 0.7 mean|W|, alpha = mean of |W| above Delta; reference factor 0.75; per channel', () => {
  const x = [1, -0.2, 0.5, -2]; // mean|x| = 0.925, Delta = 0.6475: keeps 1 and -2, alpha = 1.5
  close(q({ kind: 'ternary' }, x), [1.5, 0, 0, -1.5]);
  close(q({ kind: 'ternary', deltaFactor: 0.75 }, [1, -0.2, 0.7, -2]), [1.5, 0, 0, -1.5]); // Delta 0.73125 drops 0.7
  close(q({ kind: 'ternary', deltaFactor: 0.7 }, [1, -0.2, 0.7, -2]), [1.2333333, 0, 1.2333333, -1.2333333], 1e-6); // Delta 0.6825 keeps 0.7
  // Per channel, [2 in, 2 out]: channel 0 (1, 0.1): Delta 0.385 -> alpha 1; channel 1 (-4, 2): Delta 2.1 -> alpha 4.
  close(q({ kind: 'ternary', perChannel: true }, [1, -4, 0.1, 2], [2, 2]), [1, -4, 0, 0]);
  close(grad({ kind: 'ternary' }, x, [1, 2, 3, 4]), [1, 2, 3, 4]);
});

test('n-bit of the seed-000 reference: scale (2^n - 1)/(max - min), clamp [-(2^(n-1)+1), 2^(n-1)], round', () => {
  // scale = 3/2; x*scale = -1.5, 0, 0.75, 1.5 -> round half to even -2, 0, 1, 2 -> / 1.5
  close(q({ kind: 'nbits-reference', bits: 2 }, [-1, 0, 0.5, 1]), [-4 / 3, 0, 2 / 3, 4 / 3], 1e-6);
  // The gradient reaches the weights (the reference's FC version returns none).
  close(grad({ kind: 'nbits-reference', bits: 2 }, [-1, 0, 0.5, 1], [1, 2, 3, 4]), [1, 2, 3, 4]);
});

test('affine (eq. 2.3): symmetric full/restricted range, asymmetric with zero point, static range, gradient inside the range', () => {
  // Symmetric 4-bit: S = 1/7; round(7x) = -7, 2, 4, 5.
  close(q({ kind: 'affine', bits: 4 }, [-1, 0.3, 0.55, 0.7]), [-1, 2 / 7, 4 / 7, 5 / 7], 1e-6);
  // Asymmetric unsigned 8-bit over [-1, 3]: S = 4/255, Z = round(63.75) = 64; zero stays exactly zero.
  const a = q({ kind: 'affine', bits: 8, symmetric: false }, [-1, 0, 3]);
  close(a, [-64 * (4 / 255), 0, 191 * (4 / 255)], 1e-6);
  // Static range [0, 1] with 2 bits: values outside clip; the gradient is zero there.
  const r = { kind: 'affine', bits: 2, symmetric: false, range: { min: 0, max: 1 } } as const;
  close(q(r, [-0.5, 0.4, 2]), [0, 1 / 3, 1], 1e-6);
  close(grad(r, [-0.5, 0.4, 2], [1, 1, 1]), [0, 1, 0]);
  // Restricted (narrow) range never uses -2^(b-1).
  assert.ok(Math.min(...q({ kind: 'affine', bits: 3, narrowRange: true }, [-1, -0.9, 1])) >= -1 - 1e-7);
  // Per channel: each output channel gets its own scale.
  close(q({ kind: 'affine', bits: 2, perChannel: true }, [1, 10, -1, -10], [2, 2]), [1, 10, -1, -10]);
});

test('seed 004 §3.3 scaled uniform: mean-centred, clipped, levels on [-1, 1], alpha = ||W||_1/n, the corrected gradient', () => {
  close(q({ kind: 'scaled-uniform', bits: 1 }, [0.5, -0.5, 1.5, -1.5]), [0.75, -0.75, 0.75, -0.75]);
  // dW_i = (1/n) sign(W_i) sum_j g_j B_j + g_i alpha 1{|W_i| <= 1}: sum g B = -2; alpha = 0.75.
  close(grad({ kind: 'scaled-uniform', bits: 1 }, [0.5, -0.5, 1.5, -1.5], [1, 2, 3, 4]), [0.25, 2, -0.5, 0.5]);
  close(grad({ kind: 'scaled-uniform', bits: 1, grad: 'xnor' }, [0.5, -0.5, 1.5, -1.5], [1, 2, 3, 4]), [1 * (0.25 + 0.75), 2 * (0.25 + 0.75), 3 * 0.25, 4 * 0.25]);
  // 2 bits: levels +-1/3, +-1; B = (1/3, -1, 1/3, 1/3); alpha_l1 = 0.4, alpha_ls = W.B / B.B = 0.8.
  close(q({ kind: 'scaled-uniform', bits: 2 }, [0.2, -0.8, 0.5, 0.1]), [0.4 / 3, -0.4, 0.4 / 3, 0.4 / 3], 1e-6);
  close(q({ kind: 'scaled-uniform', bits: 2, alpha: 'least-squares' }, [0.2, -0.8, 0.5, 0.1]), [0.8 / 3, -0.8, 0.8 / 3, 0.8 / 3], 1e-6);
});

test('fixed point Q8.8 (seed 003 §3.6) and float16', () => {
  close(q({ kind: 'fixed-point', bits: 16, fractionBits: 8 }, [1.00390625, 0.001, 200, -200, 0.7]), [1.00390625, 0, 32767 / 256, -128, 179 / 256]);
  close(q({ kind: 'float16' }, [1 / 3, 65520, 1e-8, -2.5]), [0.333251953125, 65504, 0, -2.5], 1e-12);
  // Straight-through inside the representable range (Q3.4 spans [-8, 7.9375]); identity for float16.
  close(grad({ kind: 'fixed-point', bits: 8, fractionBits: 4 }, [0.3, 7.9, 9, -8.5], [1, 2, 3, 4]), [1, 2, 0, 0]);
  close(grad({ kind: 'float16' }, [0.3, 70000], [1, 2]), [1, 2]);
});

test('activation quantizers: sign STE (identity, clipped), ReSTE o=3 t=1.5, uniform b-bit on [-1, 1]', () => {
  close(q({ kind: 'sign' }, [0.5, -0.1, 0]), [1, -1, 1]);
  close(grad({ kind: 'sign' }, [0.5, -3, 2], [1, 1, 1]), [1, 1, 1]);
  close(grad({ kind: 'sign', grad: 'clipped' }, [0.5, -3, 2], [1, 1, 1]), [1, 0, 0]);
  // ReSTE backward: 0.1^(1/3)/0.1 inside |x| <= 0.1, (1/3)|x|^(-2/3) up to 1.5, 0 beyond.
  close(grad({ kind: 'reste' }, [0.05, 0.5, 1.0, 2.0, -0.5], [1, 1, 1, 1, 1]), [Math.cbrt(0.1) / 0.1, (1 / 3) * 0.5 ** (-2 / 3), 1 / 3, 0, (1 / 3) * 0.5 ** (-2 / 3)], 1e-5);
  close(q({ kind: 'reste' }, [0.05, -2]), [1, -1]);
  close(q({ kind: 'uniform-activation', bits: 2 }, [-2, -0.5, 0.2, 0.9]), [-1, -1 / 3, 1 / 3, 1], 1e-6);
  close(grad({ kind: 'uniform-activation', bits: 2 }, [-2, -0.5, 0.2, 0.9], [1, 1, 1, 1]), [0, 1, 1, 1]);
});

test('ReCU clamps the standardised weights at the tau quantile and binarises; tau follows ReCU\'s exponential schedule', () => {
  assert.ok(Math.abs(recuTau(0, 100) - 0.85) < 1e-12);
  assert.ok(Math.abs(recuTau(100, 100) - 0.99) < 1e-12);
  assert.ok(recuTau(50, 100) > 0.85 && recuTau(50, 100) < 0.92, 'exponential: slow at first');
  const w = tf.tidy(() => tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 5));
  for (const quantile of ['laplace', 'empirical'] as const) {
    const out = tf.tidy(() => makeQuantizer({ kind: 'recu', tau: 0.9, quantile })(w));
    // Per output channel the values are +-alpha with alpha = mean|W| of that channel.
    const v = out.arraySync() as number[][][][];
    const alpha = tf.tidy(() => tf.mean(tf.abs(w), [0, 1, 2]).arraySync() as number[]);
    for (let c = 0; c < 4; c++) {
      const vals = new Set(v.flat(3).filter((_, i) => i % 4 === c).map((x) => Math.round(x * 1e5)));
      assert.ok(vals.size <= 2, `channel ${c} has ${vals.size} values`);
      for (const x of vals) assert.ok(Math.abs(Math.abs(x / 1e5) - alpha[c]) < 1e-4);
    }
    out.dispose();
  }
  // Gradient rule: straight-through sign, the clamp and ReCU's standardisation differentiated, alpha constant.
  // Reference: autodiff of sum(dy * alpha * clip(standardise(w), lo, hi)) with the same bounds.
  const c = { kind: 'recu', tau: 0.6, quantile: 'empirical' } as const;
  const dy = tf.tidy(() => tf.randomNormal(w.shape, 0, 1, 'float32', 8));
  const got = tf.tidy(() => Array.from(tf.grad((x: Tensor) => tf.sum(tf.mul(makeQuantizer(c)(x), dy)))(w).dataSync()));
  const clamped = tf.tidy(() => recuClamp(w, c, 3));
  const [lo, hi] = tf.tidy(() => [tf.min(clamped).dataSync()[0], tf.max(clamped).dataSync()[0]]);
  const alphaT = tf.tidy(() => tf.tensor(tf.mean(tf.abs(w), [0, 1, 2], true).dataSync(), [1, 1, 1, 4]));
  const standardise = (x: Tensor) => {
    const w0 = tf.sub(x, tf.mean(x, [0, 1, 2], true));
    const v = tf.div(tf.sum(tf.square(w0), [0, 1, 2], true), 3 * 3 * 2 - 1);
    return tf.div(w0, tf.div(tf.sqrt(tf.add(v, 1e-5)), 2 * Math.SQRT2));
  };
  const want = tf.tidy(() => Array.from(tf.grad((x: Tensor) => tf.sum(tf.mul(tf.mul(tf.clipByValue(standardise(x), lo, hi), alphaT), dy)))(w).dataSync()));
  close(got, want, 1e-4, 'recu gradient');
  const inside = tf.tidy(() => Array.from(tf.logicalAnd(tf.greater(standardise(w), lo), tf.less(standardise(w), hi)).dataSync()));
  assert.ok(inside.filter(Boolean).length < inside.length * 0.4, 'tau = 0.6 clamps most weights');
  [dy, clamped, alphaT].forEach((t) => t.dispose());
  w.dispose();
  assert.throws(() => validateQuantizer({ kind: 'recu', tau: 1.2 }), /tau must be in \(0.5, 1\)/);
});

test('cyclic precision follows CPT\'s cosine within each cycle (3 to 8 bits)', () => {
  const c = { min: 3, max: 8, cycles: 2 };
  assert.equal(cyclicBits(0, 100, c), 3);
  assert.equal(cyclicBits(25, 100, c), 6); // 3 + 5 (1 - cos(pi/2)) / 2 = 5.5
  assert.equal(cyclicBits(49, 100, c), 8);
  assert.equal(cyclicBits(50, 100, c), 3); // restart
});

const IDEMPOTENT: QuantizerConfig[] = [
  { kind: 'binary' },
  { kind: 'binary', scale: 'channel' },
  { kind: 'ternary' },
  { kind: 'ternary', perChannel: true },
  { kind: 'affine', bits: 4 },
  { kind: 'affine', bits: 3, perChannel: true },
  { kind: 'fixed-point', bits: 8, fractionBits: 4 },
  { kind: 'float16' },
  { kind: 'sign' },
  { kind: 'uniform-activation', bits: 3 },
];

test('idempotence: quantizing a quantized tensor changes nothing (and the reference n-bit is not idempotent)', () => {
  const x = tf.tidy(() => tf.randomNormal([5, 6], 0, 1, 'float32', 11));
  for (const c of IDEMPOTENT) {
    const f = makeQuantizer(c);
    const [once, twice] = tf.tidy(() => {
      const a = f(x);
      return [Array.from(a.dataSync()), Array.from(f(a).dataSync())];
    });
    close(twice, once, 1e-5, c.kind);
  }
  // [-1, 0, .5, 1] -> [-4/3, 0, 2/3, 4/3] -> scale 9/8 -> [-16/9, 0, 8/9, 16/9].
  close(q({ kind: 'nbits-reference', bits: 2 }, [-4 / 3, 0, 2 / 3, 4 / 3]), [-16 / 9, 0, 8 / 9, 16 / 9], 1e-5, 'the reference n-bit rescales its own output');
  x.dispose();
});

const COUNTED: QuantizerConfig[] = [
  { kind: 'binary', scale: 'tensor' },
  { kind: 'ternary' },
  { kind: 'nbits-reference', bits: 3 },
  { kind: 'affine', bits: 2 },
  { kind: 'affine', bits: 4 },
  { kind: 'affine', bits: 8, symmetric: false },
  { kind: 'scaled-uniform', bits: 3 },
  { kind: 'uniform-activation', bits: 2 },
  { kind: 'fixed-point', bits: 4, fractionBits: 1 },
  { kind: 'sign' },
];

test('distinct values: <= 2^b, 2 for binary, 3 for ternary, and the codes reproduce the forward output', () => {
  const x = tf.tidy(() => tf.randomNormal([2000], 0, 1, 'float32', 3));
  for (const c of COUNTED) {
    const vals = tf.tidy(() => Array.from(makeQuantizer(c)(x).dataSync()));
    const n = new Set(vals).size;
    assert.ok(n <= maxDistinctValues(c), `${JSON.stringify(c)}: ${n} distinct values`);
    assert.ok(n >= Math.min(maxDistinctValues(c) - 1, 2 ** quantizerBits(c) - 1, 150), `${JSON.stringify(c)}: only ${n} distinct values`);
    const codes = quantizerCodes(c, x)!;
    const back = tf.tidy(() => Array.from(tf.mul(codes.scale, tf.sub(codes.codes, codes.zero)).dataSync()));
    close(back, vals, 1e-5, `codes of ${c.kind}`);
    [codes.codes, codes.scale, codes.zero].forEach((t) => t.dispose());
  }
  x.dispose();
});

test('bad quantizer configs name the field', () => {
  assert.throws(() => makeQuantizer({ kind: 'affine', bits: 1 }), /affine: bits must be an integer in 2\.\.16, got 1/);
  assert.throws(() => makeQuantizer({ kind: 'fixed-point', bits: 8, fractionBits: 8 }), /fractionBits must be an integer in 0\.\.7/);
  assert.throws(() => makeQuantizer({ kind: 'nope' } as never), /unknown quantizer kind "nope"/);
});

/** One config of every kind (the type makes a new kind without an example a compile error). */
const EXAMPLES: { [K in QuantizerKind]: QuantizerConfigOf<K> } = {
  none: { kind: 'none' },
  binary: { kind: 'binary', scale: 'channel' },
  ternary: { kind: 'ternary', perChannel: true },
  'nbits-reference': { kind: 'nbits-reference', bits: 3 },
  affine: { kind: 'affine', bits: 4, perChannel: true },
  'scaled-uniform': { kind: 'scaled-uniform', bits: 2 },
  'fixed-point': { kind: 'fixed-point', bits: 8, fractionBits: 4 },
  float16: { kind: 'float16' },
  recu: { kind: 'recu', tau: 0.9 },
  sign: { kind: 'sign' },
  reste: { kind: 'reste' },
  'uniform-activation': { kind: 'uniform-activation', bits: 2 },
};

test('the quantizer registry covers every kind: schema, bits, distinct values, forward and integer codes', () => {
  assert.deepEqual(Object.keys(QUANTIZER_OPS), QUANTIZER_KIND_NAMES);
  assert.deepEqual(Object.keys(EXAMPLES), QUANTIZER_KIND_NAMES);
  assert.equal(QUANTIZER_KIND_NAMES.length, 12);
  const x = tf.tidy(() => tf.randomNormal([3, 4], 0, 1, 'float32', 5));
  for (const kind of QUANTIZER_KIND_NAMES) {
    const c = EXAMPLES[kind] as QuantizerConfig;
    const info = QUANTIZER_KINDS[kind];
    assert.ok(info.schema.safeParse(c).success && QuantizerConfigSchema.safeParse(c).success, kind);
    assert.deepEqual(validateQuantizer(c), c);
    assert.ok(info.description.length > 0 && ['weight', 'activation', 'both'].includes(info.family), kind);
    const bits = quantizerBits(c);
    assert.ok(Number.isInteger(bits) && bits >= 1 && bits <= 32, `${kind}: ${bits} bits`);
    assert.ok(maxDistinctValues(c) >= 2, kind);
    const [y, shape] = tf.tidy(() => {
      const out = makeQuantizer(c)(x);
      return [Array.from(out.dataSync()), out.shape];
    });
    assert.deepEqual(shape, x.shape, kind);
    assert.ok(new Set(y).size <= maxDistinctValues(c) * 4, `${kind}: at most maxDistinctValues per channel`);
    const codes = quantizerCodes(c, x);
    assert.equal(codes === null, QUANTIZER_OPS[kind].codes === null, kind);
    if (codes) {
      assert.ok(Array.from(codes.codes.dataSync()).every(Number.isInteger), `${kind}: integer codes`);
      close(tf.tidy(() => Array.from(tf.mul(codes.scale, tf.sub(codes.codes, codes.zero)).dataSync())), y, 1e-5, `codes of ${kind}`);
      [codes.codes, codes.scale, codes.zero].forEach((t) => t.dispose());
    }
  }
  x.dispose();
  assert.equal(quantizerBits(undefined), 32);
});

test('quantizer config errors name the field path; an unknown kind lists the valid kinds', () => {
  const message = (c: unknown) => {
    try {
      validateQuantizer(c);
    } catch (e) {
      assert.ok(e instanceof QuantizerError);
      return e.message;
    }
    assert.fail(`${JSON.stringify(c)} was accepted`);
  };
  assert.equal(message({ kind: 'affine', bits: 1 }), 'quantizer affine: bits must be an integer in 2..16, got 1');
  assert.equal(message({ kind: 'affine', bits: 4.5 }), 'quantizer affine: bits must be an integer in 2..16, got 4.5');
  assert.equal(message({ kind: 'affine', bits: 8, range: { min: 1, max: 0 } }), 'quantizer affine: range.max must exceed range.min (1), got 0');
  assert.equal(message({ kind: 'binary', scale: 'row' }), 'quantizer binary: scale must be one of "none", "tensor", "channel", got "row"');
  assert.equal(message({ kind: 'ternary', deltaFactor: 0 }), 'quantizer ternary: deltaFactor must be > 0, got 0');
  assert.equal(message({ kind: 'reste', o: 0.5, t: 0.1 }), 'quantizer reste: o must be >= 1, got 0.5; t must be > 0.1, got 0.1');
  assert.equal(message({ kind: 'fixed-point', bits: 8, fractionBits: -1 }), 'quantizer fixed-point: fractionBits must be an integer in 0..7, got -1');
  assert.match(message({ kind: 'ternary', perchannel: true }), /^quantizer ternary: .*"perchannel"/);
  // The schema keeps the path for callers that report issues themselves.
  assert.deepEqual(QuantizerConfigSchema.safeParse({ kind: 'affine', bits: 8, range: { min: 1, max: 0 } }).error?.issues.map((i) => i.path), [['range', 'max']]);
  const unknown = message({ kind: 'quaternary', bits: 4 });
  assert.equal(unknown, `unknown quantizer kind "quaternary"; valid kinds: ${QUANTIZER_KIND_NAMES.join(', ')}`);
  assert.match(message({ bits: 4 }), /^missing quantizer kind; valid kinds: none, binary, /);
  assert.throws(() => makeQuantizer({ kind: 'quaternary' } as never), /valid kinds: none, binary, ternary/);
  assert.throws(() => quantizerBits({ kind: 'quaternary' } as never), /unknown quantizer kind "quaternary"; valid kinds/);
});

/** LeNet-5 (seed 001, 28x28) with the given compression. */
function lenet(kernel: QuantizerConfig | undefined, act: 'relu' | QuantizerConfig = 'relu', lastToo = true): Architecture {
  const a = (n: string): LayerSpec[] => (act === 'relu' ? [{ kind: 'activation', fn: 'relu', name: `act${n}` }] : [{ kind: 'quantize', quantizer: act, name: `act${n}` }]);
  const k = kernel ? { kernelQuantizer: kernel } : {};
  return {
    name: 'lenet5-q',
    input: [28, 28, 1],
    head: 'softmax',
    layers: [
      { kind: 'conv2d', filters: 6, kernel: 5, ...k, name: 'conv1' }, ...a('1'), { kind: 'maxpool', size: 2 },
      { kind: 'conv2d', filters: 16, kernel: 5, ...k, name: 'conv2' }, ...a('2'), { kind: 'maxpool', size: 2 },
      { kind: 'flatten' },
      { kind: 'dense', units: 120, ...k, name: 'fc1' }, ...a('3'),
      { kind: 'dense', units: 84, ...k, name: 'fc2' }, ...a('4'),
      { kind: 'dense', units: 10, ...(lastToo ? k : {}), name: 'fc3' },
    ],
  };
}

let mnist: { train: Dataset; test: Dataset } | null = null;
async function mnist5k() {
  if (!mnist) {
    const v = await loadView('mnist', 1);
    mnist = { train: miniSubset(v.train, 5000, 'stratified', rngStream(1, 'data')), test: v.test! };
  }
  return mnist;
}

test('quantized layers save and load with their quantizers', async (t) => {
  const arch = lenet({ kind: 'ternary', perChannel: true });
  arch.layers[0] = { ...(arch.layers[0] as object), inputQuantizer: { kind: 'affine', bits: 8, symmetric: false, range: { min: -1, max: 3 } } } as LayerSpec;
  const m = buildModel(arch, { seed: 2 });
  const dir = tmpDir(t);
  await saveModel(m, dir);
  const back = await loadModel(dir);
  const l = back.getLayer('fc1');
  assert.ok(isQuantLayer(l));
  assert.deepEqual((l as QuantDense).quantizers.kernel, { kind: 'ternary', perChannel: true });
  assert.deepEqual((back.getLayer('conv1') as QuantDense).quantizers.input, { kind: 'affine', bits: 8, symmetric: false, range: { min: -1, max: 3 } });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 4);
  const [a, b] = [m.predict(x) as Tensor, back.predict(x) as Tensor];
  close(Array.from(b.dataSync()), Array.from(a.dataSync()), 1e-6);
  [x, a, b].forEach((t) => t.dispose());
  m.dispose();
  back.dispose();
});

test('k-means clustering: N_c distinct values per layer, kept through cluster-preserving training', async () => {
  const km = kmeans1d(Float32Array.from([1, 1.1, 5, 5.2, 9, 9.1]), 3, 1);
  close(Array.from(km.centroids), [1.05, 5.1, 9.05], 1e-5);
  assert.deepEqual(Array.from(km.assignments), [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(kmeans1d(Float32Array.from([3, 1, 3]), 4, 1).centroids, Float32Array.from([1, 3]));
  const { train } = await mnist5k();
  const small = miniSubset(train, 500, 'first');
  const arch = lenet(undefined);
  const m = buildModel(arch, { seed: 1 });
  await fit(m, small, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax' });
  const c = clusterModel(m, arch, { clusters: 16, seed: 1 });
  assert.ok(distinctValues(c.model).every((d) => d.distinct <= 16 && d.distinct >= 15), JSON.stringify(distinctValues(c.model)));
  const before = Array.from((c.model.getLayer('fc1') as QuantDense).variables().centroids!.read().dataSync());
  const countsBefore = distinctValues(c.model);
  await fit(c.model, small, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 2, head: 'softmax' });
  const after = Array.from((c.model.getLayer('fc1') as QuantDense).variables().centroids!.read().dataSync());
  assert.notDeepEqual(after, before, 'training updates the centroids');
  assert.deepEqual(distinctValues(c.model), countsBefore, 'the number of values per layer is kept by training');
  assert.ok(countsBefore.filter((d) => d.distinct === 16).length >= 4, JSON.stringify(countsBefore));
  // With an 8-bit kernel quantizer on top (cluster-preserving QAT) every layer keeps its 16 trained centroids;
  // the 8-bit grid can map two close centroids to one code, never more values than N_c.
  const cq = clusterModel(m, arch, { clusters: 16, seed: 1, kernelQuantizer: { kind: 'affine', bits: 8 } });
  await fit(cq.model, small, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 2, head: 'softmax' });
  for (const l of cq.model.layers.filter(isQuantLayer)) assert.equal(new Set(l.variables().centroids!.read().dataSync()).size, 16, l.name);
  assert.ok(distinctValues(cq.model).every((d) => d.distinct <= 16 && d.distinct >= 14), JSON.stringify(distinctValues(cq.model)));
  [m, c.model, cq.model].forEach((x) => x.dispose());
});

test('pruning: magnitude and structured masks, schedules, and masks that hold during fine-tuning', async () => {
  assert.deepEqual(Array.from(magnitudeMask(Float32Array.from([0.5, -0.1, 0.3, -2]), 0.5)), [1, 0, 0, 1]);
  // [2 in, 3 out]; channel L1 norms 1.5, 0.2, 3 -> prune one channel (the second).
  assert.deepEqual(Array.from(structuredMask(Float32Array.from([1, 0.1, 2, 0.5, -0.1, 1]), [2, 3], 0.34, 'l1')), [1, 0, 1, 1, 0, 1]);
  assert.equal(sparsityAt({ kind: 'polynomial', initial: 0, final: 0.8, begin: 0, end: 100, frequency: 10 }, 0), 0);
  assert.ok(Math.abs(sparsityAt({ kind: 'polynomial', initial: 0, final: 0.8, begin: 0, end: 100, frequency: 10 }, 50)! - 0.7) < 1e-12); // 0.8 (1 - 0.5^3)
  assert.equal(sparsityAt({ kind: 'constant', sparsity: 0.5, frequency: 10 }, 15), null);
  const { train } = await mnist5k();
  const small = miniSubset(train, 500, 'first');
  const arch: Architecture = { ...lenet(undefined), layers: lenet(undefined).layers.map((s) => (s.kind === 'dense' || s.kind === 'conv2d' ? { ...s, prune: true } : s)) };
  const m = buildModel(arch, { seed: 1 });
  await fit(m, small, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax', hooks: pruningHooks(m, { kind: 'constant', sparsity: 0.5, frequency: 5 }) });
  for (const r of sparsityReport(m)) assert.ok(Math.abs(r.sparsity - 0.5) < 0.02, `${r.layer}: ${r.sparsity}`);
  applyPruning(m, 0.5, { kind: 'structured', norm: 'l2' }, ['fc1']);
  const k = (m.getLayer('fc1') as QuantDense).effectiveKernel();
  const cols = k.shape[1]!;
  const v = k.dataSync();
  const deadChannels = Array.from({ length: cols }, (_, c) => c).filter((c) => Array.from({ length: k.shape[0]! }, (_, r) => v[r * cols + c]).every((x) => x === 0));
  assert.equal(deadChannels.length, 60);
  k.dispose();
  m.dispose();
});

test('post-training quantization: float16, dynamic range, int8 (calibrated), int8/int16; accuracy close to float', async () => {
  const { train, test } = await mnist5k();
  const evalSet = miniSubset(test, 1000, 'first');
  const arch = lenet(undefined);
  const m = buildModel(arch, { seed: 1 });
  await fit(m, miniSubset(train, 2000, 'first'), { epochs: 2, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax' });
  const base = evaluate(m, evalSet, 'softmax').accuracy;
  const rep = miniSubset(train, 300, 'first');
  for (const scheme of PTQ_SCHEMES) {
    const p = postTrainingQuantize(m, arch, scheme, rep);
    const acc = evaluate(p.model, evalSet, 'softmax').accuracy;
    assert.ok(Math.abs(acc - base) < 0.02, `${scheme}: ${acc} vs float ${base}`);
    for (const l of p.model.layers.filter(isQuantLayer)) {
      const raw = l.rawKernel();
      const codes = quantizerCodes(l.quantizers.kernel, raw);
      if (scheme === 'float16') assert.equal(codes, null);
      else assert.ok(new Set(codes!.codes.dataSync()).size <= 255, `${scheme} ${l.name}: int8 codes`);
      [raw, codes?.codes, codes?.scale, codes?.zero].forEach((t) => t?.dispose());
    }
    p.model.dispose();
  }
  assert.throws(() => postTrainingQuantize(m, arch, 'int8'), /needs a representative dataset/);
  // PTQ on a QAT model (seed 004 Table 4.3): fine-tune with fake int8, then convert.
  const qa = qatArchitecture(arch);
  const qat = buildModel(qa, { seed: 1 });
  transferWeights(m, qat);
  await fit(qat, miniSubset(train, 1000, 'first'), { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 5e-4 }, seed: 2, head: 'softmax' });
  const qatAcc = evaluate(qat, evalSet, 'softmax').accuracy;
  const p = postTrainingQuantize(qat, qa, 'int8', rep);
  assert.ok(Math.abs(evaluate(p.model, evalSet, 'softmax').accuracy - qatAcc) < 0.02);
  [m, qat, p.model].forEach((x) => x.dispose());
});

test('shifted hardtanh and gradient quantization', () => {
  const arch: Architecture = { name: 'h', input: [4], head: 'softmax', layers: [{ kind: 'hardtanh', shift: 0.5, name: 'ht' }, { kind: 'dense', units: 2, gradBits: 2, name: 'd' }] };
  const m = buildModel(arch, { seed: 1 });
  const y = tf.tidy(() => Array.from((m.getLayer('ht').apply(tf.tensor2d([[-1, 0.2, 1, 3]])) as Tensor).dataSync()));
  close(y, [-1, -0.3, 0.5, 1]);
  const g = tf.tidy(() => Array.from(tf.grad((x: Tensor) => tf.sum(m.getLayer('ht').apply(x) as Tensor))(tf.tensor2d([[-1, 0.2, 1, 3]])).dataSync()));
  close(g, [0, 1, 1, 0]);
  // 2-bit gradients: levels -1, 0, +1 times max|dy|.
  const dq = tf.tidy(() => Array.from(tf.grad((x: Tensor) => tf.sum(tf.mul(quantizeGradient(x, 2), tf.tensor1d([0.1, -0.45, 1, 0.6]))))(tf.tensor1d([1, 2, 3, 4])).dataSync()));
  close(dq, [0, 0, 1, 1]);
  m.dispose();
});

test('a clustered model (int32 indices) trains, checkpoints and resumes to the uninterrupted result', async () => {
  const { train } = await mnist5k();
  const small = miniSubset(train, 300, 'first');
  const arch = lenet(undefined);
  const base = buildModel(arch, { seed: 1 });
  const run = async (interrupt: boolean) => {
    const c = clusterModel(base, arch, { clusters: 8, seed: 1 });
    let saved: FitState | null = null;
    const opts = { epochs: 2, batchSize: 50, optimizer: { name: 'adam' as const, lr: 1e-3 }, seed: 1, head: 'softmax' as const };
    if (interrupt) {
      await assert.rejects(fit(c.model, small, { ...opts, checkpoint: { load: () => null, save: (st) => { saved = decodeCheckpoint<FitState>(encodeCheckpoint(st), 'mem'); throw new Error('kill'); } } }), /kill/);
      c.model.dispose();
      const again = clusterModel(base, arch, { clusters: 8, seed: 1 });
      await fit(again.model, small, { ...opts, checkpoint: { load: () => saved, save: () => {} } });
      return again.model;
    }
    await fit(c.model, small, opts);
    return c.model;
  };
  const a = await run(false);
  const b = await run(true);
  assert.deepEqual(b.getWeights().map((w) => Array.from(w.dataSync())), a.getWeights().map((w) => Array.from(w.dataSync())));
  assert.equal(b.getWeights().filter((w) => w.dtype === 'int32').length, 5);
  [a, b, base].forEach((x) => x.dispose());
});

const EXPORTS: [string, QuantizerConfig | 'clustered'][] = [
  ['binary', { kind: 'binary', scale: 'channel' }],
  ['ternary', { kind: 'ternary', perChannel: true }],
  ['2-bit', { kind: 'affine', bits: 2, perChannel: true }],
  ['4-bit', { kind: 'affine', bits: 4, perChannel: true }],
  ['8-bit', { kind: 'affine', bits: 8, perChannel: true }],
  ['clustered', 'clustered'],
];

test('integer export: the integer-only inference predicts exactly what tfjs predicts (binary, ternary, 2/4/8-bit, clustered LeNet-5)', async (t) => {
  const { train, test } = await mnist5k();
  const fitSet = miniSubset(train, 2000, 'first');
  const batch = miniSubset(test, 300, 'first');
  const dir = tmpDir(t);
  for (const [name, kq] of EXPORTS) {
    let arch = lenet(kq === 'clustered' ? undefined : kq);
    let m: LayersModel = buildModel(arch, { seed: 1 });
    await fit(m, fitSet, { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: 'softmax' });
    if (kq === 'clustered') {
      const c = clusterModel(m, arch, { clusters: 16, seed: 1, kernelQuantizer: { kind: 'affine', bits: 8, perChannel: true } });
      m.dispose();
      ({ model: m, arch } = c);
    }
    const qArch = staticInputQuantizers(arch, calibrate(m, miniSubset(fitSet, 200, 'first')));
    const qm = buildModel(qArch, { seed: 1 });
    transferWeights(m, qm);
    const exp = exportModel(qm, `lenet5_${name}`);
    const ours = integerInference(exp, batch.x, batch.y.length);
    const theirs = predictClasses(qm, batch, 'softmax');
    assert.deepEqual(Array.from(ours.classes), Array.from(theirs), `${name}: integer inference disagrees with tfjs`);
    assert.ok(evaluate(qm, batch, 'softmax').accuracy > 0.3 && new Set(theirs).size >= 6, `${name}: the model learnt something (predictions are not constant)`);
    const maxCode = Math.max(...exp.layers.flatMap((l) => l.weights.map(Math.abs)));
    assert.ok(maxCode <= 2 ** (exp.layers[0].weightBits - 1), `${name}: weight codes fit ${exp.layers[0].weightBits} bits`);
    const files = writeExport(exp, dir);
    assert.match(fs.readFileSync(files.header, 'utf8'), /static const int8_t conv1_weights\[150\]/);
    assert.equal(JSON.parse(fs.readFileSync(files.json, 'utf8')).layers.length, 5);
    m.dispose();
    qm.dispose();
  }
  assert.ok(fs.existsSync(path.join(dir, 'lenet5_binary.h')));
});

test('integer export of a binary network with batchnorm and sign activations (thresholds), seed-000 style', async () => {
  const { train, test } = await mnist5k();
  const arch: Architecture = {
    name: 'bnn',
    input: [28, 28, 1],
    head: 'softmax',
    layers: [
      { kind: 'conv2d', filters: 8, kernel: 5, bias: false, kernelQuantizer: { kind: 'binary', scale: 'channel' }, name: 'conv1' },
      { kind: 'batchnorm', name: 'bn1' },
      { kind: 'quantize', quantizer: { kind: 'sign' }, name: 'sign1' },
      { kind: 'maxpool', size: 2 },
      { kind: 'flatten' },
      { kind: 'dense', units: 32, bias: false, kernelQuantizer: { kind: 'binary', scale: 'channel' }, name: 'fc1' },
      { kind: 'batchnorm', name: 'bn2' },
      { kind: 'quantize', quantizer: { kind: 'reste' }, name: 'sign2' },
      { kind: 'dense', units: 10, kernelQuantizer: { kind: 'affine', bits: 8, perChannel: true }, name: 'fc2' },
    ],
  };
  const m = buildModel(arch, { seed: 3 });
  await fit(m, miniSubset(train, 1000, 'first'), { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 2e-3 }, seed: 3, head: 'softmax' });
  const qArch = staticInputQuantizers(arch, calibrate(m, miniSubset(train, 200, 'first')));
  const qm = buildModel(qArch, { seed: 3 });
  transferWeights(m, qm);
  const batch = miniSubset(test, 300, 'first');
  const exp = exportModel(qm, 'bnn');
  assert.equal(exp.layers[0].requant.kind, 'sign');
  assert.deepEqual(Array.from(integerInference(exp, batch.x, batch.y.length).classes), Array.from(predictClasses(qm, batch, 'softmax')));
  assert.match(toCHeader(exp), /conv1_threshold\[8\]/);
  m.dispose();
  qm.dispose();
});

test('export refuses float inputs and float kernels with a clear message', () => {
  const m = buildModel(lenet({ kind: 'binary' }), { seed: 1 });
  assert.throws(() => exportModel(m), /layer conv1: .*input quantizer/);
  const f = buildModel(lenet({ kind: 'float16' }), { seed: 1 });
  assert.throws(() => exportModel(f), /kernel quantizer float16 has no integer codes|input quantizer/);
  m.dispose();
  f.dispose();
});

test('QAT: LeNet-5 with the reference 4-bit weights and ReLU passes 95% on a 5k MNIST subset', async () => {
  const { train, test } = await mnist5k();
  const m = buildModel(lenet({ kind: 'nbits-reference', bits: 4 }), { seed: 1 });
  await fit(m, train, { epochs: 8, batchSize: 50, optimizer: { name: 'adam', lr: 2e-3 }, seed: 1, head: 'softmax' });
  const acc = evaluate(m, test, 'softmax').accuracy;
  m.dispose();
  assert.ok(acc > 0.95, `test accuracy ${acc}`);
});

test('QAT: per-channel binary weights and binary-STE activations in every layer but the output passes 80%', async () => {
  const { train, test } = await mnist5k();
  const m = buildModel(lenet({ kind: 'binary', scale: 'channel' }, { kind: 'sign' }, false), { seed: 1 });
  await fit(m, train, { epochs: 8, batchSize: 50, optimizer: { name: 'adam', lr: 2e-3 }, seed: 1, head: 'softmax' });
  const acc = evaluate(m, test, 'softmax').accuracy;
  // The binary layers hold two values per output channel.
  for (const d of distinctValues(m).slice(0, 4)) assert.ok(d.distinct <= 2 * 120, `${d.layer}: ${d.distinct}`);
  m.dispose();
  assert.ok(acc > 0.8, `test accuracy ${acc}`);
});

test('cyclic precision hooks change the bit width of quantizers during training', async () => {
  const arch = lenet({ kind: 'affine', bits: 8, perChannel: true });
  const m = buildModel(arch, { seed: 1 });
  const seen = new Set<number>();
  const hooks = cyclicPrecisionHooks(m, { min: 3, max: 8, cycles: 2 });
  const { train } = await mnist5k();
  await fit(m, miniSubset(train, 400, 'first'), {
    epochs: 1,
    batchSize: 20,
    optimizer: { name: 'adam', lr: 1e-3 },
    seed: 1,
    head: 'softmax',
    hooks: { beforeStep: (s) => { hooks.beforeStep!(s); seen.add((m.getLayer('fc1') as QuantDense).quantizers.kernel.kind === 'affine' ? ((m.getLayer('fc1') as QuantDense).quantizers.kernel as { bits: number }).bits : -1); } },
  });
  assert.deepEqual([...seen].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8]);
  m.dispose();
});
