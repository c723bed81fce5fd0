/**
 * The compressed variants of seed 004's study as architectures (data), and what each stores.
 *
 * Mixed precision (§2.1.3, §3.3): a quantized layer's kernel uses the §3.3 quantizer (`scaled-uniform`: mean
 * centred, clipped to [-1, 1], b-bit full-range symmetric levels times alpha = ||W||_1 / n, §3.3.1's corrected
 * gradient) and its incoming activations are clipped to [-1, 1] and quantized to the same b bits
 * (`uniform-activation`); binary (b = 1) inputs are sign(A). The first layer's input is the image, not an
 * activation, and stays as it is.
 *
 * One detail differs in form, not in content: in QuantNet every layer's input A is a ReLU output (A >= 0).
 * Seed 004 writes sign(A), TensorFlow's tf.sign, which maps 0 to 0, so a binary input carries 1{z > 0} of the
 * pre-activation z. The kit's sign maps 0 to +1 (it is a {-1, +1} binariser), which would make sign(ReLU(z))
 * constant; so a layer with binary inputs follows a layer without the ReLU and reads sign(z) = 2 1{z >= 0} - 1,
 * the same information recoded affinely (absorbed by the layer's full-precision bias).
 */
import type { Architecture, LayerSpec } from '../../models/arch.js';
import { layerName } from '../../models/arch.js';
import { qatArchitecture } from '../../compress/ptq.js';
import type { QuantizerConfig } from '../../quant/config.js';
import { layerCounts } from '../../hw/counts.js';
import { resolveBits } from '../../hw/bits.js';
import { KitError } from '../../util/errors.js';
import type { LayerPrecisions } from '../../analysis/significance.js';
import type { ModelWeights } from '../../models/weights.js';

const isWeighted = (s: LayerSpec): s is Extract<LayerSpec, { kind: 'conv2d' | 'dense' }> => s.kind === 'conv2d' || s.kind === 'dense';

/** Seed 004 §3.3 kernel quantizer of a b-bit layer. */
export const scaledUniform = (bits: number): QuantizerConfig => ({ kind: 'scaled-uniform', bits, alpha: 'l1', grad: 'corrected' });
/** TFLite-style int8 kernel (symmetric, restricted range, per output channel), as `qatArchitecture` uses. */
export const INT8_KERNEL: QuantizerConfig = { kind: 'affine', bits: 8, symmetric: true, narrowRange: true, perChannel: true };
/** Int8 inputs with each batch's range (QAT's fake quantization of activations). */
export const INT8_INPUT: QuantizerConfig = { kind: 'affine', bits: 8, symmetric: false, signed: true };

/** Precisions as a map from layer to bits; every weighted layer must be named once. */
function precisionMap(arch: Architecture, precisions: LayerPrecisions): Map<string, number> {
  const names = arch.layers.flatMap((s, i) => (isWeighted(s) ? [layerName(s, i)] : []));
  const m = new Map(precisions.map((p) => [p.layer, p.bits]));
  const missing = names.filter((n) => !m.has(n));
  const extra = precisions.filter((p) => !names.includes(p.layer)).map((p) => p.layer);
  if (missing.length || extra.length) {
    throw new KitError(`mixed precision for ${arch.name}: ${missing.length ? `no precision for ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unknown layers ${extra.join(', ')}` : ''}`, 'ConfigError');
  }
  return m;
}

/** The architecture with each weighted layer at its precision (32: full), as seed 004 §3.3 quantizes. */
export function mixedPrecisionArchitecture(arch: Architecture, precisions: LayerPrecisions, name?: string): Architecture {
  const bits = precisionMap(arch, precisions);
  const layers = arch.layers.map((s) => ({ ...s }) as LayerSpec);
  let first = true;
  let previousWeighted: number | null = null;
  layers.forEach((s, i) => {
    if (!isWeighted(s)) return;
    const b = bits.get(layerName(s, i))!;
    if (b < 32) {
      (s as Extract<LayerSpec, { kind: 'dense' }>).kernelQuantizer = scaledUniform(b);
      if (!first) {
        s.inputQuantizer = b === 1 ? { kind: 'sign' } : { kind: 'uniform-activation', bits: b };
        if (b === 1 && previousWeighted !== null) {
          const prev = layers[previousWeighted] as Extract<LayerSpec, { kind: 'dense' }>;
          if (prev.activation === 'relu') prev.activation = 'linear';
        }
      }
    }
    first = false;
    previousWeighted = i;
  });
  const tag = precisions.map((p) => (p.bits >= 32 ? 'f' : String(p.bits))).join('');
  return { ...arch, name: name ?? `${arch.name}-mixed-${tag}`, layers };
}

/** The architecture with every chosen weighted layer able to hold a pruning mask. */
export function prunableArchitecture(arch: Architecture, layers: string[]): Architecture {
  return { ...arch, layers: arch.layers.map((s, i) => (isWeighted(s) && layers.includes(layerName(s, i)) ? ({ ...s, prune: true } as LayerSpec) : s)) };
}

/** Int8 QAT quantizers (kernel and inputs) on the chosen weighted layers, keeping clusters and masks. */
export function withInt8Qat(arch: Architecture, layers?: string[]): Architecture {
  if (!layers) return { ...qatArchitecture(arch, 8), name: `${arch.name}-qat8` };
  return {
    ...arch,
    layers: arch.layers.map((s, i) => (isWeighted(s) && layers.includes(layerName(s, i)) ? ({ ...s, kernelQuantizer: INT8_KERNEL, inputQuantizer: INT8_INPUT } as LayerSpec) : s)),
  };
}

/**
 * A clustered model's weights as plain kernels ("strip_clustering"): each clustered kernel becomes
 * centroids[indices] and the architecture loses its `clusters`; biases and other weights are copied.
 */
export function stripClustering(arch: Architecture, w: ModelWeights): { arch: Architecture; weights: ModelWeights } {
  const byName = new Map(w.names.map((n, i) => [n, i]));
  const out: ModelWeights = { names: [], shapes: [], values: [] };
  const layers = arch.layers.map((s, i) => {
    const id = layerName(s, i);
    const mine = w.names.map((n, j) => [n, j] as const).filter(([n]) => n.startsWith(`${id}/`));
    if (isWeighted(s) && s.clusters) {
      const c = byName.get(`${id}/centroids`);
      const ix = byName.get(`${id}/indices`);
      if (c === undefined || ix === undefined) throw new KitError(`stripClustering: layer ${id} is clustered but its weights have no centroids/indices`);
      const centroids = w.values[c];
      const indices = w.values[ix];
      out.names.push(`${id}/kernel`);
      out.shapes.push(w.shapes[ix]);
      out.values.push(Float32Array.from(indices, (k) => centroids[k]));
      for (const [n, j] of mine) {
        if (n.endsWith('/centroids') || n.endsWith('/indices')) continue;
        out.names.push(n);
        out.shapes.push(w.shapes[j]);
        out.values.push(w.values[j]);
      }
      const { clusters: _c, ...rest } = s;
      return rest as LayerSpec;
    }
    for (const [n, j] of mine) {
      out.names.push(n);
      out.shapes.push(w.shapes[j]);
      out.values.push(w.values[j]);
    }
    return s;
  });
  return { arch: { ...arch, layers }, weights: out };
}

/** What one weighted layer stores: bits per weight (a cluster index when clustered), per bias, and a codebook. */
export interface LayerStorageRule {
  weightBits: number;
  biasBits: number;
  /** Clustered: the codebook's values and their bits. */
  codebook?: { values: number; bits: number };
}

export interface StorageEstimate {
  bits: number;
  bytes: number;
  /** Full-precision (32-bit) storage over this one. */
  reduction: number;
  layers: { layer: string; weights: number; biases: number; bits: number }[];
}

/** Parameter storage of `arch` with a rule per weighted layer (seed 001 Listing 4.1 plus cluster codebooks). */
export function storage(arch: Architecture, rule: (layer: string, index: number) => LayerStorageRule): StorageEstimate {
  const counts = layerCounts(arch, resolveBits(arch, { weightBits: 32, biasBits: 32, actBits: 32 })).filter((l) => l.weightedIndex !== null);
  const layers = counts.map((l) => {
    const r = rule(l.name, l.weightedIndex!);
    const bits = l.weights * r.weightBits + l.biases * r.biasBits + (r.codebook ? r.codebook.values * r.codebook.bits : 0);
    return { layer: l.name, weights: l.weights, biases: l.biases, bits };
  });
  const bits = layers.reduce((s, l) => s + l.bits, 0);
  const full = counts.reduce((s, l) => s + 32 * (l.weights + l.biases), 0);
  return { bits, bytes: Math.ceil(bits / 8), reduction: full / bits, layers };
}

/** Bits of a cluster index for N_c clusters. */
export const indexBits = (clusters: number) => Math.max(1, Math.ceil(Math.log2(clusters)));

/** The storage rules of the study's variants (what the kit counts; the seed prints TFLite file sizes). */
export const STORAGE_RULES = {
  full: (): LayerStorageRule => ({ weightBits: 32, biasBits: 32 }),
  float16: (): LayerStorageRule => ({ weightBits: 16, biasBits: 16 }),
  /** Int8 weights, int32 biases (TFLite dynamic range, full integer, PTQ of a QAT model). */
  int8: (): LayerStorageRule => ({ weightBits: 8, biasBits: 32 }),
  /** TFLite's 16x8 mode: int8 weights, int64 biases. */
  int16Activations: (): LayerStorageRule => ({ weightBits: 8, biasBits: 64 }),
  /** N_c clusters: an index per weight and a codebook of N_c values at `codebookBits`. */
  clustered: (clusters: number, codebookBits = 32, biasBits = 32): LayerStorageRule => ({ weightBits: indexBits(clusters), biasBits, codebook: { values: clusters, bits: codebookBits } }),
  /** Seed 004 Table 4.6's footnote: every parameter of the layer at its precision. */
  precision: (bits: number): LayerStorageRule => ({ weightBits: bits, biasBits: bits }),
};
