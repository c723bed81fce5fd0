/**
 * The hypervolume indicator (Zitzler & Thiele 1998): the measure of the objective space dominated by a set of
 * points and bounded by a reference point (minimisation). Exact: a sweep for two objectives, slicing by the
 * last objective (HSO, While et al. 2006) for more. Points that do not strictly dominate the reference point
 * add nothing.
 */
import { nonDominated } from './ranking.js';
import { SearchError } from './problem.js';

function hv2(points: number[][], ref: readonly number[]): number {
  const pts = points.filter((p) => p[0] < ref[0] && p[1] < ref[1]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let volume = 0;
  let bestY = ref[1];
  // Sweep left to right; each point adds the strip between it and the next better-y point.
  const stairs: number[][] = [];
  for (const p of pts) {
    if (p[1] < bestY) {
      stairs.push(p);
      bestY = p[1];
    }
  }
  for (let i = 0; i < stairs.length; i++) {
    const right = i + 1 < stairs.length ? stairs[i + 1][0] : ref[0];
    volume += (right - stairs[i][0]) * (ref[1] - stairs[i][1]);
  }
  return volume;
}

function hvN(points: number[][], ref: readonly number[]): number {
  const m = ref.length;
  if (m === 1) return points.length ? Math.max(0, ref[0] - Math.min(...points.map((p) => p[0]))) : 0;
  if (m === 2) return hv2(points, ref);
  const pts = points.filter((p) => p.every((v, i) => v < ref[i])).sort((a, b) => a[m - 1] - b[m - 1]);
  let volume = 0;
  for (let i = 0; i < pts.length; i++) {
    const top = i + 1 < pts.length ? pts[i + 1][m - 1] : ref[m - 1];
    const depth = top - pts[i][m - 1];
    if (depth <= 0) continue;
    const slice = pts.slice(0, i + 1).map((p) => p.slice(0, m - 1));
    const front = nonDominated(slice).map((j) => slice[j]);
    volume += depth * hvN(front, ref.slice(0, m - 1));
  }
  return volume;
}

/** Hypervolume of `points` with respect to `ref` (every point has ref.length objectives). */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[]): number {
  for (const p of points) {
    if (p.length !== ref.length) throw new SearchError(`hypervolume: a point has ${p.length} objectives but the reference point ${ref.length}`);
  }
  return hvN(points.map((p) => [...p]), ref);
}
