/**
 * The training loop. Own shuffling and batching (no tfjs `fit`), one optimiser step per mini-batch, optional
 * validation with early stopping, per-epoch checkpoints that resume to the bit-identical result.
 *
 * Randomness: epoch e shuffles with stream `shuffle:e` and draws dropout masks from stream `dropout:e` of the
 * run seed, so an epoch's draws do not depend on how the run got there (fresh or resumed).
 */
import { z } from 'zod';
import { tf } from '../engine/backend.js';
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';
import { rngStream, withSeededMathRandom, type Rng } from '../engine/random.js';
import type { Dataset } from '../data/types.js';
import type { Head } from '../models/arch.js';
import { createOptimizer, type OptimizerConfig, type OptimizerState } from './optimizers.js';
import { learningRateAt, type ScheduleConfig } from './schedules.js';
import { makeBatch, disposeBatch, lossOf, countCorrect } from './batches.js';
import { evaluate } from './evaluate.js';
import { KitError } from '../util/errors.js';

export const EarlyStoppingSchema = z.strictObject({
  /** Epochs without improvement before stopping (seed 000: 5). */
  patience: z.number().int().min(1),
  /** `val_loss` (the kit's protocol) or `loss` (the seed-000 reference's training-loss rule). */
  monitor: z.enum(['val_loss', 'loss']).optional(),
  minDelta: z.number().min(0).optional(),
  /** Put back the weights of the best epoch at the end (default true). */
  restoreBest: z.boolean().optional(),
});

export type EarlyStoppingConfig = z.infer<typeof EarlyStoppingSchema>;

export interface FitOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule?: ScheduleConfig;
  seed: number | string;
  head: Head;
  validation?: Dataset;
  earlyStopping?: EarlyStoppingConfig;
  /** Drop the last incomplete batch (default false). */
  dropRemainder?: boolean;
  checkpoint?: FitCheckpoint;
  onEvent?: (e: FitEvent) => void;
  /** Steps between `batch` events (default: about 20 per epoch). */
  batchEventEvery?: number;
  /**
   * Called around every optimiser step (pruning masks, cyclic precision, ReCU's tau). Hooks must depend only
   * on the step and the model's state, so that a resumed run repeats them exactly.
   */
  hooks?: StepHooks;
}

export interface StepInfo {
  epoch: number;
  batch: number;
  batches: number;
  /** Global step, 0-based. */
  step: number;
  totalSteps: number;
}

export interface StepHooks {
  beforeStep?(s: StepInfo): void;
  afterStep?(s: StepInfo): void;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  seconds: number;
}

export type FitEvent =
  /** `loss` is the running mean over the epoch so far; `batchLoss` that of this mini-batch alone. */
  | { type: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number; batchLoss: number; seconds: number }
  | { type: 'epoch'; epochs: number; log: EpochLog; etaSeconds: number; stopped: boolean }
  | { type: 'resume'; epochsDone: number };

export interface FitState {
  epochsDone: number;
  weights: (Float32Array | Int32Array)[];
  optimizer: OptimizerState;
  history: EpochLog[];
  best: { value: number; epoch: number; weights: (Float32Array | Int32Array)[] | null };
  wait: number;
  stopped: boolean;
}

export interface FitCheckpoint {
  load(): FitState | null;
  save(state: FitState): void;
}

export interface FitResult {
  history: EpochLog[];
  stoppedEarly: boolean;
  /** Epoch (0-based) whose weights the model holds at the end. */
  bestEpoch: number;
  seconds: number;
}

/** Thrown when the loss stops being a finite number; says where and what to try. */
export class TrainingError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** Every weight of the model (trainable or not) as a typed array of its dtype (int32 cluster indices stay int32). */
export function readWeights(model: LayersModel): (Float32Array | Int32Array)[] {
  return model.getWeights().map((t) => (t.dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array)));
}

/** Fails unless `values` has one array per weight, each of the weight's size (checkpoints, `writeWeights`). */
export function checkWeightSizes(values: ArrayLike<number>[], sizes: number[]): void {
  if (values.length !== sizes.length) throw new Error(`checkpoint has ${values.length} weight tensors, the model has ${sizes.length}`);
  values.forEach((v, i) => {
    if (v.length !== sizes[i]) throw new Error(`checkpoint weight ${i} has ${v.length} values, the model needs ${sizes[i]}`);
  });
}

export function writeWeights(model: LayersModel, values: (Float32Array | Int32Array)[]): void {
  const current = model.getWeights();
  checkWeightSizes(values, current.map((t) => t.size));
  const ts = values.map((v, i) => tf.tensor(v, current[i].shape, current[i].dtype));
  model.setWeights(ts);
  ts.forEach((t) => t.dispose());
}

function validateOptions(o: FitOptions, train: Dataset): void {
  const bad = (f: string, why: string) => {
    throw new TrainingError(`fit: ${f}: ${why}`);
  };
  if (!Number.isInteger(o.epochs) || o.epochs < 0) bad('epochs', `must be a non-negative integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) bad('batchSize', `must be a positive integer, got ${o.batchSize}`);
  if (train.y.length === 0) bad('data', `training set ${train.id} is empty`);
  if (o.earlyStopping && (o.earlyStopping.monitor ?? 'val_loss') === 'val_loss' && !o.validation) {
    bad('earlyStopping.monitor', 'val_loss needs a validation set');
  }
}

/**
 * What the training loop trains: one optimiser step on a mini-batch, inference-mode evaluation, and the
 * weights and optimiser state as arrays (for checkpoints and early stopping's best weights). Two exist: a tfjs
 * model (`modelTrainee`, the reference path) and the kit's own trainer for small networks (src/fast/).
 */
export interface Trainee {
  /** One optimiser step on rows `order[start..end)` at learning rate `lr`; dropout draws from `dropout`. */
  step(train: Dataset, order: Int32Array, start: number, end: number, lr: number, dropout: Rng): { loss: number; correct: number };
  evaluate(ds: Dataset): { loss: number; accuracy: number };
  readWeights(): (Float32Array | Int32Array)[];
  writeWeights(values: (Float32Array | Int32Array)[]): void;
  optimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  /** Frees what the trainee holds; its owner calls it (`fitTrainee` does not: the owner evaluates afterwards). */
  dispose(): void;
  /**
   * False when step hooks cannot act on this trainee: they change the tfjs model (pruning masks, precisions),
   * which the fast path only reads once. `fitTrainee` refuses hooks for it.
   */
  readonly modelHooks?: boolean;
}

/** A tfjs model and its optimiser as a `Trainee` (tf.variableGrads over `model.apply`, `lossOf`). */
export function modelTrainee(model: LayersModel, o: Pick<FitOptions, 'optimizer' | 'head'>): Trainee {
  const classes = o.head === 'sigmoid' ? 2 : (model.outputs[0].shape[1] as number);
  const vars = model.trainableWeights.map((w) => w.read() as Variable);
  const optimizer = createOptimizer(o.optimizer);
  return {
    step(train, order, s, e, lr, dropout) {
      const batch = makeBatch(train, order, s, e, o.head, classes);
      const [loss, logits] = withSeededMathRandom(dropout, () => {
        let logitsT: Tensor | null = null;
        const { value, grads } = tf.variableGrads(() => {
          logitsT = tf.keep(model.apply(batch.x, { training: true }) as Tensor);
          return lossOf(o.head, batch.target, logitsT) as never;
        }, vars);
        optimizer.apply(vars, vars.map((v) => grads[v.name]), lr);
        Object.values(grads).forEach((g) => g.dispose());
        return [value, logitsT as unknown as Tensor];
      });
      const lossValue = loss.dataSync()[0] as number;
      const correct = countCorrect(o.head, logits.dataSync(), batch.labels);
      loss.dispose();
      logits.dispose();
      disposeBatch(batch);
      return { loss: lossValue, correct };
    },
    evaluate: (ds) => evaluate(model, ds, o.head),
    readWeights: () => readWeights(model),
    writeWeights: (values) => writeWeights(model, values),
    optimizerState: () => optimizer.getState(),
    setOptimizerState: (state) => optimizer.setState(state, vars),
    dispose: () => optimizer.dispose(),
  };
}

/** Trains `model` on `train`. The model is changed in place; returns the per-epoch history. */
export async function fit(model: LayersModel, train: Dataset, o: FitOptions): Promise<FitResult> {
  const trainee = modelTrainee(model, o);
  try {
    return await fitTrainee(trainee, train, o);
  } finally {
    trainee.dispose();
  }
}

/** The training loop over any `Trainee` (shuffling, schedule, hooks, validation, early stopping, checkpoints). */
export async function fitTrainee(trainee: Trainee, train: Dataset, o: FitOptions): Promise<FitResult> {
  validateOptions(o, train);
  if (o.hooks && trainee.modelHooks === false) throw new KitError('fit: training hooks act on the tfjs model, which this trainee (the fast path) does not train; use the tfjs path (job path "tfjs")');
  const t0 = performance.now();
  const n = train.y.length;
  const es = o.earlyStopping;
  const monitor = es ? (es.monitor ?? 'val_loss') : null;
  const batches = o.dropRemainder ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
  if (batches === 0) throw new Error(`fit: batchSize ${o.batchSize} is larger than the ${n} training samples with dropRemainder`);
  const eventEvery = o.batchEventEvery ?? Math.max(1, Math.floor(batches / 20));

  let state: FitState = {
    epochsDone: 0,
    weights: [],
    optimizer: { name: o.optimizer.name, step: 0, slots: [] },
    history: [],
    best: { value: Infinity, epoch: -1, weights: null },
    wait: 0,
    stopped: false,
  };
  const resumed = o.checkpoint?.load() ?? null;
  if (resumed) {
    trainee.writeWeights(resumed.weights);
    trainee.setOptimizerState(resumed.optimizer);
    state = resumed;
    o.onEvent?.({ type: 'resume', epochsDone: resumed.epochsDone });
  }

  for (let epoch = state.epochsDone; epoch < o.epochs && !state.stopped; epoch++) {
    const te = performance.now();
    const order = rngStream(o.seed, `shuffle:${epoch}`).permutation(n);
    const dropout = rngStream(o.seed, `dropout:${epoch}`);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let lr = o.optimizer.lr;
    for (let b = 0; b < batches; b++) {
      const s = b * o.batchSize;
      const e = Math.min(n, s + o.batchSize);
      lr = learningRateAt(o.schedule, o.optimizer.lr, epoch + b / batches);
      const info: StepInfo = { epoch, batch: b, batches, step: epoch * batches + b, totalSteps: o.epochs * batches };
      o.hooks?.beforeStep?.(info);
      const r = trainee.step(train, order, s, e, lr, dropout);
      const lossValue = r.loss;
      correct += r.correct;
      o.hooks?.afterStep?.(info);
      if (!Number.isFinite(lossValue)) {
        const kept = state.epochsDone > 0 && o.checkpoint ? ` The checkpoint of epoch ${state.epochsDone} is kept.` : '';
        throw new TrainingError(
          `loss became ${lossValue} at epoch ${epoch + 1}, batch ${b + 1}/${batches} (learning rate ${lr}, ` +
            `dataset ${train.id}). Lower the learning rate, check the inputs for NaN/Inf, or add batchnorm.${kept}`,
        );
      }
      lossSum += lossValue * (e - s);
      seen += e - s;
      if (o.onEvent && ((b + 1) % eventEvery === 0 || b + 1 === batches)) {
        o.onEvent({ type: 'batch', epoch, epochs: o.epochs, batch: b + 1, batches, loss: lossSum / seen, batchLoss: lossValue, seconds: (performance.now() - te) / 1000 });
      }
    }
    const log: EpochLog = { epoch, loss: lossSum / seen, accuracy: correct / seen, lr, seconds: 0 };
    if (o.validation) {
      const v = trainee.evaluate(o.validation);
      log.valLoss = v.loss;
      log.valAccuracy = v.accuracy;
    }
    log.seconds = (performance.now() - te) / 1000;
    state.history.push(log);
    state.epochsDone = epoch + 1;
    if (es) {
      const value = monitor === 'loss' ? log.loss : (log.valLoss as number);
      if (value < state.best.value - (es.minDelta ?? 0)) {
        state.best = { value, epoch, weights: es.restoreBest === false ? null : trainee.readWeights() };
        state.wait = 0;
      } else if (++state.wait >= es.patience) {
        state.stopped = true;
      }
    }
    state.weights = trainee.readWeights();
    state.optimizer = trainee.optimizerState();
    o.checkpoint?.save(state);
    const meanEpoch = state.history.reduce((a, h) => a + h.seconds, 0) / state.history.length;
    o.onEvent?.({ type: 'epoch', epochs: o.epochs, log, etaSeconds: state.stopped ? 0 : meanEpoch * (o.epochs - epoch - 1), stopped: state.stopped });
  }
  let bestEpoch = state.history.length - 1;
  if (es && es.restoreBest !== false && state.best.weights && state.best.epoch !== bestEpoch) {
    trainee.writeWeights(state.best.weights);
    bestEpoch = state.best.epoch;
  }
  return { history: state.history, stoppedEarly: state.stopped, bestEpoch, seconds: (performance.now() - t0) / 1000 };
}
