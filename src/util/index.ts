/** Bottom-level utilities shared by every module: errors, JSON hashing, atomic files, small statistics. */
export * from './errors.js';
export * from './json.js';
export * from './files.js';
export * from './stats.js';
