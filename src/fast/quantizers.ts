/**
 * The quantizers of src/quant/quantizers.ts on plain float32 arrays, for the fast trainer (src/fast/net.ts):
 * the same forward rule and the same straight-through gradient rule for every kind the fast path takes, written
 * as loops with float32 rounding (`Math.fround`) where the tfjs ops round, and round-half-to-even as `tf.round`.
 * Reductions (means, sums) accumulate in float64 and round once, so a value can differ from the tfjs one by an
 * ulp; the equivalence tests (test/fast.test.ts) compare within a stated tolerance.
 *
 * A tensor is `len` values whose last axis has `channels` entries (a dense kernel [in, out]: channel = index
 * % out; an activation [batch, features]: channel = feature). Kinds without an array form here (`float16`,
 * `recu`) make `fastQuantizer` return null, and the job trains on the tfjs path.
 */
import type { QuantizerConfig, QuantizerConfigOf } from '../quant/config.js';

const f = Math.fround;

/** Round half to even (tf.round, torch.round). */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const clip = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export interface ArrayQuantizer {
  readonly config: QuantizerConfig;
  /** out[0..len) = q(x[0..len)); remembers what `backward` needs of this `x`. */
  forward(x: Float32Array, len: number, channels: number, out: Float32Array): void;
  /** dx = the kind's gradient rule applied to dy, for the `x` of the last `forward`. */
  backward(dy: Float32Array, x: Float32Array, len: number, channels: number, dx: Float32Array): void;
}

/** mean|x| of the whole tensor (length 1) or of each channel. */
function meanAbs(x: Float32Array, len: number, channels: number, perChannel: boolean): Float64Array {
  const k = perChannel ? channels : 1;
  const s = new Float64Array(k);
  for (let i = 0; i < len; i++) s[perChannel ? i % channels : 0] += Math.abs(x[i]);
  const count = perChannel ? len / channels : len;
  for (let c = 0; c < k; c++) s[c] = f(s[c] / count);
  return s;
}

const identity = (dy: Float32Array, _x: Float32Array, len: number, _c: number, dx: Float32Array) => {
  if (dx !== dy) dx.set(dy.subarray(0, len));
};
/** Straight-through inside [-1, 1], zero outside. */
const clipped = (dy: Float32Array, x: Float32Array, len: number, _c: number, dx: Float32Array) => {
  for (let i = 0; i < len; i++) dx[i] = Math.abs(x[i]) <= 1 ? dy[i] : 0;
};
const steOf = (grad: 'identity' | 'clipped' | undefined) => ((grad ?? 'identity') === 'clipped' ? clipped : identity);

/** Seed 004 §3.3's full-range symmetric uniform levels on [-1, 1] (as uniformLevels11 in quantizers.ts). */
function level11(v: number, bits: number): number {
  const c = f(2 / (2 ** bits - 1));
  const q = clip(roundEven(f(f(v / c) - 0.5)), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1);
  return f(f(q + 0.5) * c);
}

type Builder<K extends QuantizerConfig['kind']> = (c: QuantizerConfigOf<K>) => Omit<ArrayQuantizer, 'config'>;

const BUILDERS: { [K in QuantizerConfig['kind']]?: Builder<K> } = {
  none: () => ({
    forward: (x, len, _c, out) => {
      if (out !== x) out.set(x.subarray(0, len));
    },
    backward: identity,
  }),
  binary: (c) => ({
    forward(x, len, channels, out) {
      const scale = c.scale ?? 'none';
      const alpha = scale === 'none' ? null : meanAbs(x, len, channels, scale === 'channel');
      for (let i = 0; i < len; i++) {
        const a = alpha ? alpha[scale === 'channel' ? i % channels : 0] : 1;
        out[i] = x[i] >= 0 ? a : -a;
      }
    },
    backward: steOf(c.grad),
  }),
  ternary: (c) => ({
    forward(x, len, channels, out) {
      const per = Boolean(c.perChannel);
      const k = per ? channels : 1;
      const m = meanAbs(x, len, channels, per);
      const delta = m.map((v) => f(v * f(c.deltaFactor ?? 0.7)));
      const num = new Float64Array(k);
      const cnt = new Float64Array(k);
      for (let i = 0; i < len; i++) {
        const ch = per ? i % channels : 0;
        const a = Math.abs(x[i]);
        if (a > delta[ch]) {
          num[ch] += a;
          cnt[ch]++;
        }
      }
      const alpha = num.map((s, ch) => f(f(s) / Math.max(cnt[ch], 1)));
      for (let i = 0; i < len; i++) {
        const ch = per ? i % channels : 0;
        out[i] = Math.abs(x[i]) > delta[ch] ? (x[i] > 0 ? alpha[ch] : -alpha[ch]) : 0;
      }
    },
    backward: identity,
  }),
  'nbits-reference': (c) => ({
    forward(x, len, _channels, out) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let i = 0; i < len; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
      }
      const range = f(mx - mn);
      const scale = range > 0 ? f((2 ** c.bits - 1) / Math.max(range, 1e-30)) : 1;
      const lo = -(2 ** (c.bits - 1) + 1);
      const hi = 2 ** (c.bits - 1);
      for (let i = 0; i < len; i++) out[i] = f(roundEven(clip(f(x[i] * scale), lo, hi)) / scale);
    },
    backward: identity,
  }),
  affine: (c) => {
    let params: { scale: Float64Array; zero: Float64Array; qmin: number; qmax: number; per: boolean } | null = null;
    return {
      forward(x, len, channels, out) {
        const per = Boolean(c.perChannel) && !c.range;
        const k = per ? channels : 1;
        const lo = new Float64Array(k).fill(c.range ? c.range.min : Infinity);
        const hi = new Float64Array(k).fill(c.range ? c.range.max : -Infinity);
        if (!c.range) {
          for (let i = 0; i < len; i++) {
            const ch = per ? i % channels : 0;
            if (x[i] < lo[ch]) lo[ch] = x[i];
            if (x[i] > hi[ch]) hi[ch] = x[i];
          }
        }
        const scale = new Float64Array(k);
        const zero = new Float64Array(k);
        let qmin: number;
        let qmax: number;
        if (c.symmetric !== false) {
          qmax = 2 ** (c.bits - 1) - 1;
          qmin = c.narrowRange ? -qmax : -(2 ** (c.bits - 1));
          for (let ch = 0; ch < k; ch++) scale[ch] = f(Math.max(f(Math.max(Math.abs(f(lo[ch])), Math.abs(f(hi[ch])))), f(1e-12)) / qmax);
        } else {
          qmin = c.signed ? -(2 ** (c.bits - 1)) : 0;
          qmax = c.signed ? 2 ** (c.bits - 1) - 1 : 2 ** c.bits - 1;
          for (let ch = 0; ch < k; ch++) {
            const mn = Math.min(f(lo[ch]), 0);
            const mx = Math.max(f(hi[ch]), 0);
            scale[ch] = Math.max(f(f(mx - mn) / (qmax - qmin)), f(1e-12));
            zero[ch] = clip(roundEven(f(qmin - f(mn / scale[ch]))), qmin, qmax);
          }
        }
        params = { scale, zero, qmin, qmax, per };
        for (let i = 0; i < len; i++) {
          const ch = per ? i % channels : 0;
          const q = clip(roundEven(f(x[i] / scale[ch])) + zero[ch], qmin, qmax);
          out[i] = f((q - zero[ch]) * scale[ch]);
        }
      },
      backward(dy, x, len, channels, dx) {
        const p = params!;
        for (let i = 0; i < len; i++) {
          const ch = p.per ? i % channels : 0;
          const lo = f(f(p.qmin - 0.5 - p.zero[ch]) * p.scale[ch]);
          const hi = f(f(p.qmax + 0.5 - p.zero[ch]) * p.scale[ch]);
          dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0;
        }
      },
    };
  },
  'scaled-uniform': (c) => {
    let st: { mean: number; alpha: number; B: Float32Array; dAlpha: Float32Array } | null = null;
    return {
      forward(x, len, _channels, out) {
        let s = 0;
        for (let i = 0; i < len; i++) s += x[i];
        const mean = f(s / len);
        const B = new Float32Array(len);
        const dAlpha = new Float32Array(len);
        let alpha: number;
        const wcs = new Float32Array(len);
        for (let i = 0; i < len; i++) {
          wcs[i] = clip(f(x[i] - mean), -1, 1);
          B[i] = level11(wcs[i], c.bits);
        }
        if ((c.alpha ?? 'l1') === 'l1') {
          let a = 0;
          for (let i = 0; i < len; i++) a += Math.abs(wcs[i]);
          alpha = f(a / len);
          for (let i = 0; i < len; i++) dAlpha[i] = f((wcs[i] >= 0 ? 1 : -1) / len);
        } else {
          let bb = 0;
          let wb = 0;
          for (let i = 0; i < len; i++) {
            bb += B[i] * B[i];
            wb += wcs[i] * B[i];
          }
          alpha = f(f(wb) / f(bb));
          for (let i = 0; i < len; i++) dAlpha[i] = f(B[i] / f(bb));
        }
        st = { mean, alpha, B, dAlpha };
        for (let i = 0; i < len; i++) out[i] = f(alpha * B[i]);
      },
      backward(dy, x, len, _channels, dx) {
        const { mean, alpha, B, dAlpha } = st!;
        if ((c.grad ?? 'corrected') === 'xnor') {
          for (let i = 0; i < len; i++) dx[i] = f(dy[i] * f(1 / len + (Math.abs(f(x[i] - mean)) <= 1 ? alpha : 0)));
          return;
        }
        // Seed 004 §3.3.1: the alpha term couples every weight to the sum of all gradients.
        let gb = 0;
        for (let i = 0; i < len; i++) gb += dy[i] * B[i];
        const sum = f(gb);
        for (let i = 0; i < len; i++) dx[i] = f(f(dAlpha[i] * sum) + (Math.abs(f(x[i] - mean)) <= 1 ? f(dy[i] * alpha) : 0));
      },
    };
  },
  'fixed-point': (c) => {
    const s = 2 ** c.fractionBits;
    const lo = -(2 ** (c.bits - 1));
    const hi = 2 ** (c.bits - 1) - 1;
    return {
      forward(x, len, _channels, out) {
        for (let i = 0; i < len; i++) out[i] = f(clip(roundEven(f(x[i] * s)), lo, hi) / s);
      },
      backward(dy, x, len, _channels, dx) {
        for (let i = 0; i < len; i++) dx[i] = x[i] >= lo / s && x[i] <= hi / s ? dy[i] : 0;
      },
    };
  },
  sign: (c) => ({
    forward(x, len, _channels, out) {
      for (let i = 0; i < len; i++) out[i] = x[i] >= 0 ? 1 : -1;
    },
    backward: steOf(c.grad),
  }),
  reste: (c) => {
    const o = c.o ?? 3;
    const t = c.t ?? 1.5;
    const interval = 0.1;
    const inner = f(Math.pow(interval, 1 / o) / interval);
    return {
      forward(x, len, _channels, out) {
        for (let i = 0; i < len; i++) out[i] = x[i] >= 0 ? 1 : -1;
      },
      backward(dy, x, len, _channels, dx) {
        for (let i = 0; i < len; i++) {
          const a = Math.abs(x[i]);
          const g = a <= interval ? inner : a <= t ? f(f(1 / o) * f(Math.pow(Math.max(a, interval), (1 - o) / o))) : 0;
          dx[i] = f(dy[i] * g);
        }
      },
    };
  },
  'uniform-activation': (c) => ({
    forward(x, len, _channels, out) {
      for (let i = 0; i < len; i++) out[i] = level11(clip(x[i], -1, 1), c.bits);
    },
    backward: clipped,
  }),
};

/** The array form of a quantizer, or null when the fast path has none for its kind. */
export function fastQuantizer(config: QuantizerConfig | undefined): ArrayQuantizer | null {
  const c = config ?? ({ kind: 'none' } as const);
  const build = BUILDERS[c.kind] as Builder<typeof c.kind> | undefined;
  return build ? { config: c, ...build(c as never) } : null;
}

/** Whether the fast path can apply this quantizer. */
export function fastQuantizerSupported(config: QuantizerConfig | undefined): boolean {
  return !config || config.kind in BUILDERS;
}
