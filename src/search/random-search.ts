/**
 * The random-search baseline: uniformly random candidates (the same sampling and repair as NSGA-II's initial
 * population), unique over the whole search, in batches the size of NSGA-II's generations, so that both
 * spend the same evaluation budget and their fronts can be compared after every batch. Ask/tell like NSGA-II,
 * with its state (every evaluated candidate, the `random-search` stream) as plain data for checkpoints.
 */
import { rngFromState, rngStream, type RngState } from '../engine/random.js';
import { floatSample, floorRepair, integerSample, xKey } from './operators.js';
import { nonDominatedSort } from './ranking.js';
import { checkProblem, SearchError, toIndividual, type BatchEvaluator, type Objectives, type Individual, type Problem } from './problem.js';

export interface RandomSearchConfig {
  sampling: 'float' | 'integer';
  repair: 'none' | 'floor';
  /** Candidates per batch: batch b has batchSizes[min(b, last)] (NSGA-II's: [population, offspring]). */
  batchSizes: number[];
  /** Total evaluations. */
  budget: number;
  /** Attempts per candidate to find one not yet evaluated. */
  maxTries?: number;
}

export interface RandomSearchState {
  algorithm: 'random-search';
  /** Batches done. */
  batch: number;
  evaluations: number;
  /** Every evaluated candidate, with rank (0: non-dominated over the archive). */
  archive: Individual[];
  rng: RngState;
}

export function randomSearchAsk(p: Problem, c: RandomSearchConfig, state: RandomSearchState | null, seed: number | string): { x: number[][]; rng: RngState } {
  checkProblem(p);
  const rng = state ? rngFromState(state.rng) : rngStream(seed, 'random-search');
  const done = state?.evaluations ?? 0;
  const b = state?.batch ?? 0;
  const size = Math.min(c.batchSizes[Math.min(b, c.batchSizes.length - 1)], c.budget - done);
  const key = p.key ?? xKey;
  const seen = new Set((state?.archive ?? []).map((i) => key(i.x)));
  const x: number[][] = [];
  for (let k = 0; k < size; k++) {
    for (let t = 0; t < (c.maxTries ?? 100); t++) {
      const raw = c.sampling === 'integer' ? integerSample(p, rng) : floatSample(p, rng);
      const v = c.repair === 'floor' ? floorRepair(raw, p) : raw;
      if (seen.has(key(v))) continue;
      seen.add(key(v));
      x.push(v);
      break;
    }
  }
  return { x, rng: rng.state() };
}

export function randomSearchTell(p: Problem, state: RandomSearchState | null, x: number[][], evals: Objectives[], rng: RngState): RandomSearchState {
  if (evals.length !== x.length) throw new SearchError(`random search: ${x.length} vectors were asked but ${evals.length} evaluations came back`);
  const b = (state?.batch ?? 0) + 1;
  const archive = [...(state?.archive ?? []), ...x.map((xi, i) => toIndividual(p, xi, evals[i], `problem ${p.name}, random batch ${b}, candidate ${i}`))];
  const fronts = nonDominatedSort(archive.map((i) => i.f), archive.map((i) => i.cv));
  const ranked = archive.map((i) => ({ ...i }));
  fronts.forEach((f, k) => f.forEach((j) => (ranked[j].rank = k)));
  return { algorithm: 'random-search', batch: b, evaluations: archive.length, archive: ranked, rng };
}

export interface RandomRunOptions {
  config: RandomSearchConfig;
  seed: number | string;
  checkpoint?: { load(): RandomSearchState | null; save(s: RandomSearchState): void };
  onBatch?: (s: RandomSearchState, info: { evaluated: Individual[]; seconds: number }) => void | Promise<void>;
}

/** Runs the random search to its budget, checkpointing after every batch. */
export async function runRandomSearch(p: Problem, evaluate: BatchEvaluator, o: RandomRunOptions): Promise<RandomSearchState> {
  let state = o.checkpoint?.load() ?? null;
  while (!state || state.evaluations < o.config.budget) {
    const t0 = performance.now();
    const { x, rng } = randomSearchAsk(p, o.config, state, o.seed);
    if (!x.length && state) break; // the space is exhausted
    const evals = x.length ? await evaluate(x, { generation: (state?.batch ?? 0) + 1 }) : [];
    const next = randomSearchTell(p, state, x, evals, rng);
    const evaluated = next.archive.slice(next.archive.length - x.length);
    state = next;
    o.checkpoint?.save(state);
    await o.onBatch?.(state, { evaluated, seconds: (performance.now() - t0) / 1000 });
  }
  return state;
}
