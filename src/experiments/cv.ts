/**
 * The cross-validation evaluator of the seed-000 protocol (conventions.md) as jobs of the experiment engine:
 * `cvJobs` turns one training spec into R x k fold jobs (repeat-major), `summarizeCv` turns their outcomes into
 * cvBest / cvMean / cvStd and the selected model's test accuracy (src/train/cv.ts), and `crossValidate` runs
 * them on any executor. A failed fold fails the evaluation (the caller decides its score).
 */
import type { JobSpecInput } from './job.js';
import type { JobRecord, RunJobsOptions } from './runner.js';
import { runJobs } from './runner.js';
import { summarizeFolds, type CvResult, type FoldResult } from '../train/cv.js';

export interface CvProtocol {
  k: number;
  repeats: number;
  /** Fraction of the training folds carved out for early stopping (0: the training-loss rule). */
  valFraction: number;
}

/** Seed 000's protocol: stratified 5-fold, 3 repeats, early stopping on a validation tenth of the training folds. */
export const SEED000_PROTOCOL: CvProtocol = { k: 5, repeats: 3, valFraction: 0.1 };

/** The fold jobs of one evaluation: repeat r, fold f at index r * k + f. */
export function cvJobs(base: Omit<JobSpecInput, 'data'> & { data: Omit<JobSpecInput['data'], 'split'> }, p: CvProtocol): JobSpecInput[] {
  const out: JobSpecInput[] = [];
  for (let repeat = 0; repeat < p.repeats; repeat++) {
    for (let fold = 0; fold < p.k; fold++) {
      out.push({
        ...base,
        data: { ...base.data, split: { kind: 'cv', k: p.k, fold, repeat, valFraction: p.valFraction } },
        label: base.label ? `${base.label} r${repeat} f${fold}` : undefined,
      });
    }
  }
  return out;
}

/** The evaluation's statistics from its fold records (in `cvJobs` order), or the first failure. */
export function summarizeCv(records: JobRecord[], p: CvProtocol): { ok: true; cv: CvResult } | { ok: false; error: string } {
  const failed = records.find((r) => r.outcome.status === 'failed');
  if (failed && failed.outcome.status === 'failed') return { ok: false, error: `${failed.label}: ${failed.outcome.error.message}` };
  const folds: FoldResult[] = records.map((r, i) => {
    const res = (r.outcome as Extract<JobRecord['outcome'], { status: 'ok' }>).result;
    return {
      repeat: Math.floor(i / p.k),
      fold: i % p.k,
      accuracy: res.metrics.heldOutAccuracy ?? NaN,
      testAccuracy: res.metrics.testAccuracy,
      epochs: res.epochs,
      seconds: res.timing.seconds,
    };
  });
  return { ok: true, cv: summarizeFolds(folds, p.repeats, p.k) };
}

/** Runs one cross-validated evaluation on an executor. Throws when a fold failed. */
export async function crossValidate(base: Parameters<typeof cvJobs>[0], p: CvProtocol, o: RunJobsOptions): Promise<CvResult> {
  const { records } = await runJobs(cvJobs(base, p), o);
  const s = summarizeCv(records, p);
  if (!s.ok) throw new Error(`cross-validation: ${s.error}`);
  return s.cv;
}
