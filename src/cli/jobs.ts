/**
 * `tck jobs <jobs.json>`: runs a list of training job specs (src/experiments/job.ts) as one experiment: on the
 * local thread pool, in this process, or on BullMQ workers, with a ledger that makes it resumable. Writes
 * results.csv (a row per job) and results.json.
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { openRun, defaultRunDir } from '../run/rundir.js';
import { openLedger } from '../experiments/ledger.js';
import { runJobs } from '../experiments/runner.js';
import { parseJobSpec } from '../experiments/job.js';
import { hashJson } from '../util/json.js';
import { readConfigFile, ConfigError } from './config.js';
import { COMMON_OPTIONS, parse, printJson, UsageError, onInterrupt, commandLine } from './common.js';
import { EXECUTOR_OPTIONS, EXECUTOR_HELP, executorFromFlags } from './executor-flags.js';

const HELP = `tck jobs: run a list of training jobs (job specs as JSON) as one resumable experiment

  tck jobs <jobs.json> [--out dir] [--workers n|in-process] [--redis url] [--fresh] [--json]

<jobs.json> holds an array of job specs, or {"jobs": [...]}. A spec without "backend" runs on this
machine's backend (--backend / TCK_BACKEND / auto). Each finished job is kept in the run directory's
ledger/; running the command again runs only the unfinished jobs.

Options:
${EXECUTOR_HELP}
  --out <dir>           run directory (default results/jobs-<file name>-<hash of the jobs>)
  --backend <b>         auto | tensorflow | wasm | cpu, for specs that do not name one
  --fresh               start over   --json  end with one JSON line   --quiet  no progress
`;

export async function jobsCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    'jobs',
    argv,
    { out: COMMON_OPTIONS.out, fresh: COMMON_OPTIONS.fresh, json: COMMON_OPTIONS.json, quiet: COMMON_OPTIONS.quiet, backend: COMMON_OPTIONS.backend, help: COMMON_OPTIONS.help, ...EXECUTOR_OPTIONS },
    1,
  );
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = positionals[0];
  if (!file) throw new UsageError('a jobs file is required: tck jobs <jobs.json> (see tck jobs --help)');
  const raw = readConfigFile(file);
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { jobs?: unknown }).jobs) ? (raw as { jobs: unknown[] }).jobs : null;
  if (!list) throw new ConfigError(`${file}: expected an array of job specs or {"jobs": [...]}`);
  if (!list.length) throw new ConfigError(`${file}: the job list is empty`);
  const engine = await initEngine({ backend: v.backend });
  const specs = list.map((s, i) => parseJobSpec({ backend: engine.backend, ...(s as object) }, `${file}: job ${i}`));
  const executor = await executorFromFlags(v);
  const name = path.basename(file, path.extname(file));
  const hash = hashJson(specs).slice(0, 8);
  const run = openRun({
    command: 'jobs',
    preset: `${name}-${hash}`,
    profile: 'custom',
    seed: typeof specs[0].seed === 'number' ? specs[0].seed : 0,
    config: { jobs: specs },
    out: v.out ?? defaultRunDir('jobs', name, hash),
    fresh: Boolean(v.fresh),
    engine,
  });
  const ledger = openLedger(path.join(run.dir, 'ledger'));
  const off = onInterrupt(run, () => `${ledger.keys().length} of ${specs.length} jobs finished and are kept in ${path.relative(process.cwd(), ledger.dir) || ledger.dir}.`, commandLine('jobs', argv));
  try {
    run.log({ type: 'start', jobs: specs.length, executor: executor.describe() });
    const s = await runJobs(specs, { executor, ledger, log: run.log, quiet: Boolean(v.quiet), label: name });
    const rows = s.records.map((r) => ({
      index: r.index,
      label: r.label,
      key: r.key,
      status: r.outcome.status,
      worker: r.outcome.meta.worker,
      ...(r.outcome.status === 'ok'
        ? { epochs: r.outcome.result.epochs, ...r.outcome.result.metrics, seconds: r.outcome.result.timing.seconds, error: '' }
        : { error: r.outcome.error.message }),
    }));
    for (const r of s.records) if (r.outcome.status === 'ok') run.addDataset(r.outcome.result.dataset);
    run.writeCsv('results.csv', rows, ['index', 'label', 'key', 'status', 'epochs', 'trainLoss', 'trainAccuracy', 'valAccuracy', 'heldOutAccuracy', 'testAccuracy', 'seconds', 'worker', 'error']);
    run.writeJson('results.json', { jobs: rows, ran: s.ran, reused: s.reused, failed: s.failed });
    run.writeComparison([]);
    run.finish();
    process.stderr.write(`tck jobs: ${specs.length} jobs (${s.ran} run now, ${s.reused} from the ledger, ${s.failed} failed); results in ${path.relative(process.cwd(), run.dir) || run.dir}\n`);
    if (v.json) printJson({ command: 'jobs', jobs: specs.length, ran: s.ran, reused: s.reused, failed: s.failed, runDir: run.dir, keys: s.records.map((r) => r.key) });
    return s.failed ? 1 : 0;
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    off();
    await executor.close();
  }
}
