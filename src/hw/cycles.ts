/**
 * Cycle model for CMSIS-NN-style inference on a Cortex-M4 (seed 001 §4.6.4, §5.4, §6.1.4), extended to
 * sub-byte SIMD as the thesis's simulation assumes.
 *
 * Per layer: cycles = MACC * (overheadPerMac + (macCycles + loadsPerMac * loadCycles) / lanes)
 *   - MACC: MACs plus bias additions (Table 5.2's "complexity"; counts.ts).
 *   - lanes: operands per 32-bit word, 32 / b (float32 1, int8 4, int4 8, int2 16): one SIMD group of `lanes`
 *     MACs costs one MAC instruction plus one 32-bit load for each of its two operands (weight, activation).
 *   - loadCycles = 6: the thesis (§6.1.4): Flash "takes in the STM32F446RE 6 times as long as a single MACC".
 *   - macCycles = 1: single-cycle MAC (SMLAD/VFMA issue).
 *   - overheadPerMac = 0.875: the one fitted constant, the part that SIMD does not shrink (loop control,
 *     address arithmetic, im2col copies).
 * Derivation: Table 5.2's cycles divided by its MACC (281,876) are 13.854 (float32), 4.122 (int8), 2.499
 * (int4) and 1.689 (int2) per MACC. Subtracting 13 / lanes = (1 + 2 * 6) / (32 / b) leaves 0.854, 0.872,
 * 0.874 and 0.876: one constant for all four datatypes, taken as 7/8. The model then gives 3,911,030,
 * 1,162,739, 704,690 and 475,666 cycles, within 0.16% of the printed 3,905,088, 1,161,810, 704,297, 475,991.
 */
import { type Architecture } from '../models/arch.js';
import { type BitsConfig } from './bits.js';
import { layerCounts } from './counts.js';

export type Datatype = 'float32' | 'int16' | 'int8' | 'int4' | 'int2';
export const TABLE_DATATYPES = ['float32', 'int8', 'int4', 'int2'] as const;

export interface CycleParams {
  /** Cycles of one (SIMD) MAC instruction. */
  macCycles: number;
  /** Cycles of one 32-bit operand load. */
  loadCycles: number;
  /** Operand loads per SIMD group (weight + activation). */
  loadsPerMac: number;
  /** MACs per SIMD group (operands per 32-bit word). */
  lanes: number;
  /** Per-MAC cycles that SIMD does not shrink. */
  overheadPerMac: number;
}

const base = { macCycles: 1, loadCycles: 6, loadsPerMac: 2, overheadPerMac: 0.875 };

/** Defaults that reproduce seed 001 Table 5.2 (int16 follows the same rule; it is not in the table). */
export const DEFAULT_CYCLE_PARAMS: Record<Datatype, CycleParams> = {
  float32: { ...base, lanes: 1 },
  int16: { ...base, lanes: 2 },
  int8: { ...base, lanes: 4 },
  int4: { ...base, lanes: 8 },
  int2: { ...base, lanes: 16 },
};

/** The datatype a layer runs in for its bit width: <= 2 int2, <= 4 int4, <= 8 int8, <= 16 int16, else float32. */
export function datatypeForBits(bits: number): Datatype {
  return bits <= 2 ? 'int2' : bits <= 4 ? 'int4' : bits <= 8 ? 'int8' : bits <= 16 ? 'int16' : 'float32';
}

export function cyclesPerMacc(p: CycleParams): number {
  return p.overheadPerMac + (p.macCycles + p.loadsPerMac * p.loadCycles) / p.lanes;
}

export interface LayerCycles {
  name: string;
  maccs: number;
  /** The whole layer in each datatype. */
  byDatatype: Record<Datatype, number>;
  /** In the datatype of the layer's own bits (max of weight and input-activation widths). */
  configured: number;
  datatype: Datatype | null;
}

export interface CycleEstimate {
  byDatatype: Record<Datatype, number>;
  configured: number;
  layers: LayerCycles[];
}

/** Seed 001 §4.6.4 cycle estimate per layer and in total, for every datatype and for the configured bits. */
export function estimateCycles(arch: Architecture, bits: BitsConfig, params: Partial<Record<Datatype, Partial<CycleParams>>> = {}): CycleEstimate {
  const p = Object.fromEntries(
    (Object.keys(DEFAULT_CYCLE_PARAMS) as Datatype[]).map((d) => [d, { ...DEFAULT_CYCLE_PARAMS[d], ...params[d] }]),
  ) as Record<Datatype, CycleParams>;
  const dts = Object.keys(p) as Datatype[];
  let prevAct = bits.inputBits;
  const layers: LayerCycles[] = layerCounts(arch, bits).map((l) => {
    const lb = l.weightedIndex === null ? null : bits.layers[l.weightedIndex];
    const byDatatype = Object.fromEntries(dts.map((d) => [d, l.maccs * cyclesPerMacc(p[d])])) as Record<Datatype, number>;
    const datatype = lb ? datatypeForBits(Math.max(lb.weightBits, prevAct)) : null;
    if (lb) prevAct = lb.actBits;
    return { name: l.name, maccs: l.maccs, byDatatype, configured: datatype ? byDatatype[datatype] : 0, datatype };
  });
  const byDatatype = Object.fromEntries(dts.map((d) => [d, layers.reduce((s, l) => s + l.byDatatype[d], 0)])) as Record<Datatype, number>;
  return { byDatatype, configured: layers.reduce((s, l) => s + l.configured, 0), layers };
}
