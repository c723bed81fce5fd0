/**
 * The cost columns of a sweep combination, computed from its architecture (the bit widths its quantizers
 * really have), not from a table:
 *
 * - `complexityReference`: seed 000's heuristic (Appendix A) exactly as the reference code computes it for its
 *   experiment-1 builders. The reference declares the output layer with the block's compression and bit width
 *   (`FCLayerParams(output, fc_compression, bitwidth=fc_bitwidth)`) and costs it so, although it builds that layer
 *   as a plain full-precision `nn.Linear` (anchors.md §1.6); this column follows the reference there.
 * - `complexityCorrected`: the corrected heuristic (src/hw/pe-complexity.ts) on the network as trained: true
 *   MACs, the output layer at its real 32 bits without an activation.
 * - `params`, `storageBits`: parameter count and storage of the trained network (weights at their bits,
 *   BatchNorm and the output layer at 32 bits).
 */
import type { Architecture } from '../../models/arch.js';
import { resolveBits, type BitsConfig } from '../../hw/bits.js';
import { peComplexityCorrected, peComplexityReference } from '../../hw/pe-complexity.js';
import { countTotals, layerCounts } from '../../hw/counts.js';

export interface SweepCost {
  complexityReference: number;
  complexityCorrected: number;
  params: number;
  storageBits: number;
}

/**
 * The bits as the reference's heuristic sees them: the trained network's own widths (from its quantizers), with
 * the output layer costed at the hidden FC layers' compression and width.
 */
export function sweepReferenceBits(arch: Architecture): BitsConfig {
  const bits = resolveBits(arch);
  const n = bits.layers.length;
  if (n >= 2) {
    const hidden = bits.layers[n - 2];
    bits.layers[n - 1] = { ...bits.layers[n - 1], compression: hidden.compression, weightBits: hidden.weightBits };
  }
  return bits;
}

export function sweepCost(arch: Architecture): SweepCost {
  const bits = resolveBits(arch);
  const totals = countTotals(layerCounts(arch, bits));
  return {
    complexityReference: peComplexityReference(arch, sweepReferenceBits(arch)).total,
    complexityCorrected: peComplexityCorrected(arch, bits).total,
    params: totals.params,
    storageBits: totals.storageBits,
  };
}
