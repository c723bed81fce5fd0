/**
 * Deb et al. 2002 (NSGA-II, seed 000 ref. [6]): constraint domination (§5), fast non-dominated sorting (§3.A)
 * and the crowding distance (§3.B). Pure functions of objective vectors; minimisation throughout.
 */

/** Pareto dominance of objective vectors: -1 if `a` dominates `b`, 1 if `b` dominates `a`, 0 otherwise. */
export function paretoRelation(a: readonly number[], b: readonly number[]): -1 | 0 | 1 {
  let aBetter = false;
  let bBetter = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) aBetter = true;
    else if (b[i] < a[i]) bBetter = true;
    if (aBetter && bBetter) return 0;
  }
  return aBetter && !bBetter ? -1 : bBetter && !aBetter ? 1 : 0;
}

/**
 * Constraint domination (Deb 2002 §5): a feasible solution dominates an infeasible one; of two infeasible ones
 * the smaller total violation dominates; two feasible ones compare by Pareto dominance.
 */
export function constrainedRelation(a: { f: readonly number[]; cv: number }, b: { f: readonly number[]; cv: number }): -1 | 0 | 1 {
  if (a.cv > 0 || b.cv > 0) return a.cv < b.cv ? -1 : b.cv < a.cv ? 1 : 0;
  return paretoRelation(a.f, b.f);
}

/**
 * Fast non-dominated sorting (Deb 2002 §3.A): the fronts as lists of indices, best first. O(M N^2).
 * `cv` (total constraint violations, default all 0) switches on constraint domination.
 */
export function nonDominatedSort(F: readonly (readonly number[])[], cv?: readonly number[]): number[][] {
  const n = F.length;
  const dominatedBy: number[][] = Array.from({ length: n }, () => []); // S_p: the solutions p dominates
  const count = new Int32Array(n); // n_p: how many dominate p
  const ind = (i: number) => ({ f: F[i], cv: cv ? cv[i] : 0 });
  for (let p = 0; p < n; p++) {
    for (let q = p + 1; q < n; q++) {
      const r = cv ? constrainedRelation(ind(p), ind(q)) : paretoRelation(F[p], F[q]);
      if (r === -1) {
        dominatedBy[p].push(q);
        count[q]++;
      } else if (r === 1) {
        dominatedBy[q].push(p);
        count[p]++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let p = 0; p < n; p++) if (count[p] === 0) current.push(p);
  while (current.length) {
    fronts.push(current);
    const next: number[] = [];
    for (const p of current) {
      for (const q of dominatedBy[p]) if (--count[q] === 0) next.push(q);
    }
    next.sort((a, b) => a - b);
    current = next;
  }
  return fronts;
}

/** Rank of every solution (0: first front). */
export function ranks(F: readonly (readonly number[])[], cv?: readonly number[]): number[] {
  const r = new Array<number>(F.length).fill(0);
  nonDominatedSort(F, cv).forEach((front, k) => front.forEach((i) => (r[i] = k)));
  return r;
}

/**
 * Crowding distance of the members of one front (Deb 2002 §3.B): per objective, the boundary solutions get
 * infinity and the others the normalised distance between their two neighbours, summed over objectives. An
 * objective with no spread adds nothing. Exact duplicates of an earlier member (same objective vector) get 0,
 * as pymoo does, so that copies never look isolated.
 */
export function crowdingDistance(F: readonly (readonly number[])[]): number[] {
  const n = F.length;
  const d = new Array<number>(n).fill(0);
  if (n === 0) return d;
  if (n <= 2) return d.fill(Infinity);
  const seen = new Map<string, number>();
  const unique: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = F[i].join(',');
    if (!seen.has(key)) {
      seen.set(key, i);
      unique.push(i);
    }
  }
  if (unique.length <= 2) {
    for (const i of unique) d[i] = Infinity;
    return d;
  }
  const m = F[0].length;
  for (let k = 0; k < m; k++) {
    const order = [...unique].sort((a, b) => F[a][k] - F[b][k] || a - b);
    const lo = F[order[0]][k];
    const hi = F[order[order.length - 1]][k];
    d[order[0]] = Infinity;
    d[order[order.length - 1]] = Infinity;
    const span = hi - lo;
    if (!(span > 0)) continue;
    for (let j = 1; j < order.length - 1; j++) {
      const i = order[j];
      if (d[i] !== Infinity) d[i] += (F[order[j + 1]][k] - F[order[j - 1]][k]) / span;
    }
  }
  return d;
}

/**
 * Indices of the non-dominated members of a set (Pareto relation only), ascending. Two objectives: a sort and a
 * sweep, O(N log N); more: the first front of the sort.
 */
export function nonDominated(F: readonly (readonly number[])[]): number[] {
  if (!F.length) return [];
  if (F[0].length !== 2) return [...nonDominatedSort(F)[0]].sort((a, b) => a - b);
  const order = F.map((_, i) => i).sort((a, b) => F[a][0] - F[b][0] || F[a][1] - F[b][1]);
  const out: number[] = [];
  let bestY = Infinity;
  let last: readonly number[] | null = null;
  for (const i of order) {
    const [x, y] = F[i];
    // Kept: strictly better in f2 than everything to its left, or an exact copy of the last kept point.
    if (y < bestY || (last && x === last[0] && y === last[1])) {
      out.push(i);
      if (y < bestY) bestY = y;
      last = F[i];
    }
  }
  return out.sort((a, b) => a - b);
}
