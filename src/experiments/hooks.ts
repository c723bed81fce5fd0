/**
 * Training hooks and initial-weight transforms as data. A job carries `HookSpec`s and an `InitSpec`, plain JSON
 * that crosses threads and machines; `makeHooks` and `prepareModel` are the one place where that data becomes
 * functions on a built model.
 *
 * Hooks depend only on the step and the model's state, so a resumed training repeats them exactly.
 * Cluster preservation is structural: an `init` transform `cluster` rebuilds the kernels as centroids plus
 * indices, and training then moves the centroids only, so the N_c values are kept (TFMOT's cluster-preserving
 * QAT, seed 004 Table 4.8).
 */
import { z } from 'zod';
import type { LayersModel } from '@tensorflow/tfjs';
import type { Architecture } from '../models/arch.js';
import { CyclicPrecisionSchema, SparsityScheduleSchema } from '../quant/schedules.js';
import { QuantizerConfigSchema } from '../quant/config.js';
import { cyclicPrecisionHooks, recuHooks, combineHooks } from '../compress/hooks.js';
import { pruningHooks, applyPruning } from '../compress/prune.js';
import { clusterModel } from '../compress/cluster.js';
import { EncodedWeightsSchema, decodeWeights, writeModelWeights, inheritWeights } from '../models/weights.js';
import type { StepHooks } from '../train/fit.js';

const PruningMethodSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('magnitude') }),
  z.strictObject({ kind: z.literal('structured'), norm: z.enum(['l1', 'l2']) }),
]);

export const HookSpecSchema = z.discriminatedUnion('kind', [
  /** Cyclic precision of weights/inputs and gradients (CPT; seed 002 uses 3 to 8 bits). */
  z.strictObject({ kind: z.literal('cyclic-precision'), weights: CyclicPrecisionSchema, grad: CyclicPrecisionSchema.optional() }),
  /** ReCU's tau, from tauMin at the first epoch to tauMax at the last (defaults 0.85, 0.99; seed 002 §4.2). */
  z.strictObject({ kind: z.literal('recu-tau'), tauMin: z.number().gt(0.5).lt(1).optional(), tauMax: z.number().gt(0.5).lt(1).optional() }),
  /** Pruning masks updated on a sparsity schedule (layers must be built with `prune: true`; seed 004 §2.3). */
  z.strictObject({ kind: z.literal('pruning'), schedule: SparsityScheduleSchema, method: PruningMethodSchema.optional(), layers: z.array(z.string()).optional() }),
]);

export type HookSpec = z.infer<typeof HookSpecSchema>;

export const InitTransformSchema = z.discriminatedUnion('kind', [
  /** Weight clustering: k-means on each chosen kernel, which then trains as centroids + indices (seed 004 §2.2). */
  z.strictObject({ kind: z.literal('cluster'), clusters: z.number().int().min(1), layers: z.array(z.string()).optional(), kernelQuantizer: QuantizerConfigSchema.optional() }),
  /** One-shot pruning to `sparsity` (layers built with `prune: true`). */
  z.strictObject({ kind: z.literal('prune'), sparsity: z.number().min(0).max(1), method: PruningMethodSchema.optional(), layers: z.array(z.string()).optional() }),
]);

export const InitSchema = z.strictObject({
  /** Starting weights (for example another job's result): every weight of the model must be given. */
  weights: EncodedWeightsSchema.optional(),
  /** Weights copied where layer id and shape match, the rest keep their seeded initialisation (weight inheritance). */
  inherit: EncodedWeightsSchema.optional(),
  transforms: z.array(InitTransformSchema).default([]),
});

export type InitSpec = z.infer<typeof InitSchema>;

/** The hooks a job's specs describe, for `model` trained for `epochs` epochs. */
export function makeHooks(specs: HookSpec[], model: LayersModel, epochs: number): StepHooks | undefined {
  if (!specs.length) return undefined;
  return combineHooks(
    ...specs.map((h) => {
      switch (h.kind) {
        case 'cyclic-precision':
          return cyclicPrecisionHooks(model, h.weights, h.grad ?? h.weights);
        case 'recu-tau':
          return recuHooks(model, epochs, h.tauMin, h.tauMax);
        case 'pruning':
          return pruningHooks(model, h.schedule, h.method, h.layers);
      }
    }),
  );
}

/**
 * Applies a job's `init` to a freshly built model: loads or inherits weights, then runs the transforms in
 * order. Clustering rebuilds the model, so the (possibly new) architecture and model come back; the old model
 * is disposed when replaced.
 */
export function prepareModel(arch: Architecture, model: LayersModel, init: InitSpec | undefined, seed: number | string): { arch: Architecture; model: LayersModel } {
  if (!init) return { arch, model };
  if (init.weights) writeModelWeights(model, decodeWeights(init.weights), 'init.weights');
  if (init.inherit) inheritWeights(decodeWeights(init.inherit), model);
  let current = { arch, model };
  for (const t of init.transforms) {
    if (t.kind === 'prune') applyPruning(current.model, t.sparsity, t.method, t.layers);
    else {
      const next = clusterModel(current.model, current.arch, { clusters: t.clusters, seed, layers: t.layers, kernelQuantizer: t.kernelQuantizer });
      current.model.dispose();
      current = next;
    }
  }
  return current;
}
