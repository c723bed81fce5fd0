/**
 * TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez & Laio 2017, "Estimating the intrinsic dimension of
 * datasets by a minimal neighborhood information"; seed 004 §2.4.2).
 *
 * For every point, mu = r2 / r1, the ratio of the distances to its second and first nearest neighbours. If
 * the density is locally constant, mu follows a Pareto law with density f(mu) = d mu^-(d+1) and CDF
 * F(mu) = 1 - mu^-d on [1, inf). Seed 004 prints the CDF as 1 - (1/x)^(d+1) ("0 for x < 0") and the likelihood
 * as d^N prod mu_i^(d+1): misprints of Facco's F(mu) = 1 - mu^-d (0 for mu < 1) and L = d^N prod mu_i^-(d+1).
 * We follow Facco:
 *
 * - `dimension`: the linear fit through the origin of -log(1 - F_emp(mu)) against log(mu), after discarding
 *   the largest 10% of the mu (Facco's recommendation; scikit-dimension's `TwoNN(discard_fraction=0.1)`, whose
 *   convention we copy exactly: sorted mu_(i), F_emp = i / N for i = 0 .. floor(N (1 - f)) - 1).
 * - `mle`: the maximum of Facco's likelihood, d = N / sum_i log mu_i, with its asymptotic standard error d / sqrt(N).
 *
 * Exact duplicates are removed first (their r1 is 0). Nearest neighbours are exact: candidate neighbours come
 * from squared distances |x|^2 + |y|^2 - 2 x.y computed in blocks by matrix products on the tfjs engine (fast for
 * thousands of points of tens of thousands of dimensions), and the best candidates of each point are then
 * measured again in double precision from the coordinates themselves, so the float32 rounding of the matrix
 * product can only matter if the true second neighbour is not among the `candidates` nearest by float32.
 */
import { tf } from '../engine/backend.js';
import { AnalysisError, checkPoints, uniquePoints, type PointSet } from './points.js';

export interface NeighbourOptions {
  /** Nearest candidates per point (by float32 distance) re-measured in double precision (default 8). */
  candidates?: number;
  /** Entries of one block of the distance matrix (rows x n; default 4,000,000 float32 values). */
  blockValues?: number;
}

export interface TwoNeighbours {
  /** Distance to the nearest and second nearest other point. */
  r1: Float64Array;
  r2: Float64Array;
  /** Their indices. */
  i1: Int32Array;
  i2: Int32Array;
}

/** Exact double-precision distance between rows i and j. */
function exactDistance(x: Float32Array | Float64Array, dim: number, i: number, j: number): number {
  let s = 0;
  const a = i * dim;
  const b = j * dim;
  for (let k = 0; k < dim; k++) {
    const d = x[a + k] - x[b + k];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * The first and second nearest neighbour of every point (Euclidean), exactly, with candidate search by matrix
 * products on the engine. Needs at least 3 points.
 */
export function twoNearestNeighbours(p: PointSet, o: NeighbourOptions = {}): TwoNeighbours {
  const { n, dim } = p;
  if (n < 3) throw new AnalysisError(`TwoNN needs at least 3 points, got ${n}`);
  const k = Math.min(n - 1, Math.max(2, o.candidates ?? 8));
  const rowsPerBlock = Math.max(1, Math.floor((o.blockValues ?? 4_000_000) / n));
  const cand = new Int32Array(n * k);
  // Centre the points first: squared norms stay small, so |x|^2 + |y|^2 - 2 x.y cancels less in float32.
  const X = tf.tidy(() => {
    const t = tf.tensor2d(p.x instanceof Float32Array ? p.x : Float32Array.from(p.x), [n, dim]);
    return tf.sub(t, tf.mean(t, 0, true));
  });
  const sq = tf.tidy(() => tf.sum(tf.square(X), 1));
  const norms = sq.dataSync() as Float32Array;
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  try {
    for (let start = 0; start < n; start += rowsPerBlock) {
      const end = Math.min(n, start + rowsPerBlock);
      const block = tf.tidy(() => tf.matMul(tf.slice(X, [start, 0], [end - start, dim]), X, false, true));
      const g = block.dataSync() as Float32Array;
      block.dispose();
      for (let r = 0; r < end - start; r++) {
        const i = start + r;
        let filled = 0;
        const row = r * n;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const d = norms[i] + norms[j] - 2 * g[row + j];
          if (filled === k && !(d < bestD[k - 1])) continue;
          // insertion into the sorted candidate list (growing it until it holds k, then dropping the worst)
          let q = filled < k ? filled++ : k - 1;
          while (q > 0 && bestD[q - 1] > d) {
            bestD[q] = bestD[q - 1];
            bestI[q] = bestI[q - 1];
            q--;
          }
          bestD[q] = d;
          bestI[q] = j;
        }
        cand.set(bestI, i * k);
      }
    }
  } finally {
    X.dispose();
    sq.dispose();
  }
  const r1 = new Float64Array(n);
  const r2 = new Float64Array(n);
  const i1 = new Int32Array(n);
  const i2 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let a = Infinity;
    let b = Infinity;
    let ia = -1;
    let ib = -1;
    for (let c = 0; c < k; c++) {
      const j = cand[i * k + c];
      const d = exactDistance(p.x, dim, i, j);
      if (d < a || (d === a && j < ia)) {
        b = a;
        ib = ia;
        a = d;
        ia = j;
      } else if (d < b || (d === b && j < ib)) {
        b = d;
        ib = j;
      }
    }
    r1[i] = a;
    r2[i] = b;
    i1[i] = ia;
    i2[i] = ib;
  }
  return { r1, r2, i1, i2 };
}

export interface TwoNNFit {
  /** Linear fit through the origin of -log(1 - F_emp) on log(mu), largest `discardFraction` of mu discarded. */
  dimension: number;
  /** Maximum-likelihood estimate N / sum(log mu) over all points, and its asymptotic standard error. */
  mle: number;
  mleError: number;
  /** Points whose ratio entered the fit (after discarding) and in all. */
  fitted: number;
  n: number;
  discardFraction: number;
}

/**
 * TwoNN from the ratios mu_i = r2 / r1 (all >= 1): the scikit-dimension fit and Facco's maximum-likelihood
 * estimate. A pure function, so it can be tested on exact Pareto samples.
 */
export function twoNNFromRatios(mu: ArrayLike<number>, discardFraction = 0.1): TwoNNFit {
  const N = mu.length;
  if (!(discardFraction >= 0 && discardFraction < 1)) throw new AnalysisError(`TwoNN: discardFraction must be in [0, 1), got ${discardFraction}`);
  if (N < 2) throw new AnalysisError(`TwoNN needs at least 2 ratios, got ${N}`);
  const sorted = Float64Array.from(mu).sort();
  if (!(sorted[0] >= 1) || !Number.isFinite(sorted[N - 1])) throw new AnalysisError(`TwoNN: ratios mu = r2/r1 must be finite and >= 1 (got ${sorted[0]} .. ${sorted[N - 1]}); remove duplicate points first`);
  const m = Math.floor(N * (1 - discardFraction));
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < m; i++) {
    const x = Math.log(sorted[i]);
    const y = -Math.log(1 - i / N);
    sxy += x * y;
    sxx += x * x;
  }
  let slog = 0;
  for (let i = 0; i < N; i++) slog += Math.log(sorted[i]);
  const mle = slog > 0 ? N / slog : Infinity;
  return { dimension: sxx > 0 ? sxy / sxx : NaN, mle, mleError: mle / Math.sqrt(N), fitted: m, n: N, discardFraction };
}

export interface TwoNNOptions extends NeighbourOptions {
  /** Fraction of the largest mu left out of the fit (default 0.1, Facco / scikit-dimension). */
  discardFraction?: number;
}

export interface TwoNNResult extends TwoNNFit {
  /** Points given, and exact duplicates removed before the estimate. */
  points: number;
  duplicates: number;
  /** The ratios mu = r2 / r1 of the distinct points, in point order. */
  mu: Float64Array;
}

/** TwoNN intrinsic dimension of a point set (duplicates removed; exact nearest neighbours). */
export function twoNN(p: PointSet, o: TwoNNOptions = {}): TwoNNResult {
  checkPoints(p, 'TwoNN points');
  const u = uniquePoints(p);
  if (u.points.n < 3) throw new AnalysisError(`TwoNN needs at least 3 distinct points, got ${u.points.n} (of ${p.n}, ${u.duplicates} duplicates)`);
  const nn = twoNearestNeighbours(u.points, o);
  const mu = new Float64Array(u.points.n);
  for (let i = 0; i < mu.length; i++) mu[i] = nn.r2[i] / nn.r1[i];
  return { ...twoNNFromRatios(mu, o.discardFraction ?? 0.1), points: p.n, duplicates: u.duplicates, mu };
}
