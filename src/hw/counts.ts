/**
 * Parameters, MACs and storage per layer (seed 001 §4.2, Listing 4.1), built on `describeLayers`.
 *
 * - `macs`: multiply-accumulates (describeLayers).
 * - `maccs`: MACs plus one addition per bias, the "MACC" complexity of seed 001 Table 5.2: LeNet-5 28x28 has
 *   281,640 MACs + 236 bias additions (6 + 16 + 120 + 84 + 10) = 281,876 MACC.
 * - `storageBits`: Listing 4.1, "total parameters * bits to represent parameters", with per-layer widths:
 *   weights at `weightBits`, biases at `biasBits`, batchnorm gamma/beta at `otherBits`.
 */
import { type Architecture, describeLayers } from '../models/arch.js';
import { type BitsConfig, isWeighted } from './bits.js';

export interface LayerCounts {
  index: number;
  name: string;
  kind: string;
  inputShape: number[];
  outputShape: number[];
  weights: number;
  biases: number;
  params: number;
  macs: number;
  maccs: number;
  /** Index into `BitsConfig.layers` for conv2d/dense, else null. */
  weightedIndex: number | null;
  weightBits: number | null;
  biasBits: number | null;
  storageBits: number;
}

export interface CountTotals {
  params: number;
  weights: number;
  biases: number;
  macs: number;
  maccs: number;
  storageBits: number;
  /** `storageBits / 8`, rounded up to whole bytes. */
  storageBytes: number;
}

export function layerCounts(arch: Architecture, bits: BitsConfig): LayerCounts[] {
  let k = 0;
  return describeLayers(arch).map((l, i) => {
    const weighted = isWeighted(arch.layers[i]);
    const lb = weighted ? bits.layers[k] : null;
    const weightedIndex = weighted ? k++ : null;
    // Listing 4.1: parameters times their bits; batchnorm gamma/beta are parameters too (at otherBits).
    const storageBits = lb ? l.weights * lb.weightBits + l.biases * lb.biasBits : (l.weights + l.biases) * bits.otherBits;
    return {
      index: i,
      name: l.name,
      kind: l.kind,
      inputShape: l.inputShape,
      outputShape: l.outputShape,
      weights: l.weights,
      biases: l.biases,
      params: l.weights + l.biases,
      macs: l.macs,
      maccs: weighted ? l.macs + l.biases : 0,
      weightedIndex,
      weightBits: lb?.weightBits ?? null,
      biasBits: lb?.biasBits ?? null,
      storageBits,
    };
  });
}

export function countTotals(layers: LayerCounts[]): CountTotals {
  const sum = (f: (l: LayerCounts) => number) => layers.reduce((s, l) => s + f(l), 0);
  const storageBits = sum((l) => l.storageBits);
  return {
    params: sum((l) => l.params),
    weights: sum((l) => l.weights),
    biases: sum((l) => l.biases),
    macs: sum((l) => l.macs),
    maccs: sum((l) => l.maccs),
    storageBits,
    storageBytes: Math.ceil(storageBits / 8),
  };
}

/**
 * Seed 004 Table 4.6's "memory reduction": full-precision size over the mixed-precision size, both from
 * parameter counts and precisions (the table's footnote). 32 * sum(params) / sum(params_l * bits_l).
 */
export function memoryReduction(arch: Architecture, bits: BitsConfig): number {
  const layers = layerCounts(arch, bits);
  const full = layers.reduce((s, l) => s + l.params * 32, 0);
  return full / countTotals(layers).storageBits;
}
