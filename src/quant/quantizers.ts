/**
 * Quantizers: small functions handed to layers (as Larq's `kernel_quantizer` / `input_quantizer`), each a
 * forward rule, a gradient rule (straight-through variants through `tf.customGrad`), a serialisable config
 * and a bit cost. `makeQuantizer(config, { channelAxis })` gives `(x: Tensor) => Tensor`. Every kind's rules
 * are one entry of `QUANTIZER_OPS`; its schema and costs are in `QUANTIZER_KINDS` (config.ts).
 *
 * Sign convention: sign(0) = +1 everywhere (so a binary tensor has exactly the values +-alpha); the PyTorch
 * references use torch.sign, which maps an exact 0 to 0.
 * Rounding: round half to even (tf.round, as torch.round).
 */
import { tf } from '../engine/backend.js';
import type { Tensor } from '@tensorflow/tfjs';

import { type QuantizerConfig, type QuantizerConfigOf, type QuantizerKind, quantizerKind, validateQuantizer } from './config.js';

export * from './config.js';

export interface QuantizerOptions {
  /** Axis of output channels for per-channel scales (the kernel's last axis). Default: last axis. */
  channelAxis?: number;
}

export type Quantizer = ((x: Tensor) => Tensor) & { config: QuantizerConfig };

/** sign with sign(0) = +1. */
export function signPM1(x: Tensor): Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greaterEqual(x, 0), 'float32'), 2), 1));
}

/** Axes to reduce for a per-channel statistic (all but `channelAxis`). */
function reduceAxes(rank: number, channelAxis: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== channelAxis);
}

/** mean|x| per tensor (scalar) or per channel (kept dims, broadcastable). */
function meanAbs(x: Tensor, perChannel: boolean, axis: number): Tensor {
  return perChannel ? tf.mean(tf.abs(x), reduceAxes(x.rank, axis), true) : tf.mean(tf.abs(x));
}

/** Wraps forward and backward rules of a one-input op in tf.customGrad. */
function withGrad(forward: (x: Tensor) => Tensor, backward: (dy: Tensor, x: Tensor) => Tensor): (x: Tensor) => Tensor {
  const impl = (x: Tensor, save: (ts: Tensor[]) => void) => {
    save([x]);
    return { value: forward(x), gradFunc: (dy: Tensor, saved: Tensor[]) => backward(dy, saved[0]) };
  };
  const f = tf.customGrad(impl as never);
  return (x: Tensor) => f(x) as Tensor;
}

/**
 * Full-range symmetric uniform levels on [-1, 1] (seed 004 §2.1.2 B and §3.3): with c = 2/(2^b - 1) and zero
 * point d = 1/2, q = clamp(round(x/c - d), -2^(b-1), 2^(b-1) - 1) and x~ = c(q + d). The 2^b levels are
 * +-c/2, +-3c/2, ..., +-1; for b = 1 they are -1 and +1 (sign).
 */
export function uniformLevels11(x: Tensor, bits: number): Tensor {
  return tf.tidy(() => {
    const c = 2 / (2 ** bits - 1);
    const q = tf.clipByValue(tf.round(tf.sub(tf.div(x, c), 0.5)), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1);
    return tf.mul(tf.add(q, 0.5), c);
  });
}

function affineParams(x: Tensor, c: QuantizerConfigOf<'affine'>, axis: number) {
  const b = c.bits;
  const perChannel = Boolean(c.perChannel) && !c.range;
  const axes = reduceAxes(x.rank, axis);
  const lo = c.range ? tf.scalar(c.range.min) : perChannel ? tf.min(x, axes, true) : tf.min(x);
  const hi = c.range ? tf.scalar(c.range.max) : perChannel ? tf.max(x, axes, true) : tf.max(x);
  if (c.symmetric !== false) {
    const qmax = 2 ** (b - 1) - 1;
    const qmin = c.narrowRange ? -qmax : -(2 ** (b - 1));
    const a = tf.maximum(tf.maximum(tf.abs(lo), tf.abs(hi)), 1e-12);
    return { scale: tf.div(a, qmax), zero: tf.zerosLike(a), qmin, qmax };
  }
  const qmin = c.signed ? -(2 ** (b - 1)) : 0;
  const qmax = c.signed ? 2 ** (b - 1) - 1 : 2 ** b - 1;
  const mn = tf.minimum(lo, 0);
  const mx = tf.maximum(hi, 0);
  const scale = tf.maximum(tf.div(tf.sub(mx, mn), qmax - qmin), 1e-12);
  const zero = tf.clipByValue(tf.round(tf.sub(qmin, tf.div(mn, scale))), qmin, qmax);
  return { scale, zero, qmin, qmax };
}

/** Affine fake quantization with its (scale, zero point), also used by PTQ and export. */
export function affineFakeQuant(x: Tensor, c: QuantizerConfigOf<'affine'>, axis: number): Tensor {
  return tf.tidy(() => {
    const { scale, zero, qmin, qmax } = affineParams(x, c, axis);
    const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), qmin, qmax);
    return tf.mul(tf.sub(q, zero), scale);
  });
}

/** Integer codes, scale and zero point of an affine quantization (for export). */
export function affineCodes(x: Tensor, c: QuantizerConfigOf<'affine'>, axis: number): { codes: Tensor; scale: Tensor; zero: Tensor } {
  return tf.tidy(() => {
    const { scale, zero, qmin, qmax } = affineParams(x, c, axis);
    return { codes: tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), qmin, qmax), scale, zero };
  });
}

function ternaryParts(x: Tensor, c: QuantizerConfigOf<'ternary'>, axis: number) {
  const perChannel = Boolean(c.perChannel);
  const absx = tf.abs(x);
  const delta = tf.mul(meanAbs(x, perChannel, axis), c.deltaFactor ?? 0.7);
  const mask = tf.cast(tf.greater(absx, delta), 'float32');
  const axes = reduceAxes(x.rank, axis);
  const num = perChannel ? tf.sum(tf.mul(absx, mask), axes, true) : tf.sum(tf.mul(absx, mask));
  const cnt = perChannel ? tf.sum(mask, axes, true) : tf.sum(mask);
  const alpha = tf.div(num, tf.maximum(cnt, 1));
  return { alpha, codes: tf.mul(tf.sign(x), mask) };
}

/** Ternary codes {-1, 0, 1} and alpha (for export). */
export function ternaryCodes(x: Tensor, c: QuantizerConfigOf<'ternary'>, axis: number): { codes: Tensor; alpha: Tensor } {
  return tf.tidy(() => ternaryParts(x, c, axis));
}

function binaryAlpha(x: Tensor, c: QuantizerConfigOf<'binary'>, axis: number): Tensor {
  const scale = c.scale ?? 'none';
  return scale === 'none' ? tf.scalar(1) : meanAbs(x, scale === 'channel', axis);
}

/** Binary codes {-1, +1} and alpha (for export). */
export function binaryCodes(x: Tensor, c: QuantizerConfigOf<'binary'>, axis: number): { codes: Tensor; alpha: Tensor } {
  return tf.tidy(() => ({ codes: signPM1(x), alpha: binaryAlpha(x, c, axis) }));
}

/** The seed-004 §3.3 quantizer's parts: centred-clipped Wc, levels B, alpha and dalpha/dWc. */
function scaledUniformParts(x: Tensor, c: QuantizerConfigOf<'scaled-uniform'>) {
  const n = x.size;
  const wc = tf.clipByValue(tf.sub(x, tf.mean(x)), -1, 1);
  const B = uniformLevels11(wc, c.bits);
  if ((c.alpha ?? 'l1') === 'l1') {
    return { wc, B, alpha: tf.mean(tf.abs(wc)), dAlpha: tf.div(signPM1(wc), n) };
  }
  const bb = tf.sum(tf.square(B));
  return { wc, B, alpha: tf.div(tf.sum(tf.mul(wc, B)), bb), dAlpha: tf.div(B, bb) };
}

/** Levels B in [-1, 1] and alpha of the seed-004 quantizer (for export). */
export function scaledUniformCodes(x: Tensor, c: QuantizerConfigOf<'scaled-uniform'>): { levels: Tensor; alpha: Tensor } {
  return tf.tidy(() => {
    const p = scaledUniformParts(x, c);
    return { levels: p.B, alpha: p.alpha };
  });
}

/**
 * Rounds to IEEE half precision: 11 significant bits for normal numbers (|x| >= 2^-14), a fixed step of
 * 2^-24 below, saturation at 65504.
 */
export function roundFloat16(x: Tensor): Tensor {
  return tf.tidy(() => {
    const a = tf.maximum(tf.abs(x), 2 ** -14);
    const step = tf.pow(2, tf.sub(tf.floor(tf.div(tf.log(a), Math.LN2)), 10));
    return tf.clipByValue(tf.mul(tf.round(tf.div(x, step)), step), -65504, 65504);
  });
}

/** ReCU's standardisation per output channel: centred, divided by std / (2 sqrt 2); torch.var is unbiased. */
function recuStandardize(x: Tensor, axis: number): Tensor {
  const axes = reduceAxes(x.rank, axis);
  const m = axes.reduce((n, a) => n * x.shape[a], 1);
  const w0 = tf.sub(x, tf.mean(x, axes, true));
  const variance = tf.div(tf.sum(tf.square(w0), axes, true), Math.max(1, m - 1));
  return tf.div(w0, tf.div(tf.sqrt(tf.add(variance, 1e-5)), 2 * Math.SQRT2));
}

/** The ReCU-standardised, clamped weights (before binarisation). Q is computed from the data as a constant. */
export function recuClamp(x: Tensor, c: QuantizerConfigOf<'recu'>, axis: number): Tensor {
  return tf.tidy(() => {
    const w1 = recuStandardize(x, axis);
    let lo: number;
    let hi: number;
    if ((c.quantile ?? 'laplace') === 'laplace') {
      const ew = tf.mean(tf.abs(w1)).dataSync()[0];
      hi = -ew * Math.log(2 - 2 * c.tau);
      lo = -hi;
    } else {
      const v = Float32Array.from(w1.dataSync()).sort();
      const at = (q: number) => {
        const pos = (v.length - 1) * q;
        const i = Math.floor(pos);
        return v[i] + (v[Math.min(i + 1, v.length - 1)] - v[i]) * (pos - i);
      };
      hi = at(c.tau);
      lo = at(1 - c.tau);
    }
    return tf.clipByValue(w1, lo, hi);
  });
}

/** recuClamp with the clamp bounds as constants but the standardisation and clamp on the tape. */
function recuClampDifferentiable(x: Tensor, c: QuantizerConfigOf<'recu'>, axis: number): Tensor {
  const bounds = tf.tidy(() => {
    const clamped = recuClamp(x, c, axis);
    return [tf.min(clamped).dataSync()[0], tf.max(clamped).dataSync()[0]];
  });
  return tf.clipByValue(recuStandardize(x, axis), bounds[0], bounds[1]);
}

/** A quantized tensor as integer codes: value = scale * (codes - zero). */
export interface IntegerCodes {
  codes: Tensor;
  /** Scalar, or per channel with kept dimensions (broadcastable against `codes`). */
  scale: Tensor;
  zero: Tensor;
  /** Signed bits that hold every code. */
  bits: number;
}

/**
 * How an activation quantizer with a data-independent grid turns real values into the integer codes the next
 * layer reads (integer export). Affine: q = clamp(round(x/step + levelOffset) + zero, qmin, qmax), code =
 * codeScale q + codeOffset, one code worth `unit` (an affine quantizer: the codes q; uniform b-bit: k =
 * clamp(round(x/step - 1/2)), codes 2k + 1 with unit step/2). Sign: codes +-1.
 */
export type InputCoding =
  | { kind: 'affine'; step: number; zero: number; qmin: number; qmax: number; levelOffset: number; codeScale: number; codeOffset: number; unit: number }
  | { kind: 'sign' };

/** A kind's functions (its config: `QUANTIZER_KINDS` in config.ts). */
export interface QuantizerOps<K extends QuantizerKind = QuantizerKind> {
  /** The quantizer: its forward rule with its gradient rule. */
  forward(c: QuantizerConfigOf<K>, opts: QuantizerOptions): (x: Tensor) => Tensor;
  /** The integer codes behind the forward output of `x` (called inside tf.tidy); null: no integer form. */
  codes: ((c: QuantizerConfigOf<K>, x: Tensor, axis: number) => IntegerCodes) | null;
  /** Its integer coding as a model's input or activation quantizer; null: the grid depends on the data. Absent: none. */
  inputCoding?(c: QuantizerConfigOf<K>): InputCoding | null;
}

const channelAxis = (x: Tensor, opts: QuantizerOptions) => ((opts.channelAxis ?? -1) < 0 ? x.rank - 1 : (opts.channelAxis as number));
const identityGrad = (dy: Tensor) => dy;
/** Straight-through inside [-1, 1], zero outside (hardtanh's derivative). */
const clippedGrad = (dy: Tensor, x: Tensor) => tf.tidy(() => tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(x), 1), 'float32')));
const steGrad = (grad: 'identity' | 'clipped' | undefined) => ((grad ?? 'identity') === 'clipped' ? clippedGrad : identityGrad);

/** Codes with zero point 0. */
const zeroPoint0 = (codes: Tensor, scale: Tensor, bits: number): IntegerCodes => ({ codes, scale, zero: tf.scalar(0), bits });
const signCodes = (_c: unknown, x: Tensor) => zeroPoint0(signPM1(x), tf.scalar(1), 1);

/** The reference n-bit quantizer's scale and codes. A constant tensor has no range (the reference would divide by zero): scale 1. */
function nbitsParts(x: Tensor, b: number): { scale: Tensor; codes: Tensor } {
  const range = tf.sub(tf.max(x), tf.min(x));
  const scale = tf.where(tf.greater(range, 0), tf.div(2 ** b - 1, tf.maximum(range, 1e-30)), tf.scalar(1));
  return { scale, codes: tf.round(tf.clipByValue(tf.mul(x, scale), -(2 ** (b - 1) + 1), 2 ** (b - 1))) };
}

/** Fixed-point codes round(x 2^fractionBits), saturated to `bits` signed bits. */
function fixedPointParts(c: QuantizerConfigOf<'fixed-point'>) {
  return { s: 2 ** c.fractionBits, lo: -(2 ** (c.bits - 1)), hi: 2 ** (c.bits - 1) - 1 };
}

const uniformActivation = (x: Tensor, bits: number) => uniformLevels11(tf.clipByValue(x, -1, 1), bits);

/** Every quantizer kind's forward, gradient and integer codes (TypeScript refuses a missing kind). */
export const QUANTIZER_OPS: { readonly [K in QuantizerKind]: QuantizerOps<K> } = {
  none: { forward: () => (x) => x, codes: null },
  binary: {
    forward: (c, opts) => withGrad((x) => tf.tidy(() => tf.mul(signPM1(x), binaryAlpha(x, c, channelAxis(x, opts)))), steGrad(c.grad)),
    codes: (c, x, axis) => {
      const b = binaryCodes(x, c, axis);
      return zeroPoint0(b.codes, b.alpha, 1);
    },
  },
  ternary: {
    forward: (c, opts) =>
      withGrad(
        (x) =>
          tf.tidy(() => {
            const { alpha, codes } = ternaryParts(x, c, channelAxis(x, opts));
            return tf.mul(codes, alpha);
          }),
        identityGrad,
      ),
    codes: (c, x, axis) => {
      const t = ternaryCodes(x, c, axis);
      return zeroPoint0(t.codes, t.alpha, 2);
    },
  },
  'nbits-reference': {
    forward: (c) =>
      withGrad(
        (x) =>
          tf.tidy(() => {
            const { scale, codes } = nbitsParts(x, c.bits);
            return tf.div(codes, scale);
          }),
        identityGrad,
      ),
    codes: (c, x) => {
      const { scale, codes } = nbitsParts(x, c.bits);
      return zeroPoint0(codes, tf.div(1, scale), c.bits + 1);
    },
  },
  affine: {
    forward: (c, opts) =>
      withGrad(
        (x) => affineFakeQuant(x, c, channelAxis(x, opts)),
        (dy, x) =>
          tf.tidy(() => {
            const { scale, zero, qmin, qmax } = affineParams(x, c, channelAxis(x, opts));
            const lo = tf.mul(tf.sub(qmin - 0.5, zero), scale);
            const hi = tf.mul(tf.sub(qmax + 0.5, zero), scale);
            return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)), 'float32'));
          }),
      ),
    codes: (c, x, axis) => {
      const a = affineCodes(x, c, axis);
      return { codes: a.codes, scale: a.scale, zero: a.zero, bits: c.symmetric === false && !c.signed ? c.bits + 1 : c.bits };
    },
    inputCoding: (c) => {
      if (!c.range) return null;
      // Scale and zero point exactly as the forward rule computes them (float32).
      const [step, zero, qmin, qmax] = tf.tidy(() => {
        const p = affineParams(tf.zeros([1]), c, 0);
        return [p.scale.dataSync()[0], p.zero.dataSync()[0], p.qmin, p.qmax];
      });
      return { kind: 'affine', step, zero, qmin, qmax, levelOffset: 0, codeScale: 1, codeOffset: 0, unit: step };
    },
  },
  'scaled-uniform': {
    forward: (c) =>
      withGrad(
        (x) =>
          tf.tidy(() => {
            const p = scaledUniformParts(x, c);
            return tf.mul(p.alpha, p.B);
          }),
        (dy, x) =>
          tf.tidy(() => {
            const p = scaledUniformParts(x, c);
            const inside = tf.cast(tf.lessEqual(tf.abs(tf.sub(x, tf.mean(x))), 1), 'float32');
            if ((c.grad ?? 'corrected') === 'xnor') return tf.mul(dy, tf.add(1 / x.size, tf.mul(p.alpha, inside)));
            // Seed 004 §3.3.1: the alpha term couples every weight to the sum of all gradients.
            return tf.add(tf.mul(p.dAlpha, tf.sum(tf.mul(dy, p.B))), tf.mul(tf.mul(dy, p.alpha), inside));
          }),
      ),
    codes: (c, x) => {
      // alpha c (k + 1/2) = (alpha c / 2)(2k + 1): odd integer codes.
      const p = scaledUniformParts(x, c);
      const h = 1 / (2 ** c.bits - 1);
      return zeroPoint0(tf.round(tf.div(p.B, h)), tf.mul(p.alpha, h), c.bits + 1);
    },
  },
  'fixed-point': {
    forward: (c) => {
      const { s, lo, hi } = fixedPointParts(c);
      return withGrad(
        (x) => tf.tidy(() => tf.div(tf.clipByValue(tf.round(tf.mul(x, s)), lo, hi), s)),
        (dy, x) => tf.tidy(() => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x, lo / s), tf.lessEqual(x, hi / s)), 'float32'))),
      );
    },
    codes: (c, x) => {
      const { s, lo, hi } = fixedPointParts(c);
      return zeroPoint0(tf.clipByValue(tf.round(tf.mul(x, s)), lo, hi), tf.scalar(2 ** -c.fractionBits), c.bits);
    },
  },
  float16: { forward: () => withGrad(roundFloat16, identityGrad), codes: null },
  recu: {
    forward: (c, opts) => {
      const signSte = withGrad(signPM1, identityGrad);
      return (x) => {
        const axis = channelAxis(x, opts);
        // alpha is a per-channel constant (taken off the tape); the clamp and the standardisation are differentiated.
        const alpha = tf.tidy(() => {
          const a = meanAbs(x, true, axis);
          return tf.tensor(a.dataSync(), a.shape);
        });
        const out = tf.mul(signSte(recuClampDifferentiable(x, c, axis)), alpha);
        alpha.dispose();
        return out;
      };
    },
    codes: (c, x, axis) => {
      const m = meanAbs(x, true, axis);
      return zeroPoint0(signPM1(recuClamp(x, c, axis)), tf.tensor(m.dataSync(), m.shape), 1);
    },
  },
  sign: { forward: (c) => withGrad(signPM1, steGrad(c.grad)), codes: signCodes, inputCoding: () => ({ kind: 'sign' }) },
  reste: {
    forward: (c) => {
      const o = c.o ?? 3;
      const t = c.t ?? 1.5;
      const interval = 0.1;
      const inner = Math.pow(interval, 1 / o) / interval;
      return withGrad(signPM1, (dy, x) =>
        tf.tidy(() => {
          const a = tf.abs(x);
          const power = tf.mul(1 / o, tf.pow(tf.maximum(a, interval), (1 - o) / o));
          const g = tf.where(tf.lessEqual(a, interval), tf.fill(a.shape, inner), tf.where(tf.lessEqual(a, t), power, tf.zerosLike(a)));
          return tf.mul(dy, g);
        }),
      );
    },
    codes: signCodes,
    inputCoding: () => ({ kind: 'sign' }),
  },
  'uniform-activation': {
    forward: (c) => withGrad((x) => tf.tidy(() => uniformActivation(x, c.bits)), clippedGrad),
    codes: (c, x) => {
      const h = 1 / (2 ** c.bits - 1);
      return zeroPoint0(tf.round(tf.div(uniformActivation(x, c.bits), h)), tf.scalar(h), c.bits + 1);
    },
    inputCoding: (c) => {
      const step = 2 / (2 ** c.bits - 1);
      return { kind: 'affine', step, zero: 0, qmin: -(2 ** (c.bits - 1)), qmax: 2 ** (c.bits - 1) - 1, levelOffset: -0.5, codeScale: 2, codeOffset: 1, unit: step / 2 };
    },
  },
};

/** The functions of `c`'s kind (a QuantizerError listing the valid kinds for an unknown one). */
export function quantizerOps(c: QuantizerConfig): QuantizerOps {
  quantizerKind(c);
  return QUANTIZER_OPS[c.kind] as QuantizerOps;
}

/**
 * The integer codes behind a quantizer's output, or null for quantizers with no integer form (none, float16).
 * Invariant (tested): scale * (codes - zero) equals the quantizer's forward output.
 */
export function quantizerCodes(c: QuantizerConfig, x: Tensor, axis = x.rank - 1): IntegerCodes | null {
  const codes = quantizerOps(c).codes;
  return codes && (tf.tidy(() => codes(c, x, axis) as never) as unknown as IntegerCodes);
}

/** Builds the quantizer function for `config`. */
export function makeQuantizer(config: QuantizerConfig, opts: QuantizerOptions = {}): Quantizer {
  validateQuantizer(config);
  return Object.assign(quantizerOps(config).forward(config, opts), { config });
}
