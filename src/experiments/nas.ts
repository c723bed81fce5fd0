/**
 * The neural architecture search of seed 000 §2.3: NSGA-II over the search spaces of Tables 2.1 (MLP) and 2.2
 * (CNN) with two objectives, accuracy by the seed's evaluation protocol and the normalised printed-electronics
 * complexity (Appendix A), and optional constraints on both (anchors.md §1.4). Settings of Table 2.3.
 *
 * The experiment is a function from its config to jobs and a summary of their outcomes, one generation at a
 * time (a generation's candidates depend on the previous one's scores): every candidate becomes the R x k fold
 * jobs of the protocol (`cvJobs`), all candidates of a generation run as one batch of `runJobs` on the run's
 * executor (thread pool, in-process or BullMQ workers) with the run's ledger, and `summarizeCv` turns their
 * records into the candidate's scores. The search state (population, generation, evaluations, the `search`
 * stream, every candidate evaluated, the per-generation history) is checkpointed after every generation; a run
 * killed during a generation asks again from the last checkpoint, gets the same candidates (same job keys) and
 * trains only the fold jobs missing from the ledger.
 *
 * Objectives (the reference's `nas_problem.py`): f1 = -accuracy (cvBest, in [0, 1]), f2 = (complexity - min) /
 * (max - min) clamped to [0, 1], where min and max are the heuristic of the all-lowest and all-highest genomes,
 * computed by the heuristic's arithmetic even where those networks cannot be built (`genomeComplexity`).
 * Constraints g1 = minAccuracy - accuracy <= 0, g2 = complexity - maxComplexity <= 0 (inactive at the defaults
 * 0 and 1). A candidate whose network cannot be built, or whose training fails, keeps its complexity and scores
 * accuracy 0, as in the reference.
 *
 * A random search with the same budget and batch sizes runs after it (`randomSearch`), and the trained weights
 * of the final front are kept (the selected fold model of each member, retrained as a job that returns them).
 */
import { z } from 'zod';
import path from 'node:path';
import { ViewRefSchema, SubsetSchema, resolveView, loadView, type LoadedView } from '../data/views.js';
import { BACKEND_CHOICES, initEngine } from '../engine/backend.js';
import { describeLayers, countParams, type Architecture } from '../models/arch.js';
import { encodeWeights } from '../models/weights.js';
import { peComplexityCorrected } from '../hw/pe-complexity.js';
import { cvJobs, summarizeCv, type CvProtocol } from './cv.js';
import { runJobs, type JobRecord } from './runner.js';
import type { JobSpecInput } from './job.js';
import { createExecutor, type Executor, type ExecutorChoice } from './executor.js';
import { openLedger, type Ledger } from './ledger.js';
import { openRun, defaultRunDir, type Run, type ComparisonRow } from '../run/rundir.js';
import type { Profile } from '../run/profile.js';
import { renderFigure, type Figure } from '../report/figures.js';
import { formatDuration } from '../run/progress.js';
import { KitError } from '../util/errors.js';
import { canonicalJson } from '../util/json.js';
import { presetsOf } from './registry.js';
import {
  searchSpace,
  spaceBounds,
  extremeGenes,
  genomeArchitecture,
  effectiveGenome,
  genomeComplexity,
  genomeLayerBits,
  describeGenome,
  compressionLabel,
  nsga2Ask,
  nsga2Tell,
  parseNsga2Config,
  randomSearchAsk,
  randomSearchTell,
  toIndividual,
  floorRepair,
  hypervolume,
  nonDominated,
  terminated,
  evaluationBudget,
  type SearchSpace,
  type GenomeContext,
  type Seed000Genome,
  type Problem,
  type Objectives,
  type Individual,
  type Nsga2Config,
  type Nsga2State,
  type RandomSearchState,
} from '../search/index.js';

const probability = z.number().min(0).max(1);

/** A NAS config (presets: src/experiments/registry.ts, `PRESETS.nas`). Defaults: seed 000 Table 2.3. */
export const NasConfigSchema = z
  .strictObject({
    /** Table 2.1 (MLP) or Table 2.2 (CNN). */
    space: z.enum(['mlp', 'cnn']),
    /** `table`: the seed's tables; `reference`: the reference code's CNN classifier (FC heights 8-128, 1-3 FC layers). */
    variant: z.enum(['table', 'reference']),
    /** Options of single genes narrowed to a subset (the reference's options_override), e.g. {"conv_channels1": [16]}. */
    geneOptions: z.record(z.string(), z.array(z.union([z.number(), z.string()])).min(1)).optional(),
    dataset: ViewRefSchema,
    /** Search on a subset of the data (smoke and quick profiles). */
    subset: SubsetSchema.optional(),
    /** Table 2.3: population 40, 8 offspring, 5 generations (pymoo's n_gen: the initial population is generation 1). */
    population: z.number().int().min(2),
    offspring: z.number().int().min(1),
    generations: z.number().int().min(1),
    /** Table 2.3: 30 epochs, patience 5; batch 32 (tabular), 50 (MNIST), 100 (CIFAR-10) (Table 2.4). */
    epochs: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    patience: z.number().int().min(1),
    /** The protocol (conventions.md): k folds, R repeats (Table 2.3's 3 "architecture evaluations"), validation carve-out. */
    folds: z.number().int().min(2),
    repeats: z.number().int().min(1),
    valFraction: z.number().min(0).max(0.5),
    /** Early stopping on the validation loss (the kit's protocol) or the training loss (the reference's rule). */
    monitor: z.enum(['val_loss', 'loss']),
    crossover: z.strictObject({ prob: probability, eta: z.number().min(0) }),
    mutation: z.strictObject({ prob: probability, eta: z.number().min(0), varProb: probability.nullable() }),
    tournament: z.enum(['rank-crowding', 'dominance-crowding']),
    /**
     * Duplicate elimination on the genes (pymoo's rule, the reference) or on the decoded architecture (genomes
     * that differ only in genes their network does not use, say the height of an absent layer, count as one).
     */
    dedupe: z.enum(['genes', 'architecture']),
    /** Constraints (the reference's min_accuracy, max_complexity on the normalised complexity). */
    minAccuracy: probability,
    maxComplexity: probability,
    /** The reference's decoding of a CNN's third hidden FC layer with the output bit width. */
    quirks: z.boolean(),
    /** Keep every CNN buildable (drop convolutions that do not fit, skip poolings that leave no pixel). */
    repair: z.boolean(),
    /** Run the random-search baseline with the same budget afterwards. */
    randomSearch: z.boolean(),
    /** Reference point of the hypervolume of (1 - accuracy, normalised complexity). */
    hypervolumeReference: z.tuple([z.number().positive(), z.number().positive()]),
    /** Retrain the selected fold model of every front member to keep its weights. */
    frontWeights: z.boolean(),
    seed: z.number().int().min(0),
    backend: z.enum(BACKEND_CHOICES as [string, ...string[]]),
  })
  .superRefine((c, ctx) => {
    if (c.offspring > c.population) ctx.addIssue({ code: 'custom', path: ['offspring'], message: `must not exceed the population (${c.population}), as in the reference` });
    if (c.monitor === 'val_loss' && !(c.valFraction > 0)) ctx.addIssue({ code: 'custom', path: ['monitor'], message: 'val_loss needs valFraction > 0; or monitor "loss" (the reference\'s rule)' });
  });

export type NasConfig = z.infer<typeof NasConfigSchema>;

/** Seed 000 Table 2.3 and the kit's protocol: what a preset starts from. */
export const NAS_DEFAULTS: Omit<NasConfig, 'space' | 'dataset'> = {
  variant: 'table',
  population: 40,
  offspring: 8,
  generations: 5,
  epochs: 30,
  batchSize: 32,
  patience: 5,
  folds: 5,
  repeats: 3,
  valFraction: 0.1,
  monitor: 'val_loss',
  crossover: { prob: 0.9, eta: 15 },
  mutation: { prob: 0.9, eta: 20, varProb: null },
  tournament: 'rank-crowding',
  dedupe: 'genes',
  minAccuracy: 0,
  maxComplexity: 1,
  quirks: false,
  repair: false,
  randomSearch: true,
  hypervolumeReference: [1.1, 1.1],
  frontWeights: true,
  seed: 1,
  backend: 'auto',
};

export class NasError extends KitError {
  constructor(message: string) {
    super(message, 'NasError');
  }
}

/** What the search needs to know about the data: one sample's shape and the class count. */
export interface NasData {
  shape: number[];
  classes: number;
}

/** Everything derived from the config and the data: space, problem, genome context, normalisation bounds. */
export interface NasSetup {
  config: NasConfig;
  space: SearchSpace;
  ctx: GenomeContext;
  problem: Problem;
  algorithm: Nsga2Config;
  protocol: CvProtocol;
  /** Heuristic of the all-lowest and all-highest genomes (normalisation bounds). */
  bounds: { min: number; max: number };
  /** The resolved backend every job runs on. */
  backend: 'tensorflow' | 'wasm' | 'cpu';
  datasetName: string;
}

export function nasSetup(config: NasConfig, data: NasData, backend: NasSetup['backend']): NasSetup {
  if (config.space === 'cnn' && data.shape.length !== 3) throw new NasError(`space cnn: dataset ${resolveView(config.dataset).name} has samples of shape [${data.shape}], not images [h, w, c]`);
  let space: SearchSpace;
  try {
    space = searchSpace(config.space, config.variant, config.geneOptions);
  } catch (e) {
    throw new NasError((e as Error).message);
  }
  const ctx: GenomeContext = { input: [...data.shape], classes: data.classes, quirks: config.quirks, repair: config.repair };
  const min = genomeComplexity(space.decode(extremeGenes(space, 'lowest')), ctx).total;
  const max = genomeComplexity(space.decode(extremeGenes(space, 'highest')), ctx).total;
  if (!(max > min)) throw new NasError(`the search space gives no spread of complexity (all-lowest ${min}, all-highest ${max}); widen geneOptions`);
  const bounds = spaceBounds(space);
  const problem: Problem = {
    name: `nas-${config.space}`,
    nObj: 2,
    nConstr: 2,
    ...bounds,
    ...(config.dedupe === 'architecture' ? { key: (x: readonly number[]) => canonicalJson(effectiveGenome(space.decode(floorRepair([...x], bounds)), ctx)) } : {}),
  };
  const algorithm = parseNsga2Config({
    popSize: config.population,
    nOffspring: config.offspring,
    sampling: 'integer',
    crossover: { ...config.crossover, varProb: 0.5, swapProb: 0.5 },
    mutation: config.mutation,
    repair: 'floor',
    eliminateDuplicates: true,
    tournament: config.tournament,
  });
  return {
    config,
    space,
    ctx,
    problem,
    algorithm,
    protocol: { k: config.folds, repeats: config.repeats, valFraction: config.valFraction },
    bounds: { min, max },
    backend,
    datasetName: resolveView(config.dataset).name,
  };
}

/** What the experiment keeps about every evaluated candidate (stored in checkpoints and written to CSV). */
export interface CandidateData {
  [key: string]: unknown;
  id: string;
  generation: number;
  genome: Seed000Genome;
  architecture: string;
  weights: string;
  activation: string;
  compression: string;
  inputBits: number;
  dropout: number;
  buildable: boolean;
  error: string | null;
  /** cvBest of the protocol (0 when the network cannot be built or training failed). */
  accuracy: number;
  cvMean: number | null;
  cvStd: number | null;
  testAccuracy: number | null;
  selected: { repeat: number; fold: number } | null;
  complexity: number;
  complexityNorm: number;
  /** The corrected heuristic of src/hw (true MACs etc.), for buildable networks. */
  complexityCorrected: number | null;
  params: number | null;
  /** Mean epochs trained per fold, and the training seconds of all folds (timing: not deterministic). */
  epochs: number | null;
  trainSeconds: number;
}

/** One candidate before training: its decoded genome, network, cost and fold jobs (none if it cannot be built). */
export interface PreparedCandidate {
  x: number[];
  id: string;
  genome: Seed000Genome;
  arch: Architecture;
  buildError: string | null;
  complexity: number;
  complexityNorm: number;
  complexityCorrected: number | null;
  params: number | null;
  jobs: JobSpecInput[];
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The training every fold job of a candidate shares (Table 2.3: Adam with the genome's lr and weight decay). */
function baseJob(s: NasSetup, genome: Seed000Genome, arch: Architecture, label: string): Parameters<typeof cvJobs>[0] {
  const c = s.config;
  return {
    model: arch,
    data: { source: c.dataset, ...(c.subset ? { subset: c.subset } : {}) },
    train: {
      epochs: c.epochs,
      batchSize: c.batchSize,
      optimizer: { name: 'adam', lr: genome.lr, weightDecay: genome.weightDecay },
      earlyStopping: { patience: c.patience, monitor: c.monitor },
    },
    seed: c.seed,
    backend: s.backend,
    evaluate: ['heldout', 'test'],
    output: { weights: false, history: false },
    label,
  };
}

/** Decodes a candidate, costs it and makes its fold jobs. */
export function prepareCandidate(s: NasSetup, xIn: readonly number[], id: string): PreparedCandidate {
  const x = floorRepair([...xIn], s.problem);
  const genome = s.space.decode(x);
  const arch = genomeArchitecture(genome, s.ctx);
  const complexity = genomeComplexity(genome, s.ctx).total;
  const complexityNorm = clamp01((complexity - s.bounds.min) / (s.bounds.max - s.bounds.min));
  let buildError: string | null = null;
  try {
    describeLayers(arch);
  } catch (e) {
    buildError = (e as Error).message;
  }
  const built = buildError === null;
  return {
    x,
    id,
    genome,
    arch,
    buildError,
    complexity,
    complexityNorm,
    complexityCorrected: built ? peComplexityCorrected(arch, { layers: genomeLayerBits(genome, s.ctx, 'none'), inputBits: genome.inBits, otherBits: 32 }).total : null,
    params: built ? countParams(arch) : null,
    jobs: built ? cvJobs(baseJob(s, genome, arch, id), s.protocol) : [],
  };
}

/** A candidate's objectives, constraints and data from its fold records (in `cvJobs` order). */
export function scoreCandidate(s: NasSetup, c: PreparedCandidate, records: JobRecord[], generation: number): Objectives & { data: CandidateData } {
  let accuracy = 0;
  let error = c.buildError;
  let cv: ReturnType<typeof summarizeCv> | null = null;
  if (!error) {
    cv = summarizeCv(records, s.protocol);
    if (cv.ok) accuracy = cv.cv.cvBest;
    else error = `training failed: ${cv.error}`;
  }
  const ok = cv && cv.ok ? cv.cv : null;
  const d = describeGenome(c.genome, s.ctx);
  const data: CandidateData = {
    id: c.id,
    generation,
    genome: c.genome,
    ...d,
    compression: compressionLabel(c.genome),
    buildable: c.buildError === null,
    error,
    accuracy,
    cvMean: ok?.cvMean ?? null,
    cvStd: ok?.cvStd ?? null,
    testAccuracy: ok?.testAccuracy ?? null,
    selected: ok?.selected ?? null,
    complexity: c.complexity,
    complexityNorm: c.complexityNorm,
    complexityCorrected: c.complexityCorrected,
    params: c.params,
    epochs: ok ? ok.folds.reduce((a, f) => a + f.epochs, 0) / ok.folds.length : null,
    trainSeconds: records.reduce((a, r) => a + (r.outcome.status === 'ok' ? r.outcome.result.timing.seconds : 0), 0),
  };
  return {
    f: [-accuracy, c.complexityNorm],
    g: [s.config.minAccuracy - accuracy, c.complexityNorm - s.config.maxComplexity],
    data,
  };
}

/** Hypervolume of the feasible candidates' (1 - accuracy, normalised complexity). */
export function nasHypervolume(inds: readonly Individual[], ref: readonly [number, number]): number {
  return hypervolume(inds.filter((i) => i.cv === 0).map((i) => [1 + i.f[0], i.f[1]]), ref);
}

/** Members of the first front (feasible, non-dominated) of a set of candidates. */
export function paretoFront(inds: readonly Individual[]): Individual[] {
  const feasible = inds.filter((i) => i.cv === 0);
  return nonDominated(feasible.map((i) => i.f)).map((k) => feasible[k]);
}

/**
 * The front with copies merged: genomes that decode to the same network (they differ only in genes the network
 * does not use) appear once, the first of them, with the number of copies. Sorted by complexity.
 */
export function distinctFront(s: NasSetup, inds: readonly Individual[]): { ind: Individual; copies: number }[] {
  const groups = new Map<string, { ind: Individual; copies: number }>();
  for (const i of paretoFront(inds)) {
    const key = canonicalJson(effectiveGenome((i.data as CandidateData).genome, s.ctx));
    const g = groups.get(key);
    if (g) g.copies++;
    else groups.set(key, { ind: i, copies: 1 });
  }
  return [...groups.values()].sort((a, b) => a.ind.f[1] - b.ind.f[1] || a.ind.f[0] - b.ind.f[0]);
}

export interface NasEnv {
  run: Run;
  executor: Executor;
  ledger: Ledger;
  /** The profile label of tables and figures. */
  profile: string;
  quiet?: boolean;
  /** Progress lines (generation summaries); default: none. */
  say?: (line: string) => void;
}

export interface HistoryRow {
  [key: string]: unknown;
  algorithm: 'nsga2' | 'random-search';
  /** Generation (NSGA-II, 1 = initial population) or batch (random search). */
  generation: number;
  evaluations: number;
  hypervolume: number;
  frontSize: number;
  bestAccuracy: number;
  /** Wall time of the generation and the summed training time of its jobs (timing: not deterministic). */
  seconds: number;
  trainSeconds: number;
}

interface NsgaCheckpoint {
  nsga2: Nsga2State;
  archive: Individual[];
  history: HistoryRow[];
}
interface RandomCheckpoint {
  search: RandomSearchState;
  history: HistoryRow[];
}

/** Trains a batch of candidates as one `runJobs` call and scores them. */
async function evaluateBatch(s: NasSetup, env: NasEnv, x: number[][], tag: string, generation: number, label: string): Promise<(Objectives & { data: CandidateData })[]> {
  const cands = x.map((xi, i) => prepareCandidate(s, xi, `${tag}-${i}`));
  const jobs = cands.flatMap((c) => c.jobs);
  const unbuildable = cands.filter((c) => c.buildError).length;
  if (unbuildable) env.say?.(`${label}: ${unbuildable} of ${cands.length} candidates cannot be built; they score accuracy 0`);
  const records = jobs.length ? (await runJobs(jobs, { executor: env.executor, ledger: env.ledger, log: env.run.log, quiet: env.quiet, label })).records : [];
  let k = 0;
  return cands.map((c) => {
    const rec = records.slice(k, k + c.jobs.length);
    k += c.jobs.length;
    return scoreCandidate(s, c, rec, generation);
  });
}

const summaryOf = (i: Individual) => {
  const d = i.data as CandidateData;
  return { id: d.id, genes: i.x, accuracy: d.accuracy, complexityNorm: d.complexityNorm, rank: i.rank, architecture: d.architecture };
};

function historyRow(algorithm: HistoryRow['algorithm'], generation: number, evaluations: number, set: Individual[], fresh: Individual[], seconds: number, ref: [number, number]): HistoryRow {
  const front = paretoFront(set);
  return {
    algorithm,
    generation,
    evaluations,
    hypervolume: nasHypervolume(set, ref),
    frontSize: front.length,
    bestAccuracy: Math.max(0, ...set.map((i) => (i.data as CandidateData).accuracy)),
    seconds,
    trainSeconds: fresh.reduce((a, i) => a + (i.data as CandidateData).trainSeconds, 0),
  };
}

export interface NasResult {
  setup: NasSetup;
  /** Final NSGA-II population (rank and crowding from the last survival). */
  population: Individual[];
  /** Every candidate NSGA-II evaluated, in order. */
  archive: Individual[];
  history: HistoryRow[];
  randomSearch: { archive: Individual[]; history: HistoryRow[] } | null;
  /** Files of the front's trained weights, by candidate id. */
  frontWeights: Record<string, string>;
}

/** Runs (or resumes) the search, the random search and the front's retraining; writes nothing but checkpoints, weights and log lines. */
export async function runNas(s: NasSetup, env: NasEnv): Promise<NasResult> {
  const c = s.config;
  const { run } = env;
  const ref = c.hypervolumeReference;
  const termination = { kind: 'generations' as const, n: c.generations };
  // NSGA-II
  let ck = run.checkpoints.load<NsgaCheckpoint>('nas-nsga2');
  if (ck) env.say?.(`resuming NSGA-II after generation ${ck.nsga2.generation} (${ck.nsga2.evaluations} evaluations)`);
  while (!ck || !terminated(termination, ck.nsga2)) {
    const t0 = performance.now();
    const generation = (ck?.nsga2.generation ?? 0) + 1;
    const { x, rng } = nsga2Ask(s.problem, s.algorithm, ck?.nsga2 ?? null, c.seed);
    const label = `generation ${generation}/${c.generations}`;
    const evals = await evaluateBatch(s, env, x, `g${generation}`, generation, label);
    const nsga2 = nsga2Tell(s.problem, s.algorithm, ck?.nsga2 ?? null, x, evals, rng);
    const fresh = x.map((xi, i) => toIndividual(s.problem, xi, evals[i], `${label}, candidate ${i}`));
    const seconds = (performance.now() - t0) / 1000;
    const row = historyRow('nsga2', generation, nsga2.evaluations, nsga2.population, fresh, seconds, ref);
    ck = { nsga2, archive: [...(ck?.archive ?? []), ...fresh], history: [...(ck?.history ?? []), row] };
    run.checkpoints.save('nas-nsga2', ck);
    run.log({ type: 'generation', ...row, population: nsga2.population.map(summaryOf), front: paretoFront(nsga2.population).map(summaryOf) });
    env.say?.(`${label}: ${x.length} candidates, ${nsga2.evaluations} evaluations, hypervolume ${row.hypervolume.toFixed(4)}, front ${row.frontSize}, best accuracy ${(100 * row.bestAccuracy).toFixed(2)}% (${formatDuration(seconds)})`);
  }
  const population = ck.nsga2.population;
  // Random search with the same budget, in batches of the population and offspring sizes.
  let randomSearch: NasResult['randomSearch'] = null;
  if (c.randomSearch) {
    const budget = evaluationBudget(termination, c.population, c.offspring);
    const rcfg = { sampling: 'integer' as const, repair: 'floor' as const, batchSizes: [c.population, c.offspring], budget };
    let rk = run.checkpoints.load<RandomCheckpoint>('nas-random');
    while (!rk || rk.search.evaluations < budget) {
      const t0 = performance.now();
      const batch = (rk?.search.batch ?? 0) + 1;
      const { x, rng } = randomSearchAsk(s.problem, rcfg, rk?.search ?? null, c.seed);
      if (!x.length) break;
      const label = `random search ${batch}/${c.generations}`;
      const evals = await evaluateBatch(s, env, x, `r${batch}`, batch, label);
      const search = randomSearchTell(s.problem, rk?.search ?? null, x, evals, rng);
      const seconds = (performance.now() - t0) / 1000;
      const fresh = search.archive.slice(search.archive.length - x.length);
      const row = historyRow('random-search', batch, search.evaluations, search.archive, fresh, seconds, ref);
      rk = { search, history: [...(rk?.history ?? []), row] };
      run.checkpoints.save('nas-random', rk);
      run.log({ type: 'random-search', ...row, front: paretoFront(search.archive).map(summaryOf) });
      env.say?.(`${label}: ${search.evaluations} evaluations, hypervolume ${row.hypervolume.toFixed(4)}, best accuracy ${(100 * row.bestAccuracy).toFixed(2)}% (${formatDuration(seconds)})`);
    }
    randomSearch = rk ? { archive: rk.search.archive, history: rk.history } : { archive: [], history: [] };
  }
  // The front's weights: the selected fold model of every member (best repeat, best fold), retrained as a job
  // that returns its weights (same spec apart from the output: the same bits as in the search).
  const frontWeights: Record<string, string> = {};
  if (c.frontWeights) {
    const members = distinctFront(s, population).map((m) => m.ind).filter((i) => (i.data as CandidateData).selected);
    const specs = members.map((i) => {
      const d = i.data as CandidateData;
      const prepared = prepareCandidate(s, i.x, d.id);
      const spec = prepared.jobs[d.selected!.repeat * s.protocol.k + d.selected!.fold];
      return { ...spec, output: { weights: true, history: true }, label: `front ${d.id} r${d.selected!.repeat} f${d.selected!.fold}` };
    });
    if (specs.length) {
      const { records } = await runJobs(specs, { executor: env.executor, ledger: env.ledger, log: run.log, quiet: env.quiet, label: 'front weights' });
      records.forEach((r, k) => {
        const d = members[k].data as CandidateData;
        if (r.outcome.status !== 'ok') return;
        // run.writeJson: with the run's provenance, like every result file.
        const file = run.writeJson(path.join('front', `${d.id}.json`), {
          id: d.id,
          genes: members[k].x,
          genome: d.genome,
          architecture: r.outcome.result.architecture,
          description: { architecture: d.architecture, weights: d.weights, activation: d.activation, inputBits: d.inputBits, dropout: d.dropout },
          accuracy: d.accuracy,
          complexity: d.complexity,
          complexityNorm: d.complexityNorm,
          fold: { ...d.selected, heldOutAccuracy: r.outcome.result.metrics.heldOutAccuracy },
          weights: encodeWeights(r.outcome.result.weights!),
        });
        frontWeights[d.id] = path.relative(run.dir, file);
      });
    }
  }
  return { setup: s, population, archive: ck.archive, history: ck.history, randomSearch, frontWeights };
}

// ---------------------------------------------------------------------------------------------------------------
// results: tables, figures, comparison

/** A CSV row of a candidate: decoded genes, scores and costs. */
export function candidateRow(s: NasSetup, i: Individual, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const d = i.data as CandidateData;
  const genes = Object.fromEntries(s.space.genes.map((g, k) => [`gene_${g.name}`, g.options[i.x[k]]]));
  return {
    id: d.id,
    generation: d.generation,
    ...extra,
    accuracy: d.accuracy,
    cv_mean: d.cvMean,
    cv_std: d.cvStd,
    complexity: d.complexity,
    complexity_norm: d.complexityNorm,
    complexity_corrected: d.complexityCorrected,
    architecture: d.architecture,
    weights: d.weights,
    activation: d.activation,
    compression: d.compression,
    input_bits: d.inputBits,
    dropout: d.dropout,
    params: d.params,
    buildable: d.buildable,
    feasible: i.cv === 0,
    error: d.error ?? '',
    genes: i.x.join(' '),
    ...genes,
    epochs: d.epochs,
    train_seconds: d.trainSeconds,
  };
}

/** Seed 000 Table 2.4: wall time of each NAS (hours, on GTX 1080 / A5000 GPUs). */
export const TABLE_2_4_HOURS: Record<string, { hours: number | null; note: string }> = {
  cardio: { hours: 9, note: 'GTX 1080, batch 32' },
  'breast-cancer': { hours: 2, note: 'GTX 1080, batch 32' },
  'mini-mnist': { hours: 22.5, note: 'A5000, batch 50; the seed does not say whether the MLP or the CNN space' },
  vertebral: { hours: 3.5, note: 'A5000, batch 32' },
  'mini-cifar10': { hours: null, note: 'A5000, batch 100; "running" in the seed, no time reported' },
};

/** comparison.csv: Table 2.3's settings and Table 2.4's wall time beside this run's. */
export function nasComparison(s: NasSetup, result: NasResult, profile: string): ComparisonRow[] {
  const c = s.config;
  const row = (table: string, quantity: string, paper: number | string | null, kit: number | string | null, note = ''): ComparisonRow => ({
    seed_document: 'seed 000',
    table_or_figure: table,
    quantity,
    paper_value: paper,
    kit_value: kit,
    profile,
    note,
  });
  const seconds = result.history.reduce((a, h) => a + h.seconds, 0);
  const t24 = TABLE_2_4_HOURS[s.datasetName];
  const rows: ComparisonRow[] = [
    row('Table 2.3', 'population size', 40, c.population),
    row('Table 2.3', 'offspring count', 8, c.offspring),
    row('Table 2.3', 'generations', 5, c.generations, 'pymoo n_gen: the initial population is generation 1'),
    row('Table 2.3', 'mutation probability', 0.9, c.mutation.prob, `per variable ${c.mutation.varProb ?? `min(0.5, 1/${s.problem.nVar})`}`),
    row('Table 2.3', 'mutation eta', 20, c.mutation.eta),
    row('Table 2.3', 'crossover probability', 0.9, c.crossover.prob),
    row('Table 2.3', 'crossover eta', 15, c.crossover.eta),
    row('Table 2.3', 'training epochs', 30, c.epochs),
    row('Table 2.3', 'early stopping patience', 5, c.patience, c.monitor === 'val_loss' ? 'on a validation part of the training folds (the reference: training loss)' : 'on the training loss, as the reference'),
    row('Table 2.3', 'architecture evaluations (repeats)', 3, c.repeats, `${c.folds}-fold stratified CV per repeat; the objective is the best repeat's mean`),
    row('Table 2.3', 'learning rate', 0.001, (s.space.genes.find((g) => g.name === 'learning_rate')?.options[0] as number) ?? null),
    row('Table 2.3', 'weight decay', 0.00001, (s.space.genes.find((g) => g.name === 'weight_decay')?.options[0] as number) ?? null),
  ];
  if (t24) {
    rows.push(row('Table 2.4', `NAS wall time on ${s.datasetName} (hours)`, t24.hours, seconds / 3600, `seed: ${t24.note}; kit: NSGA-II part of this run on this machine's CPU (${formatDuration(seconds)}), ${result.archive.length} evaluations, without the random search`));
  }
  return rows;
}

const COMPRESSION_ORDER = ['binary', 'ternary', 'nbits', 'none'];
const ACTIVATION_ORDER = ['none', 'binary', 'binary-reste', 'relu'];

function pointRows(s: NasSetup, inds: readonly Individual[], set: string) {
  return inds.map((i) => {
    const d = i.data as CandidateData;
    return { id: d.id, set, accuracy: 100 * d.accuracy, complexity: Math.max(1, d.complexity), complexityNorm: d.complexityNorm, compression: s.config.space === 'mlp' ? d.compression : (d.genome as { convCompression: string }).convCompression, activation: d.activation, architecture: d.architecture };
  });
}

/**
 * The figures: the final population over every evaluated candidate, coloured by compression and shaped by
 * activation (seed 000 Figs. 3.3-3.6; for the CNN the colour is the conv layers' compression), the front alone,
 * and the hypervolume per evaluation of NSGA-II and the random search.
 */
export async function nasFigures(s: NasSetup, result: NasResult, o: { dir?: string; profile: string }): Promise<Figure[]> {
  const what = `${s.config.space.toUpperCase()} on ${s.datasetName}`;
  const colorTitle = s.config.space === 'mlp' ? 'compression' : 'conv compression';
  // The heuristic spans orders of magnitude (the all-highest genome bounds the normalisation): a log axis of the
  // raw value; the objective is its linear normalisation between the bounds.
  const x = { field: 'complexity', type: 'quantitative', title: 'complexity (seed 000 heuristic, log scale)', scale: { type: 'log', domain: [Math.max(1, s.bounds.min), s.bounds.max] } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy (%, best repeat of the CV)', scale: { domain: [0, 100] } };
  const color = { field: 'compression', type: 'nominal', title: colorTitle, scale: { domain: COMPRESSION_ORDER } };
  const shape = { field: 'activation', type: 'nominal', title: 'activation', scale: { domain: ACTIVATION_ORDER } };
  const tooltip = [{ field: 'id' }, { field: 'architecture' }, { field: 'accuracy', format: '.2f' }, { field: 'complexityNorm', format: '.4f' }];
  const front = pointRows(s, distinctFront(s, result.population).map((m) => m.ind), 'front');
  const frontLine = { data: { values: front }, mark: { type: 'line', interpolate: 'step-after', color: '#555555', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x, y } };
  const figs: Figure[] = [];
  figs.push(
    await renderFigure(
      {
        title: { text: `NAS, ${what}: final population`, subtitle: `NSGA-II, ${result.archive.length} evaluations (grey: every candidate evaluated; dashed: the front)` },
        width: 460,
        height: 300,
        layer: [
          { data: { values: pointRows(s, result.archive, 'evaluated') }, mark: { type: 'point', filled: true, size: 22, color: '#bbbbbb', opacity: 0.7 }, encoding: { x, y } },
          frontLine,
          { data: { values: pointRows(s, result.population, 'population') }, mark: { type: 'point', filled: true, size: 70, opacity: 0.9 }, encoding: { x, y, color, shape, tooltip } },
        ],
      },
      { dir: o.dir, name: 'population', profile: o.profile },
    ),
  );
  figs.push(
    await renderFigure(
      {
        title: { text: `NAS, ${what}: Pareto front`, subtitle: `${front.length} distinct non-dominated architectures of the final population` },
        width: 460,
        height: 300,
        layer: [frontLine, { data: { values: front }, mark: { type: 'point', filled: true, size: 90 }, encoding: { x, y, color, shape, tooltip } }],
      },
      { dir: o.dir, name: 'front', profile: o.profile },
    ),
  );
  const hv = [
    ...result.history.map((h) => ({ algorithm: 'NSGA-II', evaluations: h.evaluations, hypervolume: h.hypervolume })),
    ...(result.randomSearch?.history ?? []).map((h) => ({ algorithm: 'random search', evaluations: h.evaluations, hypervolume: h.hypervolume })),
  ];
  const [r1, r2] = s.config.hypervolumeReference;
  figs.push(
    await renderFigure(
      {
        title: { text: `NAS, ${what}: hypervolume per generation`, subtitle: `of (1 - accuracy, normalised complexity), reference point (${r1}, ${r2}); same budget for both` },
        width: 460,
        height: 260,
        data: { values: hv },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'evaluations', type: 'quantitative', title: 'candidates evaluated', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'hypervolume', type: 'quantitative', title: 'hypervolume', scale: { zero: false } },
          color: { field: 'algorithm', type: 'nominal', title: null, legend: { orient: 'top' } },
        },
      },
      { dir: o.dir, name: 'hypervolume', profile: o.profile },
    ),
  );
  return figs;
}

export interface NasSummary {
  [key: string]: unknown;
  space: string;
  dataset: string;
  evaluations: number;
  generations: number;
  hypervolume: number;
  randomSearchHypervolume: number | null;
  bounds: { min: number; max: number };
  front: Record<string, unknown>[];
  seconds: number;
  randomSearchSeconds: number | null;
  trainSeconds: number;
}

/** Writes the run's tables (population, front, every evaluation, random search, generations), figures and comparison. */
export async function writeNasResults(result: NasResult, run: Run, profile: string): Promise<{ summary: NasSummary; figures: Figure[] }> {
  const s = result.setup;
  const rank = (i: Individual) => ({ rank: i.rank, crowding: Number.isFinite(i.crowding) ? i.crowding : 'inf' });
  const popRows = [...result.population].sort((a, b) => a.rank - b.rank || a.f[1] - b.f[1] || a.f[0] - b.f[0]).map((i) => candidateRow(s, i, rank(i)));
  const front = distinctFront(s, result.population);
  const frontRows = front.map(({ ind, copies }) => candidateRow(s, ind, { copies, weights_file: result.frontWeights[(ind.data as CandidateData).id] ?? '' }));
  run.writeCsv('population.csv', popRows);
  run.writeCsv('front.csv', frontRows);
  run.writeCsv('evaluations.csv', result.archive.map((i) => candidateRow(s, i)));
  if (result.randomSearch) {
    const rsFront = new Set(paretoFront(result.randomSearch.archive));
    run.writeCsv('random-search.csv', result.randomSearch.archive.map((i) => candidateRow(s, i, { front: rsFront.has(i) })));
  }
  run.writeCsv('generations.csv', [...result.history, ...(result.randomSearch?.history ?? [])]);
  run.writeComparison(nasComparison(s, result, profile));
  const figures = await nasFigures(s, result, { dir: run.figurePath(''), profile });
  const last = result.history.at(-1)!;
  const summary: NasSummary = {
    space: s.config.space,
    dataset: s.datasetName,
    evaluations: last.evaluations,
    generations: last.generation,
    hypervolume: last.hypervolume,
    randomSearchHypervolume: result.randomSearch?.history.at(-1)?.hypervolume ?? null,
    bounds: s.bounds,
    front: front.map(({ ind }) => {
      const d = ind.data as CandidateData;
      return { id: d.id, accuracy: d.accuracy, complexity: d.complexity, complexityNorm: d.complexityNorm, architecture: d.architecture, weights: d.weights, activation: d.activation };
    }),
    seconds: result.history.reduce((a, h) => a + h.seconds, 0),
    randomSearchSeconds: result.randomSearch ? result.randomSearch.history.reduce((a, h) => a + h.seconds, 0) : null,
    trainSeconds: [...result.history, ...(result.randomSearch?.history ?? [])].reduce((a, h) => a + h.trainSeconds, 0),
  };
  run.writeJson('result.json', { ...summary, profile, population: result.population.map((i) => ({ genes: i.x, f: i.f, rank: i.rank })) });
  return { summary, figures };
}

// ---------------------------------------------------------------------------------------------------------------
// presets

/**
 * A preset's config at a profile (NAS_DEFAULTS < preset < profile < `over`), validated: what `tck nas --preset
 * <p> --profile <profile>` runs and what the notebooks use, so both land in the same run directory. The backend
 * defaults to TCK_BACKEND, else auto.
 */
export function nasPresetConfig(preset: string, profile: 'smoke' | 'quick' | 'paper', over: Partial<NasConfig> = {}): NasConfig {
  const p = presetsOf<NasConfig>('nas')[preset];
  if (!p) throw new KitError(`unknown nas preset ${JSON.stringify(preset)}; known: ${Object.keys(presetsOf('nas')).join(', ')}`, 'UsageError');
  const merged = { ...NAS_DEFAULTS, backend: process.env.TCK_BACKEND ?? NAS_DEFAULTS.backend, ...p.config, ...p.profiles[profile], ...over };
  const r = NasConfigSchema.safeParse(merged);
  if (!r.success) throw new NasError(`nas preset ${preset} (${profile}): ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * Everything that can be wrong with a config's inputs, checked before a run directory exists: the engine, the
 * data (a missing dataset fails with the command that gets it) and the search setup.
 */
export async function prepareNas(config: NasConfig): Promise<{ engine: Awaited<ReturnType<typeof initEngine>>; data: LoadedView; setup: NasSetup }> {
  const engine = await initEngine({ backend: config.backend });
  const data = await loadView(config.dataset, config.seed);
  const setup = nasSetup(config, { shape: data.train.shape, classes: data.train.classNames.length }, engine.backend as NasSetup['backend']);
  return { engine, data, setup };
}

export interface NasPresetRun {
  seed?: number;
  /** Run directory (default results/nas-<preset>-<profile>, the one `tck nas` uses). */
  out?: string;
  fresh?: boolean;
  /** Where the jobs run (default: in this process, as in a notebook). */
  executor?: ExecutorChoice;
  quiet?: boolean;
  say?: (line: string) => void;
}

/**
 * `tck nas --preset <p> --profile <profile>` as a function (the notebooks): same config, same run directory,
 * so a run `reproduce.sh` finished is only read back (its generations from the checkpoint, its trainings from
 * the ledger) and an unfinished one resumes.
 */
export async function runNasPreset(preset: string, profile: Profile, o: NasPresetRun = {}): Promise<{ config: NasConfig; result: NasResult; summary: NasSummary; figures: Figure[]; runDir: string }> {
  const config = nasPresetConfig(preset, profile, o.seed !== undefined ? { seed: o.seed } : {});
  const { engine, data, setup } = await prepareNas(config);
  const run = openRun({ command: 'nas', preset, profile, seed: config.seed, config, out: o.out ?? defaultRunDir('nas', preset, profile), fresh: o.fresh, engine });
  run.addDataset(data.record);
  const executor = await createExecutor(o.executor ?? { workers: 'in-process' });
  try {
    const result = await runNas(setup, { run, executor, ledger: openLedger(path.join(run.dir, 'ledger')), profile, quiet: o.quiet ?? true, say: o.say });
    const { summary, figures } = await writeNasResults(result, run, profile);
    run.finish();
    return { config, result, summary, figures, runDir: run.dir };
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    await executor.close();
  }
}
