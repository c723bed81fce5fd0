/**
 * Seed 004's compression study as one resumable experiment in a run directory: `tck compress` and notebooks
 * 06 and 07 call `compressExperiment`, which opens `results/compress-<preset>-<profile>/`, trains the study's
 * jobs through the experiment engine (its ledger makes a killed run resume), and writes the tables (CSV, the
 * seed's numbers beside the kit's), `runs.csv`, `summary.json`, `comparison.csv` and the figures. On a finished
 * run it reads the results back instead of computing them again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openRun, type Run } from '../../run/rundir.js';
import { openLedger } from '../ledger.js';
import type { Executor } from '../executor.js';
import { readCsvRows, markdownTable } from '../../report/tables.js';
import type { Figure } from '../../report/figures.js';
import { initEngine } from '../../engine/backend.js';
import { createExecutor, type ExecutorChoice } from '../executor.js';
import { presetsOf } from '../registry.js';
import { PROFILES, type Profile } from '../../run/profile.js';
import { getEntry, isPresent, loadDataset } from '../../data/registry.js';
import { resolveView } from '../../data/views.js';
import { DataError } from '../../data/types.js';
import { KitError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/files.js';
import { runCompressStudy, type StudyRun, type JobRow } from './study.js';
import { studyTables, dataNames, type Row } from './tables.js';
import { studyFigures } from './figures.js';
import { compressConfig, CompressStudyConfigSchema, type CompressStudyConfig } from './config.js';

export * from './config.js';
export * from './published.js';
export * from './designs.js';
export * from './jobs.js';
export * from './evaluations.js';
export * from './study.js';
export * from './tables.js';
export * from './figures.js';

export interface CompressExperimentOptions {
  preset: string;
  profile: string;
  config: CompressStudyConfig;
  /** The backend every job runs on (resolved) and the engine description for provenance. */
  backend: string;
  engine: unknown;
  executor: Executor;
  out?: string;
  fresh?: boolean;
  quiet?: boolean;
  argv?: string[];
  /** Lines for people (stderr in the CLI, cell output in notebooks). */
  say?: (line: string) => void;
  /** Called with the open run (the CLI installs its interrupt handler). */
  onRun?: (run: Run, ledgerDir: string) => void;
}

export interface CompressExperimentResult {
  run: Run;
  /** Every table by name (as written to `<name>.csv`), and the comparison rows. */
  tables: Record<string, Row[]>;
  comparison: Row[];
  jobs: JobRow[];
  failed: number;
  /** Figure files written (`figures/<name>.svg` and `.png`). */
  figures: { name: string; svg: string; png: string }[];
  alreadyFinished: boolean;
  /** The study's measurements (absent when a finished run was read back). */
  study?: StudyRun;
}

const JOB_COLUMNS = ['name', 'repeat', 'label', 'key', 'status', 'epochs', 'stoppedEarly', 'valAccuracy', 'testAccuracy', 'seconds', 'worker', 'fromLedger', 'error'];

function figureFiles(dir: string): CompressExperimentResult['figures'] {
  const fdir = path.join(dir, 'figures');
  if (!fs.existsSync(fdir)) return [];
  return fs
    .readdirSync(fdir)
    .filter((f) => f.endsWith('.svg'))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), svg: path.join(fdir, f), png: path.join(fdir, `${f.slice(0, -4)}.png`) }));
}

/** A table as Markdown with a caption naming the profile and, for stand-in data, saying so. */
export function tableMarkdown(name: string, rows: Row[], profile: string, standIn: boolean): string {
  const caption = `**${name}** (seed 004; profile ${profile}${standIn ? '; STAND-IN data: Fashion-MNIST pairs in place of the CIFAR-10 pairs' : ''}). \`_kit\` columns: the kit's means over runs (\`_std\`: their std; accuracies in %); \`_paper\` columns: the seed's printed values.`;
  return `${caption}\n\n${rows.length ? markdownTable(rows) : '(no rows)\n'}`;
}

/** Runs (or resumes, or reads back) the study in its run directory. */
export async function compressExperiment(o: CompressExperimentOptions): Promise<CompressExperimentResult> {
  const run = openRun({ command: 'compress', preset: o.preset, profile: o.profile, seed: o.config.seed, config: o.config, out: o.out, fresh: o.fresh, engine: o.engine, standIn: o.config.standIn, argv: o.argv });
  const ledger = openLedger(path.join(run.dir, 'ledger'));
  const say = o.say ?? (() => {});
  if (run.alreadyFinished && fs.existsSync(path.join(run.dir, 'summary.json'))) {
    const summary = JSON.parse(fs.readFileSync(path.join(run.dir, 'summary.json'), 'utf8')) as { tables: string[]; failed: number };
    const tables = Object.fromEntries(summary.tables.map((t) => [t, readCsvRows(path.join(run.dir, `${t}.csv`))]));
    return {
      run,
      tables,
      comparison: readCsvRows(path.join(run.dir, 'comparison.csv')),
      jobs: readCsvRows(path.join(run.dir, 'runs.csv')) as unknown as JobRow[],
      failed: summary.failed,
      figures: figureFiles(run.dir),
      alreadyFinished: true,
    };
  }
  o.onRun?.(run, ledger.dir);
  try {
    run.log({ type: 'start', parts: o.config.parts, repeats: o.config.repeats, executor: o.executor.describe() });
    say(`compress ${o.preset} (${o.profile}${o.config.standIn ? ', STAND-IN data' : ''}): run directory ${path.relative(process.cwd(), run.dir) || run.dir}${run.resumed ? ' (resuming)' : ''}; jobs on ${o.executor.describe()}`);
    const study = await runCompressStudy({ config: o.config, backend: o.backend, executor: o.executor, ledger, log: run.log, quiet: o.quiet, say });
    for (const d of study.datasets) run.addDataset(d);
    const { tables, comparison } = studyTables(study, o.profile);
    for (const [name, rows] of Object.entries(tables)) {
      run.writeCsv(name, rows);
      writeFileAtomic(path.join(run.dir, `${name}.md`), tableMarkdown(name, rows, o.profile, o.config.standIn));
    }
    run.writeCsv('runs.csv', study.jobs as unknown as Row[], JOB_COLUMNS);
    // Per-run measurements (every accuracy by key; each run's ID profile and designs) for other analyses.
    run.writeJson('measurements.json', {
      data: dataNames(study),
      repeats: study.repeats.map((m) => ({
        repeat: m.repeat,
        acc: m.acc,
        designs: m.designs,
        distinct: m.distinct,
        id: Object.fromEntries(Object.entries(m.id).map(([d, a]) => [d, a && { rows: a.profile.rows, twonn: a.twonn, pca: a.pca, twonnDesign: a.twonnDesign, pcaDesign: a.pcaDesign }])),
      })),
    });
    run.writeComparison(comparison);
    say('rendering figures');
    const figs: Figure[] = await studyFigures({ run: study, tables }, { dir: run.figurePath(''), profile: o.profile, standIn: o.config.standIn });
    const summary = {
      command: 'compress',
      preset: o.preset,
      profile: o.profile,
      standIn: o.config.standIn,
      data: dataNames(study),
      parts: o.config.parts,
      repeats: o.config.repeats,
      jobs: study.jobs.length,
      failed: study.failed,
      tables: Object.keys(tables),
      figures: figs.map((f) => f.name),
    };
    run.writeJson('summary.json', summary);
    if (study.failed) run.log({ type: 'failed-jobs', failed: study.failed });
    run.finish();
    return {
      run,
      tables,
      comparison: comparison as unknown as Row[],
      jobs: study.jobs,
      failed: study.failed,
      figures: figs.map((f) => ({ name: f.name, svg: f.files.svg!, png: f.files.png! })),
      alreadyFinished: false,
      study,
    };
  } catch (e) {
    run.fail(e);
    throw e;
  }
}

/** The study's config for a preset at a profile (deep-merged, validated), and the run's preset label. */
export function compressPresetConfig(preset: string, profile: Profile, o: { standIn?: boolean; over?: unknown[] } = {}): { config: CompressStudyConfig; label: string } {
  const presets = presetsOf<Record<string, unknown>>('compress');
  const p = presets[preset];
  if (!p) throw new KitError(`unknown compress preset ${JSON.stringify(preset)}; known: ${Object.keys(presets).join(', ')}`, 'UsageError');
  if (!(PROFILES as readonly string[]).includes(profile)) throw new KitError(`unknown profile ${JSON.stringify(profile)}; profiles: ${PROFILES.join(', ')}`, 'UsageError');
  const merged = compressConfig({ config: p.config, profile: p.profiles[profile] }, o);
  const r = CompressStudyConfigSchema.safeParse(merged);
  if (!r.success) throw new KitError(`compress preset ${preset} (${profile}): invalid config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'ConfigError');
  return { config: r.data, label: o.standIn ? `${preset}-stand-in` : preset };
}

/**
 * Fails before a run directory exists when a pair's dataset is missing, naming the command that gets it (and
 * --stand-in where CIFAR-10 is missing).
 */
export async function checkCompressData(c: CompressStudyConfig): Promise<void> {
  for (const [role, ref] of [['source', c.source], ['target', c.target]] as const) {
    const id = resolveView(ref).view.dataset;
    if (isPresent(getEntry(id))) continue;
    try {
      await loadDataset(id);
    } catch (e) {
      const hint = id === 'cifar10' ? '. Without CIFAR-10, --stand-in runs the study on two Fashion-MNIST pairs, marked STAND-IN in every table and figure' : '';
      if (e instanceof DataError) throw new DataError(e.where, `${e.message.slice(e.where.length + 2)} (the ${role} pair of seed 004's study)${hint}`);
      throw e;
    }
  }
}

/** Whether the datasets of a preset's own pairs (CIFAR-10, without --stand-in) are on this machine. */
export function compressDataPresent(preset: string, profile: Profile): boolean {
  const { config } = compressPresetConfig(preset, profile);
  return [config.source, config.target].every((ref) => isPresent(getEntry(resolveView(ref).view.dataset)));
}

export interface CompressPresetRun {
  standIn?: boolean;
  out?: string;
  fresh?: boolean;
  quiet?: boolean;
  backend?: string;
  /** Where the jobs run (default: a pool of worker threads, one per core, as tck compress). */
  executor?: ExecutorChoice;
  say?: (line: string) => void;
}

/** A preset of the study at a profile, end to end (what notebooks 06 and 07 call; `tck compress` adds flags). */
export async function runCompressPreset(preset: string, profile: Profile, o: CompressPresetRun = {}): Promise<CompressExperimentResult> {
  const { config, label } = compressPresetConfig(preset, profile, { standIn: o.standIn });
  await checkCompressData(config);
  const engine = await initEngine({ backend: o.backend ?? (config.backend === 'auto' ? process.env.TCK_BACKEND : config.backend) });
  const executor = await createExecutor(o.executor ?? {});
  try {
    // The resolved backend is part of the run's identity (a rerun on another backend is another run).
    const resolved = { ...config, backend: engine.backend as CompressStudyConfig['backend'] };
    return await compressExperiment({ preset: label, profile, config: resolved, backend: engine.backend, engine, executor, out: o.out, fresh: o.fresh, quiet: o.quiet ?? true, say: o.say });
  } finally {
    await executor.close();
  }
}
