/**
 * `tck compress`: seed 004's compression study (src/experiments/compress/): QuantNet on two CIFAR-10 class
 * pairs (or, with --stand-in, two Fashion-MNIST pairs), PTQ and QAT, layer sensitivity, intrinsic-dimension
 * profiles and the mixed-precision designs they give, pruning, clustering and the two proposed pipelines.
 * Every training is a job of the experiment engine, resumable from the run's ledger.
 *
 *   tck compress --preset layer-significance --profile smoke --stand-in
 *   tck compress --preset pipelines --profile quick --stand-in
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { presetsOf } from '../experiments/registry.js';
import { createExecutor, type Executor } from '../experiments/executor.js';
import {
  compressExperiment,
  compressPresetConfig,
  checkCompressData,
  CompressStudyConfigSchema,
  type CompressStudyConfig,
} from '../experiments/compress/index.js';
import { hashJson } from '../util/json.js';
import { formatDuration } from '../run/progress.js';
import { validateConfig, readConfigFile, merge, ConfigError, changedSettings } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, profileFlag, printJson, UsageError, onInterrupt, commandLine, type Profile } from './common.js';
import { EXECUTOR_OPTIONS, EXECUTOR_HELP, executorChoice } from './executor-flags.js';

const PRESETS = presetsOf('compress');

const HELP = `tck compress: seed 004's compression study of QuantNet (quantization, layer significance by intrinsic
dimension, mixed precision, pruning, clustering, the proposed pipelines)

  tck compress --preset <name> [--profile smoke|quick|paper] [--config f.json] [--seed n] [--stand-in]
               [--out dir] [--fresh] [--json] [--workers n|in-process] [--redis url]

Trains QuantNet (Adam 1e-3, binary cross-entropy with a sigmoid output, batch 64, early stopping patience 5 on
an 80:20 validation split; seed 004 §4.1.3) on Cat vs Dog and Horse vs Frog, R runs each, and writes one
table per seed table or figure (<name>.csv and <name>.md, the seed's number beside the kit's mean and std),
runs.csv (every training), measurements.json (every run's accuracies, ID profiles and designs),
comparison.csv and figures/ (SVG and PNG). Sizes are parameter storage by the kit's estimators, compared with
the seed's TFLite file sizes as reductions. Rerunning resumes.

Options:
  --preset <name>       ${Object.entries(PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('\n                        ')}
  --profile <p>         smoke (seconds) | quick (reduced; the default) | paper (the seed's settings, 20 runs)
  --config <file.json>  settings over the preset's (validated; fields of CompressStudyConfigSchema, e.g.
                        {"rotation": 45} for TD2's angle); a changed setting labels the run custom
  --seed <n>            run seed (default 1)
  --stand-in            without CIFAR-10: Fashion-MNIST Shirt vs T-shirt/top and Sandal vs Sneaker (32x32x3),
                        marked STAND-IN in every table and figure
${EXECUTOR_HELP}
  --backend <b>         auto | tensorflow | wasm | cpu
  --out <dir>           run directory (default results/compress-<preset>[-stand-in]-<profile>)
  --fresh               start over   --json  end with one JSON line   --quiet  no progress
`;

interface Resolved {
  config: CompressStudyConfig;
  preset: string;
  profile: Profile | 'custom';
  changed: string[];
}

function resolveConfig(v: Record<string, string | boolean | undefined>): Resolved {
  if (!v.preset) {
    throw new UsageError(`a preset is required: tck compress --preset <${Object.keys(PRESETS).join('|')}> (see tck compress --help)`);
  }
  if (!PRESETS[v.preset as string]) throw new UsageError(`--preset: unknown compress preset ${JSON.stringify(v.preset)}; known: ${Object.keys(PRESETS).join(', ')}`);
  const file = v.config ? readConfigFile(v.config as string) : undefined;
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  let profile: Profile | 'custom' = profileFlag(v.profile as string | undefined, 'quick');
  const seed = intFlag(v.seed as string | undefined, 'seed', 0);
  const standIn = Boolean(v['stand-in']);
  const presetOnly = compressPresetConfig(v.preset as string, profile as Profile, { standIn });
  const over = [file, seed !== undefined ? { seed } : undefined];
  const merged = merge<Record<string, unknown>>(structuredClone(presetOnly.config) as unknown as Record<string, unknown>, ...over);
  const config = validateConfig(CompressStudyConfigSchema, merged, (v.config as string | undefined) ?? 'compress config', { seed: '--seed' });
  if (!standIn && config.standIn) throw new UsageError('standIn: true in a config file needs --stand-in (stand-in runs are labelled on the command line)');
  // A preset's profile names its settings: a run that changes them (beyond the seed) is custom.
  const changed = changedSettings(config, presetOnly.config);
  if (changed.length) profile = 'custom';
  const preset = profile === 'custom' ? `${presetOnly.label}-${hashJson(config).slice(0, 8)}` : presetOnly.label;
  return { config, preset, profile, changed };
}

const fmt = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

export async function compressCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('compress', argv, { ...COMMON_OPTIONS, ...EXECUTOR_OPTIONS });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const r = resolveConfig(v);
  // A missing dataset fails here, before a run directory exists, saying how to get it.
  await checkCompressData(r.config);
  const engine = await initEngine({ backend: (v.backend as string | undefined) ?? (r.config.backend === 'auto' ? process.env.TCK_BACKEND : r.config.backend) });
  const backend = engine.backend as CompressStudyConfig['backend'];
  const choice = executorChoice(v);
  const say = (s: string) => {
    if (!v.quiet) process.stderr.write(s + '\n');
  };
  if (r.changed.length) say(`tck compress: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${v.preset}, so the run is labelled custom`);
  let executor: Executor | null = null;
  let off = () => {};
  const t0 = Date.now();
  try {
    executor = await createExecutor(choice);
    const res = await compressExperiment({
      preset: r.preset,
      profile: r.profile,
      config: { ...r.config, backend },
      backend,
      engine,
      executor,
      out: v.out as string | undefined,
      fresh: Boolean(v.fresh),
      quiet: Boolean(v.quiet),
      argv,
      say,
      onRun: (run, ledgerDir) => {
        off = onInterrupt(run, () => `The finished trainings are kept in ${path.relative(process.cwd(), ledgerDir) || ledgerDir}.`, commandLine('compress', argv));
      },
    });
    const rel = path.relative(process.cwd(), res.run.dir) || '.';
    if (res.alreadyFinished) say(`tck compress: ${r.preset} (${r.profile}) is already finished; results in ${rel}. Use --fresh to run it again.`);
    const standIn = r.config.standIn ? ', STAND-IN data' : '';
    for (const [name, rows] of Object.entries(res.tables)) say(`\n${name} (${r.profile}${standIn}): ${rows.length} rows -> ${path.join(rel, `${name}.csv`)} and .md`);
    const cmp = res.comparison.filter((c) => c.kit_value !== null && c.kit_value !== undefined);
    say(`\n${cmp.length} of ${res.comparison.length} published numbers have a kit value (comparison.csv); e.g.`);
    for (const c of cmp.slice(0, 6)) say(`  ${fmt(c.table_or_figure)}: ${fmt(c.quantity)}: paper ${fmt(c.paper_value)}, kit ${fmt(c.kit_value)}`);
    say(`\ntck compress: ${res.jobs.length} trainings (${res.jobs.filter((j) => j.fromLedger).length} from the ledger, ${res.failed} failed)${res.alreadyFinished ? '' : ` in ${formatDuration((Date.now() - t0) / 1000)}`}; ${res.figures.length} figures; results in ${rel}`);
    if (v.json) {
      printJson({
        command: 'compress',
        preset: r.preset,
        profile: r.profile,
        standIn: r.config.standIn,
        alreadyFinished: res.alreadyFinished,
        runDir: res.run.dir,
        jobs: res.jobs.length,
        failed: res.failed,
        tables: Object.keys(res.tables),
        figures: res.figures.map((f) => f.name),
        comparison: res.comparison.length,
        wallSeconds: res.alreadyFinished ? null : (Date.now() - t0) / 1000,
      });
    }
    return res.failed ? 1 : 0;
  } finally {
    off();
    await executor?.close();
  }
}
