/** Experiment 1 of seed 000: the LeNet5 / VGG7 compression sweep (`tck sweep`, notebooks/01-compression-sweep.ipynb). */
export * from './config.js';
export * from './architecture.js';
export * from './complexity.js';
export * from './jobs.js';
export * from './summary.js';
export * from './findings.js';
export * from './figures.js';
export * from './run.js';
export * from './cost.js';
