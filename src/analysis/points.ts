/**
 * A point set as one row-major buffer (n points of `dim` coordinates), the input of the intrinsic-dimension
 * estimators (TwoNN, PCA), and the small helpers they share: validation, exact duplicate removal and a seeded
 * subsample.
 */
import { KitError } from '../util/errors.js';
import type { Rng } from '../engine/random.js';

export interface PointSet {
  /** Row-major coordinates: point i is `x[i * dim .. (i + 1) * dim)`. */
  x: Float32Array | Float64Array;
  n: number;
  dim: number;
}

/** A point set that cannot be analysed (too few points, a wrong buffer size, non-finite values). */
export class AnalysisError extends KitError {
  constructor(message: string) {
    super(message, 'AnalysisError');
  }
}

/** Checks the buffer size and that every coordinate is finite; `what` names the set in errors. */
export function checkPoints(p: PointSet, what = 'points'): void {
  if (!Number.isInteger(p.n) || p.n < 0 || !Number.isInteger(p.dim) || p.dim < 1) throw new AnalysisError(`${what}: n and dim must be integers (n >= 0, dim >= 1), got n ${p.n}, dim ${p.dim}`);
  if (p.x.length !== p.n * p.dim) throw new AnalysisError(`${what}: ${p.x.length} values do not make ${p.n} points of dimension ${p.dim}`);
  for (let i = 0; i < p.x.length; i++) {
    if (!Number.isFinite(p.x[i])) throw new AnalysisError(`${what}: coordinate ${i % p.dim} of point ${Math.floor(i / p.dim)} is ${p.x[i]}`);
  }
}

const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** FNV-1a over the row's values as float64 bits (a bucket key; equality is then checked value by value). */
function rowHash(x: Float32Array | Float64Array, off: number, dim: number): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < dim; j++) {
    scratch[0] = x[off + j] + 0; // -0 + 0 is +0: the same point, the same bits
    h = Math.imul(h ^ scratchBits[0], 0x01000193);
    h = Math.imul(h ^ scratchBits[1], 0x01000193);
  }
  return h >>> 0;
}

/**
 * The point set without exact duplicates (the first copy of each point is kept, in order). TwoNN needs
 * distinct points: a duplicate has r1 = 0 and an infinite ratio mu = r2 / r1 (Facco et al. 2017 assume no two
 * points coincide; DADApy and scikit-dimension warn and drop them the same way).
 */
export function uniquePoints(p: PointSet): { points: PointSet; kept: Int32Array; duplicates: number } {
  const { x, n, dim } = p;
  const buckets = new Map<number, number[]>();
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = rowHash(x, i * dim, dim);
    const b = buckets.get(h);
    let dup = false;
    if (b) {
      for (const k of b) {
        let same = true;
        for (let j = 0; j < dim && same; j++) same = x[k * dim + j] === x[i * dim + j];
        if (same) {
          dup = true;
          break;
        }
      }
    }
    if (dup) continue;
    if (b) b.push(i);
    else buckets.set(h, [i]);
    kept.push(i);
  }
  if (kept.length === n) return { points: p, kept: Int32Array.from(kept), duplicates: 0 };
  return { points: takeRows(p, kept), kept: Int32Array.from(kept), duplicates: n - kept.length };
}

/** The rows `rows` of a point set, in that order. */
export function takeRows(p: PointSet, rows: ArrayLike<number>): PointSet {
  const out = p.x instanceof Float64Array ? new Float64Array(rows.length * p.dim) : new Float32Array(rows.length * p.dim);
  for (let r = 0; r < rows.length; r++) out.set(p.x.subarray(rows[r] * p.dim, (rows[r] + 1) * p.dim), r * p.dim);
  return { x: out, n: rows.length, dim: p.dim };
}

/** At most `max` points drawn without replacement from a seeded stream (all of them, in order, when n <= max). */
export function subsamplePoints(p: PointSet, max: number, rng: Rng): PointSet {
  if (p.n <= max) return p;
  const rows = rng.permutation(p.n).subarray(0, max).sort();
  return takeRows(p, rows);
}
