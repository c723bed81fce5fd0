/**
 * `runJob(spec)`: the one training pipeline of the kit. Loads the dataset view (cached per process and thread),
 * takes the subset and the split the spec names, builds the model with its seeded initialisers, applies the
 * init transforms and hooks, trains with `fit`, evaluates, and returns plain data. A pure function of the spec:
 * the same spec gives the same bits on any thread or machine with the same backend (only `timing` differs).
 */
import { initEngine } from '../engine/backend.js';
import { rngStream } from '../engine/random.js';
import { loadView } from '../data/views.js';
import { syntheticDataset } from '../data/synthetic.js';
import { miniSubset, stratifiedSplit, subset } from '../data/split.js';
import { DataError, type Dataset } from '../data/types.js';
import type { DatasetRecord } from '../run/provenance.js';
import { type Architecture, countParams } from '../models/arch.js';
import { architectureByName } from '../models/zoo.js';
import { buildModel } from '../models/build.js';
import { readModelWeights, type ModelWeights } from '../models/weights.js';
import { fitTrainee, modelTrainee, type EpochLog, type FitCheckpoint, type FitEvent, type Trainee } from '../train/fit.js';
import { fastPathSupport, fastTrainee, type KernelsUsed } from '../fast/net.js';
import { KitError } from '../util/errors.js';
import { cvSplits } from '../train/cv.js';
import { canonicalJson } from '../util/json.js';
import { jobLabel, parseJobSpec, trainSeedOf, type JobSpec, type JobSpecInput } from './job.js';
import { makeHooks, prepareModel } from './hooks.js';
import { runGeneticJob, type GeneticOutcome } from '../binary/job.js';
import { augmentation } from '../binary/augment.js';

export type EpochRecord = Omit<EpochLog, 'seconds'>;

export interface JobMetrics {
  /** Mean loss and accuracy of the last training epoch (over its mini-batches, in training mode). */
  trainLoss: number;
  trainAccuracy: number;
  /** Inference-mode loss and accuracy of the trained (or restored best) model on each evaluated set. */
  valLoss: number | null;
  valAccuracy: number | null;
  heldOutLoss: number | null;
  heldOutAccuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
}

export interface JobResult {
  metrics: JobMetrics;
  /** Per-epoch losses and accuracies (no wall times: those are in `timing`). */
  history: EpochRecord[];
  epochs: number;
  /** Epoch (0-based) whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  trainSamples: number;
  params: number;
  /** The architecture trained (after init transforms such as clustering). */
  architecture: Architecture;
  dataset: DatasetRecord;
  weights?: ModelWeights;
  /** A genetic job's counts and curve (src/binary/job.ts). */
  genetic?: GeneticOutcome;
  /** The training path that ran (`trainingPath`): the kit's fast trainer, the tfjs reference path, or a genetic trainer (src/binary/). */
  path: 'fast' | 'tfjs' | 'genetic';
  /** Why an `auto` job trained on tfjs (the first layer or option the fast path does not take). */
  pathReason?: string;
  /** The only part that differs between runs of the same spec. */
  timing: { seconds: number; samplesPerSec: number; backend: string; /** The fast path's kernels: wasm SIMD (with OpenBLAS for large products where built), or JavaScript where the engine has no SIMD. */ kernels?: KernelsUsed; /** The native GEMM's configuration and thread count, when it ran (its bits depend on both). */ blas?: string };
}

export interface JobContext {
  /** Progress of the training (batch and epoch events). */
  onEvent?: (e: FitEvent) => void;
  /** Per-epoch checkpoints of this one training (`tck train` resumes mid-training with them). */
  checkpoint?: FitCheckpoint;
  batchEventEvery?: number;
}

export interface LoadedData {
  train: Dataset;
  test?: Dataset;
  record: DatasetRecord;
}

/** Datasets loaded by this process or thread, by source and seed: a worker loads each view once. */
const cache = new Map<string, Promise<LoadedData>>();

/** The job's dataset (loaded once per process or thread and cached). */
export function loadJobData(spec: JobSpec): Promise<LoadedData> {
  const src = spec.data.source;
  const key = canonicalJson({ src, seed: spec.seed });
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      if (typeof src === 'object' && 'synthetic' in src) {
        const d = syntheticDataset(src.synthetic);
        return { ...d, record: { id: d.train.id, files: [] } };
      }
      const v = await loadView(src, spec.seed);
      return { train: v.train, test: v.test, record: v.record };
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forgets the loaded datasets (tests; long-lived workers that switch experiments). */
export function clearJobDataCache(): void {
  cache.clear();
}

/** Fails with a DataError when the architecture's input shape is not the data's. */
export function checkInput(arch: Architecture, ds: Dataset): void {
  if (arch.input.join() !== ds.shape.join()) {
    const hint = arch.input.join() === '32,32,1' && ds.shape.join() === '28,28,1' ? ' (use --dataset mnist32, the view that pads MNIST to 32x32)' : '';
    throw new DataError(`model ${arch.name}`, `expects inputs of shape [${arch.input}] but dataset ${ds.id} gives [${ds.shape}]${hint}`);
  }
}

/** The training, validation and held-out rows the spec's subset and split rules select. */
function selectRows(spec: JobSpec, all: Dataset): { train: Dataset; validation?: Dataset; heldOut?: Dataset } {
  let train = all;
  if (spec.data.subset) train = miniSubset(train, spec.data.subset.n, spec.data.subset.mode, rngStream(spec.seed, 'data'));
  const split = spec.data.split;
  if (split.kind === 'holdout') {
    const { kept, held } = stratifiedSplit(train.y, split.valFraction, rngStream(spec.seed, 'split'));
    return { train: subset(train, kept, `${train.id}[train]`), validation: subset(train, held, `${train.id}[val]`) };
  }
  if (split.kind === 'cv') {
    const sp = cvSplits(train.y, split.k, spec.seed, split.repeat, split.valFraction)[split.fold];
    return {
      train: subset(train, sp.train, `${train.id}[fold${split.fold}-train]`),
      validation: sp.validation.length ? subset(train, sp.validation, `${train.id}[fold${split.fold}-val]`) : undefined,
      heldOut: subset(train, sp.test, `${train.id}[fold${split.fold}-test]`),
    };
  }
  return { train };
}

/** The architecture a spec names, sized to the data's classes. */
export function jobArchitecture(spec: Pick<JobSpec, 'model'>, classes: number): Architecture {
  return typeof spec.model === 'string' ? architectureByName(spec.model, { classes }) : spec.model;
}

/**
 * The path a job trains on and, for tfjs, why not the fast one. `auto` takes the fast path when the
 * architecture is one it trains (src/fast/net.ts `fastPathSupport`) and the job has no training hooks, no
 * augmentation and no init transforms (those act on the tfjs model); `fast` demands it (a ConfigError naming
 * the reason otherwise).
 */
export function trainingPath(spec: JobSpec, arch: Architecture): { path: 'fast' | 'tfjs'; reason: string | null } {
  if (spec.path === 'tfjs') return { path: 'tfjs', reason: 'path: tfjs' };
  const reason =
    spec.hooks.length ? `training hooks (${spec.hooks.map((h) => h.kind).join(', ')})`
    : spec.data.augment ? 'augmentation'
    : spec.init?.transforms.length ? 'init transforms'
    : fastPathSupport(arch);
  if (reason && spec.path === 'fast') throw new KitError(`${jobLabel(spec)}: path "fast" cannot train this job: ${reason}; use path "auto" or "tfjs"`, 'ConfigError');
  return reason ? { path: 'tfjs', reason } : { path: 'fast', reason: null };
}

/** Runs one training job. Throws (a KitError for bad input, NaN loss, impossible architectures) on failure. */
export async function runJob(input: JobSpecInput | JobSpec, ctx: JobContext = {}): Promise<JobResult> {
  const spec = parseJobSpec(input);
  await initEngine({ backend: spec.backend });
  const data = await loadJobData(spec);
  const rows = selectRows(spec, data.train);
  if (spec.genetic) return runGeneticJob(spec, { ...rows, test: data.test, record: data.record }, ctx);
  const classes = rows.train.classNames.length;
  const trainSeed = trainSeedOf(spec);
  const built = jobArchitecture(spec, classes);
  checkInput(built, rows.train);
  const first = buildModel(built, { seed: trainSeed });
  const { arch, model } = prepareModel(built, first, spec.init, trainSeed);
  let trainee: Trainee | null = null;
  try {
    const t = spec.train;
    // Early stopping on val_loss needs a validation part; a CV split without one falls back to the training
    // loss (the seed-000 reference's rule).
    const earlyStopping = t.earlyStopping && !rows.validation ? { ...t.earlyStopping, monitor: 'loss' as const } : t.earlyStopping;
    // Augmentation trains on a copy of the rows, rewritten at the first step of every epoch.
    const aug = spec.data.augment ? augmentation(rows.train, spec.data.augment, trainSeed, makeHooks(spec.hooks, model, t.epochs)) : null;
    const route = trainingPath(spec, arch);
    const fast = route.path === 'fast' ? fastTrainee(arch, model, { optimizer: t.optimizer, head: arch.head, batchSize: t.batchSize }) : null;
    trainee = fast ?? modelTrainee(model, { optimizer: t.optimizer, head: arch.head });
    const fitted = await fitTrainee(trainee, aug ? aug.train : rows.train, {
      epochs: t.epochs,
      batchSize: t.batchSize,
      optimizer: t.optimizer,
      schedule: t.schedule,
      earlyStopping,
      dropRemainder: t.dropRemainder,
      seed: trainSeed,
      head: arch.head,
      validation: rows.validation,
      hooks: aug ? aug.hooks : makeHooks(spec.hooks, model, t.epochs),
      checkpoint: ctx.checkpoint,
      onEvent: ctx.onEvent,
      batchEventEvery: ctx.batchEventEvery,
    });
    const want = new Set(spec.evaluate);
    const evaluator = trainee;
    const ev = (ds: Dataset | undefined, name: 'validation' | 'heldout' | 'test') => (ds && want.has(name) ? evaluator.evaluate(ds) : null);
    if (fast && spec.output.weights) fast.writeBack();
    const val = ev(rows.validation, 'validation');
    const held = ev(rows.heldOut, 'heldout');
    const test = ev(data.test, 'test');
    const last = fitted.history.at(-1);
    const seconds = fitted.history.reduce((s, h) => s + h.seconds, 0);
    return {
      metrics: {
        trainLoss: last?.loss ?? NaN,
        trainAccuracy: last?.accuracy ?? NaN,
        valLoss: val?.loss ?? null,
        valAccuracy: val?.accuracy ?? null,
        heldOutLoss: held?.loss ?? null,
        heldOutAccuracy: held?.accuracy ?? null,
        testLoss: test?.loss ?? null,
        testAccuracy: test?.accuracy ?? null,
      },
      history: spec.output.history ? fitted.history.map(({ seconds: _s, ...h }) => h) : [],
      epochs: fitted.history.length,
      bestEpoch: fitted.bestEpoch,
      stoppedEarly: fitted.stoppedEarly,
      trainSamples: rows.train.y.length,
      params: countParams(arch),
      architecture: arch,
      dataset: data.record,
      ...(spec.output.weights ? { weights: readModelWeights(model) } : {}),
      path: route.path,
      ...(route.reason ? { pathReason: route.reason } : {}),
      timing: { seconds, samplesPerSec: seconds > 0 ? (rows.train.y.length * fitted.history.length) / seconds : 0, backend: spec.backend, ...(fast ? { kernels: fast.kernels, ...(fast.blas ? { blas: fast.blas } : {}) } : {}) },
    };
  } finally {
    trainee?.dispose();
    model.dispose();
  }
}

/** The deterministic part of a result (everything but `timing`), for comparing runs. */
export function deterministicPart(r: JobResult): Omit<JobResult, 'timing'> {
  const { timing: _t, ...rest } = r;
  return rest;
}

