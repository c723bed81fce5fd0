/**
 * Bit widths per weighted layer: the small description every hardware estimator reads. One `LayerBits` per
 * weighted layer (conv2d or dense, in order). The compression library maps its quantizer configs onto it;
 * the CLI builds it from `--weight-bits 8` (broadcast) or `--weight-bits 8,4,4,4,8` (one per weighted layer).
 */
import { type Architecture, type LayerSpec, describeLayers, layerName } from '../models/arch.js';
import { type QuantizerConfig, quantizerBits, quantizerKind } from '../quant/config.js';
import { KitError } from '../util/errors.js';

/** Seed 000's weight-compression modes (§2.1.3; the reference's `NNParamsCompMode`). */
export type PeCompression = 'binary' | 'ternary' | 'nbits' | 'none';
/** Seed 000's activation modes (§2.1.3; the reference's `Activation`). */
export type PeActivation = 'none' | 'relu' | 'binary' | 'binary-reste';

export const PE_COMPRESSIONS: readonly PeCompression[] = ['binary', 'ternary', 'nbits', 'none'];
export const PE_ACTIVATIONS: readonly PeActivation[] = ['none', 'relu', 'binary', 'binary-reste'];

export interface LayerBits {
  /** Bits per stored weight. */
  weightBits: number;
  /** Bits per stored bias. */
  biasBits: number;
  /** Bits per output activation of this layer (and of the pooling/flatten layers up to the next weighted one). */
  actBits: number;
  /** Seed-000 compression mode for the printed-electronics heuristic; default from `weightBits`. */
  compression: PeCompression;
  /** Seed-000 activation after this layer for the heuristic; default from the architecture. */
  activation: PeActivation;
}

/** Resolved bits of a whole network. */
export interface BitsConfig {
  layers: LayerBits[];
  /** Bits per network input value. */
  inputBits: number;
  /** Bits per batchnorm parameter (gamma, beta), which are neither weights nor biases of a weighted layer. */
  otherBits: number;
}

/**
 * What callers give: each field a single value (broadcast to every weighted layer) or one per weighted layer.
 * Fields left out default to what the architecture's own quantizers say (`kernelQuantizer`, `biasQuantizer`,
 * `clusters`, a `quantize` layer after the layer or the next layer's `inputQuantizer`), else to 32 bits.
 */
export interface BitsInput {
  weightBits?: number | number[];
  /** Default: the layer's `biasQuantizer`, else its weight bits (seed 001 Listing 4.1: one width for all). */
  biasBits?: number | number[];
  /**
   * Default: an activation quantizer after the layer; else 32 if the layer has a `kernelQuantizer` (quantized
   * weights, float activations); else the weight bits (Table 5.2's "int8" network: int8 weights and activations).
   */
  actBits?: number | number[];
  /** Default: the first weighted layer's activation bits. */
  inputBits?: number;
  otherBits?: number;
  compression?: PeCompression | PeCompression[];
  activation?: PeActivation | PeActivation[];
}

/** A bad bit-width description; `field` names what is wrong (`weightBits`, `weightBits.2`, ...). */
export class BitsError extends KitError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'BitsError';
  }
}

export const isWeighted = (spec: LayerSpec): spec is Extract<LayerSpec, { kind: 'conv2d' | 'dense' }> =>
  spec.kind === 'conv2d' || spec.kind === 'dense';

/** Indices (into `arch.layers`) of the conv2d and dense layers, in order. */
export function weightedLayerIndices(arch: Architecture): number[] {
  return arch.layers.flatMap((l, i) => (isWeighted(l) ? [i] : []));
}

export function weightedLayerNames(arch: Architecture): string[] {
  return weightedLayerIndices(arch).map((i) => layerName(arch.layers[i], i));
}

/** Seed-000 compression mode of a kernel quantizer (its `peCompression`, else from its bit width). */
export function compressionForQuantizer(c: QuantizerConfig): PeCompression {
  return quantizerKind(c).peCompression ?? compressionForBits(quantizerBits(c));
}

/** Default seed-000 compression for a weight width: 32 = none, 1 = binary, otherwise n-bit. */
export function compressionForBits(bits: number): PeCompression {
  return bits >= 32 ? 'none' : bits === 1 ? 'binary' : 'nbits';
}

/** The layers after weighted layer `i` up to (not including) the next weighted layer. */
function block(arch: Architecture, i: number): LayerSpec[] {
  const out: LayerSpec[] = [];
  for (let j = i + 1; j < arch.layers.length && !isWeighted(arch.layers[j]); j++) out.push(arch.layers[j]);
  return out;
}

function nextWeighted(arch: Architecture, i: number): LayerSpec | undefined {
  for (let j = i + 1; j < arch.layers.length; j++) if (isWeighted(arch.layers[j])) return arch.layers[j];
  return undefined;
}

/**
 * The activation that follows weighted layer `i`: the last nonlinearity among its own `activation` and the
 * layers before the next weighted layer. A `quantize` layer with sign/ReSTE is seed 000's binary / binary
 * ReSTE activation; ReLU is ReLU; other nonlinearities (tanh, sigmoid, hardtanh) are costed like ReLU, since
 * the heuristic has no coefficient for them.
 */
export function archActivation(arch: Architecture, i: number): PeActivation {
  const spec = arch.layers[i];
  const fn = (f: string | undefined): PeActivation | null => (f === undefined ? null : f === 'linear' || f === 'softmax' ? 'none' : 'relu');
  let act: PeActivation = (isWeighted(spec) ? fn(spec.activation) : null) ?? 'none';
  for (const s of block(arch, i)) {
    if (s.kind === 'activation') act = fn(s.fn) ?? act;
    else if (s.kind === 'hardtanh') act = 'relu';
    else if (s.kind === 'quantize') act = quantizerKind(s.quantizer).peActivation ?? act;
  }
  return act;
}

/** Bits of weighted layer `i`'s output activations as the architecture states them, or undefined. */
function archActBits(arch: Architecture, i: number): number | undefined {
  let bits: number | undefined;
  for (const s of block(arch, i)) if (s.kind === 'quantize') bits = quantizerBits(s.quantizer);
  if (bits !== undefined) return bits;
  const next = nextWeighted(arch, i);
  return next && isWeighted(next) && next.inputQuantizer ? quantizerBits(next.inputQuantizer) : undefined;
}

/** Bits of the network input as the architecture states them (a first `quantize` layer or input quantizer). */
function archInputBits(arch: Architecture): number | undefined {
  for (const s of arch.layers) {
    if (s.kind === 'quantize') return quantizerBits(s.quantizer);
    if (isWeighted(s)) return s.inputQuantizer ? quantizerBits(s.inputQuantizer) : undefined;
  }
  return undefined;
}

function checkBits(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 32) {
    throw new BitsError(field, `expected an integer number of bits in 1..32, got ${JSON.stringify(v)}`);
  }
  return v;
}

function perLayer<T>(v: T | T[] | undefined, n: number, field: string, names: string[]): (T | undefined)[] {
  if (v === undefined) return Array(n).fill(undefined);
  if (!Array.isArray(v)) return Array(n).fill(v);
  if (v.length === 1) return Array(n).fill(v[0]);
  if (v.length !== n) {
    throw new BitsError(field, `expected 1 value or ${n} (one per weighted layer: ${names.join(', ')}), got ${v.length}`);
  }
  return v;
}

/**
 * Resolves a `BitsInput` (or an explicit `LayerBits[]`) for an architecture: broadcasts single values, fills
 * defaults (32-bit everything) and checks every width. Errors name the field and, for lists, the entry.
 */
export function resolveBits(arch: Architecture, input: BitsInput | LayerBits[] = {}): BitsConfig {
  const idx = weightedLayerIndices(arch);
  const names = weightedLayerNames(arch);
  const n = idx.length;
  if (Array.isArray(input)) {
    if (input.length !== n) throw new BitsError('layers', `expected ${n} entries (one per weighted layer: ${names.join(', ')}), got ${input.length}`);
    input.forEach((l, i) => {
      checkBits(l.weightBits, `layers.${i}.weightBits`);
      checkBits(l.biasBits, `layers.${i}.biasBits`);
      checkBits(l.actBits, `layers.${i}.actBits`);
      if (!PE_COMPRESSIONS.includes(l.compression)) throw new BitsError(`layers.${i}.compression`, `expected one of ${PE_COMPRESSIONS.join(', ')}`);
      if (!PE_ACTIVATIONS.includes(l.activation)) throw new BitsError(`layers.${i}.activation`, `expected one of ${PE_ACTIVATIONS.join(', ')}`);
    });
    return { layers: input.map((l) => ({ ...l })), inputBits: input[0]?.actBits ?? 32, otherBits: 32 };
  }
  const list = (v: number | number[] | undefined, field: string) =>
    perLayer(v, n, field, names).map((x, i) => (x === undefined ? undefined : checkBits(x, Array.isArray(v) && v.length > 1 ? `${field}.${i}` : field)));
  const specs = idx.map((j) => arch.layers[j] as Extract<LayerSpec, { kind: 'conv2d' | 'dense' }>);
  const w = list(input.weightBits, 'weightBits').map((x, i) => {
    const s = specs[i];
    if (x !== undefined) return x;
    if (s.kernelQuantizer) return quantizerBits(s.kernelQuantizer);
    // Weight clustering: an index of ceil(log2 N) bits per weight (the N-entry codebook is not counted).
    if (s.clusters) return Math.max(1, Math.ceil(Math.log2(s.clusters)));
    return 32;
  });
  const b = list(input.biasBits, 'biasBits');
  const a = list(input.actBits, 'actBits');
  const comp = perLayer(input.compression, n, 'compression', names);
  const act = perLayer(input.activation, n, 'activation', names);
  const layers = idx.map((archIndex, i) => {
    const c = comp[i];
    if (c !== undefined && !PE_COMPRESSIONS.includes(c)) {
      throw new BitsError(Array.isArray(input.compression) ? `compression.${i}` : 'compression', `expected one of ${PE_COMPRESSIONS.join(', ')}, got ${JSON.stringify(c)}`);
    }
    const f = act[i];
    if (f !== undefined && !PE_ACTIVATIONS.includes(f)) {
      throw new BitsError(Array.isArray(input.activation) ? `activation.${i}` : 'activation', `expected one of ${PE_ACTIVATIONS.join(', ')}, got ${JSON.stringify(f)}`);
    }
    const s = specs[i];
    const kq = input.weightBits === undefined ? s.kernelQuantizer : undefined;
    return {
      weightBits: w[i],
      biasBits: b[i] ?? (s.biasQuantizer ? quantizerBits(s.biasQuantizer) : w[i]),
      actBits: a[i] ?? archActBits(arch, archIndex) ?? (kq ? 32 : w[i]),
      compression: c ?? (kq ? compressionForQuantizer(kq) : compressionForBits(w[i])),
      activation: f ?? archActivation(arch, archIndex),
    };
  });
  const inputBits = input.inputBits === undefined ? (archInputBits(arch) ?? layers[0]?.actBits ?? 32) : checkBits(input.inputBits, 'inputBits');
  const otherBits = input.otherBits === undefined ? 32 : checkBits(input.otherBits, 'otherBits');
  return { layers, inputBits, otherBits };
}

/**
 * Bits of every layer's output activations (index = layer index of `describeLayers`): a weighted layer's
 * `actBits`, carried through the non-weighted layers after it; before the first weighted layer, `inputBits`.
 */
export function activationBitsPerLayer(arch: Architecture, bits: BitsConfig): number[] {
  let k = 0;
  let cur = bits.inputBits;
  return describeLayers(arch).map((_, i) => {
    if (isWeighted(arch.layers[i])) cur = bits.layers[k++].actBits;
    return cur;
  });
}
