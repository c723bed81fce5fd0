/**
 * `tck nas`: the architecture search of seed 000 §2.3 (src/experiments/nas.ts), resumable, on the thread pool,
 * in this process or on BullMQ workers.
 *
 *   tck nas --preset mlp-cardio --profile quick
 *   tck nas --preset cnn-mini-mnist --profile smoke --workers 2 --json
 *   tck nas --config my-search.json          (a config file; fields of NasConfigSchema)
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveView } from '../data/views.js';
import { openRun } from '../run/rundir.js';
import { openLedger } from '../experiments/ledger.js';
import { presetsOf } from '../experiments/registry.js';
import { NAS_DEFAULTS, NasConfigSchema, prepareNas, runNas, writeNasResults, type NasConfig } from '../experiments/nas.js';
import { createProgress, formatDuration } from '../run/progress.js';
import { hashJson } from '../util/json.js';
import { validateConfig, readConfigFile, merge, ConfigError } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, profileFlag, printJson, UsageError, onInterrupt, commandLine, type Profile } from './common.js';
import { EXECUTOR_OPTIONS, EXECUTOR_HELP, executorFromFlags } from './executor-flags.js';

const NAS_PRESETS = presetsOf<NasConfig>('nas');

const HELP = `tck nas: neural architecture search of seed 000 (NSGA-II over MLP or CNN spaces, accuracy x complexity)

  tck nas --preset <name> [--profile smoke|quick|paper] [--seed n] [--out dir] [--fresh] [--json]
  tck nas --config <file.json> [...]

Presets (seed 000 Tables 2.1-2.3; paper = the seed's settings: population 40, 8 offspring, 5 generations,
30 epochs, patience 5, 5 folds x 3 repeats):
${Object.entries(NAS_PRESETS).map(([k, p]) => `  ${k.padEnd(18)} ${p.description}`).join('\n')}

Options:
  --preset <name>       a preset above   --profile <p>  smoke | quick | paper (with --preset; default quick)
  --config <file.json>  a config file (over the preset, if given); fields: space, variant, geneOptions,
                        dataset, subset, population, offspring, generations, epochs, batchSize, patience, folds,
                        repeats, valFraction, monitor, crossover, mutation, tournament, dedupe,
                        minAccuracy, maxComplexity, quirks, repair, randomSearch, hypervolumeReference, frontWeights.
                        A file that changes a preset's settings labels the run "custom"
  --seed <n>            one seed for the search, the folds and the trainings (default 1)
${EXECUTOR_HELP}
  --backend <b>         auto | tensorflow | wasm | cpu
  --out <dir>           run directory (default results/nas-<preset>-<profile>)
  --fresh               start over instead of resuming
  --json                end with one JSON line on stdout   --quiet  no progress output

Writes population.csv, front.csv (genes decoded into architectures), evaluations.csv, random-search.csv,
generations.csv (hypervolume per generation), front/<id>.json (the front's trained weights), log.jsonl,
figures/{population,front,hypervolume}.{svg,png} and comparison.csv. Killed at any moment, the same command
resumes: finished generations from the checkpoint, finished trainings from the ledger.
`;

function resolveConfig(argv: string[]) {
  const { values: v } = parse('nas', argv, { ...COMMON_OPTIONS, ...EXECUTOR_OPTIONS });
  if (v.help) return null;
  if (v['stand-in']) throw new UsageError('--stand-in: tck nas has no stand-in datasets; a preset without its data says how to get it');
  if (!v.preset && !v.config) throw new UsageError(`a preset or a config file is required: tck nas --preset <name> (known: ${Object.keys(NAS_PRESETS).join(', ')}) or --config <file.json>`);
  if (v.profile && !v.preset) throw new UsageError(`--profile: only with --preset (a profile is a preset's setting); known presets: ${Object.keys(NAS_PRESETS).join(', ')}`);
  let profile: Profile | 'custom' = 'custom';
  let layers: unknown[] = [];
  if (v.preset) {
    const p = NAS_PRESETS[v.preset];
    if (!p) throw new UsageError(`--preset: unknown nas preset ${JSON.stringify(v.preset)}; known: ${Object.keys(NAS_PRESETS).join(', ')}`);
    profile = profileFlag(v.profile, 'quick');
    layers = [p.config, p.profiles[profile]];
  }
  const file = v.config ? readConfigFile(v.config) : undefined;
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  // space and dataset come from the preset or the file
  const base = { ...NAS_DEFAULTS, backend: process.env.TCK_BACKEND ?? NAS_DEFAULTS.backend } as NasConfig;
  const flags = { seed: intFlag(v.seed, 'seed', 0), backend: v.backend };
  const stripped = Object.fromEntries(Object.entries(flags).filter(([, x]) => x !== undefined));
  const merged = merge<NasConfig>(base, ...layers, file, stripped);
  const flagOf: Record<string, string> = {};
  if (flags.seed !== undefined) flagOf.seed = '--seed';
  if (flags.backend !== undefined) flagOf.backend = '--backend';
  const config = validateConfig(NasConfigSchema, merged, v.config ?? `nas preset ${v.preset}`, flagOf);
  // A file that changes the preset's settings (other than seed and backend) is not that profile's run.
  let changed: string[] = [];
  if (v.preset) {
    const presetOnly = merge<NasConfig>(base, ...layers);
    changed = Object.keys(config).filter((k) => k !== 'seed' && k !== 'backend' && JSON.stringify(config[k as keyof NasConfig]) !== JSON.stringify(presetOnly[k as keyof NasConfig]));
    if (changed.length) profile = 'custom';
  }
  const hash = hashJson({ ...config, backend: undefined }).slice(0, 8);
  const presetName = profile === 'custom' ? `${v.preset ?? `${config.space}-${resolveView(config.dataset).name}`}-${hash}` : v.preset!;
  return { v, config, profile, presetName, changed };
}

export async function nasCommand(argv: string[]): Promise<number> {
  const r = resolveConfig(argv);
  if (!r) {
    process.stdout.write(HELP);
    return 0;
  }
  const { v, config, profile, presetName } = r;
  const progress = createProgress({ quiet: Boolean(v.quiet) });
  // Everything that can be wrong with the inputs (a missing dataset, a space without spread) fails here, before
  // a run directory exists.
  const { engine, data, setup } = await prepareNas(config);
  const executor = await executorFromFlags(v);
  try {
    const run = openRun({ command: 'nas', preset: presetName, profile, seed: config.seed, config, out: v.out, fresh: Boolean(v.fresh), engine });
    const rel = path.relative(process.cwd(), run.dir) || '.';
    const resultFile = path.join(run.dir, 'result.json');
    if (run.alreadyFinished && fs.existsSync(resultFile)) {
      const done = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
      progress.line(`tck nas: ${presetName} (${profile}) is already finished (${done.evaluations} evaluations, hypervolume ${Number(done.hypervolume).toFixed(4)}); results in ${rel}. Use --fresh to search again.`);
      if (v.json) printJson({ command: 'nas', preset: presetName, profile, ...done, provenance: undefined, alreadyFinished: true, runDir: run.dir });
      return 0;
    }
    run.addDataset(data.record);
    const ledger = openLedger(path.join(run.dir, 'ledger'));
    const off = onInterrupt(
      run,
      () => {
        const n = ledger.keys().length;
        return `Finished generations are in ${path.relative(process.cwd(), run.checkpoints.dir) || run.checkpoints.dir}, ${n} finished training${n === 1 ? '' : 's'} in the ledger.`;
      },
      commandLine('nas', argv),
    );
    try {
      if (r.changed.length) progress.line(`tck nas: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${v.preset}, so the run is labelled custom`);
      progress.line(
        `tck nas: ${config.space.toUpperCase()} space (${config.variant}) on ${setup.datasetName} [${data.train.shape}] x ${data.train.y.length}, ` +
          `population ${config.population}, ${config.offspring} offspring, ${config.generations} generations, ${config.epochs} epochs, ${config.folds} folds x ${config.repeats} repeats; ` +
          `${executor.describe()}, backend ${engine.backend}; run directory ${rel}${run.resumed ? ' (resuming)' : ''}`,
      );
      progress.line(`complexity bounds (seed 000 heuristic of the all-lowest / all-highest genomes): ${setup.bounds.min} / ${setup.bounds.max}`);
      run.log({ type: 'start', executor: executor.describe(), bounds: setup.bounds, genes: setup.space.genes.map((g) => g.name) });
      const result = await runNas(setup, { run, executor, ledger, profile, quiet: Boolean(v.quiet), say: (s) => progress.line(s) });
      const { summary } = await writeNasResults(result, run, profile);
      run.finish();
      progress.line(
        `done: ${summary.evaluations} evaluations in ${formatDuration(summary.seconds)}${summary.randomSearchSeconds !== null ? ` (+ random search ${formatDuration(summary.randomSearchSeconds)})` : ''}; ` +
          `hypervolume ${summary.hypervolume.toFixed(4)}${summary.randomSearchHypervolume !== null ? ` (random search ${summary.randomSearchHypervolume.toFixed(4)})` : ''}; ` +
          `front of ${summary.front.length}: ${summary.front.map((f) => `${(100 * (f.accuracy as number)).toFixed(1)}%@${(f.complexityNorm as number).toFixed(3)}`).join(', ')}; results in ${rel}`,
      );
      if (v.json) printJson({ command: 'nas', preset: presetName, profile, ...summary, runDir: run.dir });
      return 0;
    } catch (e) {
      run.fail(e);
      throw e;
    } finally {
      off();
    }
  } finally {
    progress.stop();
    await executor.close();
  }
}
