/**
 * `tck train`: trains one model on one dataset view, writes the run directory, resumes when run again.
 *
 *   tck train --model lenet5 --dataset mnist --epochs 10 --seed 1 --json
 *   tck train --preset lenet5-mnist --profile quick
 */
import { z } from 'zod';
import fs from 'node:fs';
import path from 'node:path';
import { initEngine, BACKEND_CHOICES } from '../engine/backend.js';
import { VIEWS, ViewRefSchema, SubsetSchema, resolveView } from '../data/views.js';
import { architectureByName } from '../models/zoo.js';
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
import { validateConfig, readConfigFile, merge, ConfigError } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, profileFlag, printJson, UsageError, onInterrupt, commandLine, type Profile } from './common.js';

export const TrainConfigSchema = z
  .strictObject({
    model: z.string().min(1),
    dataset: ViewRefSchema,
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
  // A mistyped model or dataset on the command line is a usage error (exit 2), named with what exists.
  if (v.model !== undefined) {
    try {
      architectureByName(v.model);
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message}`);
    }
  }
  if (v.dataset !== undefined && !(v.dataset in VIEWS)) throw new UsageError(`--dataset: unknown dataset view ${JSON.stringify(v.dataset)}; known: ${Object.keys(VIEWS).join(', ')}`);
  const file = v.config ? readConfigFile(v.config) : undefined;
  const subsetN = intFlag(v.subset, 'subset', 1);
  const patience = intFlag(v.patience, 'patience', 1);
  const flags = {
    model: v.model,
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
  // A custom run gets its own directory, named by a short hash of the resolved config (as tck estimate does), so
  // two different custom runs never share one and a custom run never takes a preset's name.
  const hash = hashJson({ ...config, backend: undefined }).slice(0, 8);
  const what = `${config.model}-${resolveView(config.dataset).name}`;
  presetName = profile === 'custom' ? `${v.preset ?? what}-${hash}` : v.preset!;
  const title = profile === 'custom' ? `custom run ${hash} (${config.model} on ${resolveView(config.dataset).name}${v.preset ? `, changed from preset ${v.preset}` : ''})` : `preset ${presetName} (${profile})`;
  return { help: false as const, config, presetName, preset: v.preset, title, profile, changed, out: v.out, fresh: Boolean(v.fresh), json: Boolean(v.json), quiet: Boolean(v.quiet) };
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
  const spec: JobSpecInput = {
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
  const parsed = parseJobSpec(spec, 'train config');
  const data = await loadJobData(parsed);
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
    // The trained weights come back as data; the saved model is rebuilt from them.
    const model = buildModel(result.architecture, { seed: config.seed });
    writeModelWeights(model, result.weights!, 'trained weights');
    await saveModel(model, path.join(run.dir, 'model'));
    model.dispose();
    const history = result.history.map((h, i) => ({ ...h, seconds: epochs[i]?.seconds ?? null }));
    run.writeCsv('history.csv', history as unknown as Record<string, unknown>[], ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', 'seconds']);
    // figures/history.svg and .png: loss and accuracy per epoch, labelled with the profile
    if (history.length > 0) {
      await historyFigure(history.map((h) => ({ ...h, seconds: h.seconds ?? 0 })), {
        dir: run.figurePath(''),
        title: `${r.title}: training history (${config.model})`,
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
      model: config.model,
      dataset: resolveView(config.dataset).name,
      params: summary.totalParams,
      trainSamples,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch + 1,
      stoppedEarly: result.stoppedEarly,
      seed: config.seed,
      backend: engine.backend,
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
