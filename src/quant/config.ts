/**
 * Quantizer configs as plain, serialisable data: one zod schema per kind (`QuantizerConfigSchema`, from which
 * the `QuantizerConfig` type is inferred) and the registry `QUANTIZER_KINDS` of what every kind costs (bits,
 * distinct values, seed 000's hardware modes). No tfjs here, so the hardware estimators and configs can use
 * them without loading an engine; each kind's forward, gradient and integer codes are in quantizers.ts
 * (`QUANTIZER_OPS`).
 */
import { z } from 'zod';
import { KitError } from '../util/errors.js';

export class QuantizerError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'QuantizerError';
  }
}

const describe = (v: unknown): string => JSON.stringify(v) ?? 'nothing';

/**
 * `z.discriminatedUnion('kind', options)` for which a missing or unknown kind is one issue at the object itself
 * naming the valid kinds (`unknown layer kind "x"; valid kinds: conv2d, dense, ...`; zod's own says "Invalid
 * input"). Every other problem keeps its field path (`bits`, `range.max`).
 */
export function kindUnion<const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]]>(noun: string, options: T) {
  const union = z.discriminatedUnion('kind', options);
  const kinds: unknown[] = options.map((o) => (o as unknown as { shape: { kind: z.ZodLiteral<string> } }).shape.kind.value);
  return z.preprocess<unknown, typeof union, z.input<typeof union>>((v, ctx) => {
    const isObject = v !== null && typeof v === 'object' && !Array.isArray(v);
    const kind = isObject ? (v as { kind?: unknown }).kind : undefined;
    if (!kinds.includes(kind)) {
      const what = !isObject ? `expected a ${noun} object, got ${describe(v)}` : kind === undefined ? `missing ${noun} kind` : `unknown ${noun} kind ${describe(kind)}`;
      ctx.addIssue({ code: 'custom', message: `${what}; valid kinds: ${kinds.join(', ')}`, input: v });
    }
    return v;
  }, union);
}

/** An integer in lo..hi (a bit width). */
function intIn(lo: number, hi: number) {
  const error = `must be an integer in ${lo}..${hi}`;
  return z.number({ error }).int({ error, abort: true }).min(lo, { error }).max(hi, { error });
}
const oneOf = <const T extends readonly [string, ...string[]]>(...values: T) => z.enum(values, { error: `must be one of ${values.map(describe).join(', ')}` }).optional();
const flag = z.boolean({ error: 'must be true or false' }).optional();
const num = (error: string) => z.number({ error });
const kindOf = <const K extends string, S extends z.core.$ZodLooseShape = {}>(kind: K, shape: S = {} as S) => z.strictObject({ kind: z.literal(kind), ...shape });

/** The config schema of every kind. */
const SCHEMAS = {
  /** No quantization (full precision). */
  none: kindOf('none'),
  /**
   * Binary weights: sign(W) x alpha. `scale: 'none'`: plain sign (BinaryNet; the seed-000 reference's FC
   * layers). `tensor` / `channel`: alpha = mean|W| per tensor or per output channel (XNOR-Net / BWN, seed 004
   * §2.1.3; the reference's conv layers use the per-channel form). Gradient: identity straight-through
   * estimator (the reference), or `clipped` to |W| <= 1 (BinaryNet); alpha is held constant.
   */
  binary: kindOf('binary', { scale: oneOf('none', 'tensor', 'channel'), grad: oneOf('identity', 'clipped') }),
  /**
   * Ternary weights (TWN, Li et al.): Delta = deltaFactor x mean|W| (0.7 in the TWN paper, 0.75 in the
   * reference code), alpha = mean of |W| over |W| > Delta, values {-alpha, 0, +alpha}. Per tensor or per output
   * channel (the reference's form). Gradient: identity straight-through.
   */
  ternary: kindOf('ternary', { deltaFactor: num('must be a number > 0').gt(0, 'must be > 0').optional(), perChannel: flag }),
  /**
   * n-bit quantizer of the seed-000 reference (anchors.md §1.7, from BinaryNet.pytorch): scale =
   * (2^n - 1)/(max - min), q = round(clamp(W x scale, -(2^(n-1) + 1), 2^(n-1))) / scale. The scaled range
   * spans 2^n - 1 steps, so up to 2^n + 1 distinct values can occur. Gradient: identity straight-through in
   * every layer type (the reference's FC layers return no gradient; we do not copy that).
   */
  'nbits-reference': kindOf('nbits-reference', { bits: intIn(1, 16) }),
  /**
   * Affine quantization q = round(x / S) + Z (seed 001 eq. 2.3, seed 004 §2.1.2), dequantised S(q - Z).
   * Symmetric: Z = 0, S = max|x| / (2^(b-1) - 1); `narrowRange` uses [-2^(b-1)+1, 2^(b-1)-1] (restricted),
   * else [-2^(b-1), 2^(b-1)-1] (full). Asymmetric: range [min(x,0), max(x,0)] over [0, 2^b - 1] (or signed
   * with `signed`), Z integer. Per tensor or per output channel. A static `range` (calibrated activations)
   * replaces the data's min/max. Gradient: straight-through inside the representable range, zero outside.
   */
  affine: kindOf('affine', {
    bits: intIn(2, 16),
    symmetric: flag,
    narrowRange: flag,
    signed: flag,
    perChannel: flag,
    range: z
      .strictObject({ min: num('must be a number'), max: num('must be a number') })
      .superRefine((r, ctx) => {
        if (!(r.max > r.min)) ctx.addIssue({ code: 'custom', path: ['max'], message: `must exceed range.min (${r.min}), got ${r.max}` });
      })
      .optional(),
  }),
  /**
   * Seed 004 §3.3 weight quantizer: mean-centre, clip to [-1, 1], b-bit full-range symmetric uniform levels
   * on [-1, 1] (b = 1 is sign), times alpha. alpha = ||W||_1 / n (`l1`, what the authors use) or the
   * least-squares W.B / ||B||^2 (`least-squares`, §3.3.1, which they reject; the seed prints ||B|| without the
   * square, a misprint: d/dalpha of ||W - alpha B||^2 gives B.B). Gradient `corrected` (§3.3.1):
   * dW_i = dalpha/dW_i x sum_j g_j B_j + g_i x alpha x 1{|W_i| <= 1}; `xnor`: g_i (1/n + alpha 1{|W_i| <= 1}).
   */
  'scaled-uniform': kindOf('scaled-uniform', { bits: intIn(1, 16), alpha: oneOf('l1', 'least-squares'), grad: oneOf('corrected', 'xnor') }),
  /** Fixed point Qm.n: `bits` total (signed), `fractionBits` after the point (seed 003 §3.6: 16 and 8). */
  'fixed-point': kindOf('fixed-point', { bits: intIn(2, 32), fractionBits: num('must be an integer below bits') }).superRefine((c, ctx) => {
    if (!(Number.isInteger(c.fractionBits) && c.fractionBits >= 0 && c.fractionBits < c.bits)) {
      ctx.addIssue({ code: 'custom', path: ['fractionBits'], message: `must be an integer in 0..${c.bits - 1}, got ${c.fractionBits}` });
    }
  }),
  /** IEEE half precision (round to nearest even, saturating at 65504), for post-training float16. */
  float16: kindOf('float16'),
  /**
   * ReCU (seed 002 eq. 4.1, Xu et al. 2021, its ref. [61]): weights standardised per output channel as in the
   * ReCU code (centred, divided by std / (2 sqrt 2)), clamped to [Q(1 - tau), Q(tau)], then binarised with
   * a per-channel scale alpha = mean|W|. `quantile: 'laplace'` estimates Q(tau) = -mean|w| ln(2 - 2 tau) (the
   * ReCU code, assuming Laplace weights); `empirical` takes the tensor's own quantiles (eq. 4.1 literally).
   * tau follows `recuTau` (src/quant/schedules.ts). Gradient: straight-through sign, zero where clamped.
   */
  recu: kindOf('recu', { tau: num('must be in (0.5, 1)').gt(0.5, 'must be in (0.5, 1)').lt(1, 'must be in (0.5, 1)'), quantile: oneOf('laplace', 'empirical') }),
  /** Binary activation sign(x) with a straight-through gradient: identity (the reference) or hardtanh-clipped. */
  sign: kindOf('sign', { grad: oneOf('identity', 'clipped') }),
  /**
   * ReSTE (Wu et al. 2023, seed 000 ref. [8]): sign forward; backward (1/o)|x|^((1-o)/o) for 0.1 < |x| <= t,
   * the constant 0.1^(1/o) / 0.1 for |x| <= 0.1, 0 beyond t. Defaults o = 3, t = 1.5 (seed 000 Table 2.3).
   */
  reste: kindOf('reste', { o: num('must be a number >= 1').min(1, 'must be >= 1').optional(), t: num('must be a number > 0.1').gt(0.1, 'must be > 0.1').optional() }),
  /**
   * Seed 004 §3.3 activation quantizer: clip to [-1, 1], b-bit full-range symmetric uniform levels (b = 1:
   * sign), no scale. Gradient straight-through inside [-1, 1].
   */
  'uniform-activation': kindOf('uniform-activation', { bits: intIn(1, 16) }),
};

type KindSchema = (typeof SCHEMAS)[keyof typeof SCHEMAS];

/** Every quantizer config, validated field by field (strict: unknown fields are errors). */
export const QuantizerConfigSchema = kindUnion('quantizer', Object.values(SCHEMAS) as [KindSchema, ...KindSchema[]]);

export type QuantizerConfig = z.infer<typeof QuantizerConfigSchema>;
export type QuantizerKind = QuantizerConfig['kind'];
export type QuantizerConfigOf<K extends QuantizerKind> = Extract<QuantizerConfig, { kind: K }>;

/** What the kit knows about a quantizer kind without tfjs (its functions: `QUANTIZER_OPS` in quantizers.ts). */
export interface QuantizerKindInfo<K extends QuantizerKind = QuantizerKind> {
  /** The config's schema (one option of `QuantizerConfigSchema`). */
  schema: (typeof SCHEMAS)[K];
  /** One line for listings. */
  description: string;
  /** What it is meant to quantize: weights, activations (`quantize` layers, input quantizers), or both. */
  family: 'weight' | 'activation' | 'both';
  /** Bits per stored value, for size estimates (32: full precision). */
  bits(c: QuantizerConfigOf<K>): number;
  /** Upper bound on the number of distinct values of one output tensor (per channel: per channel). */
  distinctValues(c: QuantizerConfigOf<K>): number;
  /** Seed 000's weight-compression mode (`NNParamsCompMode`) of a kernel it quantizes; absent: from the bit width. */
  peCompression?: 'none' | 'binary' | 'ternary';
  /** Seed 000's activation mode of a `quantize` layer with it; absent: the layer leaves the activation as it is. */
  peActivation?: 'binary' | 'binary-reste';
}

const oneBit = { bits: () => 1, distinctValues: () => 2, peCompression: 'binary' } as const;
const ofBits = { bits: (c: { bits: number }) => c.bits, distinctValues: (c: { bits: number }) => 2 ** c.bits };

/** The registry of quantizer kinds (TypeScript refuses a missing kind). */
export const QUANTIZER_KINDS: { readonly [K in QuantizerKind]: QuantizerKindInfo<K> } = {
  none: { schema: SCHEMAS.none, description: 'full precision', family: 'both', bits: () => 32, distinctValues: () => Infinity, peCompression: 'none' },
  binary: { schema: SCHEMAS.binary, description: 'sign(W) x alpha (BinaryNet, XNOR-Net / BWN)', family: 'weight', ...oneBit, peActivation: 'binary' },
  ternary: { schema: SCHEMAS.ternary, description: '{-alpha, 0, +alpha} with threshold deltaFactor x mean|W| (TWN)', family: 'weight', bits: () => 2, distinctValues: () => 3, peCompression: 'ternary' },
  'nbits-reference': { schema: SCHEMAS['nbits-reference'], description: "the seed-000 reference's n-bit quantizer (2^n + 1 levels)", family: 'weight', ...ofBits, distinctValues: (c) => 2 ** c.bits + 1 },
  affine: { schema: SCHEMAS.affine, description: 'affine S(q - Z), symmetric or asymmetric, per tensor or channel', family: 'both', ...ofBits },
  'scaled-uniform': { schema: SCHEMAS['scaled-uniform'], description: 'seed 004 §3.3: b-bit uniform levels on [-1, 1] x alpha', family: 'weight', ...ofBits },
  'fixed-point': { schema: SCHEMAS['fixed-point'], description: 'fixed point Qm.n', family: 'both', ...ofBits },
  float16: { schema: SCHEMAS.float16, description: 'IEEE half precision', family: 'both', bits: () => 16, distinctValues: () => 2 ** 16, peCompression: 'none' },
  recu: { schema: SCHEMAS.recu, description: 'ReCU: clamp to quantiles tau, then binary with per-channel alpha', family: 'weight', ...oneBit },
  sign: { schema: SCHEMAS.sign, description: 'binary activation sign(x), straight-through', family: 'activation', ...oneBit, peActivation: 'binary' },
  reste: { schema: SCHEMAS.reste, description: 'ReSTE: sign with the rectified straight-through gradient', family: 'activation', ...oneBit, peActivation: 'binary-reste' },
  'uniform-activation': { schema: SCHEMAS['uniform-activation'], description: 'seed 004 §3.3: b-bit uniform levels on [-1, 1]', family: 'activation', ...ofBits },
};

export const QUANTIZER_KIND_NAMES = Object.keys(QUANTIZER_KINDS) as QuantizerKind[];

/** The registry entry of `c`'s kind; a QuantizerError listing the valid kinds for an unknown one. */
export function quantizerKind(c: QuantizerConfig): QuantizerKindInfo {
  if (!Object.hasOwn(QUANTIZER_KINDS, c.kind)) throw new QuantizerError(`unknown quantizer kind ${describe(c.kind)}; valid kinds: ${QUANTIZER_KIND_NAMES.join(', ')}`);
  return QUANTIZER_KINDS[c.kind] as QuantizerKindInfo;
}

/** Bits per stored value, for size estimates (no quantizer: full precision, 32). */
export function quantizerBits(c: QuantizerConfig | undefined): number {
  return c ? quantizerKind(c).bits(c) : 32;
}

/** Upper bound on the number of distinct values the quantizer can output for one tensor (per channel: per channel). */
export function maxDistinctValues(c: QuantizerConfig): number {
  return quantizerKind(c).distinctValues(c);
}

/**
 * Validates a config (for instance read from JSON) against `QuantizerConfigSchema`; throws a QuantizerError
 * naming each bad field (`quantizer affine: bits must be an integer in 2..16, got 1`).
 */
export function validateQuantizer(c: unknown): QuantizerConfig {
  const r = QuantizerConfigSchema.safeParse(c);
  if (r.success) return r.data;
  const kind = c !== null && typeof c === 'object' ? (c as { kind?: unknown }).kind : undefined;
  const problems = r.error.issues.map((i) => {
    // As the config files' errors (src/cli/config.ts): custom messages already give the value.
    const got = i.code === 'custom' || i.code === 'unrecognized_keys' ? '' : `, got ${describe(i.path.reduce<unknown>((v, p) => (v as Record<PropertyKey, unknown> | undefined)?.[p], c))}`;
    return `${i.path.length ? `${i.path.join('.')} ` : ''}${i.message}${got}`;
  });
  const known = QUANTIZER_KIND_NAMES.includes(kind as QuantizerKind);
  throw new QuantizerError(`${known ? `quantizer ${kind}: ` : ''}${[...new Set(problems)].join('; ')}`);
}
