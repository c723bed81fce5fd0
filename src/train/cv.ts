/**
 * The cross-validation evaluator of the seed-000 evaluation protocol (conventions.md): stratified k-fold
 * (k = 5) with R training repeats. For repeat r, m_r is the mean over folds of the held-out fold accuracy.
 * cvBest = max_r m_r (what the reference optimises), cvMean and cvStd over r (population std, numpy's
 * default, as the reference reports). Early stopping watches a validation part carved (stratified) from the
 * training folds, never the held-out fold; `monitor: 'loss'` gives the reference's training-loss rule.
 * Where a test split exists, `testAccuracy` is that of the selected model: in the best repeat, the fold model
 * with the highest held-out accuracy. The test set decides nothing.
 *
 * The folds are drawn once (stream `split`) and shared by all repeats, as the reference does; repeat r of
 * fold f trains with seed `<seed>:r<r>:f<f>`. This module holds the protocol's splits and statistics; the
 * evaluator that trains the folds as jobs of the experiment engine is `crossValidate` in src/experiments/cv.ts.
 */
import { rngStream } from '../engine/random.js';
import { complement, stratifiedKFold, stratifiedSplit } from '../data/split.js';

export interface FoldResult {
  repeat: number;
  fold: number;
  accuracy: number;
  testAccuracy: number | null;
  epochs: number;
  seconds: number;
}

export interface CvResult {
  cvBest: number;
  cvMean: number;
  cvStd: number;
  /** m_r for each repeat. */
  repeatMeans: number[];
  folds: FoldResult[];
  testAccuracy: number | null;
  selected: { repeat: number; fold: number };
}

export function summarizeFolds(folds: FoldResult[], repeats: number, k: number): CvResult {
  const repeatMeans = Array.from({ length: repeats }, (_, r) => {
    const fs = folds.filter((f) => f.repeat === r);
    if (fs.length !== k) throw new Error(`cross-validation: repeat ${r} has ${fs.length} of ${k} folds`);
    return fs.reduce((s, f) => s + f.accuracy, 0) / k;
  });
  const cvMean = repeatMeans.reduce((a, b) => a + b, 0) / repeats;
  const cvStd = Math.sqrt(repeatMeans.reduce((a, b) => a + (b - cvMean) ** 2, 0) / repeats);
  const bestR = repeatMeans.indexOf(Math.max(...repeatMeans));
  const inBest = folds.filter((f) => f.repeat === bestR).sort((a, b) => b.accuracy - a.accuracy || a.fold - b.fold);
  return {
    cvBest: repeatMeans[bestR],
    cvMean,
    cvStd,
    repeatMeans,
    folds,
    testAccuracy: inBest[0].testAccuracy,
    selected: { repeat: bestR, fold: inBest[0].fold },
  };
}

export interface CvSplit {
  /** Rows the model trains on. */
  train: Int32Array;
  /** Rows early stopping watches: carved from the training folds (empty without validation). */
  validation: Int32Array;
  /** The held-out fold, used only for the fold's accuracy. */
  test: Int32Array;
}

/**
 * The rows of each fold for repeat `repeat`: held-out fold f (stream `split` of the run seed, shared by all
 * repeats), and a stratified validation part carved from the other folds with the fold's own seed.
 */
export function cvSplits(y: Int32Array, k: number, seed: number | string, repeat: number, valFraction: number): CvSplit[] {
  const folds = stratifiedKFold(y, k, rngStream(seed, 'split'));
  return folds.map((held, f) => {
    const rest = complement(y.length, held);
    if (!(valFraction > 0)) return { train: rest, validation: new Int32Array(0), test: held };
    const { kept, held: val } = stratifiedSplit(Int32Array.from(rest, (i) => y[i]), valFraction, rngStream(`${seed}:r${repeat}:f${f}`, 'split'));
    return { train: Int32Array.from(kept, (i) => rest[i]), validation: Int32Array.from(val, (i) => rest[i]), test: held };
  });
}
