/**
 * PCA intrinsic dimension (seed 004 §2.4.1): the number of principal components that explain a fraction (90, 95
 * or 99%) of the total variance, nPC. The spectrum is the eigenvalues of the sample covariance
 * Xc^T Xc / (n - 1) of the centred points, or, when there are fewer points than dimensions, of the Gram matrix
 * Xc Xc^T / (n - 1), which has the same non-zero eigenvalues and is only n x n. The matrix product runs on the
 * tfjs engine; the symmetric eigendecomposition is ml-matrix's (a maintained linear-algebra library: Householder
 * tridiagonalisation and the QL algorithm of EISPACK's tred2/tql2).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { tf } from '../engine/backend.js';
import { AnalysisError, checkPoints, type PointSet } from './points.js';

export interface PcaSpectrum {
  /** Eigenvalues of the sample covariance, largest first (negative round-off clipped to 0); min(n - 1, dim) of them at most matter. */
  eigenvalues: Float64Array;
  /** Cumulative fraction of the total variance explained by the first 1, 2, ... components. */
  cumulative: Float64Array;
  /** Which matrix was decomposed: `covariance` (dim x dim) or `gram` (n x n, fewer points than dimensions). */
  method: 'covariance' | 'gram';
  n: number;
  dim: number;
}

/** The PCA spectrum of a point set (at least 2 points). */
export function pcaSpectrum(p: PointSet): PcaSpectrum {
  checkPoints(p, 'PCA points');
  const { n, dim } = p;
  if (n < 2) throw new AnalysisError(`PCA needs at least 2 points, got ${n}`);
  const method = n < dim ? 'gram' : 'covariance';
  const m = method === 'gram' ? n : dim;
  const values = tf.tidy(() => {
    const t = tf.tensor2d(p.x instanceof Float32Array ? p.x : Float32Array.from(p.x), [n, dim]);
    const xc = tf.sub(t, tf.mean(t, 0, true));
    const s = method === 'gram' ? tf.matMul(xc, xc, false, true) : tf.matMul(xc, xc, true, false);
    return tf.div(s, n - 1);
  });
  const flat = values.dataSync() as Float32Array;
  values.dispose();
  // Symmetrise in double precision (the float32 product is symmetric only up to rounding).
  const rows: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row = new Array<number>(m);
    for (let j = 0; j < m; j++) row[j] = (flat[i * m + j] + flat[j * m + i]) / 2;
    rows.push(row);
  }
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const eigenvalues = Float64Array.from(evd.realEigenvalues, (v) => Math.max(0, v)).sort().reverse();
  return { eigenvalues, cumulative: cumulativeFractions(eigenvalues), method, n, dim };
}

/** Cumulative explained-variance fractions of a descending spectrum (all 0 for a spectrum of zeros). */
export function cumulativeFractions(eigenvalues: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < eigenvalues.length; i++) total += eigenvalues[i];
  const out = new Float64Array(eigenvalues.length);
  let s = 0;
  for (let i = 0; i < eigenvalues.length; i++) {
    s += eigenvalues[i];
    out[i] = total > 0 ? s / total : 0;
  }
  return out;
}

/**
 * nPC: the smallest number of leading components whose cumulative explained variance reaches `fraction`
 * (seed 004 §2.4.1; 0.99 in the PCA Hybrid-Net rule of §2.1.3, 0.95 in Table 4.5). A set without variance has
 * dimension 0.
 */
export function componentsFor(s: Pick<PcaSpectrum, 'cumulative'>, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new AnalysisError(`PCA: the explained-variance fraction must be in (0, 1], got ${fraction}`);
  const c = s.cumulative;
  if (!c.length || c[c.length - 1] === 0) return 0;
  // A relative tolerance keeps fraction 1 reachable despite round-off in the cumulative sum.
  for (let i = 0; i < c.length; i++) if (c[i] >= fraction - 1e-12) return i + 1;
  return c.length;
}

/** nPC of a point set at one or more explained-variance fractions. */
export function pcaDimension(p: PointSet, fractions: number[] = [0.9, 0.95, 0.99]): { fraction: number; components: number }[] {
  const s = pcaSpectrum(p);
  return fractions.map((fraction) => ({ fraction, components: componentsFor(s, fraction) }));
}
