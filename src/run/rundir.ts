/**
 * Run directories (conventions.md, "Run directory"): `config.json`, `provenance.json`, `checkpoint/`,
 * `log.jsonl`, results as CSV and JSON, `figures/`, and `comparison.csv`. Opening an existing directory with
 * the same config resumes it; a different config is refused unless `fresh` is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { KIT_ROOT } from '../data/paths.js';
import { checkpointDir, type CheckpointDir } from './checkpoint.js';
import { readJson, toCsv, writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import { gitInfo, kitVersion, provenanceStamp, type DatasetRecord, type Provenance } from './provenance.js';
import { KitError } from '../util/errors.js';
import { canonicalJson, hashJson } from '../util/json.js';

export interface RunOptions {
  command: string;
  preset: string;
  profile: string;
  seed: number;
  /** The resolved config; stored as config.json and compared on resume. */
  config: unknown;
  out?: string;
  fresh?: boolean;
  argv?: string[];
  engine: unknown;
  /** The run uses an offline stand-in dataset (conventions.md: marked "stand-in" in every table and figure). */
  standIn?: boolean;
  /**
   * False for commands with nothing to resume (pure computations such as `tck estimate`): the directory's
   * config is replaced instead of compared, and no checkpoint is expected.
   */
  resumable?: boolean;
}

/** One row of `comparison.csv`: a published number beside the kit's. */
export interface ComparisonRow {
  seed_document: string;
  table_or_figure: string;
  quantity: string;
  paper_value: number | string | null;
  kit_value: number | string | null;
  profile: string;
  note: string;
}

export const COMPARISON_COLUMNS: (keyof ComparisonRow)[] = ['seed_document', 'table_or_figure', 'quantity', 'paper_value', 'kit_value', 'profile', 'note'];

/**
 * The one spelling of a seed document in comparison.csv and the report: `seed 000` ... `seed 004`. A bare number
 * (`'002'`, or `2` as a CSV reader parses it) is written that way; anything else is kept as it is.
 */
export function seedDocumentLabel(doc: unknown): string {
  const s = String(doc ?? '').trim();
  const m = /^(?:seed\s*)?(\d{1,3})$/i.exec(s);
  return m ? `seed ${m[1].padStart(3, '0')}` : s;
}

export interface Run {
  dir: string;
  resumed: boolean;
  /** The directory holds this config's run, finished: commands report its results instead of redoing it. */
  alreadyFinished: boolean;
  checkpoints: CheckpointDir;
  provenance: Provenance;
  configSha256: string;
  /** Appends one progress event to log.jsonl (with a timestamp). */
  log(event: Record<string, unknown>): void;
  addDataset(rec: DatasetRecord): void;
  /** Writes `name` (.json) with the provenance stamp and config embedded. */
  writeJson(name: string, value: Record<string, unknown>): string;
  /** Writes `name` (.csv); every row gets the provenance columns (seed, backend, kit, commit, config hash). */
  writeCsv(name: string, rows: Record<string, unknown>[], columns?: string[]): string;
  writeComparison(rows: ComparisonRow[]): string;
  /** Path of a figure file `figures/<name>`. */
  figurePath(name: string): string;
  finish(): void;
  fail(error: unknown): void;
  /** Records that the run was stopped by a signal (provenance status `interrupted`); a rerun resumes it. */
  interrupt(signal: string): void;
}

export function resultsDir(): string {
  return process.env.TCK_RESULTS_DIR ? path.resolve(process.env.TCK_RESULTS_DIR) : path.join(KIT_ROOT, 'results');
}


/** The first path at which two JSON values differ, e.g. `training.epochs`. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | null {
  if (canonicalJson(a) === canonicalJson(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
  }
  return at || '(root)';
}

export class RunDirError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'RunDirError';
  }
}

export function defaultRunDir(command: string, preset: string, profile: string): string {
  return path.join(resultsDir(), `${command}-${preset}-${profile}`);
}

/** Whether `dir` is a run directory the kit wrote (its provenance names the kit), so it may be deleted. */
export function isRunDir(dir: string): boolean {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(dir, 'provenance.json'), 'utf8')) as Partial<Provenance>;
    return p?.kit?.name === kitVersion().name && fs.existsSync(path.join(dir, 'config.json'));
  } catch {
    return false;
  }
}

/**
 * Refuses to use a directory that holds other files and is not a run directory (a mistyped --out must never
 * wipe or mix into someone's files). An empty or missing directory is fine.
 */
function checkOwnership(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new RunDirError(`${dir} is a file, not a run directory`);
  if (fs.readdirSync(dir).length === 0 || isRunDir(dir)) return;
  throw new RunDirError(`${dir} is not empty and is not a tck run directory (no provenance.json of the kit); choose another --out`);
}

/** The run's checkpoints; the directory appears with the first save, and never for a run that is not resumable. */
function lazyCheckpoints(dir: string, resumable: boolean): CheckpointDir {
  const c = checkpointDir(dir);
  if (resumable) return c;
  try {
    fs.rmdirSync(dir); // only if empty: an older kit made checkpoint/ for every run
  } catch {
    // absent or not empty
  }
  return {
    ...c,
    save(name) {
      throw new RunDirError(`${path.dirname(dir)}: this run is not resumable, so it keeps no checkpoints (tried to save "${name}")`);
    },
  };
}

/** Opens (creating, resuming or, with `fresh`, recreating) the run directory. */
export function openRun(o: RunOptions): Run {
  const dir = path.resolve(o.out ?? defaultRunDir(o.command, o.preset, o.profile));
  checkOwnership(dir);
  if (o.fresh) fs.rmSync(dir, { recursive: true, force: true });
  const configFile = path.join(dir, 'config.json');
  const old = o.resumable === false ? null : readJson<unknown>(configFile);
  if (old !== null) {
    const diff = firstDifference(old, o.config);
    if (diff) {
      throw new RunDirError(
        `${dir} holds a run with a different config (first difference at "${diff}"). ` +
          `Run with --fresh to start over there, or --out <dir> to keep both.`,
      );
    }
  }
  // checkpoint/ and figures/ are made when first written to (checkpoint saves and writeFileAtomic make the
  // parent; figurePath makes figures/), so an estimate leaves neither; a run that is not resumable never
  // makes checkpoint/ (saving a checkpoint there is an error) and drops an empty one left by older versions.
  const checkpoints = lazyCheckpoints(path.join(dir, 'checkpoint'), o.resumable !== false);
  const oldProv = readJson<Provenance>(path.join(dir, 'provenance.json'));
  const resumed = old !== null && fs.existsSync(checkpoints.dir) && fs.readdirSync(checkpoints.dir).some((f) => f.endsWith('.ckpt'));
  const configText = JSON.stringify(o.config, null, 2) + '\n';
  const configSha256 = hashJson(o.config);
  if (old === null) writeFileAtomic(configFile, configText);
  // A rerun that fails must not turn a finished run's record into a failed one (its results are still valid).
  const finishedBefore = oldProv?.status === 'finished' && resumed ? oldProv : null;
  const provenance: Provenance = {
    kit: kitVersion(),
    git: gitInfo(),
    command: o.command,
    preset: o.preset,
    profile: o.profile,
    seed: o.seed,
    argv: o.argv ?? process.argv.slice(2),
    engine: o.engine,
    datasets: [],
    standIn: Boolean(o.standIn),
    startedAt: new Date().toISOString(),
    endedAt: null,
    status: 'running',
    ...(resumed && oldProv ? { resumedFrom: [...(oldProv.resumedFrom ?? []), oldProv.startedAt] } : {}),
  };
  const provFile = path.join(dir, 'provenance.json');
  const saveProv = () => writeJsonAtomic(provFile, provenance);
  // The same command on a finished run: its record stays as it is; the command says it is already finished.
  const alreadyFinished = old !== null && o.resumable !== false && oldProv?.status === 'finished';
  if (!alreadyFinished) saveProv();
  const stamp = () => ({ ...provenanceStamp(provenance), configSha256 });
  const logFile = path.join(dir, 'log.jsonl');

  const run: Run = {
    dir,
    resumed,
    alreadyFinished,
    checkpoints,
    provenance,
    configSha256,
    log(event) {
      fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
      // Which training path each finished job took (src/experiments/run-job.ts `trainingPath`), counted in the provenance.
      if (event.type === 'job-done' && typeof event.path === 'string') {
        const counts = (provenance.trainingPaths ??= {});
        counts[event.path] = (counts[event.path] ?? 0) + 1;
      }
    },
    addDataset(rec) {
      provenance.datasets = [...provenance.datasets.filter((d) => d.id !== rec.id), rec];
      saveProv();
    },
    writeJson(name, value) {
      const file = path.join(dir, name.endsWith('.json') ? name : `${name}.json`);
      writeJsonAtomic(file, { ...value, provenance: { ...stamp(), config: o.config } });
      return file;
    },
    writeCsv(name, rows, columns) {
      const file = path.join(dir, name.endsWith('.csv') ? name : `${name}.csv`);
      const s = stamp();
      const extra = { seed: s.seed, backend: s.backend, kit: s.kit, commit: s.commit, config_sha256: configSha256 };
      const cols = [...(columns ?? (rows[0] ? Object.keys(rows[0]) : [])), ...Object.keys(extra)];
      writeFileAtomic(file, toCsv(rows.map((r) => ({ ...r, ...extra })), cols));
      return file;
    },
    writeComparison(rows) {
      const labelled = rows.map((r) => ({ ...r, seed_document: seedDocumentLabel(r.seed_document) }));
      return run.writeCsv('comparison.csv', labelled as unknown as Record<string, unknown>[], COMPARISON_COLUMNS);
    },
    figurePath: (name) => {
      fs.mkdirSync(path.join(dir, 'figures'), { recursive: true });
      return path.join(dir, 'figures', name);
    },
    finish() {
      provenance.status = 'finished';
      provenance.endedAt = new Date().toISOString();
      saveProv();
    },
    interrupt(signal) {
      if (finishedBefore) return;
      provenance.status = 'interrupted';
      provenance.endedAt = new Date().toISOString();
      provenance.error = `stopped by ${signal}`;
      saveProv();
    },
    fail(error) {
      const message = error instanceof Error ? error.message : String(error);
      const endedAt = new Date().toISOString();
      if (finishedBefore) {
        writeJsonAtomic(provFile, { ...finishedBefore, lastAttempt: { startedAt: provenance.startedAt, endedAt, status: 'failed', error: message } });
        return;
      }
      provenance.status = 'failed';
      provenance.endedAt = endedAt;
      provenance.error = message;
      saveProv();
    },
  };
  return run;
}
