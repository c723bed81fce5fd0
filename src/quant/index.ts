/**
 * Quantizers and quantized layers (below the models): quantizer configs and their registry, the quantizer
 * functions with their gradient rules, the quantized tfjs layers, and the compression schedules as pure
 * functions. The passes that transform trained models (PTQ, clustering, pruning, export) are in src/compress.
 */
export * from './quantizers.js';
export * from './layers.js';
export * from './schedules.js';
