/**
 * Throughput benchmarks of the active backend, measured through the kit's own code paths: training workloads
 * are jobs run by `runJob` (the one training pipeline) on seeded synthetic data, inference is batched
 * inference-mode forward passes, and `jobs-throughput` runs 30 seed-000-style trainings in this process and on
 * the worker-thread pool. Each measurement runs whole epochs/batches for at least `minSeconds`; the result is
 * the median of `repeats` measurements, after a warm-up.
 */
import { tf } from '../engine/backend.js';
import { syntheticDataset } from '../data/synthetic.js';
import { architectureByName, mlp, vgg7 } from '../models/zoo.js';
import type { Architecture } from '../models/arch.js';
import { buildModel } from '../models/build.js';
import { predictClasses } from '../train/evaluate.js';
import { runJob } from '../experiments/run-job.js';
import type { JobSpecInput } from '../experiments/job.js';
import { inProcessExecutor, defaultThreads } from '../experiments/executor.js';
import { poolExecutor } from '../experiments/pool.js';
import { runJobs } from '../experiments/runner.js';
import { cvJobs, SEED000_PROTOCOL } from '../experiments/cv.js';
import { isPresent, getEntry } from '../data/registry.js';
import { median } from '../util/stats.js';
import { binaryInferBench } from '../binary/bench.js';
import { KitError } from '../util/errors.js';

export interface BenchResult {
  name: string;
  samplesPerSec: number;
  batch: number;
  repeats: number[];
  /** Extra figures of a workload (jobs-throughput: seconds in-process and on the pool, the speed-up). */
  details?: Record<string, number | string>;
}

export interface BenchOptions {
  repeats?: number;
  minSeconds?: number;
  only?: string[];
  /** Backend of the jobs (the active one). */
  backend: string;
  onResult?: (r: BenchResult) => void;
  onSkip?: (name: string, why: string) => void;
}

type Timing = Required<Pick<BenchOptions, 'repeats' | 'minSeconds'>>;

/** Runs `once(k)` (which processes k units and returns seconds) with k grown until a run takes minSeconds. */
async function measure(once: (units: number) => Promise<number>, unitSize: number, o: Timing): Promise<number[]> {
  let units = 2;
  await once(units); // warm-up (kernel set-up, XNNPACK operator caches)
  for (;;) {
    const s = await once(units);
    if (s >= o.minSeconds * 0.5 || units > 1e6) {
      units = Math.max(units, Math.ceil((units * o.minSeconds) / Math.max(s, 1e-6)));
      break;
    }
    units *= 4;
  }
  const out: number[] = [];
  for (let r = 0; r < o.repeats; r++) out.push((units * unitSize) / (await once(units)));
  return out;
}

/** One epoch of `steps` mini-batches of `batch` noise samples, as a job; the time is the training's. */
async function trainBench(name: string, model: string | Architecture, inputShape: number[], batch: number, backend: string, o: Timing): Promise<BenchResult> {
  const once = async (steps: number) => {
    const spec: JobSpecInput = {
      model,
      data: { source: { synthetic: { kind: 'noise', n: steps * batch, shape: inputShape, classes: 10, seed: steps } } },
      train: { epochs: 1, batchSize: batch, optimizer: { name: 'adam', lr: 1e-3 } },
      seed: 1,
      backend: backend as 'wasm',
      evaluate: [],
      output: { history: false },
    };
    return (await runJob(spec)).timing.seconds;
  };
  const reps = await measure(once, batch, o);
  return { name, samplesPerSec: median(reps), batch, repeats: reps };
}

async function inferBench(name: string, model: string, inputShape: number[], batch: number, o: Timing): Promise<BenchResult> {
  const arch = architectureByName(model);
  const m = buildModel(arch, { seed: 1 });
  const cache = new Map<number, ReturnType<typeof syntheticDataset>['train']>();
  const once = async (batches: number) => {
    if (!cache.has(batches)) cache.set(batches, syntheticDataset({ kind: 'noise', n: batches * batch, shape: inputShape, classes: 10, seed: batches }).train);
    const t0 = performance.now();
    predictClasses(m, cache.get(batches)!, arch.head, batch);
    return (performance.now() - t0) / 1000;
  };
  const reps = await measure(once, batch, o);
  m.dispose();
  return { name, samplesPerSec: median(reps), batch, repeats: reps };
}

/**
 * Seed-000-style trainings of the Cardiotocography MLP (21-32-16-10 on the CLASS target): fold jobs of the
 * protocol (5 folds, 30 epochs, batch 32, Adam 1e-3 with weight decay 1e-5, early stopping with patience 5 on
 * a validation tenth), `count` of them with different seeds.
 */
export function cardioJobs(count: number, backend: string): JobSpecInput[] {
  const out: JobSpecInput[] = [];
  for (let seed = 1; out.length < count; seed++) out.push(...cardioCandidateJobs(seed, backend, 1).slice(0, count - out.length));
  return out;
}

/** The fold jobs of one cardio MLP evaluation with `repeats` repeats of the seed-000 protocol (5 folds each). */
function cardioCandidateJobs(seed: number, backend: string, repeats: number): JobSpecInput[] {
  const arch = mlp(21, { hidden: [32, 16], classes: 10, name: 'mlp-cardio-21-32-16-10' });
  return cvJobs(
    {
      model: arch as never,
      data: { source: 'cardio' },
      train: { epochs: 30, batchSize: 32, optimizer: { name: 'adam', lr: 1e-3, weightDecay: 1e-5 }, earlyStopping: { patience: 5 } },
      seed,
      backend: backend as 'wasm',
      evaluate: ['heldout'],
      output: { history: false },
    },
    { ...SEED000_PROTOCOL, repeats },
  );
}

/** Samples trained (train-part size x epochs actually run, early stopping included) by the ok jobs of a batch. */
function trainedSamples(rs: Awaited<ReturnType<typeof runJobs>>): number {
  return rs.records.reduce((s, r) => s + (r.outcome.status === 'ok' ? r.outcome.result.trainSamples * r.outcome.result.epochs : 0), 0);
}

/**
 * `nas-candidate`: the evaluation of one seed-000 `mlp-cardio` candidate, i.e. the 15 fold jobs of the seed's
 * protocol (5 folds x 3 repeats, seed 000 Table 2.3: 30 epochs, patience 5; batch 32, Table 2.4) of the float
 * reference MLP 21-32-16-10, run one after another in this process by `runJobs`, as the NAS runs a candidate.
 * samplesPerSec = samples trained (early stopping included) per wall second of the whole evaluation, so data
 * splitting, validation and held-out evaluation count. Each repeat is one whole candidate (about 12 s on the
 * project's 2-core machine), so at most 2 repeats are taken. The details give the mean epochs trained per fold
 * (torch_peer.py reports its own).
 */
async function nasCandidate(backend: string, o: Timing): Promise<BenchResult> {
  await runJobs(cardioCandidateJobs(1, backend, 1).slice(0, 1), { executor: inProcessExecutor(), quiet: true }); // data cache, kernels
  const reps: number[] = [];
  let epochs = 0;
  let seconds = 0;
  const n = Math.min(o.repeats, 2);
  for (let r = 0; r < n; r++) {
    const jobs = cardioCandidateJobs(r + 1, backend, SEED000_PROTOCOL.repeats);
    const t0 = performance.now();
    const rs = await runJobs(jobs, { executor: inProcessExecutor(), quiet: true });
    const s = (performance.now() - t0) / 1000;
    const failed = rs.records.filter((x) => x.outcome.status === 'failed');
    if (failed.length) {
      const f = failed[0];
      const why = f.outcome.status === 'failed' ? f.outcome.error.message : '';
      throw new KitError(`bench nas-candidate: ${failed.length} of ${jobs.length} fold jobs of the cardio MLP failed (first: ${f.label}: ${why})`);
    }
    reps.push(trainedSamples(rs) / s);
    epochs += rs.records.reduce((a, x) => a + (x.outcome.status === 'ok' ? x.outcome.result.epochs : 0), 0) / jobs.length;
    seconds += s;
  }
  return { name: 'nas-candidate', samplesPerSec: median(reps), batch: 32, repeats: reps, details: { trainings: SEED000_PROTOCOL.k * SEED000_PROTOCOL.repeats, meanEpochs: epochs / n, secondsPerCandidate: seconds / n } };
}

/**
 * 30 cardio trainings in this process, then on a pool of `threads` worker threads (warmed first: thread
 * start-up and engine initialisation are reported, not timed). samplesPerSec is that of the pool; the details
 * give both wall times and the speed-up.
 */
async function jobsThroughput(backend: string, threads: number): Promise<BenchResult> {
  const jobs = cardioJobs(30, backend);
  const samples = trainedSamples;
  // Warm this process's data cache and kernels as the pool's threads are warmed below.
  await runJobs(jobs.slice(0, 1), { executor: inProcessExecutor(), quiet: true });
  let t0 = performance.now();
  const a = await runJobs(jobs, { executor: inProcessExecutor(), quiet: true });
  const inProcessSeconds = (performance.now() - t0) / 1000;
  const pool = poolExecutor({ threads });
  try {
    const tw = performance.now();
    await pool.warm(backend);
    // Each thread loads the dataset once; a first job per thread does that before the clock starts.
    await runJobs(jobs.slice(0, threads).map((j) => ({ ...j, train: { ...j.train, epochs: 1 } })), { executor: pool, quiet: true });
    const warmSeconds = (performance.now() - tw) / 1000;
    t0 = performance.now();
    const b = await runJobs(jobs, { executor: pool, quiet: true });
    const poolSeconds = (performance.now() - t0) / 1000;
    const failed = [...a.records, ...b.records].filter((r) => r.outcome.status === 'failed');
    if (failed.length) throw new Error(`bench jobs-throughput: ${failed.length} jobs failed`);
    return {
      name: 'jobs-throughput',
      samplesPerSec: samples(b) / poolSeconds,
      batch: 32,
      repeats: [samples(b) / poolSeconds],
      details: { jobs: jobs.length, threads, inProcessSeconds, poolSeconds, speedup: inProcessSeconds / poolSeconds, poolWarmUpSeconds: warmSeconds, inProcessSamplesPerSec: samples(a) / inProcessSeconds },
    };
  } finally {
    await pool.close();
  }
}

/** The kit's reference workloads (those of TORCH_PEER_WORKLOADS also in bench/torch_peer.py). */
/** `binary-infer` (seed 002, src/binary/bench.ts) reports two rows: the bit-packed engine and the float tfjs peer. */
export const BENCH_WORKLOADS = ['lenet5-train', 'lenet5-infer', 'mlp-train', 'nas-candidate', 'vgg7s-train', 'jobs-throughput', 'binary-infer'] as const;
/** The workloads bench/torch_peer.py has a PyTorch counterpart of (issue 12's table). */
export const TORCH_PEER_WORKLOADS: readonly string[] = ['lenet5-train', 'lenet5-infer', 'mlp-train', 'nas-candidate', 'vgg7s-train'];

export async function runBench(opts: BenchOptions): Promise<BenchResult[]> {
  const o = { repeats: opts.repeats ?? 5, minSeconds: opts.minSeconds ?? 1 };
  const want = (n: string) => !opts.only || opts.only.includes(n);
  const out: BenchResult[] = [];
  const add = (r: BenchResult) => {
    out.push(r);
    opts.onResult?.(r);
  };
  const before = tf.memory().numTensors;
  if (want('lenet5-train')) add(await trainBench('lenet5-train', 'lenet5-32', [32, 32, 1], 50, opts.backend, o));
  if (want('lenet5-infer')) add(await inferBench('lenet5-infer', 'lenet5-32', [32, 32, 1], 1000, o));
  if (want('mlp-train')) add(await trainBench('mlp-train', 'mlp-21-32-16-10', [21], 32, opts.backend, o));
  // Issue 12: VGG7 (seed 000 §2.4) at quarter width, 32x32x3, batch 50.
  if (want('vgg7s-train')) add(await trainBench('vgg7s-train', vgg7([32, 32, 3], { width: 0.25 }), [32, 32, 3], 50, opts.backend, o));
  if (want('binary-infer')) for (const r of await binaryInferBench(o)) add(r);
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) throw new Error(`bench: ${leaked} tensors leaked`);
  const cardio = isPresent(getEntry('cardio'));
  const noCardio = 'the Cardiotocography dataset is missing: tck data fetch cardio';
  if (want('nas-candidate')) {
    if (!cardio) opts.onSkip?.('nas-candidate', noCardio);
    else add(await nasCandidate(opts.backend, o));
  }
  if (want('jobs-throughput')) {
    if (!cardio) opts.onSkip?.('jobs-throughput', noCardio);
    else add(await jobsThroughput(opts.backend, defaultThreads()));
  }
  return out;
}
