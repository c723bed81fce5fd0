/**
 * Hardware estimators (issue 5): parameters, MACs, storage, peak memory, TFLM-style arena, cycles, the
 * printed-electronics complexity (seed 000, reference and corrected), XNOR/popcount counts. `estimate` puts
 * them all into one plain object, the JSON `tck estimate` prints.
 */
import { type Architecture } from '../models/arch.js';
import { type BitsConfig, type BitsInput, type LayerBits, resolveBits, weightedLayerNames } from './bits.js';
import { countTotals, layerCounts } from './counts.js';
import { peakMemory, RUNTIME_OVERHEADS } from './memory.js';
import { architectureArena } from './arena.js';
import { peComplexityCorrected, peComplexityReference, type CorrectedOptions } from './pe-complexity.js';
import { estimateCycles, type Datatype } from './cycles.js';
import { binaryOps } from './energy.js';

export * from './bits.js';
export * from './counts.js';
export * from './memory.js';
export * from './arena.js';
export * from './pe-complexity.js';
export * from './cycles.js';
export * from './energy.js';
export * from './published.js';

export interface LayerEstimate {
  index: number;
  name: string;
  kind: string;
  inputShape: number[];
  outputShape: number[];
  params: number;
  weights: number;
  biases: number;
  macs: number;
  maccs: number;
  weightBits: number | null;
  biasBits: number | null;
  actBits: number | null;
  storageBits: number;
  /** Listing 4.2 (input + output) bytes for conv2d/dense, null for the layers the listing does not count. */
  memoryBytes: number | null;
  peComplexity: number;
  peComplexityCorrected: number;
  cycles: Record<Datatype | 'configured', number>;
  xnor: number;
  popcount: number;
}

export interface Estimate {
  model: string;
  input: number[];
  weightedLayers: string[];
  bits: BitsConfig;
  params: number;
  macs: number;
  maccs: number;
  storageBits: number;
  storageBytes: number;
  peakMemoryBytes: number;
  peakMemoryLayer: string;
  /** Listing 4.2 with pooling in place (seed 001 Table 5.2's reading). */
  peakMemoryPoolInPlaceBytes: number;
  arenaBytes: number;
  /** Arena and storage plus the TFLite Micro overheads of seed 001 Table 5.1 (memory.ts). */
  tflm: { memoryBytes: number; storageBytes: number };
  peComplexity: number;
  peComplexityCorrected: number;
  cycles: Record<Datatype | 'configured', number>;
  xnor: number;
  popcount: number;
  layers: LayerEstimate[];
}

export interface EstimateOptions extends CorrectedOptions {
  /** Reference heuristic quirks (pe-complexity.ts); default true. */
  quirks?: boolean;
}

/** Every estimator on one architecture with one bit-width description. */
export function estimate(arch: Architecture, bitsIn: BitsInput | LayerBits[] | BitsConfig = {}, opts: EstimateOptions = {}): Estimate {
  const bits: BitsConfig = !Array.isArray(bitsIn) && 'layers' in bitsIn ? (bitsIn as BitsConfig) : resolveBits(arch, bitsIn as BitsInput | LayerBits[]);
  const counts = layerCounts(arch, bits);
  const totals = countTotals(counts);
  const mem = peakMemory(arch, bits);
  const memInPlace = peakMemory(arch, bits, { poolInPlace: true });
  const arena = architectureArena(arch, bits);
  const peRef = peComplexityReference(arch, bits, { quirks: opts.quirks });
  const peCor = peComplexityCorrected(arch, bits, { weights: opts.weights });
  const cyc = estimateCycles(arch, bits);
  const bin = binaryOps(arch, bits);
  const round = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)])) as Record<Datatype | 'configured', number>;
  const refBy = new Map(peRef.layers.map((l) => [l.name, l.total]));
  const corBy = new Map(peCor.layers.map((l) => [l.name, l.total]));
  const binBy = new Map(bin.map((b) => [b.name, b]));
  const layers: LayerEstimate[] = counts.map((l, i) => {
    const lb = l.weightedIndex === null ? null : bits.layers[l.weightedIndex];
    const c = cyc.layers[i];
    return {
      index: l.index,
      name: l.name,
      kind: l.kind,
      inputShape: l.inputShape,
      outputShape: l.outputShape,
      params: l.params,
      weights: l.weights,
      biases: l.biases,
      macs: l.macs,
      maccs: l.maccs,
      weightBits: l.weightBits,
      biasBits: l.biasBits,
      actBits: lb?.actBits ?? null,
      storageBits: l.storageBits,
      memoryBytes: mem.layers[i].bytes,
      peComplexity: refBy.get(l.name) ?? 0,
      peComplexityCorrected: corBy.get(l.name) ?? 0,
      cycles: round({ ...c.byDatatype, configured: c.configured }),
      xnor: binBy.get(l.name)?.xnor ?? 0,
      popcount: binBy.get(l.name)?.popcount ?? 0,
    };
  });
  return {
    model: arch.name,
    input: arch.input,
    weightedLayers: weightedLayerNames(arch),
    bits,
    params: totals.params,
    macs: totals.macs,
    maccs: totals.maccs,
    storageBits: totals.storageBits,
    storageBytes: totals.storageBytes,
    peakMemoryBytes: mem.peakBytes,
    peakMemoryLayer: mem.peakLayer,
    peakMemoryPoolInPlaceBytes: memInPlace.peakBytes,
    arenaBytes: arena.arenaBytes,
    tflm: { memoryBytes: arena.arenaBytes + RUNTIME_OVERHEADS.tflm.memoryBytes, storageBytes: totals.storageBytes + RUNTIME_OVERHEADS.tflm.storageBytes },
    peComplexity: peRef.total,
    peComplexityCorrected: peCor.total,
    cycles: round({ ...cyc.byDatatype, configured: cyc.configured }),
    xnor: bin.reduce((s, b) => s + b.xnor, 0),
    popcount: bin.reduce((s, b) => s + b.popcount, 0),
    layers,
  };
}
