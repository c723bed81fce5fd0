/**
 * `tck train`: trains one model on one dataset view, writes the run directory, resumes when run again.
 *
 *   tck train --model lenet5 --dataset mnist --epochs 10 --seed 1 --json
 *   tck train --preset lenet5-mnist --profile quick
 */
import { z } from 'zod';
import path from 'node:path';
import { initEngine, BACKEND_CHOICES } from '../engine/backend.js';
import { rngStream } from '../engine/random.js';
import { loadView, VIEWS } from '../data/views.js';
import { miniSubset, stratifiedSplit, subset } from '../data/split.js';
import { DataError, type Dataset } from '../data/types.js';
import { architectureByName } from '../models/zoo.js';
import { buildModel } from '../models/build.js';
import { summarize, formatSummary } from '../models/summary.js';
import { saveModel } from '../models/io.js';
import { fit, type FitState } from '../train/fit.js';
import { evaluate } from '../train/evaluate.js';
import { openRun } from '../run/rundir.js';
import { historyFigure } from '../report/figures.js';
import { createProgress, formatDuration } from '../run/progress.js';
import { validateConfig, readConfigFile, merge, ConfigError } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, profileFlag, printJson, UsageError, type Profile } from './common.js';

const DatasetViewSchema = z
  .object({
    dataset: z.string(),
    recipe: z.enum(['reference', 'raw']).optional(),
    target: z.string().optional(),
    classes: z.array(z.union([z.string(), z.number().int()])).min(2).optional(),
    mergeSplits: z.boolean().optional(),
    subset: z.object({ n: z.number().int().min(1), mode: z.enum(['first', 'stratified']) }).strict().optional(),
    normalize: z.union([z.literal('none'), z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).strict()]).optional(),
    resize: z.object({ to: z.number().int().min(1), method: z.enum(['pad', 'bilinear']) }).strict().optional(),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    model: z.string().min(1),
    dataset: z.union([z.string().refine((s) => s in VIEWS, { message: `unknown dataset view; known: ${Object.keys(VIEWS).join(', ')}` }), DatasetViewSchema]),
    epochs: z.number().int().min(0),
    batchSize: z.number().int().min(1),
    optimizer: z
      .object({
        name: z.enum(['adam', 'sgd']),
        lr: z.number().positive(),
        beta1: z.number().min(0).max(1).optional(),
        beta2: z.number().min(0).max(1).optional(),
        epsilon: z.number().positive().optional(),
        momentum: z.number().min(0).lt(1).optional(),
        nesterov: z.boolean().optional(),
        weightDecay: z.number().min(0).optional(),
        decoupled: z.boolean().optional(),
      })
      .strict(),
    schedule: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('constant') }).strict(),
        z.object({ kind: z.literal('cosine'), period: z.number().positive(), mult: z.number().min(1).optional(), minLr: z.number().min(0).optional() }).strict(),
        z.object({ kind: z.literal('step'), every: z.number().positive(), gamma: z.number().positive() }).strict(),
      ])
      .optional(),
    /** Train on a subset of the training split (test split untouched). */
    subset: z.object({ n: z.number().int().min(1), mode: z.enum(['first', 'stratified']) }).strict().optional(),
    /** Fraction of the training data held out as validation (for early stopping and val metrics). */
    valFraction: z.number().min(0).max(0.5),
    earlyStopping: z
      .object({ patience: z.number().int().min(1), monitor: z.enum(['val_loss', 'loss']).optional(), minDelta: z.number().min(0).optional(), restoreBest: z.boolean().optional() })
      .strict()
      .optional(),
    seed: z.number().int(),
    backend: z.enum(BACKEND_CHOICES as [string, ...string[]]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const onlyFor = (field: keyof TrainConfigOptimizer, name: 'adam' | 'sgd') => {
      if (c.optimizer[field] !== undefined && c.optimizer.name !== name) {
        ctx.addIssue({ code: 'custom', path: ['optimizer', field], message: `applies to ${name} only, but the optimizer is ${c.optimizer.name}` });
      }
    };
    (['momentum', 'nesterov'] as const).forEach((f) => onlyFor(f, 'sgd'));
    (['beta1', 'beta2', 'epsilon'] as const).forEach((f) => onlyFor(f, 'adam'));
    if (c.earlyStopping && (c.earlyStopping.monitor ?? 'val_loss') === 'val_loss' && !(c.valFraction > 0)) {
      ctx.addIssue({ code: 'custom', path: ['earlyStopping', 'monitor'], message: 'val_loss needs a validation set: set valFraction (--val-fraction) > 0, or monitor "loss"' });
    }
  });

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
type TrainConfigOptimizer = TrainConfig['optimizer'];

/** The flag that sets each config field, for error messages. */
const FLAG_OF: Record<string, string> = {
  model: '--model',
  dataset: '--dataset',
  epochs: '--epochs',
  batchSize: '--batch-size',
  'optimizer.name': '--optimizer',
  'optimizer.lr': '--lr',
  'optimizer.momentum': '--momentum',
  'optimizer.weightDecay': '--weight-decay',
  'subset.n': '--subset',
  valFraction: '--val-fraction',
  'earlyStopping.patience': '--patience',
  seed: '--seed',
  backend: '--backend',
};

const BASE: TrainConfig = {
  model: 'lenet5',
  dataset: 'mnist',
  epochs: 10,
  batchSize: 50,
  optimizer: { name: 'adam', lr: 1e-3 },
  valFraction: 0,
  seed: 1,
  backend: 'auto',
};

/** Named train configs; each profile overrides the base (smoke: seconds, quick: minutes, paper: full). */
export const TRAIN_PRESETS: Record<string, { description: string; config: Partial<TrainConfig>; profiles: Record<Profile, Partial<TrainConfig>> }> = {
  'lenet5-mnist': {
    description: 'LeNet-5 (seed 001, 28x28, no padding) on MNIST, Adam 1e-3, batch 50',
    config: { model: 'lenet5', dataset: 'mnist' },
    profiles: {
      smoke: { epochs: 1, subset: { n: 2000, mode: 'stratified' } },
      quick: { epochs: 3 },
      paper: { epochs: 10 },
    },
  },
  'lenet5-fashion-mnist': {
    description: 'LeNet-5 on Fashion-MNIST, Adam 1e-3, batch 50',
    config: { model: 'lenet5', dataset: 'fashion-mnist' },
    profiles: {
      smoke: { epochs: 1, subset: { n: 2000, mode: 'stratified' } },
      quick: { epochs: 3 },
      paper: { epochs: 10 },
    },
  },
};

const HELP = `tck train: train one model on one dataset view

  tck train --model <name> --dataset <view> [--epochs n] [--seed s] [--json]
  tck train --preset <name> [--profile smoke|quick|paper]

Options:
  --model <name>        ${'lenet5, lenet5-32, lenet5-cifar10, vgg7, quantnet, mlp-<in>-<hidden...>-<classes>'}
  --dataset <view>      ${Object.keys(VIEWS).join(', ')}
  --epochs <n>          training epochs
  --batch-size <n>      mini-batch size (default 50)
  --optimizer adam|sgd  --lr <rate>  --momentum <m>  --weight-decay <wd>
  --subset <n>          train on n samples of the training split (stratified, seeded)
  --val-fraction <f>    hold out this fraction of the training data for validation
  --patience <n>        early stopping on validation loss (needs --val-fraction)
  --preset <name>       ${Object.keys(TRAIN_PRESETS).join(', ')}
  --profile <p>         smoke | quick | paper (with --preset; default quick). Flags or a config file that
                        change the preset's settings (other than --seed and --backend) label the run "custom"
  --config <file.json>  a config file (validated; see TrainConfigSchema)
  --seed <n>            run seed (default 1)   --backend auto|tensorflow|wasm|cpu
  --out <dir>           run directory (default results/train-<preset>-<profile>; without --preset,
                        results/train-<model>-<dataset>-custom)
  --fresh               start over instead of resuming
  --json                end with one JSON line on stdout
  --quiet               no progress output on stderr
`;

function resolveConfig(argv: string[]) {
  const { values: v } = parse('train', argv, {
    ...COMMON_OPTIONS,
    model: { type: 'string' },
    dataset: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    subset: { type: 'string' },
    'val-fraction': { type: 'string' },
    patience: { type: 'string' },
  });
  if (v.help) return { help: true as const };
  let presetName: string;
  let profile: Profile | 'custom';
  let presetLayers: Partial<TrainConfig>[] = [];
  if (v.preset) {
    const p = TRAIN_PRESETS[v.preset];
    if (!p) throw new UsageError(`--preset: unknown train preset ${JSON.stringify(v.preset)}; known: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
    presetName = v.preset;
    profile = profileFlag(v.profile, 'quick');
    presetLayers = [p.config, p.profiles[profile]];
  } else {
    if (v.profile) throw new UsageError(`--profile: only with --preset (a profile is a preset's setting); known presets: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
    profile = 'custom';
  }
  const file = v.config ? readConfigFile(v.config) : undefined;
  const subsetN = intFlag(v.subset, 'subset', 1);
  const patience = intFlag(v.patience, 'patience', 1);
  const flags = {
    model: v.model,
    dataset: v.dataset,
    epochs: intFlag(v.epochs, 'epochs', 0),
    batchSize: intFlag(v['batch-size'], 'batch-size', 1),
    optimizer: {
      name: v.optimizer,
      lr: numFlag(v.lr, 'lr'),
      momentum: numFlag(v.momentum, 'momentum'),
      weightDecay: numFlag(v['weight-decay'], 'weight-decay'),
    },
    subset: subsetN ? { n: subsetN, mode: 'stratified' } : undefined,
    valFraction: numFlag(v['val-fraction'], 'val-fraction'),
    earlyStopping: patience ? { patience } : undefined,
    seed: intFlag(v.seed, 'seed', 0),
    backend: v.backend,
  };
  const stripUndefined = (o: unknown): unknown =>
    o && typeof o === 'object' && !Array.isArray(o)
      ? Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined).map(([k, x]) => [k, stripUndefined(x)]))
      : o;
  // Backend: --backend or the config file, else the TCK_BACKEND environment variable, else auto.
  const base = { ...BASE, backend: process.env.TCK_BACKEND ?? BASE.backend };
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  const merged = merge<TrainConfig>(base, ...presetLayers, file, stripUndefined(flags));
  // Errors in values that came from flags name the flag as well as the field.
  const given = new Set<string>();
  const collect = (o: unknown, prefix: string): void => {
    if (o && typeof o === 'object' && !Array.isArray(o)) Object.entries(o).forEach(([k, x]) => collect(x, prefix ? `${prefix}.${k}` : k));
    else given.add(prefix);
  };
  collect(stripUndefined(flags), '');
  const flagOf = Object.fromEntries(Object.entries(FLAG_OF).filter(([k]) => given.has(k)));
  const config = validateConfig(TrainConfigSchema, merged, v.config ?? (process.env.TCK_BACKEND ? 'train config (backend may come from TCK_BACKEND)' : 'train config'), flagOf);
  // A preset's profile names its settings: a run that changes them (beyond the seed and the backend) is not
  // that profile's run, and must not land in its directory or the report under its name.
  let changed: string[] = [];
  if (v.preset) {
    const presetOnly = merge<TrainConfig>(base, ...presetLayers);
    const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    changed = Object.keys(config).filter((k) => k !== 'seed' && k !== 'backend' && differs(config[k as keyof TrainConfig], presetOnly[k as keyof TrainConfig]));
    if (changed.length) profile = 'custom';
  }
  if (v['stand-in']) {
    throw new UsageError('--stand-in: tck train has no stand-in datasets (every dataset it trains on is the real one); the flag is for experiments on data that cannot be obtained here');
  }
  presetName = v.preset ?? `${config.model}-${typeof config.dataset === 'string' ? config.dataset : config.dataset.dataset}`;
  return { help: false as const, config, presetName, profile, changed, out: v.out, fresh: Boolean(v.fresh), json: Boolean(v.json), quiet: Boolean(v.quiet) };
}

function checkInput(arch: { name: string; input: number[] }, ds: Dataset): void {
  if (arch.input.join() !== ds.shape.join()) {
    const hint = arch.input.join() === '32,32,1' && ds.shape.join() === '28,28,1' ? ' (use --dataset mnist32 to pad MNIST to 32x32)' : '';
    throw new DataError(`model ${arch.name}`, `expects inputs of shape [${arch.input}] but dataset ${ds.id} gives [${ds.shape}]${hint}`);
  }
}

export async function trainCommand(argv: string[]): Promise<number> {
  const r = resolveConfig(argv);
  if (r.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { config, presetName, profile } = r;
  // Everything that can be wrong with the inputs (model name, dataset files, shapes) fails here, before a run
  // directory exists.
  architectureByName(config.model);
  const engine = await initEngine({ backend: config.backend });
  const data = await loadView(config.dataset, config.seed);
  let train = data.train;
  if (config.subset) train = miniSubset(train, config.subset.n, config.subset.mode, rngStream(config.seed, 'data'));
  let validation: Dataset | undefined;
  if (config.valFraction > 0) {
    const { kept, held } = stratifiedSplit(train.y, config.valFraction, rngStream(config.seed, 'split'));
    validation = subset(train, held, `${train.id}[val]`);
    train = subset(train, kept, `${train.id}[train]`);
  }
  const arch = architectureByName(config.model, { classes: train.classNames.length });
  checkInput(arch, train);
  const run = openRun({ command: 'train', preset: presetName, profile, seed: config.seed, config, out: r.out, fresh: r.fresh, engine });
  const progress = createProgress({ quiet: r.quiet });
  try {
    if (r.changed.length) progress.line(`tck train: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${presetName}, so the run is labelled custom`);
    progress.line(`tck train: ${presetName} (${profile}) on ${engine.backend}; run directory ${path.relative(process.cwd(), run.dir) || '.'}${run.resumed ? ' (resuming)' : ''}`);
    run.addDataset(data.record);
    const summary = summarize(arch);
    if (!r.json) progress.line(formatSummary(summary));
    const model = buildModel(arch, { seed: config.seed });
    const result = await fit(model, train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer: config.optimizer,
      schedule: config.schedule,
      seed: config.seed,
      head: arch.head,
      validation,
      earlyStopping: config.earlyStopping,
      checkpoint: { load: () => run.checkpoints.load<FitState>('fit'), save: (s) => run.checkpoints.save('fit', s) },
      onEvent: (e) => {
        if (e.type === 'batch') progress.update(`epoch ${e.epoch + 1}/${e.epochs}`, e.batch, e.batches, `loss ${e.loss.toFixed(4)}`);
        else if (e.type === 'resume') {
          progress.line(`resuming after epoch ${e.epochsDone}`);
          run.log({ type: 'resume', epochsDone: e.epochsDone });
        } else {
          const l = e.log;
          const val = l.valLoss !== undefined ? ` val_loss ${l.valLoss.toFixed(4)} val_acc ${(l.valAccuracy! * 100).toFixed(2)}%` : '';
          progress.line(
            `epoch ${l.epoch + 1}/${e.epochs}  loss ${l.loss.toFixed(4)}  acc ${(l.accuracy * 100).toFixed(2)}%${val}  ` +
              `${formatDuration(l.seconds)} (${Math.round(train.y.length / l.seconds)} samples/s)  ETA ${formatDuration(e.etaSeconds)}${e.stopped ? '  early stop' : ''}`,
          );
          run.log({ type: 'epoch', ...l });
        }
      },
    });
    const test = data.test ? evaluate(model, data.test, arch.head) : null;
    const val = validation ? evaluate(model, validation, arch.head) : null;
    await saveModel(model, path.join(run.dir, 'model'));
    run.writeCsv('history.csv', result.history as unknown as Record<string, unknown>[], ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', 'seconds']);
    // figures/history.svg and .png: loss and accuracy per epoch, labelled with the profile
    if (result.history.length > 0) {
      await historyFigure(result.history, { dir: run.figurePath(''), title: `${presetName}: training history (${config.model})`, profile });
    }
    const trainSeconds = result.history.reduce((s, h) => s + h.seconds, 0);
    const out = {
      command: 'train',
      preset: presetName,
      profile,
      model: config.model,
      dataset: data.name,
      params: summary.totalParams,
      trainSamples: train.y.length,
      epochs: result.history.length,
      bestEpoch: result.bestEpoch + 1,
      stoppedEarly: result.stoppedEarly,
      seed: config.seed,
      backend: engine.backend,
      seconds: trainSeconds,
      samplesPerSec: (train.y.length * result.history.length) / trainSeconds,
      trainLoss: result.history.at(-1)?.loss ?? null,
      trainAccuracy: result.history.at(-1)?.accuracy ?? null,
      valAccuracy: val?.accuracy ?? null,
      testAccuracy: test?.accuracy ?? null,
      testLoss: test?.loss ?? null,
      runDir: run.dir,
    };
    run.writeJson('result.json', out);
    // No seed document publishes the accuracy of these plain baselines: the comparison has no rows.
    run.writeComparison([]);
    run.finish();
    progress.line(
      `done: ${test ? `test accuracy ${(test.accuracy * 100).toFixed(2)}%` : `validation accuracy ${val ? (val.accuracy * 100).toFixed(2) + '%' : 'n/a'}`} ` +
        `after ${result.history.length} epochs (${formatDuration(trainSeconds)})`,
    );
    if (r.json) printJson(out);
    model.dispose();
    return 0;
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    progress.stop();
  }
}
