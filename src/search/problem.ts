/**
 * A multi-objective problem as data the algorithms read: variables with bounds, objectives to minimise and
 * inequality constraints g(x) <= 0 (pymoo's convention, which the seed-000 reference uses). The problem says
 * nothing about how it is solved, and the algorithms nothing about what is evaluated: an evaluation is a
 * function from a batch of variable vectors to their objective and constraint values, synchronous (test
 * problems) or asynchronous (trainings run as jobs of the experiment engine).
 */
import { KitError } from '../util/errors.js';

export interface Problem {
  name: string;
  /** Number of variables, objectives and inequality constraints. */
  nVar: number;
  nObj: number;
  nConstr: number;
  /** Lower and upper bound of every variable. */
  xl: number[];
  xu: number[];
  /**
   * What counts as a duplicate for duplicate elimination: vectors with the same key (default: the same values,
   * pymoo's rule). A search space can give its decoded phenotype, so that genomes that differ only in unused
   * genes count as one.
   */
  key?: (x: readonly number[]) => string;
}

/** The values of one candidate: objectives (minimised) and constraints (feasible when every g <= 0). */
export interface Objectives {
  f: number[];
  g?: number[];
  /** Anything the caller wants to keep with the candidate (decoded genome, metrics); stored in checkpoints. */
  data?: Record<string, unknown>;
}

/** A batch evaluator: one evaluation per row of `x`, in order. */
export type BatchEvaluator = (x: number[][], info: { generation: number }) => Objectives[] | Promise<Objectives[]>;

/** A candidate with its values. `cv` is the total constraint violation (0: feasible). */
export interface Individual {
  x: number[];
  f: number[];
  g: number[];
  cv: number;
  /** Non-domination rank (0: the first front) and crowding distance, set by the survival. */
  rank: number;
  crowding: number;
  data?: Record<string, unknown>;
}

export class SearchError extends KitError {
  constructor(message: string) {
    super(message, 'SearchError');
  }
}

/** Total constraint violation: the sum of max(0, g_j) (Deb 2002 §5, pymoo's CV). */
export function constraintViolation(g: readonly number[]): number {
  let s = 0;
  for (const v of g) if (v > 0) s += v;
  return s;
}

/** Checks a problem's shape (bounds present and ordered). */
export function checkProblem(p: Problem): void {
  if (!(Number.isInteger(p.nVar) && p.nVar >= 1)) throw new SearchError(`problem ${p.name}: nVar must be a positive integer, got ${p.nVar}`);
  if (!(Number.isInteger(p.nObj) && p.nObj >= 1)) throw new SearchError(`problem ${p.name}: nObj must be a positive integer, got ${p.nObj}`);
  if (p.xl.length !== p.nVar || p.xu.length !== p.nVar) throw new SearchError(`problem ${p.name}: xl and xu need ${p.nVar} entries, got ${p.xl.length} and ${p.xu.length}`);
  p.xl.forEach((l, i) => {
    if (!(l <= p.xu[i])) throw new SearchError(`problem ${p.name}: variable ${i}: lower bound ${l} exceeds upper bound ${p.xu[i]}`);
  });
}

/** Turns an evaluation into an individual (rank and crowding are set later by the survival). */
export function toIndividual(p: Problem, x: number[], e: Objectives, where: string): Individual {
  if (e.f.length !== p.nObj) throw new SearchError(`${where}: expected ${p.nObj} objective values, got ${e.f.length}`);
  const g = e.g ?? [];
  if (g.length !== p.nConstr) throw new SearchError(`${where}: expected ${p.nConstr} constraint values, got ${g.length}`);
  if (e.f.some((v) => Number.isNaN(v))) throw new SearchError(`${where}: an objective is NaN (${JSON.stringify(e.f)})`);
  return { x: [...x], f: [...e.f], g: [...g], cv: constraintViolation(g), rank: 0, crowding: 0, ...(e.data ? { data: e.data } : {}) };
}
