/**
 * A genetic training as a job of the experiment engine. A job spec with a `genetic` field (src/experiments/
 * job.ts) is run by `runJob` through this function instead of the gradient pipeline, so it goes through the
 * same executors (in-process, worker-thread pool, BullMQ), the same ledger (a killed run reruns only the jobs
 * missing from it) and the same progress display as every training of the kit.
 *
 * Why a job kind rather than a separate runner: the engine's value (executors, ledger, resume, progress,
 * failure records) is in `runJobs`, which takes job specs; an optional field keeps every existing spec and
 * its hash unchanged (absent fields are not hashed) and needs one dispatch line in `runJob`. What a genetic
 * job uses of the spec: `model` (the network's name, for labels), `data` (the dataset view, subset and split;
 * inputs are binarised by sign, pack.ts), `train.batchSize` (the step's mini-batch), `seed` (streams `init`,
 * `genetic`, `shuffle:<epoch>`), `evaluate` and `output`. `train.epochs` must be 1 and `train.optimizer`,
 * `hooks` and `init` do not apply (no gradients). `backend` is recorded but the bit-packed engine computes the
 * same bits on every backend and thread.
 */
import { z } from 'zod';
import type { Dataset } from '../data/types.js';
import type { DatasetRecord } from '../run/provenance.js';
import type { JobContext, JobResult } from '../experiments/run-job.js';
import { KitError } from '../util/errors.js';
import { packSigns, rowWords } from './pack.js';
import { sampleRows, wasmKernelAvailable } from './xnor.js';
import { TieRuleSchema, type MajorityHead } from './majority.js';
import { correctCount, binaryArchitecture, weightCount, checkSizes, type PackedBatch } from './network.js';
import { BatchPlan, TrainerConfigSchema, checkTrainerConfig, type PackedSet } from './genetic.js';
import { createTrainer } from './trainer.js';
import { seedState, nextU32 } from './irand.js';

export const GeneticTaskSchema = z.strictObject({
  /** Hidden layer widths in bits; 1 to 4 hidden layers make 2 to 5 binary layers (§4.1.2). */
  hidden: z.array(z.number().int().min(1)).min(1).max(4),
  /** Output bits per label (§4.1.4; §4.1.6's best run: 100). */
  bitsPerLabel: z.number().int().min(1),
  tie: TieRuleSchema.default('seeded'),
  trainer: TrainerConfigSchema,
  /** The budget: genetic steps (one mini-batch each). */
  steps: z.number().int().min(1),
  /** Evaluate the test split (and the validation part) every this many steps; 0: only at the end. */
  evalEvery: z.number().int().min(0).default(0),
  /** At the intermediate evaluations use only the first this many test rows (the final one uses all). */
  evalRows: z.number().int().min(1).optional(),
});

export type GeneticTask = z.infer<typeof GeneticTaskSchema>;
export type GeneticTaskInput = z.input<typeof GeneticTaskSchema>;

/** One point of a genetic training's curve (integer counts). */
export interface GeneticCurvePoint {
  step: number;
  /** Correct predictions of the kept network on the last step's batch, and the batch size. */
  batchCorrect: number;
  batch: number;
  testCorrect: number | null;
  testRows: number | null;
  valCorrect: number | null;
  valRows: number | null;
  /** Weights flipped so far in the kept lineage, forward passes so far. */
  flips: number;
  evaluations: number;
}

export interface GeneticOutcome {
  trainer: string;
  sizes: number[];
  weights: number;
  steps: number;
  /** Final counts on the whole training rows, the validation part and the test split. */
  trainCorrect: number;
  trainRows: number;
  valCorrect: number | null;
  valRows: number | null;
  testCorrect: number | null;
  testRows: number | null;
  curve: GeneticCurvePoint[];
  /** `wasm` (SIMD kernel) or `js`: the same bits either way. */
  kernel: 'wasm' | 'js';
}

export interface GeneticRows {
  train: Dataset;
  validation?: Dataset;
  test?: Dataset;
  record: DatasetRecord;
}

/** Sizes of the network a task describes on data with `inputBits` inputs and `classes` classes. */
export function geneticSizes(task: Pick<GeneticTask, 'hidden' | 'bitsPerLabel'>, inputBits: number, classes: number): number[] {
  const sizes = [inputBits, ...task.hidden, classes * task.bitsPerLabel];
  checkSizes(sizes, 'genetic.hidden');
  return sizes;
}

function packSet(ds: Dataset): PackedSet {
  const d = ds.shape.reduce((a, b) => a * b, 1);
  return { x: packSigns(ds.x, ds.y.length, d, sampleRows(ds.y.length) - ds.y.length), n: ds.y.length, bits: d, labels: ds.y };
}

const asBatch = (p: PackedSet, rows = p.n): PackedBatch => ({
  x: rows === p.n ? p.x : p.x.slice(0, sampleRows(rows) * rowWords(p.bits)),
  n: rows,
  labels: p.labels.subarray(0, rows),
  ids: Int32Array.from({ length: rows }, (_, i) => i),
});

/** Runs a job spec's genetic task on its selected rows (called by `runJob`). */
export async function runGeneticJob(
  spec: { genetic?: GeneticTaskInput | GeneticTask; train: { batchSize: number }; seed: number | string; backend: string; evaluate: readonly string[]; output: { history?: boolean } },
  rows: GeneticRows,
  ctx: JobContext = {},
): Promise<JobResult> {
  const task = GeneticTaskSchema.parse(spec.genetic);
  checkTrainerConfig(task.trainer, 'genetic.trainer');
  const t0 = performance.now();
  const classes = rows.train.classNames.length;
  const train = packSet(rows.train);
  const sizes = geneticSizes(task, train.bits, classes);
  const want = new Set(spec.evaluate);
  const test = rows.test && want.has('test') ? packSet(rows.test) : null;
  const val = rows.validation && want.has('validation') ? packSet(rows.validation) : null;
  if (test && test.bits !== train.bits) throw new KitError(`genetic job: the test rows have ${test.bits} inputs, the training rows ${train.bits}`, 'DataError');
  const head: MajorityHead = { classes, bitsPerLabel: task.bitsPerLabel, tie: task.tie };
  const trainer = createTrainer(task.trainer, { sizes, head, seed: spec.seed });
  const plan = new BatchPlan(train, spec.train.batchSize, spec.seed);
  // Evaluation tie seeds: fixed integers of stream `tie:eval`, so every evaluation decides ties alike.
  const tieSeed = nextU32(seedState(spec.seed, 'tie:eval'));
  const evalCount = (p: PackedSet | null, rowsN?: number) => (p ? correctCount(trainer.current(), asBatch(p, Math.min(rowsN ?? p.n, p.n)), head, tieSeed) : null);
  const curve: GeneticCurvePoint[] = [];
  let flips = 0;
  let evaluations = 0;
  let runCorrect = 0;
  let runSeen = 0;
  const eventEvery = Math.max(1, Math.floor(task.steps / 20));
  for (let s = 0; s < task.steps; s++) {
    const r = trainer.step(plan.batch(s));
    flips += r.flips;
    evaluations += r.evaluations;
    runCorrect += r.correct;
    runSeen += r.batch;
    const done = s + 1;
    if (task.evalEvery > 0 && (done % task.evalEvery === 0 || done === task.steps)) {
      const testRows = test ? Math.min(task.evalRows ?? test.n, test.n) : null;
      curve.push({ step: done, batchCorrect: r.correct, batch: r.batch, testCorrect: evalCount(test, testRows ?? undefined), testRows, valCorrect: evalCount(val), valRows: val?.n ?? null, flips, evaluations });
    }
    if (ctx.onEvent && (done % eventEvery === 0 || done === task.steps)) {
      ctx.onEvent({ type: 'batch', epoch: 0, epochs: 1, batch: done, batches: task.steps, loss: 1 - runCorrect / runSeen, batchLoss: 1 - r.correct / r.batch, seconds: (performance.now() - t0) / 1000 });
      runCorrect = 0;
      runSeen = 0;
    }
    // Let the event loop breathe (progress messages, interrupts) on long runs.
    if (done % 50 === 0) await new Promise((res) => setImmediate(res));
  }
  const trainCorrect = evalCount(train)!;
  const testCorrect = evalCount(test);
  const valCorrect = evalCount(val);
  const seconds = (performance.now() - t0) / 1000;
  const outcome: GeneticOutcome = {
    trainer: task.trainer.kind,
    sizes,
    weights: weightCount(sizes),
    steps: task.steps,
    trainCorrect,
    trainRows: train.n,
    valCorrect,
    valRows: val?.n ?? null,
    testCorrect,
    testRows: test?.n ?? null,
    curve: spec.output.history === false ? [] : curve,
    kernel: wasmKernelAvailable() ? 'wasm' : 'js',
  };
  const frac = (c: number | null, n: number | null) => (c === null || !n ? null : c / n);
  return {
    path: 'genetic',
    metrics: {
      // The majority loss as an error rate (1 - accuracy) of the final network on the training rows.
      trainLoss: 1 - trainCorrect / train.n,
      trainAccuracy: trainCorrect / train.n,
      valLoss: valCorrect === null ? null : 1 - valCorrect / val!.n,
      valAccuracy: frac(valCorrect, val?.n ?? null),
      heldOutLoss: null,
      heldOutAccuracy: null,
      testLoss: testCorrect === null ? null : 1 - testCorrect / test!.n,
      testAccuracy: frac(testCorrect, test?.n ?? null),
    },
    history: [],
    epochs: Math.ceil((task.steps * plan.size) / train.n),
    bestEpoch: 0,
    stoppedEarly: false,
    trainSamples: train.n,
    params: weightCount(sizes),
    architecture: binaryArchitecture(sizes, `xnor-${sizes.join('-')}`),
    dataset: rows.record,
    genetic: outcome,
    timing: { seconds, samplesPerSec: seconds > 0 ? (task.steps * plan.size) / seconds : 0, backend: spec.backend },
  } as JobResult;
}
