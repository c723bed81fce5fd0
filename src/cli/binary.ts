/**
 * `tck binary`: seed 002 (src/experiments/binary.ts). The genetic trainers of a fully binary XNOR-popcount
 * network (§4.1) and the binary ResNet-18 with cyclic precision (§4.2), as jobs of the experiment engine,
 * resumable from the run's ledger.
 *
 *   tck binary --preset genetic-mnist --profile quick
 *   tck binary --preset resnet-mnist --profile smoke --workers in-process
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { openRun } from '../run/rundir.js';
import { presetsOf } from '../experiments/registry.js';
import { BinaryConfigSchema, checkBinaryData, runBinary, binaryConfigHash, type BinaryConfig, type BinaryRow } from '../experiments/binary.js';
import { stripUndefined } from '../util/json.js';
import { formatDuration } from '../run/progress.js';
import { validateConfig, readConfigFile, merge, ConfigError, changedSettings } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, profileFlag, printJson, UsageError, type Profile } from './common.js';
import { EXECUTOR_OPTIONS, EXECUTOR_HELP, executorChoice, withExecutor } from './executor-flags.js';

const PRESETS = presetsOf<BinaryConfig>('binary');

const HELP = `tck binary: seed 002, binary networks trained without floating point (§4.1) and the binary ResNet-18 (§4.2)

  tck binary --preset <name> [--profile smoke|quick|paper] [--config f.json] [--seed n]
             [--out dir] [--fresh] [--json] [--workers n|in-process] [--redis url]

genetic presets train a fully binary XNOR-popcount network (bit-packed, 32 weights per word) with the
appendix's three genetic trainers (naive perturbation, elite evolution, counting error) using integers only;
the accuracy after a fixed number of steps is set beside §4.1.6's. resnet presets train the binary ResNet-18
(ReCU, shifted hardtanh, cyclic 3-8 bit precision, cosine annealing; Adam lr 0.0025 and SGD lr 0.1) and the
full-precision baseline, beside Tables 5.1-5.3, with the training speed-up and memory saving computed as §5.3.
Writes results.csv, results.json, curve.csv (genetic) or history.csv (resnet), comparison.csv and figures/
(SVG and PNG). Every training is a job: rerunning resumes from the ledger.

Options:
  --preset <name>       ${Object.entries(PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('\n                        ')}
  --profile <p>         smoke (seconds) | quick (reduced; the default) | paper (the seed's settings)
  --config <file.json>  settings over the preset's (validated: BinaryConfigSchema); a changed setting labels
                        the run custom
  --seed <n>            run seed (default 1)
${EXECUTOR_HELP}
  --backend <b>         auto | tensorflow | wasm | cpu (the bit-packed engine gives the same bits on every one)
  --out <dir>           run directory (default results/binary-<preset>-<profile>)
  --fresh               start over   --json  end with one JSON line   --quiet  no progress
`;

function resolveConfig(v: Record<string, string | boolean | undefined>) {
  const file = v.config ? readConfigFile(v.config as string) : undefined;
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  if (!v.preset) {
    if (v.profile) throw new UsageError(`--profile: only with --preset (a profile is a preset's setting); presets: ${Object.keys(PRESETS).join(', ')}`);
    if (!file) throw new UsageError(`a preset is required: tck binary --preset <${Object.keys(PRESETS).join('|')}> (see tck binary --help)`);
  }
  const p = v.preset ? PRESETS[v.preset as string] : undefined;
  if (v.preset && !p) throw new UsageError(`--preset: unknown binary preset ${JSON.stringify(v.preset)}; known: ${Object.keys(PRESETS).join(', ')}`);
  if (v['stand-in']) throw new UsageError('--stand-in: tck binary has no stand-in datasets (its MNIST presets run on the real data; the CIFAR presets need the datasets)');
  let profile: Profile | 'custom' = p ? profileFlag(v.profile as string | undefined, 'quick') : 'custom';
  const presetLayers = p ? [p.config, p.profiles[profile as Profile]] : [];
  const seed = intFlag(v.seed as string | undefined, 'seed', 0);
  const merged = merge<Record<string, unknown>>({}, ...presetLayers, file, stripUndefined({ seed }));
  const config = validateConfig(BinaryConfigSchema, merged, (v.config as string | undefined) ?? 'binary config', { seed: '--seed' });
  let changed: string[] = [];
  if (p) {
    const presetOnly = validateConfig(BinaryConfigSchema, merge<Record<string, unknown>>({}, ...presetLayers, { seed: config.seed }), `binary preset ${v.preset}`);
    changed = changedSettings(config, presetOnly);
    if (changed.length) profile = 'custom';
  }
  const base = (v.preset as string | undefined) ?? `${config.experiment}-${typeof config.dataset === 'string' ? config.dataset : 'custom'}`;
  const preset = profile === 'custom' ? `${base}-${binaryConfigHash(config)}` : base;
  return { config, preset, profile, changed };
}

const pct = (x: number | null) => (x === null ? '   n/a' : (100 * x).toFixed(2).padStart(6));

function table(rows: BinaryRow[], genetic: boolean): string {
  const head = genetic ? `${'trainer'.padEnd(10)} ${'test %'.padStart(6)} ${'train %'.padStart(7)} ${'steps'.padStart(6)}  time` : `${'variant'.padEnd(8)} ${'test %'.padStart(6)} ${'train %'.padStart(7)} ${'epochs'.padStart(6)}  speed-up  memory  weights  time`;
  const lines = rows.map((r) =>
    r.status === 'failed'
      ? `${r.name.padEnd(10)} FAILED: ${r.error.split('\n')[0]}`
      : genetic
        ? `${r.name.padEnd(10)} ${pct(r.testAccuracy)} ${pct(r.trainAccuracy).padStart(7)} ${String(r.steps).padStart(6)}  ${formatDuration(r.seconds ?? 0)}`
        : `${r.name.padEnd(8)} ${pct(r.testAccuracy)} ${pct(r.trainAccuracy).padStart(7)} ${String(r.epochs).padStart(6)}  x${(r.trainingSpeedup ?? 1).toFixed(2).padEnd(6)}  x${(r.trainingMemorySaving ?? 1).toFixed(1).padEnd(4)}  x${(r.weightMemorySaving ?? 1).toFixed(1).padEnd(5)}  ${formatDuration(r.seconds ?? 0)}`,
  );
  return [head, ...lines].join('\n');
}

export async function binaryCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('binary', argv, { ...COMMON_OPTIONS, ...EXECUTOR_OPTIONS });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const r = resolveConfig(v);
  const { config } = r;
  await checkBinaryData(config); // a missing dataset fails before a run directory exists
  const engine = await initEngine({ backend: (v.backend as string | undefined) ?? process.env.TCK_BACKEND });
  const backend = engine.backend as 'tensorflow' | 'wasm' | 'cpu';
  const choice = executorChoice(v);
  const run = openRun({ command: 'binary', preset: r.preset, profile: r.profile, seed: config.seed, config: { ...config, backend }, out: v.out, fresh: Boolean(v.fresh), engine });
  const say = (s: string) => {
    if (!v.quiet) process.stderr.write(s + '\n');
  };
  const rel = path.relative(process.cwd(), run.dir) || '.';
  return withExecutor(run, choice, { name: 'binary', argv }, async (executor) => {
    if (r.changed.length) say(`tck binary: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${v.preset}, so the run is labelled custom`);
    say(`tck binary: ${config.experiment} on ${typeof config.dataset === 'string' ? config.dataset : 'a custom view'} (${r.profile}) on ${backend}; run directory ${rel}${run.resumed ? ' (resuming)' : ''}`);
    const res = await runBinary({ config, run, executor, backend, profile: r.profile, quiet: Boolean(v.quiet) });
    run.finish();
    say(`\n${table(res.rows, config.experiment === 'genetic')}`);
    say(`\nbeside seed 002 (comparison.csv):`);
    for (const c of res.comparison) say(`  ${c.table_or_figure.padEnd(9)} ${String(c.paper_value).padStart(6)} | kit ${String(c.kit_value).padStart(7)}  ${c.quantity}`);
    say(`\ntck binary: ${res.jobs.total} jobs (${res.jobs.ran} run now, ${res.jobs.reused} from the ledger, ${res.jobs.failed} failed) in ${formatDuration(res.wallSeconds)}; results in ${rel}`);
    if (v.json) printJson({ command: 'binary', preset: r.preset, profile: r.profile, experiment: config.experiment, jobs: res.jobs, wallSeconds: res.wallSeconds, runDir: run.dir, rows: res.rows, comparison: res.comparison });
    return res.jobs.failed ? 1 : 0;
  });
}
