/**
 * Runs a sweep in a run directory: its jobs on an executor with the run's ledger (`runJobs`: a killed run
 * resumes with the jobs it lacks), then the table, the findings, `comparison.csv` and the figures. The CLI
 * (`tck sweep`), the notebook and `reproduce.sh` all come here. A run directory that holds a finished sweep is
 * read back instead of redone (its figures and wall time stay as they were).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openRun, type Run } from '../../run/rundir.js';
import type { Profile } from '../../run/profile.js';
import { createExecutor, defaultThreads, type Executor, type ExecutorChoice } from '../executor.js';
import { presetsOf } from '../registry.js';
import { initEngine } from '../../engine/backend.js';
import { merge, validateConfig } from '../../cli/config.js';
import { openLedger } from '../ledger.js';
import { runJobs, type JobsSummary } from '../runner.js';
import { KitError } from '../../util/errors.js';
import { getEntry, isPresent, loadDataset } from '../../data/registry.js';
import { DataError } from '../../data/types.js';
import { SWEEP_DATA, SWEEP_DEFAULTS, SweepConfigSchema, sweepData, type SweepConfig } from './config.js';
import { sweepPlan } from './jobs.js';
import { summarizeSweep, SWEEP_COLUMNS, type SweepRow } from './summary.js';
import { checkSweepFindings, sweepComparison, type SweepFinding } from './findings.js';
import { sweepFigures } from './figures.js';
import { estimateSweepSeconds, measuredTiming } from './cost.js';

export interface SweepRunOptions {
  config: SweepConfig;
  run: Run;
  executor: Executor;
  backend: 'tensorflow' | 'wasm' | 'cpu';
  /** smoke | quick | paper | custom: labels the tables and figures. */
  profile: string;
  quiet?: boolean;
  /** The preset's `paper` config and the threads the jobs ran on: results.json then estimates its wall time here. */
  paper?: { config: SweepConfig; threads: number };
}

/** The paper profile's estimated wall time on this machine, from the jobs' measured timing (cost.ts). */
export interface SweepPaperEstimate {
  seconds: number;
  threads: number;
  jobs: number;
  /** The measured timing it scales (seconds per sample, epoch and MAC). */
  secondsPerUnit: number;
}

export interface SweepResult {
  rows: SweepRow[];
  findings: SweepFinding[];
  /** Jobs trained now, taken from the ledger, failed; null when a finished run was read back. */
  jobs: { total: number; ran: number; reused: number; failed: number } | null;
  /** Seconds this invocation spent on the jobs (null when nothing was trained now). */
  wallSeconds: number | null;
  standIn: boolean;
  alreadyFinished: boolean;
  files: string[];
  /** Null without `paper` or without a finished job. */
  paperEstimate: SweepPaperEstimate | null;
}

/** Model and data in words, for titles. */
export function sweepTitle(c: SweepConfig): string {
  const model = c.model === 'lenet5' ? 'LeNet5' : c.width === 1 ? 'VGG7' : `VGG7 (width x${c.width})`;
  return `${model} on ${sweepData(c).title}`;
}

/** The settings that a reduced profile changes, in words (for table notes). */
export function sweepSettingsNote(c: SweepConfig): string {
  const p = c.protocol;
  return (
    `${c.subset.n} ${c.subset.mode === 'first' ? 'first' : 'stratified'} images, ${p.k}-fold x ${p.repeats} repeat${p.repeats > 1 ? 's' : ''}, ` +
    `up to ${c.epochs} epochs (patience ${c.patience}, ${c.monitor})${c.width !== 1 ? `, channel width x${c.width}` : ''}${c.testSubset ? `, ${c.testSubset.n} test images` : ''}`
  );
}

/**
 * Fails, before any run directory exists, when the sweep's dataset is not on this machine: the message says how
 * to get it (and, for CIFAR-10, that `--stand-in` runs on an offline stand-in instead).
 */
export async function checkSweepData(c: SweepConfig): Promise<void> {
  const src = sweepData(c);
  if (isPresent(getEntry(src.dataset))) return;
  try {
    await loadDataset(src.dataset);
  } catch (e) {
    const hint = src.dataset === 'cifar10' ? '. Without CIFAR-10, `--stand-in` runs the sweep on Fashion-MNIST padded to 32x32x3, marked STAND-IN in every table and figure' : '';
    if (e instanceof DataError) throw new DataError(e.where, `${e.message.slice(e.where.length + 2)}${hint}`);
    throw e;
  }
}

function readFinished(run: Run): SweepResult | null {
  const file = path.join(run.dir, 'results.json');
  if (!run.alreadyFinished || !fs.existsSync(file)) return null;
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { rows: SweepRow[]; wallSeconds: number | null; standIn: boolean; paperEstimate?: SweepPaperEstimate | null };
  return { rows: saved.rows, findings: checkSweepFindings(saved.rows), jobs: null, wallSeconds: saved.wallSeconds, standIn: saved.standIn, alreadyFinished: true, files: [], paperEstimate: saved.paperEstimate ?? null };
}

export async function runSweep(o: SweepRunOptions): Promise<SweepResult> {
  const { config: c, run } = o;
  const done = readFinished(run);
  if (done) return done;
  const plan = sweepPlan(c, o.backend);
  const ledger = openLedger(path.join(run.dir, 'ledger'));
  run.log({ type: 'start', jobs: plan.jobs.length, combinations: plan.combinations.length, executor: o.executor.describe() });
  const t0 = performance.now();
  const s: JobsSummary = await runJobs(plan.jobs, { executor: o.executor, ledger, log: run.log, quiet: o.quiet, label: `sweep ${c.model}` });
  const wallSeconds = s.ran > 0 ? (performance.now() - t0) / 1000 : null;
  const retry = s.records.filter((r) => r.outcome.status === 'failed' && r.outcome.retryable);
  if (retry.length) {
    throw new KitError(`${retry.length} job(s) failed because their worker died (first: ${retry[0].label}); the finished jobs are kept in ${ledger.dir}: run the same command again to retry them`);
  }
  for (const r of s.records) if (r.outcome.status === 'ok') run.addDataset(r.outcome.result.dataset);
  const standIn = sweepData(c).standIn;
  const rows = summarizeSweep(plan, s.records, c.model);
  const findings = checkSweepFindings(rows);
  const timing = measuredTiming(plan, s.records);
  const paperEstimate: SweepPaperEstimate | null =
    o.paper && timing
      ? { seconds: estimateSweepSeconds(o.paper.config, timing, o.paper.threads), threads: o.paper.threads, jobs: sweepPlan(o.paper.config, o.backend).jobs.length, secondsPerUnit: timing.secondsPerUnit }
      : null;
  const files = [
    run.writeCsv('results.csv', rows as unknown as Record<string, unknown>[], SWEEP_COLUMNS),
    run.writeJson('results.json', {
      title: sweepTitle(c),
      settings: sweepSettingsNote(c),
      standIn,
      rows,
      findings,
      jobs: { total: plan.jobs.length, ran: s.ran, reused: s.reused, failed: s.failed },
      wallSeconds,
      timing,
      paperEstimate,
    }),
    run.writeComparison(sweepComparison(findings, { profile: o.profile, model: c.model, standIn, wallSeconds, note: sweepSettingsNote(c), paperEstimate })),
  ];
  const figs = await sweepFigures(rows, { title: sweepTitle(c), profile: o.profile, standIn, dir: run.figurePath(''), nbits: c.nbits });
  for (const f of figs) files.push(f.files.svg!, f.files.png!);
  return { rows, findings, jobs: { total: plan.jobs.length, ran: s.ran, reused: s.reused, failed: s.failed }, wallSeconds, standIn, alreadyFinished: false, files, paperEstimate };
}

/** The stand-in of each dataset that cannot be obtained offline (conventions.md, Data): mini-CIFAR10 -> Fashion-MNIST 32x32x3. */
export const SWEEP_STAND_INS: Record<string, string> = { 'mini-cifar10': 'mini-fashion-mnist32x3' };

/** The dataset a sweep runs on with `--stand-in` (a usage error, saying why, when `data` has no stand-in). */
export function sweepStandIn(data: string): string {
  const standIn = SWEEP_STAND_INS[data];
  if (!standIn) {
    throw new KitError(
      `--stand-in: ${data in SWEEP_DATA ? `${data} is available offline, so it has no stand-in` : `no stand-in for ${JSON.stringify(data)}`} (the stand-in is for vgg7-cifar10 without CIFAR-10)`,
      'UsageError',
    );
  }
  return standIn;
}

/** What a sweep preset names: its run directory's preset label and whether it is on stand-in data. */
export const sweepPresetName = (preset: string, standIn: boolean) => (standIn ? `${preset}-stand-in` : preset);

/**
 * A sweep preset's config at a profile, as `tck sweep --preset <p> --profile <q> [--stand-in] [--seed n]` resolves
 * it: SWEEP_DEFAULTS (the seed's settings), then the preset, then its profile (src/experiments/registry.ts).
 */
export function sweepPresetConfig(preset: string, profile: Profile, o: { standIn?: boolean; seed?: number } = {}): SweepConfig {
  const presets = presetsOf<SweepConfig>('sweep');
  const p = presets[preset];
  if (!p) throw new KitError(`unknown sweep preset ${JSON.stringify(preset)}; known: ${Object.keys(presets).join(', ')}`, 'UsageError');
  const merged = merge<Record<string, unknown>>(structuredClone(SWEEP_DEFAULTS), p.config, p.profiles[profile], o.seed !== undefined ? { seed: o.seed } : {});
  if (o.standIn) merged.data = sweepStandIn(merged.data as string);
  return validateConfig(SweepConfigSchema, merged, `sweep preset ${preset} (${profile})`);
}

export interface SweepPresetRun {
  /** Executor (default: in-process, what a notebook wants; `tck sweep` uses a worker pool). */
  executor?: ExecutorChoice;
  standIn?: boolean;
  seed?: number;
  out?: string;
  fresh?: boolean;
  quiet?: boolean;
  backend?: string;
}

/**
 * Runs (or resumes, or reads back) a sweep preset at a profile in the same run directory as `tck sweep --preset
 * <p> --profile <q>`: the notebook uses it, so after `reproduce.sh` ran the step it only reads the results.
 */
export async function runSweepPreset(preset: string, profile: Profile, o: SweepPresetRun = {}): Promise<SweepResult & { config: SweepConfig; runDir: string }> {
  const config = sweepPresetConfig(preset, profile, { standIn: o.standIn, seed: o.seed });
  await checkSweepData(config);
  const engine = await initEngine({ backend: o.backend ?? process.env.TCK_BACKEND });
  const backend = engine.backend as 'tensorflow' | 'wasm' | 'cpu';
  const run = openRun({
    command: 'sweep',
    preset: sweepPresetName(preset, Boolean(o.standIn)),
    profile,
    seed: config.seed,
    config: { ...config, backend },
    out: o.out,
    fresh: o.fresh,
    engine,
    standIn: SWEEP_DATA[config.data].standIn,
  });
  const executor = await createExecutor(o.executor ?? { workers: 'in-process' });
  try {
    const threads = typeof o.executor?.workers === 'number' ? o.executor.workers : o.executor?.workers === 'in-process' || !o.executor ? 1 : defaultThreads();
    const paper = { config: sweepPresetConfig(preset, 'paper', { standIn: o.standIn, seed: o.seed }), threads };
    const res = await runSweep({ config, run, executor, backend, profile, quiet: o.quiet ?? true, paper });
    if (!res.alreadyFinished) run.finish();
    return { ...res, config, runDir: run.dir };
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    await executor.close();
  }
}
