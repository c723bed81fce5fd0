/**
 * Quantizer configs as plain, serialisable data, with their bit cost and validation. No tfjs here, so the
 * hardware estimators and configs can use them without loading an engine; the functions are in quantizers.ts.
 */
import { KitError } from '../util/errors.js';

export type QuantizerConfig =
  | { kind: 'none' }
  /**
   * Binary weights: sign(W) x alpha. `scale: 'none'`: plain sign (BinaryNet; the seed-000 reference's FC
   * layers). `tensor` / `channel`: alpha = mean|W| per tensor or per output channel (XNOR-Net / BWN, seed 004
   * §2.1.3; the reference's conv layers use the per-channel form). Gradient: identity straight-through
   * estimator (the reference), or `clipped` to |W| <= 1 (BinaryNet); alpha is held constant.
   */
  | { kind: 'binary'; scale?: 'none' | 'tensor' | 'channel'; grad?: 'identity' | 'clipped' }
  /**
   * Ternary weights (TWN, Li et al.): Delta = deltaFactor x mean|W| (0.7 in the TWN paper, 0.75 in the
   * reference code), alpha = mean of |W| over |W| > Delta, values {-alpha, 0, +alpha}. Per tensor or per output
   * channel (the reference's form). Gradient: identity straight-through.
   */
  | { kind: 'ternary'; deltaFactor?: number; perChannel?: boolean }
  /**
   * n-bit quantizer of the seed-000 reference (anchors.md §1.7, from BinaryNet.pytorch): scale =
   * (2^n - 1)/(max - min), q = round(clamp(W x scale, -(2^(n-1) + 1), 2^(n-1))) / scale. The scaled range
   * spans 2^n - 1 steps, so up to 2^n + 1 distinct values can occur. Gradient: identity straight-through in
   * every layer type (the reference's FC layers return no gradient; we do not copy that).
   */
  | { kind: 'nbits-reference'; bits: number }
  /**
   * Affine quantization q = round(x / S) + Z (seed 001 eq. 2.3, seed 004 §2.1.2), dequantised S(q - Z).
   * Symmetric: Z = 0, S = max|x| / (2^(b-1) - 1); `narrowRange` uses [-2^(b-1)+1, 2^(b-1)-1] (restricted),
   * else [-2^(b-1), 2^(b-1)-1] (full). Asymmetric: range [min(x,0), max(x,0)] over [0, 2^b - 1] (or signed
   * with `signed`), Z integer. Per tensor or per output channel. A static `range` (calibrated activations)
   * replaces the data's min/max. Gradient: straight-through inside the representable range, zero outside.
   */
  | {
      kind: 'affine';
      bits: number;
      symmetric?: boolean;
      narrowRange?: boolean;
      signed?: boolean;
      perChannel?: boolean;
      range?: { min: number; max: number };
    }
  /**
   * Seed 004 §3.3 weight quantizer: mean-centre, clip to [-1, 1], b-bit full-range symmetric uniform levels
   * on [-1, 1] (b = 1 is sign), times alpha. alpha = ||W||_1 / n (`l1`, what the authors use) or the
   * least-squares W.B / ||B||^2 (`least-squares`, §3.3.1, which they reject; the seed prints ||B|| without the
   * square, a misprint: d/dalpha of ||W - alpha B||^2 gives B.B). Gradient `corrected` (§3.3.1):
   * dW_i = dalpha/dW_i x sum_j g_j B_j + g_i x alpha x 1{|W_i| <= 1}; `xnor`: g_i (1/n + alpha 1{|W_i| <= 1}).
   */
  | { kind: 'scaled-uniform'; bits: number; alpha?: 'l1' | 'least-squares'; grad?: 'corrected' | 'xnor' }
  /** Fixed point Qm.n: `bits` total (signed), `fractionBits` after the point (seed 003 §3.6: 16 and 8). */
  | { kind: 'fixed-point'; bits: number; fractionBits: number }
  /** IEEE half precision (round to nearest even, saturating at 65504), for post-training float16. */
  | { kind: 'float16' }
  /**
   * ReCU (seed 002 eq. 4.1, Xu et al. 2021, its ref. [61]): weights standardised per output channel as in the
   * ReCU code (centred, divided by std / (2 sqrt 2)), clamped to [Q(1 - tau), Q(tau)], then binarised with
   * a per-channel scale alpha = mean|W|. `quantile: 'laplace'` estimates Q(tau) = -mean|w| ln(2 - 2 tau) (the
   * ReCU code, assuming Laplace weights); `empirical` takes the tensor's own quantiles (eq. 4.1 literally).
   * tau follows `recuTau` (src/quant/schedules.ts). Gradient: straight-through sign, zero where clamped.
   */
  | { kind: 'recu'; tau: number; quantile?: 'laplace' | 'empirical' }
  /** Binary activation sign(x) with a straight-through gradient: identity (the reference) or hardtanh-clipped. */
  | { kind: 'sign'; grad?: 'identity' | 'clipped' }
  /**
   * ReSTE (Wu et al. 2023, seed 000 ref. [8]): sign forward; backward (1/o)|x|^((1-o)/o) for 0.1 < |x| <= t,
   * the constant 0.1^(1/o) / 0.1 for |x| <= 0.1, 0 beyond t. Defaults o = 3, t = 1.5 (seed 000 Table 2.3).
   */
  | { kind: 'reste'; o?: number; t?: number }
  /**
   * Seed 004 §3.3 activation quantizer: clip to [-1, 1], b-bit full-range symmetric uniform levels (b = 1:
   * sign), no scale. Gradient straight-through inside [-1, 1].
   */
  | { kind: 'uniform-activation'; bits: number };

export type QuantizerKind = QuantizerConfig['kind'];

/** Bits per stored value, for size estimates (null: full precision, 32). */
export function quantizerBits(c: QuantizerConfig | undefined): number {
  if (!c) return 32;
  switch (c.kind) {
    case 'none':
      return 32;
    case 'binary':
    case 'sign':
    case 'reste':
    case 'recu':
      return 1;
    case 'ternary':
      return 2;
    case 'float16':
      return 16;
    case 'nbits-reference':
    case 'affine':
    case 'scaled-uniform':
    case 'fixed-point':
    case 'uniform-activation':
      return c.bits;
  }
}

/** Upper bound on the number of distinct values the quantizer can output for one tensor (per channel: per channel). */
export function maxDistinctValues(c: QuantizerConfig): number {
  switch (c.kind) {
    case 'binary':
    case 'sign':
    case 'reste':
    case 'recu':
      return 2;
    case 'ternary':
      return 3;
    case 'nbits-reference':
      return 2 ** c.bits + 1;
    default:
      return c.kind === 'none' ? Infinity : 2 ** quantizerBits(c);
  }
}

export class QuantizerError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'QuantizerError';
  }
}

function checkBits(c: { kind: string; bits: number }, min: number, max: number): void {
  if (!Number.isInteger(c.bits) || c.bits < min || c.bits > max) {
    throw new QuantizerError(`quantizer ${c.kind}: bits must be an integer in ${min}..${max}, got ${c.bits}`);
  }
}

/** Validates a config; throws a QuantizerError naming the field. */
export function validateQuantizer(c: QuantizerConfig): QuantizerConfig {
  switch (c.kind) {
    case 'nbits-reference':
      checkBits(c, 1, 16);
      break;
    case 'affine':
      checkBits(c, 2, 16);
      if (c.range && !(c.range.max > c.range.min)) throw new QuantizerError(`quantizer affine: range.max must exceed range.min, got ${JSON.stringify(c.range)}`);
      break;
    case 'scaled-uniform':
    case 'uniform-activation':
      checkBits(c, 1, 16);
      break;
    case 'fixed-point':
      checkBits(c, 2, 32);
      if (!Number.isInteger(c.fractionBits) || c.fractionBits < 0 || c.fractionBits >= c.bits) {
        throw new QuantizerError(`quantizer fixed-point: fractionBits must be an integer in 0..${c.bits - 1}, got ${c.fractionBits}`);
      }
      break;
    case 'ternary':
      if (c.deltaFactor !== undefined && !(c.deltaFactor > 0)) throw new QuantizerError(`quantizer ternary: deltaFactor must be > 0, got ${c.deltaFactor}`);
      break;
    case 'reste':
      if ((c.o ?? 3) < 1 || (c.t ?? 1.5) <= 0.1) throw new QuantizerError(`quantizer reste: needs o >= 1 and t > 0.1, got o=${c.o} t=${c.t}`);
      break;
    case 'recu':
      if (!(c.tau > 0.5 && c.tau < 1)) throw new QuantizerError(`quantizer recu: tau must be in (0.5, 1), got ${c.tau}`);
      break;
    case 'none':
    case 'binary':
    case 'sign':
    case 'float16':
      break;
    default:
      throw new QuantizerError(`unknown quantizer kind ${JSON.stringify((c as { kind: unknown }).kind)}`);
  }
  return c;
}
