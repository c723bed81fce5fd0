/**
 * Seed 002 as experiments of the engine (`tck binary`, notebooks 08 and 09): a config becomes a list of jobs and
 * their records a summary; the experiment never trains by itself.
 *
 * - `genetic`: §4.1, the three genetic trainers of the appendix on a fully binary XNOR-popcount network (a job
 *   per trainer and repeat, each a `genetic` job: src/binary/job.ts). Accuracy after a fixed number of steps,
 *   beside §4.1.6's numbers (naive never above 10%, elite up to 48%, counting error 60% with 5 layers and 100
 *   bits per label).
 * - `resnet`: §4.2, the binary ResNet-18 (src/models/resnet.ts) with ReCU, the shifted hardtanh, cyclic precision
 *   (3 to 8 bits for weights, activations and gradients), cosine annealing, in the Adam (lr 0.0025, no weight
 *   decay) and SGD (lr 0.1) configurations, and the full-precision ResNet-18 baseline; augmentation for CIFAR
 *   only (Table 5.3: MNIST without). Accuracies beside Tables 5.1-5.3, with the training speed-up and memory
 *   saving computed as §5.3 does (src/binary/speedup.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Run, ComparisonRow } from '../run/rundir.js';
import { openRun, defaultRunDir } from '../run/rundir.js';
import type { Executor } from './executor.js';
import { createExecutor, type ExecutorChoice } from './executor.js';
import { openLedger } from './ledger.js';
import { runJobs, type JobRecord } from './runner.js';
import type { JobSpecInput } from './job.js';
import { presetsOf } from './registry.js';
import { ViewRefSchema, SubsetSchema, resolveView } from '../data/views.js';
import { getEntry, isPresent, loadDataset } from '../data/registry.js';
import { DataError } from '../data/types.js';
import { initEngine } from '../engine/backend.js';
import { TrainerConfigSchema } from '../binary/genetic.js';
import { TieRuleSchema } from '../binary/majority.js';
import { resnet18 } from '../models/resnet.js';
import { CyclicPrecisionSchema } from '../quant/schedules.js';
import { trainingSavings, weightMemory } from '../binary/speedup.js';
import { renderFigure, type Figure } from '../report/figures.js';
import { KitError } from '../util/errors.js';
import { hashJson } from '../util/json.js';
import type { Profile } from '../run/profile.js';


export const GeneticExperimentSchema = z.strictObject({
  experiment: z.literal('genetic'),
  dataset: ViewRefSchema.default('mnist'),
  /** Training rows (default: the whole training split). */
  subset: SubsetSchema.optional(),
  /** Hidden widths: 4 hidden layers make §4.1.6's 5 layers. */
  hidden: z.array(z.number().int().min(1)).min(1).max(4).default([1000, 1000, 1000, 1000]),
  bitsPerLabel: z.number().int().min(1).default(100),
  tie: TieRuleSchema.default('seeded'),
  trainers: z.array(TrainerConfigSchema).min(1),
  steps: z.number().int().min(1),
  batchSize: z.number().int().min(1).default(100),
  /** Test accuracy every this many steps (0: a tenth of the steps). */
  evalEvery: z.number().int().min(0).default(0),
  evalRows: z.number().int().min(1).optional(),
  repeats: z.number().int().min(1).default(1),
  seed: z.number().int().default(1),
});

const RESNET_DATA = {
  mnist: { input: [28, 28, 1], classes: 10, table: 'Table 5.3' },
  cifar10: { input: [32, 32, 3], classes: 10, table: 'Table 5.1' },
  cifar100: { input: [32, 32, 3], classes: 100, table: 'Table 5.2' },
} as const;

export const RESNET_VARIANTS = ['sgd', 'adam', 'fp'] as const;
export type ResNetVariant = (typeof RESNET_VARIANTS)[number];

export const ResNetExperimentSchema = z.strictObject({
  experiment: z.literal('resnet'),
  dataset: z.enum(['mnist', 'cifar10', 'cifar100']),
  subset: SubsetSchema.optional(),
  /** Channel multiplier of ResNet-18's 64-128-256-512. */
  width: z.number().positive().max(1).default(1),
  /** Binary SGD (lr 0.1), binary Adam (lr 0.0025, no weight decay), and the full-precision baseline. */
  variants: z.array(z.enum(RESNET_VARIANTS)).min(1).default(['sgd', 'adam', 'fp']),
  epochs: z.number().int().min(1),
  /** Epochs of the Adam configuration when they differ (§5.3: 254 against the baseline's 600). */
  adamEpochs: z.number().int().min(1).optional(),
  batchSize: z.number().int().min(1).default(128),
  /** Horizontal shift of the hardtanh (§4.2.4; no seed value, see src/models/resnet.ts). */
  shift: z.number().default(0.2),
  /** Cyclic precision for weights, activations and gradients (§4.2.5: 3 to 8 bits; CPT's 32 cycles). */
  cyclic: CyclicPrecisionSchema.default({ min: 3, max: 8, cycles: 32 }),
  tau: z.strictObject({ min: z.number().gt(0.5).lt(1), max: z.number().gt(0.5).lt(1) }).default({ min: 0.85, max: 0.99 }),
  /** SGD's momentum and weight decay (not given by the seed: the ReCU code's 0.9 and 5e-4). */
  sgd: z.strictObject({ lr: z.number().positive(), momentum: z.number().min(0).lt(1), weightDecay: z.number().min(0) }).default({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
  adam: z.strictObject({ lr: z.number().positive() }).default({ lr: 0.0025 }),
  /** Augmentation (§4.2.7); default: on for CIFAR, off for MNIST (Table 5.3). */
  augment: z.boolean().optional(),
  seed: z.number().int().default(1),
});

export const BinaryConfigSchema = z.discriminatedUnion('experiment', [GeneticExperimentSchema, ResNetExperimentSchema]);
export type GeneticExperiment = z.infer<typeof GeneticExperimentSchema>;
export type ResNetExperiment = z.infer<typeof ResNetExperimentSchema>;
export type BinaryConfig = z.infer<typeof BinaryConfigSchema>;

/** §4.1.6 and Tables 5.1-5.3 (percent; speed-ups and savings as factors). */
export const SEED002_PUBLISHED = {
  genetic: {
    naive: { value: 10, quantity: 'naive perturbation (appendix .1): MNIST top-1 accuracy (%), "never higher than random choice, 10%"' },
    elite: { value: 48, quantity: 'elite evolution (appendix .2): MNIST top-1 accuracy (%), "never got higher than 48%"' },
    counting: { value: 60, quantity: 'counting error (appendix .3), 5 layers, 100 bits per label: MNIST top-1 accuracy (%)' },
  },
  resnet: {
    mnist: { fp: 97.9, sgd: 97.6, speedup: { sgd: 5.3 }, memory: 4 },
    cifar10: { fp: 93.0, sgd: 92.09, adam: 90.6, speedup: { sgd: 5.2, adam: 12.3 }, memory: 4 },
    cifar100: { fp: 75.72, sgd: 70.46, adam: 68.63, speedup: { sgd: 5.3, adam: 12.3 }, memory: 4 },
  },
} as const;

/** The epochs of the seed's Adam run and of the baseline it is compared with (§5.3: "254 epochs instead of 600"). */
export const SEED002_EPOCHS = { adam: 254, baseline: 600 };

// ---------------------------------------------------------------------------------------------------------------
// config -> jobs

export interface BinaryJobMeta {
  /** Trainer kind (genetic) or variant (resnet). */
  name: string;
  repeat: number;
}

const trainerName = (t: z.infer<typeof TrainerConfigSchema>, all: z.infer<typeof TrainerConfigSchema>[]) => {
  const same = all.filter((x) => x.kind === t.kind);
  return same.length > 1 ? `${t.kind}-${same.indexOf(t) + 1}` : t.kind;
};

/** Epochs of a ResNet variant (Adam may train shorter: `adamEpochs`). */
export function variantEpochs(c: ResNetExperiment, v: ResNetVariant): number {
  return v === 'adam' ? (c.adamEpochs ?? c.epochs) : c.epochs;
}

export function geneticEvalEvery(c: GeneticExperiment): number {
  return c.evalEvery > 0 ? c.evalEvery : Math.max(1, Math.floor(c.steps / 10));
}

/** The jobs of a config (and what each is), for `backend`. */
export function binaryJobs(c: BinaryConfig, backend: 'tensorflow' | 'wasm' | 'cpu'): { specs: JobSpecInput[]; meta: BinaryJobMeta[] } {
  const specs: JobSpecInput[] = [];
  const meta: BinaryJobMeta[] = [];
  if (c.experiment === 'genetic') {
    const view = resolveView(c.dataset).name;
    for (let r = 0; r < c.repeats; r++) {
      for (const t of c.trainers) {
        const name = trainerName(t, c.trainers);
        const seed = c.repeats > 1 ? `${c.seed}:r${r}` : c.seed;
        specs.push({
          model: `xnor-${c.hidden.join('-')}-${c.bitsPerLabel}bpl`,
          label: `${name} on ${view}${c.repeats > 1 ? ` r${r}` : ''}`,
          data: { source: c.dataset, subset: c.subset },
          // A genetic job has no epochs or optimizer (src/binary/job.ts): the budget is genetic.steps.
          train: { epochs: 1, batchSize: c.batchSize, optimizer: { name: 'sgd', lr: 1 } },
          seed,
          backend,
          evaluate: ['test'],
          genetic: { hidden: c.hidden, bitsPerLabel: c.bitsPerLabel, tie: c.tie, trainer: t, steps: c.steps, evalEvery: geneticEvalEvery(c), evalRows: c.evalRows },
        });
        meta.push({ name, repeat: r });
      }
    }
    return { specs, meta };
  }
  const d = RESNET_DATA[c.dataset];
  const augment = c.augment ?? c.dataset !== 'mnist';
  for (const v of c.variants) {
    const binary = v !== 'fp';
    const arch = resnet18({ input: [...d.input], classes: d.classes, width: c.width, binary, shift: c.shift, bits: c.cyclic.max, tau: c.tau.min });
    const epochs = variantEpochs(c, v);
    specs.push({
      model: arch,
      label: `resnet18-${v} w${c.width} on ${c.dataset}`,
      data: { source: c.dataset, subset: c.subset, ...(augment ? { augment: {} } : {}) },
      train: {
        epochs,
        batchSize: c.batchSize,
        optimizer: v === 'adam' ? { name: 'adam', lr: c.adam.lr } : { name: 'sgd', lr: c.sgd.lr, momentum: c.sgd.momentum, weightDecay: c.sgd.weightDecay },
        schedule: { kind: 'cosine', period: epochs },
      },
      hooks: binary ? [{ kind: 'cyclic-precision', weights: c.cyclic, grad: c.cyclic }, { kind: 'recu-tau', tauMin: c.tau.min, tauMax: c.tau.max }] : [],
      seed: c.seed,
      backend,
      evaluate: ['test'],
    });
    meta.push({ name: v, repeat: 0 });
  }
  return { specs, meta };
}

// ---------------------------------------------------------------------------------------------------------------
// records -> summary

export interface BinaryRow {
  name: string;
  repeat: number;
  status: 'ok' | 'failed';
  testAccuracy: number | null;
  trainAccuracy: number | null;
  steps: number | null;
  epochs: number | null;
  params: number | null;
  seconds: number | null;
  error: string;
  /** resnet: §5.3's training speed-up and memory saving, the weight-memory saving of the architecture. */
  trainingSpeedup?: number | null;
  trainingMemorySaving?: number | null;
  weightMemorySaving?: number | null;
}

export interface CurveRow {
  name: string;
  repeat: number;
  step: number;
  testAccuracy: number | null;
  batchAccuracy: number;
  flips: number;
}

export interface HistoryRow {
  name: string;
  epoch: number;
  loss: number;
  accuracy: number;
  lr: number;
}

export interface BinarySummary {
  rows: BinaryRow[];
  curve: CurveRow[];
  history: HistoryRow[];
  comparison: ComparisonRow[];
}

const ok = (r: JobRecord) => (r.outcome.status === 'ok' ? r.outcome.result : null);
const pct = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 100);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summarizeBinary(c: BinaryConfig, records: JobRecord[], meta: BinaryJobMeta[], profile: string): BinarySummary {
  const rows: BinaryRow[] = [];
  const curve: CurveRow[] = [];
  const history: HistoryRow[] = [];
  records.forEach((rec, i) => {
    const res = ok(rec);
    const m = meta[i];
    const row: BinaryRow = {
      name: m.name,
      repeat: m.repeat,
      status: res ? 'ok' : 'failed',
      testAccuracy: res?.metrics.testAccuracy ?? null,
      trainAccuracy: res?.metrics.trainAccuracy ?? null,
      steps: res?.genetic?.steps ?? null,
      epochs: res ? res.epochs : null,
      params: res?.params ?? null,
      seconds: res?.timing.seconds ?? null,
      error: rec.outcome.status === 'failed' ? rec.outcome.error.message : '',
    };
    if (c.experiment === 'resnet' && res) {
      const binary = m.name !== 'fp';
      const s = trainingSavings({ maxBits: binary ? c.cyclic.max : 32, cyclic: binary, epochs: variantEpochs(c, m.name as ResNetVariant), baselineEpochs: c.epochs });
      row.trainingSpeedup = s.speedup;
      row.trainingMemorySaving = s.memorySaving;
      row.weightMemorySaving = weightMemory(res.architecture, c.cyclic.max).saving;
      res.history.forEach((h) => history.push({ name: m.name, epoch: h.epoch + 1, loss: h.loss, accuracy: h.accuracy, lr: h.lr }));
    }
    for (const p of res?.genetic?.curve ?? []) {
      curve.push({ name: m.name, repeat: m.repeat, step: p.step, testAccuracy: p.testCorrect === null || !p.testRows ? null : p.testCorrect / p.testRows, batchAccuracy: p.batchCorrect / p.batch, flips: p.flips });
    }
    rows.push(row);
  });
  return { rows, curve, history, comparison: comparisonRows(c, rows, profile) };
}

/** The counting trainer's marking options, for the comparison note (the seed's: BatchSize/2, every layer). */
const countingRule = (t: z.infer<typeof TrainerConfigSchema>) =>
  t.kind !== 'counting' ? '' : `, wrong when in at least ${t.errorThreshold.num}/${t.errorThreshold.den} of the batch${t.blameDepth ? `, blame depth ${t.blameDepth} layer${t.blameDepth > 1 ? 's' : ''} (kit option, not in the seed)` : ''}`;

function comparisonRows(c: BinaryConfig, rows: BinaryRow[], profile: string): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  const accOf = (name: string) => mean(rows.filter((r) => r.name === name && r.testAccuracy !== null).map((r) => r.testAccuracy!));
  if (c.experiment === 'genetic') {
    const sizes = `in-${c.hidden.join('-')}-(classes x ${c.bitsPerLabel})`;
    for (const t of c.trainers) {
      const name = trainerName(t, c.trainers);
      const pub = SEED002_PUBLISHED.genetic[t.kind];
      const acc = accOf(name);
      out.push({
        seed_document: 'seed 002',
        table_or_figure: '§4.1.6',
        quantity: pub.quantity,
        paper_value: pub.value,
        kit_value: pct(acc),
        profile,
        note:
          `kit: ${t.kind} trainer after ${c.steps} steps of batch ${c.batchSize}, network ${sizes} (${c.hidden.length + 1} layers, ${c.bitsPerLabel} bits per label), ` +
          `flip ${t.flip.num}/${t.flip.den}${countingRule(t)}, test split of ${resolveView(c.dataset).name}${c.subset ? `, ${c.subset.n} training rows` : ''}${c.repeats > 1 ? `, mean of ${c.repeats} repeats` : ''}; ` +
          `seed: after 30 minutes of training (§4.1.6), network width not given`,
      });
    }
    return out;
  }
  const pub = SEED002_PUBLISHED.resnet[c.dataset] as { fp: number; sgd: number; adam?: number; speedup: { sgd: number; adam?: number }; memory: number };
  const table = RESNET_DATA[c.dataset].table;
  const setting = `ResNet-18 width x${c.width}, ${c.epochs} epoch${c.epochs > 1 ? 's' : ''}${c.adamEpochs ? ` (Adam ${c.adamEpochs})` : ''}, batch ${c.batchSize}${c.subset ? `, ${c.subset.n} training rows` : ''}, cyclic ${c.cyclic.min}-${c.cyclic.max} bits`;
  const names: Record<ResNetVariant, string> = { fp: 'full-precision ResNet-18 (baseline)', sgd: 'binary ResNet-18, SGD (proposed)', adam: 'binary ResNet-18, Adam (proposed)' };
  for (const v of c.variants) {
    const paper = v === 'fp' ? pub.fp : v === 'sgd' ? pub.sgd : pub.adam;
    out.push({ seed_document: 'seed 002', table_or_figure: table, quantity: `${names[v]}: top-1 accuracy (%)`, paper_value: paper ?? null, kit_value: pct(accOf(v)), profile, note: `kit: ${setting}${paper === undefined ? '; the table has no such entry' : ''}` });
    if (v === 'fp') continue;
    const row = rows.find((r) => r.name === v && r.status === 'ok');
    const paperSpeed = v === 'sgd' ? pub.speedup.sgd : pub.speedup.adam;
    out.push({
      seed_document: 'seed 002',
      table_or_figure: table,
      quantity: `${names[v]}: training speed-up (x)`,
      paper_value: paperSpeed ?? null,
      kit_value: row?.trainingSpeedup ?? null,
      profile,
      note: `computed as §5.3: 32/${c.cyclic.max} bits x 1.3 (cyclic precision) x baseline epochs / epochs (kit: ${c.epochs} / ${variantEpochs(c, v)}); ${v === 'sgd' && paperSpeed === 5.3 ? 'the formula gives 4 x 1.3 = 5.2 (Table 5.1 prints 5.2, this table 5.3)' : v === 'adam' ? 'the seed\'s 12.3 includes x2.36 for 254 instead of 600 epochs' : ''}`,
    });
    out.push({ seed_document: 'seed 002', table_or_figure: table, quantity: `${names[v]}: training memory saving (x)`, paper_value: pub.memory, kit_value: row?.trainingMemorySaving ?? null, profile, note: `32 / ${c.cyclic.max}: the highest width of the cyclic schedule (§5.3: "due to 8bit training")` });
    out.push({ seed_document: 'seed 002', table_or_figure: table, quantity: `${names[v]}: inference memory saving (x)`, paper_value: 32, kit_value: row?.weightMemorySaving ? Math.round(row.weightMemorySaving * 100) / 100 : null, profile, note: `kit: weight storage of its architecture (binary blocks 1 bit; stem, shortcuts, classifier ${c.cyclic.max} bits; BN and biases 32); the seed's x32 is XNOR-Net's figure for all-binary weights` });
  }
  if (c.variants.includes('adam')) {
    const s = trainingSavings({ maxBits: 8, cyclic: true, epochs: SEED002_EPOCHS.adam, baselineEpochs: SEED002_EPOCHS.baseline });
    out.push({ seed_document: 'seed 002', table_or_figure: '§5.3', quantity: 'training speed-up of the seed\'s Adam setting (8 bits, cyclic, 254 of 600 epochs)', paper_value: 12.3, kit_value: Math.round(s.speedup * 100) / 100, profile, note: 'the arithmetic of §5.3 (4 x 1.3 x 600/254), not a measurement' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// running in a run directory

export interface BinaryRunOptions {
  config: BinaryConfig;
  run: Run;
  executor: Executor;
  backend: 'tensorflow' | 'wasm' | 'cpu';
  profile: string;
  quiet?: boolean;
}

export interface BinaryResult extends BinarySummary {
  jobs: { total: number; ran: number; reused: number; failed: number };
  wallSeconds: number;
  runDir: string;
  figures: Figure[];
}

/** Fails before any run directory exists when the dataset is missing, saying how to get it. */
export async function checkBinaryData(c: BinaryConfig): Promise<void> {
  const id = resolveView(c.dataset).view.dataset;
  if (isPresent(getEntry(id))) return;
  try {
    await loadDataset(id);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new KitError(`dataset ${id} is missing: ${(e as Error).message}`, 'DataError');
  }
}

export const BINARY_ROW_COLUMNS = ['name', 'repeat', 'status', 'testAccuracy', 'trainAccuracy', 'steps', 'epochs', 'params', 'seconds', 'trainingSpeedup', 'trainingMemorySaving', 'weightMemorySaving', 'error'];

export async function runBinary(o: BinaryRunOptions): Promise<BinaryResult> {
  const { config: c, run } = o;
  const { specs, meta } = binaryJobs(c, o.backend);
  const ledger = openLedger(path.join(run.dir, 'ledger'));
  run.log({ type: 'start', experiment: c.experiment, jobs: specs.length, executor: o.executor.describe() });
  const t0 = performance.now();
  const s = await runJobs(specs, { executor: o.executor, ledger, log: run.log, quiet: o.quiet, label: `binary ${c.experiment}` });
  const wallSeconds = (performance.now() - t0) / 1000;
  for (const r of s.records) if (r.outcome.status === 'ok') run.addDataset(r.outcome.result.dataset);
  const summary = summarizeBinary(c, s.records, meta, o.profile);
  run.writeCsv('results.csv', summary.rows as unknown as Record<string, unknown>[], BINARY_ROW_COLUMNS);
  if (summary.curve.length) run.writeCsv('curve.csv', summary.curve as unknown as Record<string, unknown>[], ['name', 'repeat', 'step', 'testAccuracy', 'batchAccuracy', 'flips']);
  if (summary.history.length) run.writeCsv('history.csv', summary.history as unknown as Record<string, unknown>[], ['name', 'epoch', 'loss', 'accuracy', 'lr']);
  run.writeJson('results.json', { experiment: c.experiment, rows: summary.rows, curve: summary.curve, history: summary.history, jobs: { total: specs.length, ran: s.ran, reused: s.reused, failed: s.failed }, wallSeconds });
  run.writeComparison(summary.comparison);
  const figures = await binaryFigures(c, summary, { dir: run.figurePath(''), profile: o.profile });
  return { ...summary, jobs: { total: specs.length, ran: s.ran, reused: s.reused, failed: s.failed }, wallSeconds, runDir: run.dir, figures };
}

// ---------------------------------------------------------------------------------------------------------------
// figures

export async function binaryFigures(c: BinaryConfig, s: BinarySummary, o: { dir?: string; profile: string }): Promise<Figure[]> {
  const figs: Figure[] = [];
  if (c.experiment === 'genetic') {
    const pts = s.curve.filter((p) => p.testAccuracy !== null).map((p) => ({ trainer: p.name, step: p.step, accuracy: 100 * p.testAccuracy!, repeat: p.repeat }));
    if (pts.length) {
      figs.push(
        await renderFigure(
          {
            title: `Genetic training of a ${c.hidden.length + 1}-layer binary network on ${resolveView(c.dataset).name} (${c.bitsPerLabel} bits per label)`,
            data: { values: pts },
            width: 520,
            height: 280,
            layer: [
              { mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { domain: [0, 100] } }, color: { field: 'trainer', type: 'nominal' }, detail: { field: 'repeat' } } },
              { data: { values: [{ y: 10, label: 'random choice (10%)' }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
            ],
          },
          { dir: o.dir, name: 'genetic-accuracy', profile: o.profile },
        ),
      );
    }
    return figs;
  }
  const pub = SEED002_PUBLISHED.resnet[c.dataset] as Record<string, unknown>;
  const bars = s.rows
    .filter((r) => r.testAccuracy !== null)
    .flatMap((r) => [
      { variant: r.name, source: 'kit', accuracy: 100 * r.testAccuracy! },
      ...(typeof pub[r.name] === 'number' ? [{ variant: r.name, source: 'seed 002', accuracy: pub[r.name] as number }] : []),
    ]);
  if (bars.length) {
    figs.push(
      await renderFigure(
        {
          title: `ResNet-18 (width x${c.width}) on ${c.dataset}: test accuracy, kit vs ${RESNET_DATA[c.dataset].table}`,
          data: { values: bars },
          width: 360,
          height: 240,
          mark: 'bar',
          encoding: { x: { field: 'variant', type: 'nominal', title: null, axis: { labelAngle: 0 } }, xOffset: { field: 'source' }, y: { field: 'accuracy', type: 'quantitative', title: 'top-1 accuracy (%)', scale: { domain: [0, 100] } }, color: { field: 'source', type: 'nominal' } },
        },
        { dir: o.dir, name: 'resnet-accuracy', profile: o.profile },
      ),
    );
  }
  if (s.history.length) {
    figs.push(
      await renderFigure(
        {
          title: `ResNet-18 (width x${c.width}) on ${c.dataset}: training loss per epoch`,
          data: { values: s.history },
          width: 360,
          height: 240,
          mark: { type: 'line', point: true },
          encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } }, y: { field: 'loss', type: 'quantitative', title: 'training loss' }, color: { field: 'name', type: 'nominal', title: 'variant' } },
        },
        { dir: o.dir, name: 'resnet-loss', profile: o.profile },
      ),
    );
  }
  return figs;
}

// ---------------------------------------------------------------------------------------------------------------
// presets

const isObj = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
function mergeInto(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (isObj(a) && isObj(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergeInto(out[k], v);
    return out;
  }
  return b;
}

/** A preset's config at a profile, with `over` (a config file's fields, the seed) on top; validated. */
export function binaryPresetConfig(preset: string, profile: Profile, over: Record<string, unknown> = {}): BinaryConfig {
  const p = presetsOf('binary')[preset];
  if (!p) throw new KitError(`unknown binary preset ${JSON.stringify(preset)}; known: ${Object.keys(presetsOf('binary')).join(', ')}`, 'UsageError');
  const merged = [p.config, p.profiles[profile], over].reduce<unknown>((a, b) => mergeInto(a, b), {});
  const r = BinaryConfigSchema.safeParse(merged);
  if (!r.success) throw new KitError(`binary preset ${preset} (${profile}): invalid config\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`, 'ConfigError');
  return r.data;
}

export interface BinaryPresetRun {
  /** Executor choice (default: in-process, what a notebook wants). */
  executor?: ExecutorChoice;
  out?: string;
  fresh?: boolean;
  seed?: number;
  quiet?: boolean;
  backend?: string;
}

/**
 * Runs a preset at a profile in results/binary-<preset>-<profile>/ (or `out`): what the notebooks call. A rerun
 * takes the finished jobs from the ledger.
 */
export async function runBinaryPreset(preset: string, profile: Profile, o: BinaryPresetRun = {}): Promise<BinaryResult & { config: BinaryConfig }> {
  const config = binaryPresetConfig(preset, profile, o.seed !== undefined ? { seed: o.seed } : {});
  await checkBinaryData(config);
  const engine = await initEngine({ backend: o.backend ?? process.env.TCK_BACKEND });
  const backend = engine.backend as 'tensorflow' | 'wasm' | 'cpu';
  const run = openRun({ command: 'binary', preset, profile, seed: config.seed, config: { ...config, backend }, out: o.out ?? defaultRunDir('binary', preset, profile), fresh: o.fresh, engine });
  const executor = await createExecutor(o.executor ?? { workers: 'in-process' });
  try {
    const res = await runBinary({ config, run, executor, backend, profile, quiet: o.quiet ?? true });
    run.finish();
    return { ...res, config };
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    await executor.close();
  }
}

/** A short hash of a config (custom run directories). */
export const binaryConfigHash = (c: BinaryConfig) => hashJson(c).slice(0, 8);

/** Reads a finished run's results.json (null when absent). */
export function readBinaryResults(dir: string): Record<string, unknown> | null {
  const f = path.join(dir, 'results.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>) : null;
}
