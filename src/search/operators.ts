/**
 * The variation operators of NSGA-II as the seed-000 reference sets them (seed 000 Table 2.3, anchors.md §1.4:
 * pymoo 0.6's `SBX(prob=0.9, eta=15)`, `PM(eta=20)` with the individual probability 0.9 of Table 2.3 and
 * pymoo's default per-variable probability min(0.5, 1/n), a floor repair for integer genes encoded as reals in
 * [0, n - 1 + 0.99], duplicate elimination), binary tournament selection, and random sampling. Every random
 * number comes from the `Rng` passed in (a seeded stream of src/engine/random.ts).
 */
import type { Rng } from '../engine/random.js';
import type { Individual, Problem } from './problem.js';

export interface SbxConfig {
  /** Probability that a pair of parents is recombined at all (Table 2.3: 0.9). */
  prob: number;
  /** Distribution index (Table 2.3: 15). */
  eta: number;
  /** Probability that a variable of a recombined pair is crossed (pymoo's default 0.5). */
  varProb: number;
  /** Probability that the two children exchange a crossed variable (pymoo's prob_bin, 0.5). */
  swapProb: number;
}

export interface PmConfig {
  /** Probability that an individual is mutated at all (Table 2.3: 0.9). */
  prob: number;
  /** Distribution index (Table 2.3: 20). */
  eta: number;
  /** Probability per variable; null: pymoo's default min(0.5, 1 / nVar). */
  varProb: number | null;
}

const EPS = 1e-14;

/** Uniform random reals within the bounds (pymoo's FloatRandomSampling). */
export function floatSample(p: Pick<Problem, 'xl' | 'xu'>, rng: Rng): number[] {
  return p.xl.map((l, i) => l + rng.next() * (p.xu[i] - l));
}

/**
 * A uniform random option per gene for integer genes encoded as reals in [l, n - 1 + 0.99]: an integer in
 * l..floor(u) (the reference's IntegerRandomSampling over its widened bounds).
 */
export function integerSample(p: Pick<Problem, 'xl' | 'xu'>, rng: Rng): number[] {
  return p.xl.map((l, i) => {
    const lo = Math.ceil(l);
    return lo + rng.int(Math.floor(p.xu[i]) - lo + 1);
  });
}

/**
 * The reference's FloorRepair (anchors.md §1.3): truncate to an integer. With bounds [0, n - 1 + 0.99] every
 * option then covers an interval of the same width, so uniform reals give uniform options. Clamped to the
 * bounds for safety.
 */
export function floorRepair(x: number[], p: Pick<Problem, 'xl' | 'xu'>): number[] {
  return x.map((v, i) => Math.min(Math.max(Math.floor(v), Math.ceil(p.xl[i])), Math.floor(p.xu[i])));
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/**
 * Simulated binary crossover (Deb & Agrawal 1995) as pymoo 0.6 computes it: per crossed variable the parents
 * are ordered (y1 < y2), one random number gives the spread factors toward both bounds, and the children are
 * exchanged with probability `swapProb`. Children are clipped to the bounds.
 */
export function sbx(a: readonly number[], b: readonly number[], p: Pick<Problem, 'xl' | 'xu'>, c: SbxConfig, rng: Rng): [number[], number[]] {
  const c1 = [...a];
  const c2 = [...b];
  if (!(rng.next() < c.prob)) return [c1, c2];
  const exp = 1 / (c.eta + 1);
  const betaq = (beta: number, u: number) => {
    const alpha = 2 - Math.pow(beta, -(c.eta + 1));
    return u <= 1 / alpha ? Math.pow(u * alpha, exp) : Math.pow(1 / (2 - u * alpha), exp);
  };
  for (let i = 0; i < a.length; i++) {
    const cross = rng.next() < c.varProb;
    const xl = p.xl[i];
    const xu = p.xu[i];
    if (!cross || Math.abs(a[i] - b[i]) <= EPS || xl === xu) continue;
    const y1 = Math.min(a[i], b[i]);
    const y2 = Math.max(a[i], b[i]);
    const delta = Math.max(y2 - y1, EPS);
    const u = rng.next();
    let v1 = 0.5 * (y1 + y2 - betaq(1 + (2 * (y1 - xl)) / delta, u) * delta);
    let v2 = 0.5 * (y1 + y2 + betaq(1 + (2 * (xu - y2)) / delta, u) * delta);
    if (rng.next() <= c.swapProb) [v1, v2] = [v2, v1];
    c1[i] = clamp(v1, xl, xu);
    c2[i] = clamp(v2, xl, xu);
  }
  return [c1, c2];
}

/** Per-variable mutation probability: the configured one, else pymoo's min(0.5, 1 / nVar). */
export function mutationVarProb(c: PmConfig, nVar: number): number {
  return c.varProb ?? Math.min(0.5, 1 / nVar);
}

/** Polynomial mutation (Deb & Goyal 1996) as pymoo 0.6 computes it, clipped to the bounds. */
export function polynomialMutation(x: readonly number[], p: Pick<Problem, 'xl' | 'xu'>, c: PmConfig, rng: Rng): number[] {
  const y = [...x];
  if (!(rng.next() < c.prob)) return y;
  const pv = mutationVarProb(c, x.length);
  const exp = 1 / (c.eta + 1);
  for (let i = 0; i < x.length; i++) {
    if (!(rng.next() < pv)) continue;
    const xl = p.xl[i];
    const xu = p.xu[i];
    if (xl === xu) continue;
    const d1 = (x[i] - xl) / (xu - xl);
    const d2 = (xu - x[i]) / (xu - xl);
    const u = rng.next();
    let dq: number;
    if (u <= 0.5) {
      const val = 2 * u + (1 - 2 * u) * Math.pow(1 - d1, c.eta + 1);
      dq = Math.pow(val, exp) - 1;
    } else {
      const val = 2 * (1 - u) + 2 * (u - 0.5) * Math.pow(1 - d2, c.eta + 1);
      dq = 1 - Math.pow(val, exp);
    }
    y[i] = clamp(x[i] + dq * (xu - xl), xl, xu);
  }
  return y;
}

export type TournamentKind = 'rank-crowding' | 'dominance-crowding';

/**
 * Binary tournament (Deb 2002 §3.C, the crowded-comparison operator): the smaller constraint violation wins;
 * among feasible ones the lower rank (`rank-crowding`) or the dominating one (`dominance-crowding`, pymoo's
 * default), then the larger crowding distance; remaining ties are decided at random. Competitors are drawn
 * from concatenated random permutations of the population, as pymoo does. Returns `n` winner indices.
 */
export function binaryTournament(pop: readonly Individual[], n: number, rng: Rng, kind: TournamentKind = 'rank-crowding'): number[] {
  const need = 2 * n;
  const draws: number[] = [];
  while (draws.length < need) draws.push(...rng.permutation(pop.length));
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    const a = draws[2 * t];
    const b = draws[2 * t + 1];
    const A = pop[a];
    const B = pop[b];
    let w: number | null = null;
    if (A.cv > 0 || B.cv > 0) w = A.cv < B.cv ? a : B.cv < A.cv ? b : null;
    else {
      if (kind === 'rank-crowding') w = A.rank < B.rank ? a : B.rank < A.rank ? b : null;
      else {
        let aBetter = false;
        let bBetter = false;
        A.f.forEach((v, i) => {
          if (v < B.f[i]) aBetter = true;
          else if (B.f[i] < v) bBetter = true;
        });
        w = aBetter && !bBetter ? a : bBetter && !aBetter ? b : null;
      }
      if (w === null) w = A.crowding > B.crowding ? a : B.crowding > A.crowding ? b : null;
    }
    out.push(w ?? (rng.next() < 0.5 ? a : b));
  }
  return out;
}

/** The key of a variable vector for duplicate elimination (exact equality; pymoo's epsilon is 1e-16). */
export function xKey(x: readonly number[]): string {
  return x.join(',');
}
