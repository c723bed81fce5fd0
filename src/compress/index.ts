/**
 * Compression passes over trained models (above the models and the training loop): weight clustering,
 * pruning, post-training quantization, integer export, and the training hooks of the compression schedules.
 */
export * from './cluster.js';
export * from './prune.js';
export * from './ptq.js';
export * from './export.js';
export * from './hooks.js';
