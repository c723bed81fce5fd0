/**
 * `tck train`: trains one model on one dataset view, writes the run directory, resumes when run again.
 *
 *   tck train --model lenet5 --dataset mnist --epochs 10 --seed 1 --json
 *   tck train --preset lenet5-mnist --profile quick
 *   tck train --model lenet5-32 --dataset mnist32 --weights ternary --inputs 8bit --prune 0.5
 *   tck train --config examples/binary-lenet5.json --profile smoke
 */
import { z } from 'zod';
import fs from 'node:fs';
import path from 'node:path';
import { initEngine, BACKEND_CHOICES } from '../engine/backend.js';
import { VIEWS, ViewRefSchema, SubsetSchema, resolveView } from '../data/views.js';
import { architectureByName } from '../models/zoo.js';
import { ArchitectureSchema } from '../models/schema.js';
import type { Architecture } from '../models/arch.js';
import { estimate } from '../hw/index.js';
import { CompressionSchema, applyCompression, quantizerByName, type Compression } from '../experiments/compression.js';
import { loadArchitecture } from './estimate.js';
import { buildModel } from '../models/build.js';
import { summarize, formatSummary } from '../models/summary.js';
import { saveModel } from '../models/io.js';
import { writeModelWeights } from '../models/weights.js';
import { EarlyStoppingSchema, type EpochLog, type FitState } from '../train/fit.js';
import { OptimizerConfigSchema } from '../train/optimizers.js';
import { ScheduleConfigSchema } from '../train/schedules.js';
import { runJob, loadJobData, jobArchitecture, checkInput } from '../experiments/run-job.js';
import { parseJobSpec, type JobSpecInput } from '../experiments/job.js';
import { presetsOf } from '../experiments/registry.js';
import { hashJson, stripUndefined } from '../util/json.js';
import { openRun } from '../run/rundir.js';
import { historyFigure } from '../report/figures.js';
import { createProgress, formatDuration } from '../run/progress.js';
import { validateConfig, readConfigFile, merge, ConfigError, changedSettings } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, profileFlag, printJson, UsageError, onInterrupt, commandLine, type Profile } from './common.js';

export const TrainConfigSchema = z
  .strictObject({
    /** A model of the zoo by name, or an architecture as data (`--model file.json` reads one). */
    model: z.union([z.string().min(1), ArchitectureSchema]),
    dataset: ViewRefSchema,
    /** Quantizers, pruning and clustering (src/experiments/compression.ts; examples/ has config files). */
    compression: CompressionSchema.optional(),
    epochs: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    optimizer: OptimizerConfigSchema,
    schedule: ScheduleConfigSchema.optional(),
    /** Train on a subset of the training split (test split untouched). */
    subset: SubsetSchema.optional(),
    /** Fraction of the training data held out as validation (for early stopping and val metrics). */
    valFraction: z.number().min(0).max(0.5),
    earlyStopping: EarlyStoppingSchema.optional(),
    seed: z.number().int(),
    backend: z.enum(BACKEND_CHOICES as [string, ...string[]]),
  })
  .superRefine((c, ctx) => {
    if (c.earlyStopping && (c.earlyStopping.monitor ?? 'val_loss') === 'val_loss' && !(c.valFraction > 0)) {
      ctx.addIssue({ code: 'custom', path: ['earlyStopping', 'monitor'], message: 'val_loss needs a validation set: set valFraction (--val-fraction) > 0, or monitor "loss"' });
    }
  });

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

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
  'compression.weights': '--weights',
  'compression.inputs': '--inputs',
  'compression.weightBits': '--weight-bits',
  'compression.keepFirstLast': '--keep-first-last',
  'compression.prune.sparsity': '--prune',
  'compression.cluster.clusters': '--cluster',
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

/** The train presets (src/experiments/registry.ts). */
const TRAIN_PRESETS = presetsOf<TrainConfig>('train');

const HELP = `tck train: train one model on one dataset view

  tck train --model <name> --dataset <view> [--epochs n] [--seed s] [--json]
  tck train --preset <name> [--profile smoke|quick|paper]

Options:
  --model <name|file>   ${'lenet5, lenet5-32, lenet5-cifar10, vgg7, quantnet, mlp-<in>-<hidden...>-<classes>'},
                        or an architecture JSON file (as tck estimate takes; examples/mlp-cardio.json)
  --dataset <view>      ${Object.keys(VIEWS).join(', ')}
  --epochs <n>          training epochs
  --batch-size <n>      mini-batch size (default 50)
  --optimizer adam|sgd  --lr <rate>  --momentum <m>  --weight-decay <wd>
  --subset <n>          train on n samples of the training split (stratified, seeded)
  --val-fraction <f>    hold out this fraction of the training data for validation
  --patience <n>        early stopping on validation loss (needs --val-fraction)

Compression (per layer in a config file's "compression" block: see examples/ and docs/reference.md):
  --weights <q>         kernel quantizer of every conv2d/dense layer: binary, ternary, <n>bit (affine,
                        symmetric per channel), float16, none, or a quantizer config as JSON
  --weight-bits <list>  per-layer affine widths: one for all weighted layers or one per layer (32: float)
  --inputs <q>          input quantizer of every weighted layer after the first: binary (sign), reste,
                        <n>bit (affine, dynamic range), none, or JSON
  --keep-first-last     leave the first and last weighted layers at full precision
  --prune <s>           prune to sparsity s (0..1) during training (polynomial schedule, magnitude)
  --cluster <k>         cluster each kernel into k centroids before training (weights train as centroids)

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
    weights: { type: 'string' },
    inputs: { type: 'string' },
    'weight-bits': { type: 'string' },
    'keep-first-last': { type: 'boolean' },
    prune: { type: 'string' },
    cluster: { type: 'string' },
  });
  if (v.help) return { help: true as const };
  let presetName: string;
  let profile: Profile | 'custom';
  let presetLayers: Partial<TrainConfig>[] = [];
  let fileProfile: Profile | undefined;
  if (v.preset) {
    const p = TRAIN_PRESETS[v.preset];
    if (!p) throw new UsageError(`--preset: unknown train preset ${JSON.stringify(v.preset)}; known: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
    presetName = v.preset;
    profile = profileFlag(v.profile, 'quick');
    presetLayers = [p.config, p.profiles[profile]];
  } else {
    profile = 'custom';
  }
  // A config file may carry its own profiles ({"profiles": {"smoke": {...}, ...}}, as examples/ do): with
  // --profile, that block applies over the file's settings.
  let file = v.config ? readConfigFile(v.config) : undefined;
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  let fileLayers: unknown[] = [file];
  if (file && 'profiles' in (file as object)) {
    const { profiles, ...rest } = file as { profiles: unknown };
    const ok = profiles && typeof profiles === 'object' && !Array.isArray(profiles);
    if (!ok) throw new ConfigError(`${v.config}: profiles: expected an object {"smoke": {...}, "quick": {...}, "paper": {...}}`);
    const unknown = Object.keys(profiles as object).filter((k) => !['smoke', 'quick', 'paper'].includes(k));
    if (unknown.length) throw new ConfigError(`${v.config}: profiles: unknown profile ${unknown.join(', ')}; profiles: smoke, quick, paper`);
    file = rest;
    if (v.preset && v.profile) throw new UsageError('--profile: the config file has its own profiles; give --preset or a config file with profiles, not both');
    if (v.profile) {
      const p = profileFlag(v.profile, 'quick');
      const block = (profiles as Record<string, unknown>)[p];
      if (block === undefined) throw new UsageError(`--profile ${p}: ${v.config} defines profiles ${Object.keys(profiles as object).join(', ')}`);
      fileLayers = [rest, block];
      fileProfile = p;
    } else fileLayers = [rest];
  } else if (v.profile && !v.preset) {
    throw new UsageError(`--profile: only with --preset (a profile is a preset's setting) or a config file with "profiles"; known presets: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
  }
  // A mistyped model or dataset on the command line is a usage error (exit 2), named with what exists.
  // --model takes a zoo name or an architecture file (read here: the run's config then holds the architecture).
  let model: string | Architecture | undefined = v.model;
  if (v.model !== undefined && isFileName(v.model)) model = loadArchitecture(v.model);
  else if (v.model !== undefined) {
    try {
      architectureByName(v.model);
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message} (or give an architecture file: --model my-arch.json)`);
    }
  }
  if (v.dataset !== undefined && !(v.dataset in VIEWS)) throw new UsageError(`--dataset: unknown dataset view ${JSON.stringify(v.dataset)}; known: ${Object.keys(VIEWS).join(', ')}`);
  const subsetN = intFlag(v.subset, 'subset', 1);
  const patience = intFlag(v.patience, 'patience', 1);
  const prune = numFlag(v.prune, 'prune');
  const clusters = intFlag(v.cluster, 'cluster', 2);
  const weightBits = v['weight-bits'] === undefined ? undefined : v['weight-bits'].split(',').map((x) => intFlag(x.trim(), 'weight-bits', 1)!);
  const compression: Partial<Compression> = {
    weights: v.weights === undefined ? undefined : (quantizerByName(v.weights, 'weights', '--weights') ?? { kind: 'none' }),
    inputs: v.inputs === undefined ? undefined : (quantizerByName(v.inputs, 'inputs', '--inputs') ?? { kind: 'none' }),
    weightBits: weightBits === undefined ? undefined : weightBits.length === 1 ? weightBits[0] : weightBits,
    keepFirstLast: v['keep-first-last'] ? true : undefined,
    prune: prune === undefined ? undefined : { sparsity: prune },
    cluster: clusters === undefined ? undefined : { clusters },
  };
  const flags = {
    model,
    compression: Object.values(compression).some((x) => x !== undefined) ? compression : undefined,
    dataset: v.dataset,
    epochs: intFlag(v.epochs, 'epochs', 1),
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
  // Backend: --backend or the config file, else the TCK_BACKEND environment variable, else auto.
  const base = { ...BASE, backend: process.env.TCK_BACKEND ?? BASE.backend };
  // An architecture file named in a config file is found relative to that file.
  const fileModel = (fileLayers as { model?: unknown }[]).reduce<unknown>((m, l) => (l && l.model !== undefined ? l.model : m), undefined);
  if (flags.model === undefined && typeof fileModel === 'string' && isFileName(fileModel)) {
    flags.model = loadArchitecture(path.resolve(path.dirname(v.config!), fileModel));
  }
  const merged = merge<TrainConfig>(base, ...presetLayers, ...fileLayers, stripUndefined(flags));
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
    changed = changedSettings(config, presetOnly, ['seed', 'backend']);
    if (changed.length) profile = 'custom';
  }
  if (v['stand-in']) {
    throw new UsageError('--stand-in: tck train has no stand-in datasets (every dataset it trains on is the real one); the flag is for experiments on data that cannot be obtained here');
  }
  // A custom run gets its own directory, named by a short hash of the resolved config (as tck estimate does), so
  // two different custom runs never share one and a custom run never takes a preset's name.
  const hash = hashJson({ ...config, backend: undefined }).slice(0, 8);
  const what = `${modelName(config.model)}-${resolveView(config.dataset).name}`;
  const configName = v.config ? path.basename(v.config, '.json') : undefined;
  if (fileProfile) {
    // A config file's profile picks the file's settings, but a config file is not one of the kit's presets: the
    // run is exploratory (profile custom, its own section of the report), named by the file and its profile.
    profile = 'custom';
    presetName = `${configName}-${fileProfile}-${hash}`;
  } else presetName = profile === 'custom' ? `${v.preset ?? what}-${hash}` : v.preset!;
  const title = fileProfile ? `config ${v.config} (${fileProfile}; ${modelName(config.model)} on ${resolveView(config.dataset).name})` : profile === 'custom' ? `custom run ${hash} (${modelName(config.model)}${config.compression ? ', compressed' : ''} on ${resolveView(config.dataset).name}${v.preset ? `, changed from preset ${v.preset}` : ''})` : `preset ${presetName} (${profile})`;
  return { help: false as const, config, presetName, preset: v.preset, title, profile, configProfile: fileProfile ?? null, changed, out: v.out, fresh: Boolean(v.fresh), json: Boolean(v.json), quiet: Boolean(v.quiet) };
}

const isFileName = (m: string) => m.endsWith('.json') || m.includes('/') || m.includes(path.sep);
const modelName = (m: string | Architecture) => (typeof m === 'string' ? m : m.name);

export async function trainCommand(argv: string[]): Promise<number> {
  const r = resolveConfig(argv);
  if (r.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { config, presetName, profile } = r;
  // Everything that can be wrong with the inputs (model name, dataset files, shapes) fails here, before a run
  // directory exists.
  if (typeof config.model === 'string') architectureByName(config.model);
  const engine = await initEngine({ backend: config.backend });
  const base: JobSpecInput = {
    model: config.model,
    data: {
      source: config.dataset,
      subset: config.subset,
      split: config.valFraction > 0 ? { kind: 'holdout', valFraction: config.valFraction } : { kind: 'none' },
    },
    train: { epochs: config.epochs, batchSize: config.batchSize, optimizer: config.optimizer, schedule: config.schedule, earlyStopping: config.earlyStopping },
    seed: config.seed,
    backend: engine.backend as 'wasm',
    evaluate: ['validation', 'test'],
    output: { weights: true, history: true },
  };
  const data = await loadJobData(parseJobSpec(base, 'train config'));
  // The compression recipe becomes the job's layer quantizers, hooks and init (the pruning schedule is placed
  // by the number of optimizer steps, known once the data is loaded).
  const trainRows = Math.round(data.train.y.length * (1 - config.valFraction));
  const totalSteps = config.epochs * Math.ceil(trainRows / config.batchSize);
  const parts = applyCompression(jobArchitecture(parseJobSpec(base, 'train config'), data.train.classNames.length), config.compression, totalSteps);
  const parsed = parseJobSpec(config.compression ? { ...base, model: parts.arch, hooks: parts.hooks, init: parts.init } : base, 'train config');
  const arch = jobArchitecture(parsed, data.train.classNames.length);
  checkInput(arch, data.train);
  const run = openRun({ command: 'train', preset: presetName, profile, seed: config.seed, config, out: r.out, fresh: r.fresh, engine });
  const progress = createProgress({ quiet: r.quiet });
  const resultFile = path.join(run.dir, 'result.json');
  if (run.alreadyFinished && fs.existsSync(resultFile)) {
    const done = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
    const acc = (done.testAccuracy ?? done.valAccuracy) as number | null;
    progress.line(
      `tck train: ${r.title} is already finished${acc !== null && acc !== undefined ? ` (${done.testAccuracy !== null ? 'test' : 'validation'} accuracy ${(100 * acc).toFixed(2)}%)` : ''}; ` +
        `results in ${path.relative(process.cwd(), run.dir) || '.'}. Use --fresh to train again.`,
    );
    if (r.json) printJson({ ...done, provenance: undefined, alreadyFinished: true });
    return 0;
  }
  const off = onInterrupt(
    run,
    () => {
      const s = run.checkpoints.load<FitState>('fit');
      return s ? `The checkpoint after epoch ${s.epochsDone} is saved in ${path.relative(process.cwd(), run.checkpoints.dir) || run.checkpoints.dir}.` : 'No epoch had finished; nothing was saved.';
    },
    commandLine('train', argv),
  );
  try {
    if (r.changed.length) progress.line(`tck train: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${r.preset}, so the run is labelled custom`);
    progress.line(`tck train: ${r.title} on ${engine.backend}; run directory ${path.relative(process.cwd(), run.dir) || '.'}${run.resumed ? ' (resuming)' : ''}`);
    run.addDataset(data.record);
    const summary = summarize(arch);
    if (!r.json) progress.line(formatSummary(summary));
    const epochs: EpochLog[] = [];
    let trainSamples = 0;
    const result = await runJob(parsed, {
      checkpoint: {
        load: () => {
          const s = run.checkpoints.load<FitState>('fit');
          if (s) epochs.push(...s.history);
          return s;
        },
        save: (s) => run.checkpoints.save('fit', s),
      },
      onEvent: (e) => {
        if (e.type === 'batch') progress.update(`epoch ${e.epoch + 1}/${e.epochs}`, e.batch, e.batches, `loss ${e.loss.toFixed(4)}`);
        else if (e.type === 'resume') {
          progress.line(`resuming after epoch ${e.epochsDone}`);
          run.log({ type: 'resume', epochsDone: e.epochsDone });
        } else {
          const l = e.log;
          epochs.push(l);
          const val = l.valLoss !== undefined ? ` val_loss ${l.valLoss.toFixed(4)} val_acc ${(l.valAccuracy! * 100).toFixed(2)}%` : '';
          progress.line(
            `epoch ${l.epoch + 1}/${e.epochs}  loss ${l.loss.toFixed(4)}  acc ${(l.accuracy * 100).toFixed(2)}%${val}  ` +
              `${formatDuration(l.seconds)}  ETA ${formatDuration(e.etaSeconds)}${e.stopped ? '  early stop' : ''}`,
          );
          run.log({ type: 'epoch', ...l });
        }
      },
    });
    trainSamples = result.trainSamples;
    run.provenance.trainingPaths = { [result.path]: 1 };
    // The trained weights come back as data; the saved model is rebuilt from them.
    const model = buildModel(result.architecture, { seed: config.seed });
    writeModelWeights(model, result.weights!, 'trained weights');
    await saveModel(model, path.join(run.dir, 'model'));
    model.dispose();
    // The trained architecture (after clustering, with its quantizers) is what `tck export` rebuilds.
    run.writeJson('architecture.json', { architecture: result.architecture });
    const hw = estimate(result.architecture);
    const history = result.history.map((h, i) => ({ ...h, seconds: epochs[i]?.seconds ?? null }));
    run.writeCsv('history.csv', history as unknown as Record<string, unknown>[], ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', 'seconds']);
    // figures/history.svg and .png: loss and accuracy per epoch, labelled with the profile
    if (history.length > 0) {
      await historyFigure(history.map((h) => ({ ...h, seconds: h.seconds ?? 0 })), {
        dir: run.figurePath(''),
        title: `${r.title}: training history (${modelName(config.model)})`,
        profile,
        testAccuracy: result.metrics.testAccuracy,
        testLoss: result.metrics.testLoss,
      });
    }
    const trainSeconds = epochs.reduce((s, h) => s + h.seconds, 0);
    const m = result.metrics;
    const out = {
      command: 'train',
      preset: presetName,
      profile,
      configProfile: r.configProfile,
      model: modelName(config.model),
      dataset: resolveView(config.dataset).name,
      compression: config.compression ?? null,
      params: summary.totalParams,
      storageBytes: hw.storageBytes,
      macs: hw.macs,
      trainSamples,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch + 1,
      stoppedEarly: result.stoppedEarly,
      seed: config.seed,
      backend: engine.backend,
      trainingPath: result.path,
      ...(result.pathReason ? { trainingPathReason: result.pathReason } : {}),
      seconds: trainSeconds,
      samplesPerSec: (trainSamples * result.epochs) / trainSeconds,
      trainLoss: m.trainLoss,
      trainAccuracy: m.trainAccuracy,
      valAccuracy: m.valAccuracy,
      testAccuracy: m.testAccuracy,
      testLoss: m.testLoss,
      runDir: run.dir,
    };
    run.writeJson('result.json', out);
    // No seed document publishes the accuracy of these plain baselines: the comparison has no rows.
    run.writeComparison([]);
    run.finish();
    progress.line(
      `done: ${m.testAccuracy !== null ? `test accuracy ${(m.testAccuracy * 100).toFixed(2)}%` : `validation accuracy ${m.valAccuracy !== null ? (m.valAccuracy * 100).toFixed(2) + '%' : 'n/a'}`} ` +
        `after ${result.epochs} epoch${result.epochs === 1 ? '' : 's'} (${formatDuration(trainSeconds)})`,
    );
    if (r.json) printJson(out);
    return 0;
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    off();
    progress.stop();
  }
}
