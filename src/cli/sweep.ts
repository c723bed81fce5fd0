/**
 * `tck sweep`: seed 000's experiment 1, the compression sweep (src/experiments/sweep/): every combination of
 * weight compression and activation on LeNet5 / VGG7, each evaluated with the seed's protocol as jobs of the
 * experiment engine, resumable from the run's ledger.
 *
 *   tck sweep --preset lenet5-mnist32 --profile quick
 *   tck sweep --preset vgg7-cifar10 --profile smoke --stand-in
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { openRun } from '../run/rundir.js';
import { presetsOf } from '../experiments/registry.js';
import { SWEEP_DATA, SWEEP_DEFAULTS, SweepConfigSchema, type SweepConfig } from '../experiments/sweep/config.js';
import { checkSweepData, runSweep, sweepPresetConfig, sweepPresetName, sweepSettingsNote, sweepStandIn, sweepTitle } from '../experiments/sweep/run.js';
import { formatSweepFindings } from '../experiments/sweep/findings.js';
import type { SweepRow } from '../experiments/sweep/summary.js';
import { hashJson, stripUndefined } from '../util/json.js';
import { formatDuration } from '../run/progress.js';
import { validateConfig, readConfigFile, merge, ConfigError, changedSettings } from './config.js';
import { COMMON_OPTIONS, parse, intFlag, profileFlag, printJson, UsageError, type Profile } from './common.js';
import { EXECUTOR_OPTIONS, EXECUTOR_HELP, executorChoice, withExecutor } from './executor-flags.js';
import { defaultThreads } from '../experiments/executor.js';

const PRESETS = presetsOf<SweepConfig>('sweep');

const HELP = `tck sweep: seed 000 experiment 1, the compression sweep (weights x activations on LeNet5 / VGG7)

  tck sweep --preset <name> [--profile smoke|quick|paper] [--config f.json] [--seed n] [--stand-in]
            [--out dir] [--fresh] [--json] [--workers n|in-process] [--redis url]

Every combination of weight compression {binary, ternary, 4-bit, none} and activation {none, binary STE,
binary ReSTE, ReLU} is trained with stratified k-fold cross-validation and R repeats (seed 000: 5 x 3, 30
epochs, early stopping patience 5, Adam 1e-3, weight decay 1e-5). Writes results.csv (a row per combination:
cvBest, cvMean, cvStd, testAccuracy, complexity by the seed-000 and the corrected heuristic, parameters,
storage bits, Pareto membership), results.json (with the seed's findings checked and the paper profile's
estimated wall time on this machine, from the jobs' timing), comparison.csv and
figures/ (accuracy against complexity, the Pareto front; SVG and PNG). Rerunning resumes.

Options:
  --preset <name>       ${Object.entries(PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('\n                        ')}
  --profile <p>         smoke (seconds) | quick (reduced; the default) | paper (the seed's settings)
  --config <file.json>  settings over the preset's (validated; fields of SweepConfigSchema); a changed
                        setting labels the run custom
  --seed <n>            run seed (default 1)
  --stand-in            vgg7-cifar10 without CIFAR-10: Fashion-MNIST padded to 32x32x3, marked STAND-IN
${EXECUTOR_HELP}
  --backend <b>         auto | tensorflow | wasm | cpu
  --out <dir>           run directory (default results/sweep-<preset>-<profile>)
  --fresh               start over   --json  end with one JSON line   --quiet  no progress
`;

interface Resolved {
  config: SweepConfig;
  preset: string;
  profile: Profile | 'custom';
  changed: string[];
}

function resolveConfig(v: Record<string, string | boolean | undefined>): Resolved {
  const file = v.config ? readConfigFile(v.config as string) : undefined;
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${v.config}: (top level): expected a JSON object, got ${Array.isArray(file) ? 'an array' : JSON.stringify(file)}`);
  }
  if (!v.preset) {
    if (v.profile) throw new UsageError(`--profile: only with --preset (a profile is a preset's setting); presets: ${Object.keys(PRESETS).join(', ')}`);
    if (!file) throw new UsageError(`a preset is required: tck sweep --preset <${Object.keys(PRESETS).join('|')}> (see tck sweep --help)`);
  }
  const p = v.preset ? PRESETS[v.preset as string] : undefined;
  if (v.preset && !p) throw new UsageError(`--preset: unknown sweep preset ${JSON.stringify(v.preset)}; known: ${Object.keys(PRESETS).join(', ')}`);
  let profile: Profile | 'custom' = p ? profileFlag(v.profile as string | undefined, 'quick') : 'custom';
  const presetLayers = p ? [p.config, p.profiles[profile as Profile]] : [];
  const seed = intFlag(v.seed as string | undefined, 'seed', 0);
  const merged = merge<Record<string, unknown>>(structuredClone(SWEEP_DEFAULTS), ...presetLayers, file, stripUndefined({ seed }));
  if (v['stand-in']) merged.data = sweepStandIn(merged.data as string);
  const config = validateConfig(SweepConfigSchema, merged, (v.config as string | undefined) ?? 'sweep config', { seed: '--seed' });
  // A preset's profile names its settings: a run that changes them (beyond the seed and the stand-in) is custom.
  let changed: string[] = [];
  if (p) {
    const presetOnly = merge<Record<string, unknown>>(structuredClone(SWEEP_DEFAULTS), ...presetLayers, v['stand-in'] ? { data: config.data } : {});
    changed = changedSettings(config, presetOnly);
    if (changed.length) profile = 'custom';
  }
  const base = (v.preset as string | undefined) ?? `${config.model}-${config.data}`;
  const name = sweepPresetName(base, Boolean(v['stand-in']));
  const preset = profile === 'custom' ? `${name}-${hashJson(config).slice(0, 8)}` : name;
  return { config, preset, profile, changed };
}

const pct = (x: number | null) => (x === null ? '   n/a' : `${(100 * x).toFixed(2).padStart(6)}`);

function table(rows: SweepRow[]): string {
  const head = `${'weights'.padEnd(8)} ${'activation'.padEnd(13)} ${'cvBest'.padStart(6)} ${'cvMean'.padStart(6)} ${'test'.padStart(6)} ${'complexity'.padStart(12)} ${'corrected'.padStart(12)}  pareto`;
  const lines = rows.map(
    (r) =>
      `${r.weights.padEnd(8)} ${r.activation.padEnd(13)} ${pct(r.cvBest)} ${pct(r.cvMean)} ${pct(r.testAccuracy)} ${String(r.complexityReference).padStart(12)} ${String(r.complexityCorrected).padStart(12)}  ${r.pareto ? '*' : ''}${r.status === 'failed' ? `FAILED: ${r.error.split('\n')[0]}` : ''}`,
  );
  return [head, ...lines].join('\n');
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('sweep', argv, { ...COMMON_OPTIONS, ...EXECUTOR_OPTIONS });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const r = resolveConfig(v);
  const { config } = r;
  // A missing dataset fails here, before a run directory exists, saying how to get it.
  await checkSweepData(config);
  const engine = await initEngine({ backend: (v.backend as string | undefined) ?? process.env.TCK_BACKEND });
  const backend = engine.backend as 'tensorflow' | 'wasm' | 'cpu';
  const choice = executorChoice(v); // flag errors before the run directory exists
  const title = sweepTitle(config);
  const run = openRun({
    command: 'sweep',
    preset: r.preset,
    profile: r.profile,
    seed: config.seed,
    // The resolved backend is part of every job's identity, so a rerun on another backend is a different run.
    config: { ...config, backend },
    out: v.out,
    fresh: Boolean(v.fresh),
    engine,
    standIn: SWEEP_DATA[config.data].standIn,
  });
  const say = (s: string) => {
    if (!v.quiet) process.stderr.write(s + '\n');
  };
  const rel = path.relative(process.cwd(), run.dir) || '.';
  return withExecutor(run, choice, { name: 'sweep', argv }, async (executor) => {
    if (r.changed.length) say(`tck sweep: ${r.changed.join(', ')} ${r.changed.length > 1 ? 'differ' : 'differs'} from preset ${v.preset}, so the run is labelled custom`);
    if (!run.alreadyFinished) say(`tck sweep: ${title} (${r.profile}: ${sweepSettingsNote(config)}) on ${backend}; run directory ${rel}${run.resumed ? ' (resuming)' : ''}`);
    // The preset's paper profile, estimated from this run's timing on the pool's threads (not for BullMQ workers).
    const threads = choice.redis ? null : choice.workers === 'in-process' ? 1 : (choice.workers ?? defaultThreads());
    const paper = v.preset && threads ? { config: sweepPresetConfig(v.preset as string, 'paper', { standIn: Boolean(v['stand-in']), seed: config.seed }), threads } : undefined;
    const res = await runSweep({ config, run, executor, backend, profile: r.profile, quiet: Boolean(v.quiet), paper });
    if (res.alreadyFinished) say(`tck sweep: ${title} (${r.profile}) is already finished; results in ${rel}. Use --fresh to run it again.`);
    else run.finish();
    say(`\n${title} (${r.profile}${res.standIn ? ', STAND-IN data' : ''}); accuracies in %, cvBest over ${config.protocol.repeats} repeat(s) of ${config.protocol.k}-fold CV; * = Pareto front (seed-000 complexity)\n${table(res.rows)}`);
    say(`\nSeed 000's findings (§3.1) in this table:\n${formatSweepFindings(res.findings)}`);
    const failed = res.rows.filter((x) => x.status === 'failed');
    if (failed.length) say(`\ntck sweep: ${failed.length} combination(s) failed and have no accuracy: ${failed.map((x) => `${x.weights}/${x.activation}`).join(', ')}`);
    if (res.paperEstimate) say(`\ntck sweep: the paper profile (${res.paperEstimate.jobs} jobs, all epochs) would take about ${formatDuration(res.paperEstimate.seconds)} on ${res.paperEstimate.threads} thread(s) of this machine (from this run's timing${r.profile === 'smoke' ? ', mostly start-up at smoke, so far too high' : ''}; results.json)`);
    if (res.jobs) say(`\ntck sweep: ${res.jobs.total} jobs (${res.jobs.ran} run now, ${res.jobs.reused} from the ledger, ${res.jobs.failed} failed)${res.wallSeconds !== null ? ` in ${formatDuration(res.wallSeconds)}` : ''}; results in ${rel}`);
    if (v.json) {
      printJson({
        command: 'sweep',
        preset: r.preset,
        profile: r.profile,
        model: config.model,
        data: config.data,
        standIn: res.standIn,
        alreadyFinished: res.alreadyFinished,
        jobs: res.jobs,
        wallSeconds: res.wallSeconds,
        paperEstimate: res.paperEstimate,
        runDir: run.dir,
        rows: res.rows.map((x) => ({ weights: x.weights, activation: x.activation, status: x.status, cvBest: x.cvBest, testAccuracy: x.testAccuracy, complexityReference: x.complexityReference, complexityCorrected: x.complexityCorrected, pareto: x.pareto })),
        findings: res.findings.map((f) => ({ id: f.id, holds: f.holds, detail: f.detail })),
      });
    }
    return 0;
  });
}
