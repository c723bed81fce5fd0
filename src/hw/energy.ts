/**
 * Multiplication energy (seed 003 §3.6) and XNOR/popcount operation counts of binary layers.
 */
import { type Architecture, countParams, describeLayers } from '../models/arch.js';
import { type BitsConfig, isWeighted } from './bits.js';

/**
 * Seed 003 §3.6: a 16-bit fixed-point multiplication uses about c1 = 2.4 times less energy than a 32-bit
 * floating-point one (65 nm, the seed's [2]).
 */
export const C1_FX16_VS_FP32 = 2.4;

export interface EnergyReductionInput {
  /** Parameters of the original (baseline, floating-point) network. */
  paramsOriginal: number;
  /** Parameters of the reduced network. */
  paramsReduced: number;
  /** The reduced network multiplies in 16-bit fixed point (else 32-bit floating point). */
  fixedPoint16: boolean;
  /** Energy ratio of one FP32 to one FX16 multiplication (default 2.4). */
  c1?: number;
}

/**
 * Seed 003 §3.6: E_mult is reduced about c1 * par_orig / par_red times with 16-bit fixed point, and
 * par_orig / par_red times in floating point ("each parameter is associated with at least one multiplication").
 */
export function multiplicationEnergyReduction(o: EnergyReductionInput): number {
  if (!(o.paramsOriginal > 0) || !(o.paramsReduced > 0)) throw new RangeError('parameter counts must be positive');
  return ((o.fixedPoint16 ? (o.c1 ?? C1_FX16_VS_FP32) : 1) * o.paramsOriginal) / o.paramsReduced;
}

/** The same between two architectures (their trainable parameter counts). */
export function architectureEnergyReduction(original: Architecture, reduced: Architecture, fixedPoint16: boolean, c1 = C1_FX16_VS_FP32): number {
  return multiplicationEnergyReduction({ paramsOriginal: countParams(original), paramsReduced: countParams(reduced), fixedPoint16, c1 });
}

export interface BinaryLayerOps {
  name: string;
  /** Weights and input activations both one bit: the layer runs as XNOR + popcount. */
  binary: boolean;
  /** Dot-product length (k * k * c_in, or the dense input width). */
  fanIn: number;
  outputs: number;
  /** One-bit multiply-accumulates (= MACs). */
  binaryMacs: number;
  /** Word-wide XNORs: outputs * ceil(fanIn / wordBits). */
  xnor: number;
  /** Word-wide popcounts, one per XNOR word. */
  popcount: number;
}

/**
 * XNOR and popcount counts of layers whose weights and inputs are one bit: each output is a dot product of
 * `fanIn` signs, computed on `wordBits`-bit words as ceil(fanIn / wordBits) XNORs and as many popcounts
 * (then 2 * popcount - fanIn). Other layers report zero XNOR/popcount.
 */
export function binaryOps(arch: Architecture, bits: BitsConfig, wordBits = 32): BinaryLayerOps[] {
  const info = describeLayers(arch);
  let k = 0;
  let inBits = bits.inputBits;
  const out: BinaryLayerOps[] = [];
  arch.layers.forEach((spec, i) => {
    if (!isWeighted(spec)) return;
    const l = info[i];
    const lb = bits.layers[k++];
    const outputs = l.outputShape.reduce((a, b) => a * b, 1);
    const fanIn = outputs ? l.macs / outputs : 0;
    const binary = lb.weightBits === 1 && inBits === 1;
    const words = binary ? outputs * Math.ceil(fanIn / wordBits) : 0;
    out.push({ name: l.name, binary, fanIn, outputs, binaryMacs: binary ? l.macs : 0, xnor: words, popcount: words });
    inBits = lb.actBits;
  });
  return out;
}
