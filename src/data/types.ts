/** Shared data types of `src/data`. */
import { KitError } from '../util/errors.js';

/** A labelled set of samples in one contiguous row-major buffer. */
export interface Dataset {
  /** Registry id, e.g. `mnist`, plus a suffix for derived sets (`mnist:train`, `cifar10:cat-dog`). */
  id: string;
  /** Samples, row-major: `n * prod(shape)` values. Images are NHWC. */
  x: Float32Array;
  /** Class index per sample, in 0..classNames.length-1. */
  y: Int32Array;
  /** Shape of one sample, e.g. `[28, 28, 1]` or `[21]`. */
  shape: number[];
  classNames: string[];
  /** For tabular sets: the name of each feature column (after encoding). */
  featureNames?: string[];
}

/** What a loader returns: the train split, and the test split where the dataset defines one. */
export interface DatasetSplits {
  train: Dataset;
  test?: Dataset;
  /** Files read, with their sha256 (goes into provenance). */
  files: { path: string; sha256: string }[];
}

export function numSamples(d: Dataset): number {
  return d.y.length;
}

export function sampleSize(d: Dataset): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

/** A clear, located error for bad data: says which dataset/file and what is wrong. */
export class DataError extends KitError {
  constructor(
    public readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'DataError';
  }
}
