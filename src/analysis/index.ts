/**
 * Intrinsic dimension of data representations (seed 004 §2.4, §3.3.2): TwoNN (Facco et al. 2017), PCA's nPC,
 * the representations of a network's layers, and the layer-significance rules behind the mixed-precision designs.
 */
export * from './points.js';
export * from './twonn.js';
export * from './pca.js';
export * from './representations.js';
export * from './significance.js';
