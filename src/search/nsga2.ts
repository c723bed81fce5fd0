/**
 * NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002; seed 000 §2.3 and ref. [6]) as an ask/tell algorithm over a
 * `Problem`: `nsga2Ask` proposes the variable vectors to evaluate next (the initial sample, then offspring by
 * binary tournament, SBX, polynomial mutation, repair and duplicate elimination), `nsga2Tell` takes their
 * evaluations and applies the elitist survival (constraint-dominated non-dominated sorting of parents and
 * offspring together, the last front cut by crowding distance). The whole state (population, generation
 * counter, evaluation count, the `search` stream's state) is plain data for checkpoints: asking again from a
 * restored state proposes exactly the same vectors.
 */
import { z } from 'zod';
import { rngFromState, rngStream, type Rng, type RngState } from '../engine/random.js';
import { nonDominatedSort, crowdingDistance } from './ranking.js';
import { binaryTournament, floatSample, floorRepair, integerSample, polynomialMutation, sbx, xKey } from './operators.js';
import { checkProblem, SearchError, toIndividual, type BatchEvaluator, type Objectives, type Individual, type Problem } from './problem.js';
import { terminated, type Termination } from './termination.js';

export const Nsga2ConfigSchema = z.strictObject({
  popSize: z.number().int().min(2),
  /** Offspring per generation (pymoo's n_offsprings; default: the population size). */
  nOffspring: z.number().int().min(1).optional(),
  /** Initial sample: uniform reals, or a uniform option per integer gene. */
  sampling: z.enum(['float', 'integer']).default('float'),
  crossover: z.strictObject({ prob: z.number().min(0).max(1), eta: z.number().min(0), varProb: z.number().min(0).max(1).default(0.5), swapProb: z.number().min(0).max(1).default(0.5) }),
  mutation: z.strictObject({ prob: z.number().min(0).max(1), eta: z.number().min(0), varProb: z.number().min(0).max(1).nullable().default(null) }),
  /** `floor`: integer genes (the reference's FloorRepair) after sampling, crossover and mutation. */
  repair: z.enum(['none', 'floor']).default('none'),
  eliminateDuplicates: z.boolean().default(true),
  tournament: z.enum(['rank-crowding', 'dominance-crowding']).default('rank-crowding'),
  /** Rounds of mating to fill the offspring with unique vectors before giving up (pymoo: 100). */
  maxMatingRounds: z.number().int().min(1).default(100),
});

export type Nsga2ConfigInput = z.input<typeof Nsga2ConfigSchema>;
export type Nsga2Config = z.infer<typeof Nsga2ConfigSchema>;

/** Seed 000 Table 2.3 / anchors.md §1.4: SBX 0.9 / 15, PM 0.9 / 20, floor repair, duplicate elimination. */
export const SEED000_OPERATORS = {
  crossover: { prob: 0.9, eta: 15, varProb: 0.5, swapProb: 0.5 },
  mutation: { prob: 0.9, eta: 20, varProb: null },
} as const;

export interface Nsga2State {
  algorithm: 'nsga2';
  /** Generations done: 1 after the initial population (pymoo's n_gen). */
  generation: number;
  evaluations: number;
  /** The survivors, with their rank and crowding distance from the last survival. */
  population: Individual[];
  /** The `search` stream after the last ask. */
  rng: RngState;
}

export function parseNsga2Config(c: Nsga2ConfigInput): Nsga2Config {
  return Nsga2ConfigSchema.parse(c);
}

function repairOf(cfg: Nsga2Config, p: Problem) {
  return cfg.repair === 'floor' ? (x: number[]) => floorRepair(x, p) : (x: number[]) => x;
}

/**
 * Elitist survival (Deb 2002 §3.C): fronts of the constraint-dominated sort fill the next population in order;
 * the front that does not fit is cut by crowding distance (largest first; ties keep the earlier member). Every
 * member gets its rank and the crowding distance within its whole front.
 */
export function survive(pop: readonly Individual[], n: number): Individual[] {
  const fronts = nonDominatedSort(pop.map((i) => i.f), pop.map((i) => i.cv));
  const out: Individual[] = [];
  for (let k = 0; k < fronts.length && out.length < n; k++) {
    const front = fronts[k];
    const cd = crowdingDistance(front.map((i) => pop[i].f));
    let order = front.map((_, j) => j);
    if (out.length + front.length > n) order = order.sort((a, b) => cd[b] - cd[a] || a - b).slice(0, n - out.length);
    for (const j of order) out.push({ ...pop[front[j]], rank: k, crowding: cd[j] });
  }
  return out;
}

/**
 * Draws up to `n` new vectors with `make`, repaired, rejecting duplicates of `existing` and of each other
 * (pymoo's mating loop: up to `rounds` attempts to fill the batch with unique vectors).
 */
function fillUnique(n: number, make: (remaining: number) => number[][], existing: Iterable<readonly number[]>, dedupe: boolean, rounds: number, key: (x: readonly number[]) => string): number[][] {
  const seen = new Set<string>();
  if (dedupe) for (const x of existing) seen.add(key(x));
  const out: number[][] = [];
  for (let r = 0; r < rounds && out.length < n; r++) {
    for (const x of make(n - out.length)) {
      if (out.length >= n) break;
      const k = key(x);
      if (dedupe && seen.has(k)) continue;
      seen.add(k);
      out.push(x);
    }
    if (!dedupe) break;
  }
  return out;
}

/** The initial sample (population size, unique, repaired). */
export function initialSample(p: Problem, cfg: Nsga2Config, rng: Rng, existing: Iterable<readonly number[]> = []): number[][] {
  const repair = repairOf(cfg, p);
  const draw = cfg.sampling === 'integer' ? () => integerSample(p, rng) : () => floatSample(p, rng);
  return fillUnique(cfg.popSize, (m) => Array.from({ length: m }, () => repair(draw())), existing, cfg.eliminateDuplicates, cfg.maxMatingRounds, p.key ?? xKey);
}

/** Offspring of the current population: tournament, SBX, PM, repair, duplicates removed. */
export function makeOffspring(p: Problem, cfg: Nsga2Config, pop: readonly Individual[], rng: Rng): number[][] {
  const repair = repairOf(cfg, p);
  const n = cfg.nOffspring ?? cfg.popSize;
  const mate = (remaining: number) => {
    const matings = Math.ceil(remaining / 2);
    const parents = binaryTournament(pop, 2 * matings, rng, cfg.tournament);
    const kids: number[][] = [];
    for (let m = 0; m < matings; m++) {
      const [c1, c2] = sbx(pop[parents[2 * m]].x, pop[parents[2 * m + 1]].x, p, cfg.crossover, rng);
      // The crossover's repair comes before the mutation, as pymoo applies an operator's repair after it.
      kids.push(repair(c1), repair(c2));
    }
    return kids.map((x) => repair(polynomialMutation(x, p, cfg.mutation, rng)));
  };
  return fillUnique(n, mate, pop.map((i) => i.x), cfg.eliminateDuplicates, cfg.maxMatingRounds, p.key ?? xKey);
}

/** What to evaluate next: the initial sample (no state yet) or the next offspring. */
export function nsga2Ask(p: Problem, cfg: Nsga2Config, state: Nsga2State | null, seed: number | string): { x: number[][]; rng: RngState } {
  checkProblem(p);
  const rng = state ? rngFromState(state.rng) : rngStream(seed, 'search');
  const x = state ? makeOffspring(p, cfg, state.population, rng) : initialSample(p, cfg, rng);
  return { x, rng: rng.state() };
}

/** Takes the evaluations of the asked vectors and returns the next state. */
export function nsga2Tell(p: Problem, cfg: Nsga2Config, state: Nsga2State | null, x: number[][], evals: Objectives[], rng: RngState): Nsga2State {
  if (evals.length !== x.length) throw new SearchError(`nsga2: ${x.length} vectors were asked but ${evals.length} evaluations came back`);
  const gen = (state?.generation ?? 0) + 1;
  const fresh = x.map((xi, i) => toIndividual(p, xi, evals[i], `problem ${p.name}, generation ${gen}, candidate ${i}`));
  const merged = [...(state?.population ?? []), ...fresh];
  return {
    algorithm: 'nsga2',
    generation: gen,
    evaluations: (state?.evaluations ?? 0) + fresh.length,
    population: survive(merged, cfg.popSize),
    rng,
  };
}

export interface GenerationInfo {
  /** The candidates evaluated in this generation. */
  evaluated: Individual[];
  seconds: number;
}

export interface Nsga2RunOptions {
  config: Nsga2ConfigInput;
  termination: Termination;
  seed: number | string;
  /** Where the state is kept between generations (a run's checkpoint); a saved state is resumed. */
  checkpoint?: { load(): Nsga2State | null; save(s: Nsga2State): void };
  onGeneration?: (s: Nsga2State, info: GenerationInfo) => void | Promise<void>;
}

/** Runs NSGA-II to its termination, checkpointing after every generation. */
export async function runNsga2(p: Problem, evaluate: BatchEvaluator, o: Nsga2RunOptions): Promise<Nsga2State> {
  const cfg = parseNsga2Config(o.config);
  let state = o.checkpoint?.load() ?? null;
  while (!state || !terminated(o.termination, state)) {
    const t0 = performance.now();
    const { x, rng } = nsga2Ask(p, cfg, state, o.seed);
    const evals = x.length ? await evaluate(x, { generation: (state?.generation ?? 0) + 1 }) : [];
    const next = nsga2Tell(p, cfg, state, x, evals, rng);
    const evaluated = x.map((xi, i) => toIndividual(p, xi, evals[i], `problem ${p.name}, generation ${next.generation}, candidate ${i}`));
    state = next;
    o.checkpoint?.save(state);
    await o.onGeneration?.(state, { evaluated, seconds: (performance.now() - t0) / 1000 });
  }
  return state;
}
