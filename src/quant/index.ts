/** The compression library: quantizers, quantized layers, clustering, pruning, post-training quantization, export. */
export * from './quantizers.js';
export * from './layers.js';
export * from './schedules.js';
export * from './prune.js';
export * from './cluster.js';
export * from './ptq.js';
export * from './export.js';
