/**
 * The config of seed 004's compression study (`tck compress`, notebooks 06 and 07) as data, with its zod schema.
 * Defaults follow seed 004 §4.1: QuantNet, Adam lr 0.001, binary cross-entropy with a sigmoid output, batch 64,
 * up to 100 epochs with patience 5, an 80:20 train/validation split, 20 runs; Delta = 20, N_c = 16, 2-bit
 * significant layers. The seed early-stops on test accuracy; the kit early-stops on the validation loss of the
 * 80:20 split (the test split is never used for a choice).
 */
import { z } from 'zod';
import { ViewRefSchema } from '../../data/views.js';
import { merge } from '../../cli/config.js';

/** The study's parts: which tables and figures a run computes. */
export const STUDY_PARTS = [
  /** Tables 4.3 and 4.4: PTQ variants and QAT, standalone and transfer learning. */
  'quantization',
  /** Fig. 4.1: each weighted layer quantized alone (QAT), the others full precision. */
  'sensitivity',
  /** Table 4.5, Figs. 3.3, 4.2, 4.3, 4.4: ID profiles (TwoNN, TwoNN*, PCA) and significant layers. */
  'id-profile',
  /** Table 4.6: XNOR-Net, single binary layers, the TwoNN hybrid and the PCA Hybrid-Net, standalone and fine-tuned. */
  'mixed-precision',
  /** Fig. 4.5: weight and neuron pruning. */
  'pruning',
  /** Fig. 4.6, Tables 4.7 and 4.8: clustering, clustered PTQ/QAT, cluster-preserving QAT. */
  'clustering',
  /** Table 4.9: the best schemes and the two proposed pipelines (§3.4). */
  'pipelines',
] as const;
export type StudyPart = (typeof STUDY_PARTS)[number];

const pos = z.number().int().min(1);

export const CompressStudyConfigSchema = z.strictObject({
  parts: z.array(z.enum(STUDY_PARTS)).min(1),
  /** Source domain (standalone experiments and pre-training): Cat vs Dog. */
  source: ViewRefSchema,
  /** Target domain (TD1): Horse vs Frog. */
  target: ViewRefSchema,
  /** TD2 is the source pair rotated by this many degrees (seed 004 does not print its angle; 90 by default). */
  rotation: z.number(),
  /** Offline stand-in pairs from Fashion-MNIST (every table and figure says so). */
  standIn: z.boolean(),
  /** Independent runs (different initialisation and shuffling; the same data split), averaged. */
  repeats: pos,
  seed: z.number().int(),
  /** Train on n rows (stratified, seeded) of each pair's training split; default all. */
  trainSubset: pos.optional(),
  /** Evaluate on n rows (stratified) of each pair's test split; default all. */
  testSubset: pos.optional(),
  train: z.strictObject({
    epochs: pos,
    batchSize: pos,
    lr: z.number().positive(),
    patience: pos,
    /** Validation fraction of the training rows (seed 004 §4.1.1: 80:20). */
    valFraction: z.number().gt(0).max(0.5),
  }),
  /** Fine-tuning (QAT, transfer learning, clustering, fine-tuned designs): epochs and patience. */
  fineTune: z.strictObject({ epochs: pos, patience: pos }),
  id: z.strictObject({
    /** Points (images of the mini-batch) of the ID analysis (§3.3.2; the seed does not print the mini-batch size: 1000 is the kit's choice). */
    points: z.number().int().min(3),
    /** At most this many per-channel vectors for TwoNN* (a seeded subsample). */
    channelPoints: z.number().int().min(3),
    /** PCA fraction of Table 4.5 (0.95) and of the PCA Hybrid-Net design (Chakraborty et al.: 0.99). */
    pcaFraction: z.number().gt(0).max(1),
    hybridPcaFraction: z.number().gt(0).max(1),
    /** Significance threshold Delta (20) and TwoNN's discarded fraction (0.1). */
    delta: z.number().min(0),
    discardFraction: z.number().min(0).lt(1),
  }),
  /** Bits of the significant layers in the hybrid designs (2, Table 4.6). */
  hybridBits: z.number().int().min(2).max(16),
  /** Bits of the single quantized layer in Fig. 4.1 (1: binary, as Table 4.6's single-layer rows). */
  sensitivityBits: z.number().int().min(1).max(16),
  /** N_c of Tables 4.7-4.9 (16) and the numbers of clusters of Fig. 4.6. */
  clusters: z.number().int().min(2),
  clusterCounts: z.array(z.number().int().min(2)).min(1),
  /** Fig. 4.6: fine-tune each clustered model (jobs) rather than cluster the trained model in one shot. */
  clusterCurveFineTune: z.boolean(),
  /** Fig. 4.5's pruned fractions, and whether each pruned model is fine-tuned (jobs) or pruned in one shot. */
  sparsities: z.array(z.number().min(0).lt(1)).min(1),
  pruneFineTune: z.boolean(),
  /** Representative training samples for the PTQ calibration (TFLite's representative dataset). */
  calibrationSamples: pos,
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']),
});

export type CompressStudyConfig = z.infer<typeof CompressStudyConfigSchema>;

/** The settings of seed 004 §4.1 (what `paper` runs), before a preset or profile changes them. */
export const STUDY_DEFAULTS: CompressStudyConfig = {
  parts: [...STUDY_PARTS],
  source: 'cifar10-cat-dog',
  target: 'cifar10-horse-frog',
  rotation: 90,
  standIn: false,
  repeats: 20,
  seed: 1,
  train: { epochs: 100, batchSize: 64, lr: 1e-3, patience: 5, valFraction: 0.2 },
  fineTune: { epochs: 100, patience: 5 },
  id: { points: 1000, channelPoints: 2000, pcaFraction: 0.95, hybridPcaFraction: 0.99, delta: 20, discardFraction: 0.1 },
  hybridBits: 2,
  sensitivityBits: 1,
  clusters: 16,
  clusterCounts: [2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32],
  clusterCurveFineTune: false,
  sparsities: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  pruneFineTune: false,
  calibrationSamples: 500,
  backend: 'auto',
};

/** The offline stand-ins for the CIFAR-10 pairs (src/data/views.ts). */
export const STAND_IN_VIEWS = { source: 'stand-in-shirt-tshirt', target: 'stand-in-sandal-sneaker' } as const;

/**
 * A preset's config at a profile (src/experiments/registry.ts), with `standIn` choosing the stand-in pairs
 * (unless `over` names its own source or target). Not validated: `CompressStudyConfigSchema.parse` it.
 */
export function compressConfig(preset: { config: unknown; profile: unknown }, o: { standIn?: boolean; over?: unknown[] } = {}): CompressStudyConfig {
  const layers = [preset.config, preset.profile, ...(o.over ?? [])];
  // Deep merge (arrays and scalars replace): defaults < preset < profile < the caller's layers.
  const merged = merge<CompressStudyConfig>(STUDY_DEFAULTS, ...layers);
  if (o.standIn) {
    const named = (k: 'source' | 'target') => layers.some((l) => l && typeof l === 'object' && k in (l as object));
    return { ...merged, standIn: true, source: named('source') ? merged.source : STAND_IN_VIEWS.source, target: named('target') ? merged.target : STAND_IN_VIEWS.target };
  }
  return merged;
}
