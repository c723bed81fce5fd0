/**
 * The sweep's table from its job records: one row per combination with the seed-000 protocol's statistics
 * (conventions.md: cvBest = max over repeats of the fold mean, cvMean and cvStd over repeats, the selected
 * model's test accuracy), its cost columns and its Pareto membership. Pure: records in, rows out.
 */
import type { JobRecord } from '../runner.js';
import { summarizeCv } from '../cv.js';
import type { SweepPlan } from './jobs.js';
import { sweepCost } from './complexity.js';
import type { SweepActivation, SweepWeights } from './config.js';

export interface SweepRow {
  model: string;
  weights: SweepWeights;
  activation: SweepActivation;
  /** `ok`, or `failed` when a fold failed (its reason in `error`; no accuracy, not on any front). */
  status: 'ok' | 'failed';
  /** Fractions in [0, 1]; null for a failed combination. */
  cvBest: number | null;
  cvMean: number | null;
  cvStd: number | null;
  /** Test accuracy of the selected model (best repeat, best fold); the test split decides nothing. */
  testAccuracy: number | null;
  /** Mean number of epochs trained per fold (early stopping ends some before `epochs`). */
  epochsMean: number | null;
  complexityReference: number;
  complexityCorrected: number;
  params: number;
  storageBits: number;
  /** On the accuracy (cvBest) / complexity Pareto front, by the seed-000 heuristic (Fig. 3.2) and by the corrected one. */
  pareto: boolean;
  paretoCorrected: boolean;
  error: string;
}

export const SWEEP_COLUMNS: (keyof SweepRow)[] = [
  'model', 'weights', 'activation', 'status', 'cvBest', 'cvMean', 'cvStd', 'testAccuracy', 'epochsMean',
  'complexityReference', 'complexityCorrected', 'params', 'storageBits', 'pareto', 'paretoCorrected', 'error',
];

/**
 * Pareto membership for maximising `acc` and minimising `cost`: a point is on the front when no other point is
 * at least as accurate and at most as costly, and strictly better in one of the two. Points whose accuracy is
 * not a finite number are never on it and dominate nothing.
 */
export function onParetoFront(points: { acc: number | null; cost: number }[]): boolean[] {
  const ok = (p: { acc: number | null }) => p.acc !== null && Number.isFinite(p.acc);
  return points.map((p, i) => {
    if (!ok(p)) return false;
    return !points.some((q, j) => j !== i && ok(q) && q.acc! >= p.acc! && q.cost <= p.cost && (q.acc! > p.acc! || q.cost < p.cost));
  });
}

/** The rows of a sweep from its records (in `plan.jobs` order). */
export function summarizeSweep(plan: SweepPlan, records: JobRecord[], model: string): SweepRow[] {
  if (records.length !== plan.jobs.length) throw new Error(`sweep: ${records.length} records for ${plan.jobs.length} jobs`);
  const rows = plan.combinations.map((combo, i): SweepRow => {
    const mine = records.slice(i * plan.perCombination, (i + 1) * plan.perCombination);
    const cost = sweepCost(combo.architecture);
    const base = { model, weights: combo.weights, activation: combo.activation, ...cost, pareto: false, paretoCorrected: false };
    const s = summarizeCv(mine, plan.protocol);
    if (!s.ok) return { ...base, status: 'failed', cvBest: null, cvMean: null, cvStd: null, testAccuracy: null, epochsMean: null, error: s.error };
    const epochsMean = s.cv.folds.reduce((a, f) => a + f.epochs, 0) / s.cv.folds.length;
    return { ...base, status: 'ok', cvBest: s.cv.cvBest, cvMean: s.cv.cvMean, cvStd: s.cv.cvStd, testAccuracy: s.cv.testAccuracy, epochsMean, error: '' };
  });
  const ref = onParetoFront(rows.map((r) => ({ acc: r.cvBest, cost: r.complexityReference })));
  const cor = onParetoFront(rows.map((r) => ({ acc: r.cvBest, cost: r.complexityCorrected })));
  return rows.map((r, i) => ({ ...r, pareto: ref[i], paretoCorrected: cor[i] }));
}
