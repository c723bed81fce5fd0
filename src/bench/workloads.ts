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
import { fastPathSupport, fastTrainee } from '../fast/net.js';
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

/**
 * The kit's reference workloads (those of TORCH_PEER_WORKLOADS also in bench/torch_peer.py). `binary-infer`
 * (seed 002, src/binary/bench.ts) reports two rows: the bit-packed engine and the float tfjs peer.
 */
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
  // The workloads with a PyTorch peer, sized once and measured `repeats` times (as `tck bench` does in rounds).
  const benches = await prepareRoundBenches({ only: opts.only, minSeconds: o.minSeconds, backend: opts.backend, onSkip: opts.onSkip });
  try {
    for (const b of benches) {
      for (let r = 0; r < (b.name === 'nas-candidate' ? Math.min(o.repeats, 2) : o.repeats); r++) await b.measureRound(r);
      add(b.result());
    }
  } finally {
    for (const b of benches) b.dispose();
  }
  if (want('binary-infer')) for (const r of await binaryInferBench(o)) add(r);
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) throw new Error(`bench: ${leaked} tensors leaked`);
  const cardio = isPresent(getEntry('cardio'));
  const noCardio = 'the Cardiotocography dataset is missing: tck data fetch cardio';
  if (want('jobs-throughput')) {
    if (!cardio) opts.onSkip?.('jobs-throughput', noCardio);
    else add(await jobsThroughput(opts.backend, defaultThreads()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Rounds (`tck bench`): each workload is sized once (a warm-up, then units grown until a run takes long enough), then measured
// once per round at that fixed size, so the CLI can interleave the kit with its PyTorch peer round by round and
// both sides see the same load drift. `runBench` measures the same workloads the same way, without the peer.
// ---------------------------------------------------------------------------------------------------------------


/** One workload measured round by round at a size fixed once. */
export interface RoundBench {
  name: string;
  batch: number;
  /** Units of every measurement (training steps, inference batches, or 1 whole candidate), fixed by the sizing. */
  units: number;
  /** One measurement at the fixed size, in samples/s; `round` is 0-based (nas-candidate seeds its candidate with it). */
  measureRound(round: number): Promise<number>;
  /** The rounds measured so far as runBench reports a workload: median, per-round samples, details. */
  result(): BenchResult;
  /** Frees the workload's tensors (the inference model). */
  dispose(): void;
}

export interface RoundBenchOptions {
  /** The least seconds one measurement should take (the sizing target). */
  minSeconds?: number;
  only?: string[];
  backend: string;
  onSkip?: (name: string, why: string) => void;
}

/**
 * The sizing: a warm-up run, then units x4 until a run takes half of minSeconds, then scaled
 * to minSeconds. Returns the units every round then uses.
 */
export async function sizeRoundUnits(once: (units: number) => Promise<number>, minSeconds: number): Promise<number> {
  let units = 2;
  await once(units); // warm-up (kernel set-up, XNNPACK operator caches)
  for (;;) {
    const s = await once(units);
    if (s >= minSeconds * 0.5 || units > 1e6) return Math.max(units, Math.ceil((units * minSeconds) / Math.max(s, 1e-6)));
    units *= 4;
  }
}

function roundBench(name: string, batch: number, units: number, once: (units: number, round: number) => Promise<{ samples: number; seconds: number }>, extra?: { details?: (rounds: number) => Record<string, number | string>; dispose?: () => void }): RoundBench {
  const samples: number[] = [];
  return {
    name,
    batch,
    units,
    async measureRound(round: number) {
      const r = await once(units, round);
      const rate = r.samples / r.seconds;
      samples.push(rate);
      return rate;
    },
    result() {
      return { name, samplesPerSec: median(samples), batch, repeats: [...samples], ...(extra?.details ? { details: extra.details(samples.length) } : {}) };
    },
    dispose() {
      extra?.dispose?.();
    },
  };
}

/** One epoch of `steps` mini-batches of noise as a job, timed by runJob (the one training pipeline); sized once. */
async function trainRounds(name: string, model: string | Architecture, inputShape: number[], batch: number, backend: string, minSeconds: number): Promise<RoundBench> {
  let path = '';
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
    const r = await runJob(spec);
    path = r.timing.kernels ? `${r.path} (${r.timing.kernels})` : r.path;
    return r.timing.seconds;
  };
  const units = await sizeRoundUnits(once, minSeconds);
  return roundBench(name, batch, units, async (steps) => ({ samples: steps * batch, seconds: await once(steps) }), { details: () => ({ path }) });
}

/**
 * Batched inference-mode forward passes of one model built once, sized once, on the path the kit's jobs
 * evaluate with: the fast path's evaluation (forward pass, loss and accuracy over the set, in chunks of
 * `batch` rows) where it takes the architecture, tfjs `predictClasses` otherwise. The details say which.
 */
async function inferRounds(name: string, model: string, inputShape: number[], batch: number, minSeconds: number): Promise<RoundBench> {
  const arch = architectureByName(model);
  const m = buildModel(arch, { seed: 1 });
  const fast = fastPathSupport(arch) === null ? fastTrainee(arch, m, { optimizer: { name: 'adam', lr: 1e-3 }, head: arch.head, batchSize: batch }) : null;

  let data: { batches: number; ds: ReturnType<typeof syntheticDataset>['train'] } | null = null;
  const once = async (batches: number) => {
    if (data?.batches !== batches) data = { batches, ds: syntheticDataset({ kind: 'noise', n: batches * batch, shape: inputShape, classes: 10, seed: batches }).train };
    const t0 = performance.now();
    if (fast) fast.evaluate(data.ds);
    else predictClasses(m, data.ds, arch.head, batch);
    return (performance.now() - t0) / 1000;
  };
  try {
    const units = await sizeRoundUnits(once, minSeconds);
    return roundBench(name, batch, units, async (batches) => ({ samples: batches * batch, seconds: await once(batches) }), { details: () => ({ path: fast ? `fast (${fast.kernels})` : 'tfjs' }), dispose: () => m.dispose() });
  } catch (e) {
    m.dispose();
    throw e;
  }
}

/**
 * `nas-candidate`: the evaluation of one seed-000 `mlp-cardio` candidate, i.e. the 15 fold jobs of the seed's
 * protocol (5 folds x 3 repeats, seed 000 Table 2.3: 30 epochs, patience 5; batch 32, Table 2.4) of the MLP
 * 21-32-16-10, run by `runJobs` on the executor the NAS uses by default (a pool of one worker thread per core,
 * warmed first: thread start-up and each thread's data loading are not timed, as a search pays them once).
 * samplesPerSec = samples trained (early stopping included) per wall second of the whole evaluation, so data
 * splitting, validation and held-out evaluation count. Each round evaluates one whole candidate (seed
 * round + 1). The details give the mean epochs per fold, the threads, and the training path the jobs took.
 */
async function nasCandidateRounds(backend: string): Promise<RoundBench> {
  const threads = defaultThreads();
  const pool = poolExecutor({ threads });
  let epochs = 0;
  let seconds = 0;
  const paths = new Set<string>();
  const trainings = SEED000_PROTOCOL.k * SEED000_PROTOCOL.repeats;
  try {
    await pool.warm(backend);
    // Every thread loads the dataset and sets up its kernels before the clock starts.
    await runJobs(cardioCandidateJobs(1, backend, 1).slice(0, threads).map((j) => ({ ...j, train: { ...j.train, epochs: 1 } })), { executor: pool, quiet: true });
  } catch (e) {
    await pool.close();
    throw e;
  }
  return roundBench(
    'nas-candidate',
    32,
    1,
    async (_units, round) => {
      const jobs = cardioCandidateJobs(round + 1, backend, SEED000_PROTOCOL.repeats);
      const t0 = performance.now();
      const rs = await runJobs(jobs, { executor: pool, quiet: true });
      const s = (performance.now() - t0) / 1000;
      const failed = rs.records.filter((x) => x.outcome.status === 'failed');
      if (failed.length) {
        const f = failed[0];
        const why = f.outcome.status === 'failed' ? f.outcome.error.message : '';
        throw new KitError(`bench nas-candidate: ${failed.length} of ${jobs.length} fold jobs of the cardio MLP failed (first: ${f.label}: ${why})`);
      }
      for (const r of rs.records) if (r.outcome.status === 'ok') paths.add(r.outcome.result.path);
      epochs += rs.records.reduce((a, x) => a + (x.outcome.status === 'ok' ? x.outcome.result.epochs : 0), 0) / jobs.length;
      seconds += s;
      return { samples: trainedSamples(rs), seconds: s };
    },
    {
      details: (n) => ({ trainings, threads, path: [...paths].join(','), meanEpochs: n ? epochs / n : NaN, secondsPerCandidate: n ? seconds / n : NaN }),
      dispose: () => void pool.close(),
    },
  );
}

/**
 * Sizes the selected TORCH_PEER_WORKLOADS (in runBench's order) for round-by-round measurement. The caller runs
 * `measureRound` of each per round and disposes them at the end. nas-candidate without the Cardiotocography
 * data is skipped through onSkip, as runBench does.
 */
export async function prepareRoundBenches(opts: RoundBenchOptions): Promise<RoundBench[]> {
  const minSeconds = opts.minSeconds ?? 1;
  const want = (n: string) => TORCH_PEER_WORKLOADS.includes(n) && (!opts.only || opts.only.includes(n));
  const out: RoundBench[] = [];
  try {
    if (want('lenet5-train')) out.push(await trainRounds('lenet5-train', 'lenet5-32', [32, 32, 1], 50, opts.backend, minSeconds));
    if (want('lenet5-infer')) out.push(await inferRounds('lenet5-infer', 'lenet5-32', [32, 32, 1], 1000, minSeconds));
    if (want('mlp-train')) out.push(await trainRounds('mlp-train', 'mlp-21-32-16-10', [21], 32, opts.backend, minSeconds));
    if (want('vgg7s-train')) out.push(await trainRounds('vgg7s-train', vgg7([32, 32, 3], { width: 0.25 }), [32, 32, 3], 50, opts.backend, minSeconds));
    if (want('nas-candidate')) {
      if (!isPresent(getEntry('cardio'))) opts.onSkip?.('nas-candidate', 'the Cardiotocography dataset is missing: tck data fetch cardio');
      else out.push(await nasCandidateRounds(opts.backend));
    }
  } catch (e) {
    for (const b of out) b.dispose();
    throw e;
  }
  return out;
}
