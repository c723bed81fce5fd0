/**
 * Seed 004's published results (Abishek S, "Optimal Compression of Convolutional Neural Networks for Edge
 * Devices", IIT Madras 2022), as printed: test accuracies in % averaged over 20 runs, "Model Size (MB)" of
 * TensorFlow Lite files, Table 4.5's intrinsic dimensions and Table 4.6's memory reductions. The kit compares
 * accuracies directly and sizes as reductions relative to the base model (the kit counts parameter storage; it
 * writes no TFLite files).
 */
import { TABLE_4_6 as HW_TABLE_4_6 } from '../../hw/published.js';

/** The setups of Tables 4.3 and 4.4 (rows), in the printed order. */
export const QUANT_SETUPS = ['base', 'ptq-float16', 'ptq-dynamic-range', 'ptq-int8', 'ptq-int16-activations', 'qat', 'ptq-on-qat'] as const;
export type QuantSetup = (typeof QUANT_SETUPS)[number];

export const QUANT_SETUP_LABELS: Record<QuantSetup, string> = {
  base: 'Base Model',
  'ptq-float16': 'Post Training - Float 16 Quantization',
  'ptq-dynamic-range': 'Post Training - Dynamic Range Quantization',
  'ptq-int8': 'Post Training - Integer Quantization',
  'ptq-int16-activations': 'Post Training - Int Quantization + Int 16 Activation',
  qat: 'Quantization Aware Training',
  'ptq-on-qat': 'Post Training Quantization on QAT model',
};

/** Table 4.3 (standalone): test accuracy on Cat vs Dog and Horse vs Frog, model size in MB. */
export const TABLE_4_3: Record<QuantSetup, { catDog: number; horseFrog: number; mb: number }> = {
  base: { catDog: 66.0, horseFrog: 92.35, mb: 2.0852 },
  'ptq-float16': { catDog: 64.65, horseFrog: 91.65, mb: 1.0453 },
  'ptq-dynamic-range': { catDog: 64.55, horseFrog: 91.3, mb: 0.5282 },
  'ptq-int8': { catDog: 63.7, horseFrog: 90.25, mb: 0.5271 },
  'ptq-int16-activations': { catDog: 64.8, horseFrog: 92.05, mb: 0.5292 },
  qat: { catDog: 65.9, horseFrog: 93.95, mb: 4.1784 },
  'ptq-on-qat': { catDog: 65.8, horseFrog: 93.9, mb: 0.5278 },
};

/** Table 4.4 (transfer learning): source domain Cat vs Dog, TD1 Horse vs Frog, TD2 rotated Cat vs Dog. */
export const TABLE_4_4: Record<QuantSetup, { sd: number; td1: number; td2: number; mb: number }> = {
  base: { sd: 66.0, td1: 92.35, td2: 59.4, mb: 2.0852 },
  'ptq-float16': { sd: 64.65, td1: 90.45, td2: 58.3, mb: 1.0453 },
  'ptq-dynamic-range': { sd: 64.55, td1: 90.55, td2: 58.05, mb: 0.5282 },
  'ptq-int8': { sd: 63.7, td1: 89.7, td2: 57.8, mb: 0.5271 },
  'ptq-int16-activations': { sd: 64.8, td1: 90.45, td2: 58.15, mb: 0.5292 },
  qat: { sd: 65.9, td1: 92.95, td2: 59.2, mb: 4.1784 },
  'ptq-on-qat': { sd: 65.8, td1: 92.8, td2: 59.05, mb: 0.5278 },
};

/** Table 4.5: ID of each representation (PCA at 95% per channel, TwoNN flattened, TwoNN* per channel). */
export const TABLE_4_5: Record<'sd' | 'td', Record<string, { pca: number; twonn: number; twonnChannel: number }>> = {
  sd: {
    input: { pca: 2, twonn: 25.61, twonnChannel: 4.15 },
    conv1: { pca: 13, twonn: 33.19, twonnChannel: 6.72 },
    conv2: { pca: 48, twonn: 49.48, twonnChannel: 5.25 },
    linear1: { pca: 31, twonn: 23.76, twonnChannel: 19.54 },
    linear2: { pca: 1, twonn: 0.98, twonnChannel: 0.82 },
  },
  td: {
    input: { pca: 2, twonn: 27.57, twonnChannel: 3.95 },
    conv1: { pca: 14, twonn: 36.85, twonnChannel: 6.45 },
    conv2: { pca: 49, twonn: 52.1, twonnChannel: 5.28 },
    linear1: { pca: 31, twonn: 23.78, twonnChannel: 15.35 },
    linear2: { pca: 1, twonn: 0.84, twonnChannel: 1.2 },
  },
};

/** The designs of Table 4.6 (precisions of conv1, conv2, linear1, linear2; linear3 full), in the printed order. */
export const MIXED_DESIGNS = ['full', 'xnor', 'binary-conv1', 'binary-conv2', 'binary-linear1', 'twonn-hybrid'] as const;
export type MixedDesign = (typeof MIXED_DESIGNS)[number] | 'pca-hybrid';

/**
 * Table 4.6: test accuracy on the source (SD, standalone) and target domain (TD, fine-tuned); the precisions and
 * memory reductions are src/hw/published.ts's (one copy of the printed numbers, row by row in the same order).
 */
const TABLE_4_6_ACCURACY: Record<(typeof MIXED_DESIGNS)[number], { sd: number; td: number }> = {
  full: { sd: 66.0, td: 92.3 },
  xnor: { sd: 64.2, td: 90.55 },
  'binary-conv1': { sd: 62.6, td: 89.55 },
  'binary-conv2': { sd: 65.7, td: 91.85 },
  'binary-linear1': { sd: 65.0, td: 91.35 },
  'twonn-hybrid': { sd: 65.8, td: 91.6 },
};
export const TABLE_4_6 = Object.fromEntries(
  MIXED_DESIGNS.map((d, i) => [d, { ...HW_TABLE_4_6[i], ...TABLE_4_6_ACCURACY[d] }]),
) as Record<(typeof MIXED_DESIGNS)[number], { precisions: [number, number, number, number]; sd: number; td: number; reduction: number }>;

export const CLUSTER_SETUPS = ['base', 'clustered', 'clustered-ptq-float16', 'clustered-ptq-dynamic-range', 'clustered-ptq-int8', 'clustered-ptq-int16-activations', 'clustered-qat', 'clustered-ptq-on-qat'] as const;
export type ClusterSetup = (typeof CLUSTER_SETUPS)[number];

/** Table 4.7 (Cat vs Dog, N_c = 16). */
export const TABLE_4_7: Record<ClusterSetup, { label: string; acc: number; mb: number }> = {
  base: { label: 'Base Model', acc: 66.0, mb: 2.0852 },
  clustered: { label: 'Clustered (N_c = 16)', acc: 65.3, mb: 0.2562 },
  'clustered-ptq-float16': { label: 'Clustered + Post Training - Float 16 Quantization', acc: 64.4, mb: 0.2153 },
  'clustered-ptq-dynamic-range': { label: 'Clustered + Post Training - Dynamic Range Quantization', acc: 63.8, mb: 0.1921 },
  'clustered-ptq-int8': { label: 'Clustered + Post Training - Integer Quantization', acc: 63.3, mb: 0.192 },
  'clustered-ptq-int16-activations': { label: 'Clustered + Post Training - Int Quantization + Int 16 Activation', acc: 64.9, mb: 0.1922 },
  'clustered-qat': { label: 'Clustered + QAT model', acc: 65.75, mb: 1.6755 },
  'clustered-ptq-on-qat': { label: 'Clustered + Post Training Quantization on QAT model', acc: 65.6, mb: 0.1922 },
};

/** Table 4.8: accuracy, distinct weight values per layer (conv1, conv2, linear1, linear2, linear3), size. */
export const TABLE_4_8: Record<'base' | 'clustered' | 'clustered-qat' | 'cp-qat', { label: string; acc: number; clusters: number[] | null; mb: number }> = {
  base: { label: 'Base Model', acc: 66.0, clusters: null, mb: 2.0852 },
  clustered: { label: 'Clustered (N_c = 16)', acc: 65.3, clusters: [16, 16, 16, 16, 16], mb: 0.2562 },
  'clustered-qat': { label: 'Clustered (N_c = 16) + QAT', acc: 65.75, clusters: [864, 18430, 361277, 1308, 16], mb: 1.6755 },
  'cp-qat': { label: 'Clustered (N_c = 16) + Cluster-Preserving QAT', acc: 65.85, clusters: [16, 16, 16, 16, 16], mb: 0.2394 },
};

export const PIPELINE_SETUPS = ['base', 'ptq-on-qat', 'twonn-mixed', 'clustered-ptq-on-qat', 'cp-qat', 'twonn-cluster-cpqat'] as const;
export type PipelineSetup = (typeof PIPELINE_SETUPS)[number];

/** Table 4.9 (Cat vs Dog, standalone). */
export const TABLE_4_9: Record<PipelineSetup, { label: string; acc: number; mb: number }> = {
  base: { label: 'Base Model', acc: 66.0, mb: 2.0852 },
  'ptq-on-qat': { label: 'Post Training Quantization on QAT model', acc: 65.8, mb: 0.5278 },
  'twonn-mixed': { label: 'TwoNN + Mixed Precision (1-bit, 2-bit) Quantization', acc: 65.8, mb: 0.1321 },
  'clustered-ptq-on-qat': { label: 'Clustering + Post Training Quantization on QAT model', acc: 65.6, mb: 0.1922 },
  'cp-qat': { label: 'Cluster-Preserving QAT', acc: 65.85, mb: 0.2394 },
  'twonn-cluster-cpqat': { label: 'TwoNN + Clustering, Cluster-Preserving QAT', acc: 65.95, mb: 0.1625 },
};

/** Fig. 4.5's only printed number (§4.2.3 text): "about a 6% reduction in accuracy with 50% of the weights pruned". */
export const FIG_4_5_WEIGHT_PRUNING_DROP_AT_50 = 6;
/** Fig. 4.6's conclusion (§4.2.3 text): the ideal number of clusters is 16. */
export const FIG_4_6_BEST_CLUSTERS = 16;
/** The base model's size the seed's size ratios are relative to (MB). */
export const BASE_MB = 2.0852;
