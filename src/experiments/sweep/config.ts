/**
 * Experiment 1 of seed 000 (§2.2, §3.1): every combination of weight compression {binary, ternary, n-bit,
 * none} and activation {none, binary STE, binary ReSTE, ReLU} on a fixed architecture (LeNet5 on mini-MNIST
 * 32x32, VGG7 on mini-CIFAR10), evaluated with the seed's protocol. This file holds the config as data (its zod
 * schema, the defaults the seed gives, and the datasets as views); the presets and their profiles are in the
 * kit's registry (src/experiments/registry.ts).
 */
import { z } from 'zod';
import { SubsetSchema, type DatasetView } from '../../data/views.js';
import { OptimizerConfigSchema } from '../../train/optimizers.js';
import type { PeActivation, PeCompression } from '../../hw/bits.js';

export type SweepWeights = PeCompression;
export type SweepActivation = PeActivation;
/** Seed 000 §2.1.3 in the reference's enum order (`NNParamsCompMode`, `Activation`: cheapest to most expensive). */
export const SWEEP_WEIGHTS: readonly SweepWeights[] = ['binary', 'ternary', 'nbits', 'none'];
export const SWEEP_ACTIVATIONS: readonly SweepActivation[] = ['none', 'binary', 'binary-reste', 'relu'];

/** The reference's normalisation constants (anchors.md §1.5; src/datasets/*_dataset.py). */
const MNIST_NORM = { mean: [0.1307], std: [0.3081] };
const CIFAR_NORM = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
const FASHION_NORM = { mean: [0.286], std: [0.353] };

export interface SweepDataSource {
  /** Short name for titles. */
  title: string;
  description: string;
  /** The registry dataset the view reads. */
  dataset: string;
  /** Offline stand-in for a dataset that cannot be obtained here: every table and figure says so. */
  standIn: boolean;
  /** What it stands in for (for labels). */
  standsInFor?: string;
  /** The view, given the training subset and the optional test subset. */
  view(subset: { n: number; mode: 'first' | 'stratified' }, test?: { n: number; mode: 'first' | 'stratified' }): DatasetView;
}

/**
 * The datasets of the sweep as views. The reference takes mini-MNIST and mini-CIFAR10 as the first 4,000 / 8,000
 * images of train + test concatenated (§2.1.4; anchors.md §1.5); those are the first 4,000 / 8,000 of the training
 * split, so the kit takes them from the training split and keeps the test split as a held-out test set that the
 * reference lacks (used for nothing but `testAccuracy`). `stratified` draws the subset with the class ratios of
 * the training split instead (seeded), an option the reference does not have.
 */
export const SWEEP_DATA: Record<string, SweepDataSource> = {
  'mini-mnist32': {
    title: 'mini-MNIST 32x32',
    description: 'seed 000 mini-MNIST 32x32: the first 4,000 MNIST images, resized bilinearly to 32x32 as the reference does',
    dataset: 'mnist',
    standIn: false,
    view: (subset, test) => ({ dataset: 'mnist', normalize: MNIST_NORM, subset, resize: { to: 32, method: 'bilinear' }, ...(test ? { testSubset: test } : {}) }),
  },
  'mini-cifar10': {
    title: 'mini-CIFAR10',
    description: 'seed 000 mini-CIFAR10: the first 8,000 CIFAR-10 images, normalised as the reference does',
    dataset: 'cifar10',
    standIn: false,
    view: (subset, test) => ({ dataset: 'cifar10', normalize: CIFAR_NORM, subset, ...(test ? { testSubset: test } : {}) }),
  },
  'mini-fashion-mnist32x3': {
    title: 'Fashion-MNIST 32x32x3 (STAND-IN for mini-CIFAR10)',
    description: 'STAND-IN for mini-CIFAR10: the first 8,000 Fashion-MNIST images, zero-padded to 32x32 and repeated to 3 channels',
    dataset: 'fashion-mnist',
    standIn: true,
    standsInFor: 'mini-cifar10',
    view: (subset, test) => ({ dataset: 'fashion-mnist', normalize: FASHION_NORM, subset, resize: { to: 32, method: 'pad' }, grayToRgb: true, ...(test ? { testSubset: test } : {}) }),
  },
};

const Subset = SubsetSchema;

export const SweepProtocolSchema = z.strictObject({
  /** Stratified k-fold (seed 000 §2.1.1: k = 5). */
  k: z.number().int().min(2),
  /** Training repeats (Table 2.3, "architecture evaluations": 3). */
  repeats: z.number().int().min(1),
  /** Fraction of the training folds carved out for early stopping (conventions.md; 0 with monitor "loss"). */
  valFraction: z.number().min(0).max(0.5),
});

export const SweepConfigSchema = z
  .strictObject({
    model: z.enum(['lenet5', 'vgg7']),
    /** VGG7 channel-width multiplier (1: the paper's 128-128-256-256-512-512-1024); reduced profiles only. */
    width: z.number().gt(0).max(1),
    data: z.string().refine((d) => d in SWEEP_DATA, { message: `unknown sweep dataset; known: ${Object.keys(SWEEP_DATA).join(', ')}` }),
    /** The mini subset of the training split (reference: the first 4,000 / 8,000). */
    subset: Subset,
    /** Test images used for `testAccuracy` (default: the whole test split). */
    testSubset: Subset.optional(),
    /** Weight compressions and activations swept (§2.1.3, in the reference's enum order). */
    weights: z.array(z.enum(SWEEP_WEIGHTS as [SweepWeights, ...SweepWeights[]])).min(1),
    activations: z.array(z.enum(SWEEP_ACTIVATIONS as [SweepActivation, ...SweepActivation[]])).min(1),
    /** N of the n-bit mode (§2.2: "only a value of N=4 was considered"). */
    nbits: z.number().int().min(1).max(8),
    /** Training (Table 2.3: 30 epochs, Adam lr 0.001, weight decay 1e-5; anchors.md §1.5: batch 50 MNIST, 100 CIFAR-10). */
    epochs: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    optimizer: OptimizerConfigSchema,
    /** Early stopping patience (Table 2.3: 5). */
    patience: z.number().int().min(1),
    /** `val_loss` on the validation part (conventions.md) or `loss`, the reference's training-loss rule. */
    monitor: z.enum(['val_loss', 'loss']),
    protocol: SweepProtocolSchema,
    seed: z.number().int().min(0),
  })
  .superRefine((c, ctx) => {
    if (c.monitor === 'val_loss' && !(c.protocol.valFraction > 0)) {
      ctx.addIssue({ code: 'custom', path: ['protocol', 'valFraction'], message: 'early stopping on val_loss needs a validation part: valFraction > 0, or monitor "loss"' });
    }
    if (c.model === 'lenet5' && c.width !== 1) ctx.addIssue({ code: 'custom', path: ['width'], message: 'only VGG7 has a width multiplier; LeNet5 is used as it is' });
    if (new Set(c.weights).size !== c.weights.length) ctx.addIssue({ code: 'custom', path: ['weights'], message: 'each weight compression once' });
    if (new Set(c.activations).size !== c.activations.length) ctx.addIssue({ code: 'custom', path: ['activations'], message: 'each activation once' });
  });

export type SweepConfig = z.infer<typeof SweepConfigSchema>;

/** What the seed fixes for both architectures; the presets add model, data and batch size. */
export const SWEEP_DEFAULTS: Omit<SweepConfig, 'model' | 'data' | 'batchSize'> = {
  width: 1,
  subset: { n: 4000, mode: 'first' },
  weights: [...SWEEP_WEIGHTS],
  activations: [...SWEEP_ACTIVATIONS],
  nbits: 4,
  epochs: 30,
  optimizer: { name: 'adam', lr: 0.001, weightDecay: 0.00001 },
  patience: 5,
  monitor: 'val_loss',
  protocol: { k: 5, repeats: 3, valFraction: 0.1 },
  seed: 1,
};

/** The data source of a config. */
export function sweepData(c: Pick<SweepConfig, 'data'>): SweepDataSource {
  return SWEEP_DATA[c.data];
}
