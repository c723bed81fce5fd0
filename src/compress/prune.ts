/**
 * Pruning (seed 004 §2.3): unstructured magnitude pruning (the smallest |w| of a layer set to zero) and
 * structured neuron/filter pruning (whole output channels ranked by the L1 or L2 norm of their weights).
 * Layers built with `prune: true` hold a non-trainable mask multiplied into the kernel (as TFMOT's
 * prune_low_magnitude does), so pruned weights stay zero during fine-tuning; `pruningHooks` updates the masks
 * on a sparsity schedule (seed 004 Fig. 4.5 sweeps the final sparsity).
 */
import { tf } from '../engine/backend.js';
import type { LayersModel } from '@tensorflow/tfjs';
import type { StepHooks } from '../train/fit.js';
import { isQuantLayer, type QuantLayer } from '../quant/layers.js';
import { sparsityAt, type SparsitySchedule } from '../quant/schedules.js';

export type PruningMethod = { kind: 'magnitude' } | { kind: 'structured'; norm: 'l1' | 'l2' };

/** Mask zeroing the round(sparsity * n) weights of smallest magnitude (ties broken by position). */
export function magnitudeMask(w: Float32Array, sparsity: number): Float32Array {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new Error(`sparsity must be in [0, 1], got ${sparsity}`);
  const k = Math.round(sparsity * w.length);
  const order = Array.from({ length: w.length }, (_, i) => i).sort((a, b) => Math.abs(w[a]) - Math.abs(w[b]) || a - b);
  const mask = new Float32Array(w.length).fill(1);
  for (let i = 0; i < k; i++) mask[order[i]] = 0;
  return mask;
}

/**
 * Mask zeroing round(sparsity * channels) whole output channels (last axis) of smallest L1 or L2 norm
 * ("neurons are ranked according to L1/L2-norm of the neuron weights", seed 004 §2.3).
 */
export function structuredMask(w: Float32Array, shape: number[], sparsity: number, norm: 'l1' | 'l2'): Float32Array {
  const channels = shape[shape.length - 1];
  const norms = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) norms[i % channels] += norm === 'l1' ? Math.abs(w[i]) : w[i] * w[i];
  const k = Math.round(sparsity * channels);
  const order = Array.from({ length: channels }, (_, i) => i).sort((a, b) => norms[a] - norms[b] || a - b);
  const dead = new Set(order.slice(0, k));
  return Float32Array.from({ length: w.length }, (_, i) => (dead.has(i % channels) ? 0 : 1));
}

function prunableLayers(model: LayersModel, names?: string[]): QuantLayer[] {
  const layers = model.layers.filter((l): l is QuantLayer => isQuantLayer(l) && l.variables().mask !== null);
  if (names) {
    const missing = names.filter((n) => !layers.some((l) => l.name === n));
    if (missing.length) throw new Error(`pruning: layers ${missing.join(', ')} do not exist or were not built with prune: true`);
    return layers.filter((l) => names.includes(l.name));
  }
  return layers;
}

/** Sets every prunable layer's mask for `sparsity` from its current (masked) kernel and zeros the pruned weights. */
export function applyPruning(model: LayersModel, sparsity: number, method: PruningMethod = { kind: 'magnitude' }, layers?: string[]): void {
  for (const l of prunableLayers(model, layers)) {
    const v = l.variables();
    const k = l.rawKernel();
    const w = k.dataSync() as Float32Array;
    const mask = method.kind === 'magnitude' ? magnitudeMask(w, sparsity) : structuredMask(w, k.shape, sparsity, method.norm);
    k.dispose();
    const m = tf.tensor(mask, v.mask!.shape as number[]);
    v.mask!.write(m);
    if (v.kernel) {
      const z = tf.tidy(() => tf.mul(v.kernel!.read(), m));
      v.kernel.write(z);
      z.dispose();
    }
    m.dispose();
  }
}

/** Hooks that update the masks after the steps the schedule names. */
export function pruningHooks(model: LayersModel, schedule: SparsitySchedule, method: PruningMethod = { kind: 'magnitude' }, layers?: string[]): StepHooks {
  return {
    afterStep(s) {
      const target = sparsityAt(schedule, s.step);
      if (target !== null) applyPruning(model, target, method, layers);
    },
  };
}

/** Fraction of exactly-zero weights in each prunable or quantized layer's effective kernel. */
export function sparsityReport(model: LayersModel): { layer: string; zeros: number; total: number; sparsity: number }[] {
  return model.layers.filter(isQuantLayer).map((l) => {
    const k = l.effectiveKernel();
    const v = k.dataSync();
    let zeros = 0;
    for (const x of v) if (x === 0) zeros++;
    k.dispose();
    return { layer: l.name, zeros, total: v.length, sparsity: zeros / v.length };
  });
}
