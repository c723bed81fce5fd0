/**
 * Quantizers: small functions handed to layers (as Larq's `kernel_quantizer` / `input_quantizer`), each a
 * forward rule, a gradient rule (straight-through variants through `tf.customGrad`), a serialisable config
 * and a bit cost. `makeQuantizer(config, { channelAxis })` gives `(x: Tensor) => Tensor`.
 *
 * Sign convention: sign(0) = +1 everywhere (so a binary tensor has exactly the values +-alpha); the PyTorch
 * references use torch.sign, which maps an exact 0 to 0.
 * Rounding: round half to even (tf.round, as torch.round).
 */
import { tf } from '../engine/backend.js';
import type { Tensor } from '@tensorflow/tfjs';

import { type QuantizerConfig, validateQuantizer } from './config.js';

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

function affineParams(x: Tensor, c: Extract<QuantizerConfig, { kind: 'affine' }>, axis: number) {
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
export function affineFakeQuant(x: Tensor, c: Extract<QuantizerConfig, { kind: 'affine' }>, axis: number): Tensor {
  return tf.tidy(() => {
    const { scale, zero, qmin, qmax } = affineParams(x, c, axis);
    const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), qmin, qmax);
    return tf.mul(tf.sub(q, zero), scale);
  });
}

/** Integer codes, scale and zero point of an affine quantization (for export). */
export function affineCodes(x: Tensor, c: Extract<QuantizerConfig, { kind: 'affine' }>, axis: number): { codes: Tensor; scale: Tensor; zero: Tensor } {
  return tf.tidy(() => {
    const { scale, zero, qmin, qmax } = affineParams(x, c, axis);
    return { codes: tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), qmin, qmax), scale, zero };
  });
}

function ternaryParts(x: Tensor, c: Extract<QuantizerConfig, { kind: 'ternary' }>, axis: number) {
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
export function ternaryCodes(x: Tensor, c: Extract<QuantizerConfig, { kind: 'ternary' }>, axis: number): { codes: Tensor; alpha: Tensor } {
  return tf.tidy(() => ternaryParts(x, c, axis));
}

function binaryAlpha(x: Tensor, c: Extract<QuantizerConfig, { kind: 'binary' }>, axis: number): Tensor {
  const scale = c.scale ?? 'none';
  return scale === 'none' ? tf.scalar(1) : meanAbs(x, scale === 'channel', axis);
}

/** Binary codes {-1, +1} and alpha (for export). */
export function binaryCodes(x: Tensor, c: Extract<QuantizerConfig, { kind: 'binary' }>, axis: number): { codes: Tensor; alpha: Tensor } {
  return tf.tidy(() => ({ codes: signPM1(x), alpha: binaryAlpha(x, c, axis) }));
}

/** The seed-004 §3.3 quantizer's parts: centred-clipped Wc, levels B, alpha and dalpha/dWc. */
function scaledUniformParts(x: Tensor, c: Extract<QuantizerConfig, { kind: 'scaled-uniform' }>) {
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
export function scaledUniformCodes(x: Tensor, c: Extract<QuantizerConfig, { kind: 'scaled-uniform' }>): { levels: Tensor; alpha: Tensor } {
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
export function recuClamp(x: Tensor, c: Extract<QuantizerConfig, { kind: 'recu' }>, axis: number): Tensor {
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
function recuClampDifferentiable(x: Tensor, c: Extract<QuantizerConfig, { kind: 'recu' }>, axis: number): Tensor {
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
 * The integer codes behind a quantizer's output, or null for quantizers with no integer form (none, float16).
 * Invariant (tested): scale * (codes - zero) equals the quantizer's forward output.
 */
export function quantizerCodes(c: QuantizerConfig, x: Tensor, axis = x.rank - 1): IntegerCodes | null {
  return tf.tidy((() => {
    const zero0 = () => tf.scalar(0);
    switch (c.kind) {
      case 'binary': {
        const b = binaryCodes(x, c, axis);
        return { codes: b.codes, scale: b.alpha, zero: zero0(), bits: 1 };
      }
      case 'recu': {
        const m = meanAbs(x, true, axis);
        return { codes: signPM1(recuClamp(x, c, axis)), scale: tf.tensor(m.dataSync(), m.shape), zero: zero0(), bits: 1 };
      }
      case 'sign':
      case 'reste':
        return { codes: signPM1(x), scale: tf.scalar(1), zero: zero0(), bits: 1 };
      case 'ternary': {
        const t = ternaryCodes(x, c, axis);
        return { codes: t.codes, scale: t.alpha, zero: zero0(), bits: 2 };
      }
      case 'affine': {
        const a = affineCodes(x, c, axis);
        return { codes: a.codes, scale: a.scale, zero: a.zero, bits: c.symmetric === false && !c.signed ? c.bits + 1 : c.bits };
      }
      case 'nbits-reference': {
        const range = tf.sub(tf.max(x), tf.min(x));
        const scale = tf.where(tf.greater(range, 0), tf.div(2 ** c.bits - 1, tf.maximum(range, 1e-30)), tf.scalar(1));
        const codes = tf.round(tf.clipByValue(tf.mul(x, scale), -(2 ** (c.bits - 1) + 1), 2 ** (c.bits - 1)));
        return { codes, scale: tf.div(1, scale), zero: zero0(), bits: c.bits + 1 };
      }
      case 'scaled-uniform': {
        // alpha c (k + 1/2) = (alpha c / 2)(2k + 1): odd integer codes.
        const p = scaledUniformParts(x, c);
        const h = 1 / (2 ** c.bits - 1);
        return { codes: tf.round(tf.div(p.B, h)), scale: tf.mul(p.alpha, h), zero: zero0(), bits: c.bits + 1 };
      }
      case 'uniform-activation': {
        const h = 1 / (2 ** c.bits - 1);
        return { codes: tf.round(tf.div(uniformLevels11(tf.clipByValue(x, -1, 1), c.bits), h)), scale: tf.scalar(h), zero: zero0(), bits: c.bits + 1 };
      }
      case 'fixed-point':
        return {
          codes: tf.clipByValue(tf.round(tf.mul(x, 2 ** c.fractionBits)), -(2 ** (c.bits - 1)), 2 ** (c.bits - 1) - 1),
          scale: tf.scalar(2 ** -c.fractionBits),
          zero: zero0(),
          bits: c.bits,
        };
      case 'none':
      case 'float16':
        return null;
    }
  }) as never) as unknown as IntegerCodes | null;
}

/** Builds the quantizer function for `config`. */
export function makeQuantizer(config: QuantizerConfig, opts: QuantizerOptions = {}): Quantizer {
  validateQuantizer(config);
  const axisOf = (x: Tensor) => (opts.channelAxis ?? -1) < 0 ? x.rank - 1 : (opts.channelAxis as number);
  let fn: (x: Tensor) => Tensor;
  const c = config;
  switch (c.kind) {
    case 'none':
      fn = (x) => x;
      break;
    case 'binary':
      fn = withGrad(
        (x) => tf.tidy(() => tf.mul(signPM1(x), binaryAlpha(x, c, axisOf(x)))),
        (dy, x) => tf.tidy(() => ((c.grad ?? 'identity') === 'clipped' ? tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(x), 1), 'float32')) : dy)),
      );
      break;
    case 'ternary':
      fn = withGrad(
        (x) =>
          tf.tidy(() => {
            const { alpha, codes } = ternaryParts(x, c, axisOf(x));
            return tf.mul(codes, alpha);
          }),
        (dy) => dy,
      );
      break;
    case 'nbits-reference': {
      const b = c.bits;
      fn = withGrad(
        (x) =>
          tf.tidy(() => {
            const range = tf.sub(tf.max(x), tf.min(x));
            // A constant tensor has no range; the reference would divide by zero. Leave it unchanged.
            const scale = tf.where(tf.greater(range, 0), tf.div(2 ** b - 1, tf.maximum(range, 1e-30)), tf.scalar(1));
            const q = tf.round(tf.clipByValue(tf.mul(x, scale), -(2 ** (b - 1) + 1), 2 ** (b - 1)));
            return tf.div(q, scale);
          }),
        (dy) => dy,
      );
      break;
    }
    case 'affine':
      fn = withGrad(
        (x) => affineFakeQuant(x, c, axisOf(x)),
        (dy, x) =>
          tf.tidy(() => {
            const { scale, zero, qmin, qmax } = affineParams(x, c, axisOf(x));
            const lo = tf.mul(tf.sub(qmin - 0.5, zero), scale);
            const hi = tf.mul(tf.sub(qmax + 0.5, zero), scale);
            return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)), 'float32'));
          }),
      );
      break;
    case 'scaled-uniform':
      fn = withGrad(
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
      );
      break;
    case 'fixed-point': {
      const s = 2 ** c.fractionBits;
      const lo = -(2 ** (c.bits - 1));
      const hi = 2 ** (c.bits - 1) - 1;
      fn = withGrad(
        (x) => tf.tidy(() => tf.div(tf.clipByValue(tf.round(tf.mul(x, s)), lo, hi), s)),
        (dy, x) => tf.tidy(() => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x, lo / s), tf.lessEqual(x, hi / s)), 'float32'))),
      );
      break;
    }
    case 'float16':
      fn = withGrad(roundFloat16, (dy) => dy);
      break;
    case 'recu': {
      const signSte = withGrad(signPM1, (dy) => dy);
      fn = (x) => {
        const axis = axisOf(x);
        // alpha is a per-channel constant (taken off the tape); the clamp and the standardisation are differentiated.
        const alpha = tf.tidy(() => {
          const a = meanAbs(x, true, axis);
          return tf.tensor(a.dataSync(), a.shape);
        });
        const out = tf.mul(signSte(recuClampDifferentiable(x, c, axis)), alpha);
        alpha.dispose();
        return out;
      };
      break;
    }
    case 'sign':
      fn = withGrad(
        (x) => signPM1(x),
        (dy, x) => tf.tidy(() => ((c.grad ?? 'identity') === 'clipped' ? tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(x), 1), 'float32')) : dy)),
      );
      break;
    case 'reste': {
      const o = c.o ?? 3;
      const t = c.t ?? 1.5;
      const interval = 0.1;
      const inner = Math.pow(interval, 1 / o) / interval;
      fn = withGrad(
        (x) => signPM1(x),
        (dy, x) =>
          tf.tidy(() => {
            const a = tf.abs(x);
            const power = tf.mul(1 / o, tf.pow(tf.maximum(a, interval), (1 - o) / o));
            const g = tf.where(tf.lessEqual(a, interval), tf.fill(a.shape, inner), tf.where(tf.lessEqual(a, t), power, tf.zerosLike(a)));
            return tf.mul(dy, g);
          }),
      );
      break;
    }
    case 'uniform-activation':
      fn = withGrad(
        (x) => tf.tidy(() => uniformLevels11(tf.clipByValue(x, -1, 1), c.bits)),
        (dy, x) => tf.tidy(() => tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(x), 1), 'float32'))),
      );
      break;
  }
  return Object.assign(fn, { config });
}
