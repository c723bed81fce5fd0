/**
 * A training job as plain data. Every training of the kit (a `tck train` run, one fold of a cross-validation,
 * one NAS candidate, one repeat of a compression pipeline) is a `JobSpec`: JSON that can be hashed, stored,
 * sent to a worker thread or through a Redis queue, and run by `runJob` with the same bits anywhere.
 *
 * Randomness (conventions.md): `seed` drives the data streams (`data` for subsets, `split` for hold-out and
 * folds); the model streams (`init`, `shuffle:<epoch>`, `dropout:<epoch>`) come from `trainSeed`, which
 * defaults to `seed`, and for a cross-validation fold to `<seed>:r<repeat>:f<fold>` (the protocol's per-fold
 * seed, src/experiments/cv.ts).
 */
import { z } from 'zod';
import { ArchitectureSchema } from '../models/schema.js';
import type { Architecture } from '../models/arch.js';
import { ViewRefSchema, SubsetSchema } from '../data/views.js';
import { SyntheticSchema } from '../data/synthetic.js';
import { OptimizerConfigSchema } from '../train/optimizers.js';
import { ScheduleConfigSchema } from '../train/schedules.js';
import { EarlyStoppingSchema } from '../train/fit.js';
import { HookSpecSchema, InitSchema } from './hooks.js';
import { GeneticTaskSchema } from '../binary/job.js';
import { AugmentSchema } from '../binary/augment.js';
import { KitError } from '../util/errors.js';
import { hashJson } from '../util/json.js';

const Seed = z.union([z.number().int(), z.string().min(1)]);

/** How the training rows are split: not at all, a stratified hold-out for validation, or one CV fold. */
export const SplitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  /** Stratified hold-out of `valFraction` of the training rows (stream `split` of the job seed). */
  z.strictObject({ kind: z.literal('holdout'), valFraction: z.number().gt(0).max(0.5) }),
  /**
   * Fold `fold` of a stratified k-fold split (stream `split`, shared by all repeats), repeat `repeat`; a
   * stratified `valFraction` of the training folds is carved out for early stopping (0: none).
   */
  z.strictObject({
    kind: z.literal('cv'),
    k: z.number().int().min(2),
    fold: z.number().int().min(0),
    repeat: z.number().int().min(0),
    valFraction: z.number().min(0).max(0.5),
  }),
]);

export const JobDataSchema = z.strictObject({
  /** A named dataset view, a view as data, or a synthetic dataset. */
  source: z.union([ViewRefSchema, z.strictObject({ synthetic: SyntheticSchema })]),
  /** Train on a subset of the training split (the test split is untouched). */
  subset: SubsetSchema.optional(),
  split: SplitSchema.default({ kind: 'none' }),
  /** Random rotation, flip and crop of the training images, drawn afresh every epoch (seed 002 §4.2.7, src/binary/augment.ts). */
  augment: AugmentSchema.optional(),
});

export const TrainSettingsSchema = z.strictObject({
  epochs: z.number().int().min(1),
  batchSize: z.number().int().min(1),
  optimizer: OptimizerConfigSchema,
  schedule: ScheduleConfigSchema.optional(),
  earlyStopping: EarlyStoppingSchema.optional(),
  dropRemainder: z.boolean().optional(),
});

export const EVALUATION_SETS = ['validation', 'heldout', 'test'] as const;

export const JobSpecSchema = z
  .strictObject({
    /** A model of the zoo by name (`lenet5`, `mlp-21-32-16-10`, ...) or an architecture as data. */
    model: z.union([z.string().min(1), ArchitectureSchema]),
    data: JobDataSchema,
    train: TrainSettingsSchema,
    /** Training hooks as data (pruning schedule, cyclic precision, ReCU's tau), turned into hooks by `makeHooks`. */
    hooks: z.array(HookSpecSchema).default([]),
    /** Initial weights and transforms of them (clustering, pruning) before training; default: seeded init. */
    init: InitSchema.optional(),
    seed: Seed,
    trainSeed: Seed.optional(),
    /** The backend the job must run on (resolved: a job never says `auto`, so every executor computes the same bits). */
    backend: z.enum(['tensorflow', 'wasm', 'cpu']),
    /**
     * The training path: `fast` (the kit's own trainer for the seeds' dense and convolutional networks, src/fast/), `tfjs` (the
     * reference path through tfjs ops), or `auto`: fast wherever it can train the job (`trainingPath` decides
     * from the spec alone, so the same spec always takes the same path), else tfjs. A job result says which ran.
     */
    path: z.enum(['auto', 'fast', 'tfjs']).default('auto'),
    /** Which sets to evaluate at the end: the validation part, the held-out CV fold, the view's test split. */
    evaluate: z.array(z.enum(EVALUATION_SETS)).default(['validation', 'heldout', 'test']),
    /** Return the trained weights (and the per-epoch history, default true). */
    output: z.strictObject({ weights: z.boolean().default(false), history: z.boolean().default(true) }).default({ weights: false, history: true }),
    /** A human-readable name for progress lines and logs (not part of the job's identity). */
    label: z.string().optional(),
    /**
     * A genetic training of a bit-packed binary network (seed 002 §4.1, src/binary/job.ts) instead of a gradient
     * training: `runJob` hands the job to `runGeneticJob`. Absent on every other job (so their keys are unchanged).
     */
    genetic: GeneticTaskSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.train.earlyStopping && (s.train.earlyStopping.monitor ?? 'val_loss') === 'val_loss') {
      const split = s.data.split;
      const hasVal = split.kind === 'holdout' || (split.kind === 'cv' && split.valFraction > 0);
      if (!hasVal) ctx.addIssue({ code: 'custom', path: ['train', 'earlyStopping', 'monitor'], message: 'val_loss needs a validation part: a holdout split or a cv split with valFraction > 0, or monitor "loss"' });
    }
    if (s.data.split.kind === 'cv' && s.data.split.fold >= s.data.split.k) {
      ctx.addIssue({ code: 'custom', path: ['data', 'split', 'fold'], message: `must be below k = ${s.data.split.k}` });
    }
    if (s.genetic) {
      const bad = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (typeof s.model !== 'string') bad(['model'], 'a genetic job names its network with a string (the network is genetic.hidden)');
      if (s.train.epochs !== 1) bad(['train', 'epochs'], 'a genetic job\'s budget is genetic.steps: set train.epochs to 1');
      if (s.hooks.length) bad(['hooks'], 'training hooks do not apply to a genetic job');
      if (s.init) bad(['init'], 'init does not apply to a genetic job');
    }
  });

/** A job spec as written (defaults optional). */
export type JobSpecInput = z.input<typeof JobSpecSchema>;
/** A validated job spec (defaults filled in). */
export type JobSpec = z.infer<typeof JobSpecSchema> & { model: string | Architecture };

/** Validates a job spec; errors name the field (`train.optimizer.lr: ...`) and the job. */
export function parseJobSpec(spec: unknown, where = 'job spec'): JobSpec {
  const r = JobSpecSchema.safeParse(spec);
  if (r.success) return r.data as JobSpec;
  const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new KitError(`${where}: invalid job spec\n${lines.join('\n')}`, 'ConfigError');
}

/**
 * The job's identity: sha256 of its validated spec without the label. Same key, same result (runJob is a pure
 * function of the spec), so a ledger can skip any job whose key it holds.
 */
export function jobKey(spec: JobSpecInput | JobSpec): string {
  const { label: _label, ...rest } = parseJobSpec(spec);
  return hashJson(rest);
}

/** The seed of the model streams (init, shuffle, dropout). */
export function trainSeedOf(spec: JobSpec): string | number {
  if (spec.trainSeed !== undefined) return spec.trainSeed;
  const s = spec.data.split;
  return s.kind === 'cv' ? `${spec.seed}:r${s.repeat}:f${s.fold}` : spec.seed;
}

/** A short readable label for a job (its own label, else model, data and seed). */
export function jobLabel(spec: JobSpec): string {
  if (spec.label) return spec.label;
  const model = typeof spec.model === 'string' ? spec.model : spec.model.name;
  const src = spec.data.source;
  const data = typeof src === 'string' ? src : 'synthetic' in src ? `synthetic-${src.synthetic.kind}` : src.dataset;
  const s = spec.data.split;
  const where = s.kind === 'cv' ? ` r${s.repeat} f${s.fold}` : '';
  return `${model} on ${data}${where} seed ${spec.seed}`;
}
