/**
 * Runs an experiment's jobs on an executor and collects their outcomes by job index (never by completion
 * order). With a ledger, jobs already finished are taken from it and every newly finished job is written to it
 * at once, so a killed run reruns only the unfinished ones. Only this (main) process writes the ledger and the
 * log. Failures of single jobs are outcomes; a fatal executor error (Redis lost) stops the run after the jobs
 * in flight have settled, with the ledger intact.
 */
import { parseJobSpec, jobKey, jobLabel, type JobSpec, type JobSpecInput } from './job.js';
import type { Executor, JobProgress } from './executor.js';
import type { Ledger } from './ledger.js';
import type { JobOutcome } from './outcome.js';
import { ExecutorError } from './outcome.js';
import { createJobsProgress, formatDuration, type JobsProgress } from '../run/progress.js';

export interface JobRecord {
  index: number;
  key: string;
  label: string;
  outcome: JobOutcome;
  /** Taken from the ledger of an earlier attempt, not run now. */
  fromLedger: boolean;
}

export interface RunJobsOptions {
  executor: Executor;
  ledger?: Ledger;
  /** Events for the run's log.jsonl (job-start, job-done, job-failed). */
  log?: (event: Record<string, unknown>) => void;
  /** Progress display; default: a bar on stderr (`quiet` for none). */
  progress?: JobsProgress;
  quiet?: boolean;
  /** Name on the progress bar. */
  label?: string;
  onRecord?: (r: JobRecord) => void;
}

export interface JobsSummary {
  records: JobRecord[];
  /** Jobs trained now / taken from the ledger / failed (now or before). */
  ran: number;
  reused: number;
  failed: number;
}

function describeOutcome(o: JobOutcome): string {
  if (o.status === 'failed') return `FAILED (${o.error.message.split('\n')[0]})`;
  const m = o.result.metrics;
  const acc = m.heldOutAccuracy ?? m.testAccuracy ?? m.valAccuracy ?? m.trainAccuracy;
  return `accuracy ${(100 * acc).toFixed(2)}%`;
}

export async function runJobs(input: (JobSpec | JobSpecInput)[], o: RunJobsOptions): Promise<JobsSummary> {
  const specs = input.map((s, i) => parseJobSpec(s, `job ${i}`));
  const jobs = specs.map((spec, index) => ({ index, spec, key: jobKey(spec), label: jobLabel(spec) }));
  const records: (JobRecord | undefined)[] = new Array(jobs.length);
  // Jobs already in the ledger; a retryable failure (a worker died) is tried again.
  for (const j of jobs) {
    const e = o.ledger?.get(j.key);
    if (e && !(e.outcome.status === 'failed' && e.outcome.retryable)) records[j.index] = { index: j.index, key: j.key, label: j.label, outcome: e.outcome, fromLedger: true };
  }
  // Identical specs run once.
  const firstOfKey = new Map<string, number>();
  const todo = jobs.filter((j) => !records[j.index] && !firstOfKey.has(j.key) && (firstOfKey.set(j.key, j.index), true));
  const reused = records.filter(Boolean).length;
  const progress = o.progress ?? createJobsProgress({ total: jobs.length, done: reused, label: o.label ?? 'jobs', quiet: o.quiet });
  if (todo.length) progress.line(`${todo.length} job${todo.length > 1 ? 's' : ''} to run on ${o.executor.describe()}${reused ? ` (${reused} finished before, taken from the ledger)` : ''}`);
  const finish = (r: JobRecord) => {
    // Every job with this key (duplicates included) gets the outcome.
    for (const j of jobs) if (j.key === r.key && !records[j.index]) records[j.index] = { ...r, index: j.index, label: j.label };
    o.onRecord?.(r);
  };
  let fatal: Error | null = null;
  let ran = 0;
  const queue = [...todo];
  const runOne = async (j: (typeof jobs)[number]) => {
    o.log?.({ type: 'job-start', index: j.index, key: j.key, label: j.label });
    const outcome = await o.executor.run(j, {
      started: (w) => progress.worker(w, `${j.label} starting`),
      progress: (p: JobProgress) => progress.worker(p.worker, `${j.label}  epoch ${p.epoch}/${p.epochs}${p.batches ? ` batch ${p.batch}/${p.batches}` : ''}  loss ${p.loss.toFixed(4)}`),
    });
    ran++;
    o.ledger?.put({ key: j.key, label: j.label, outcome });
    o.log?.({
      type: outcome.status === 'ok' ? 'job-done' : 'job-failed',
      index: j.index,
      key: j.key,
      label: j.label,
      worker: outcome.meta.worker,
      attempts: outcome.meta.attempts,
      seconds: outcome.meta.seconds,
      ...(outcome.status === 'ok' ? { metrics: outcome.result.metrics, epochs: outcome.result.epochs, path: outcome.result.path, ...(outcome.result.pathReason ? { pathReason: outcome.result.pathReason } : {}) } : { error: outcome.error.message, retryable: outcome.retryable }),
    });
    progress.done(`${j.label}: ${describeOutcome(outcome)} on ${outcome.meta.worker} in ${formatDuration(outcome.meta.seconds)}`);
    finish({ index: j.index, key: j.key, label: j.label, outcome, fromLedger: false });
  };
  const lane = async () => {
    while (queue.length && !fatal) {
      const j = queue.shift()!;
      try {
        await runOne(j);
      } catch (e) {
        fatal ??= e as Error;
      }
    }
  };
  try {
    const lanes = Math.min(queue.length, Number.isFinite(o.executor.slots) ? o.executor.slots : queue.length);
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    if (!o.progress) progress.stop();
  }
  const stopped = fatal as Error | null; // assigned inside the lanes
  if (stopped) {
    const done = records.filter(Boolean).length;
    const msg = `${stopped.message} (${done} of ${jobs.length} jobs finished and are kept${o.ledger ? ` in ${o.ledger.dir}` : ''})`;
    throw stopped instanceof ExecutorError ? new ExecutorError(msg, true) : stopped;
  }
  const all = records as JobRecord[];
  return { records: all, ran, reused, failed: all.filter((r) => r.outcome.status === 'failed').length };
}
