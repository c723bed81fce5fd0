/**
 * What running a job gives: its result, or the reason it failed. Executors never throw for a job's own
 * failure (a NaN loss, an architecture that cannot be built): they return a failed outcome and the
 * experiment decides its score. `retryable` marks failures of the infrastructure (a worker that died twice),
 * which a rerun tries again; a job's own failure is deterministic and is not retried.
 */
import { errorRecord, KitError, type ErrorRecord } from '../util/errors.js';
import { runJob, type JobContext, type JobResult } from './run-job.js';
import type { JobSpec } from './job.js';

export interface JobMeta {
  /** Who ran it: `in-process`, `pool:<thread>`, `<host>:<pid>` of a BullMQ worker. */
  worker: string;
  attempts: number;
  seconds: number;
  finishedAt: string;
}

export type JobOutcome =
  | { status: 'ok'; result: JobResult; meta: JobMeta }
  | { status: 'failed'; error: ErrorRecord; retryable: boolean; meta: JobMeta };

/** Runs a job and turns a thrown error into a failed outcome. */
export async function executeJob(spec: JobSpec, worker: string, ctx: JobContext = {}): Promise<JobOutcome> {
  const t0 = performance.now();
  const meta = () => ({ worker, attempts: 1, seconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString() });
  try {
    const result = await runJob(spec, ctx);
    return { status: 'ok', result, meta: meta() };
  } catch (e) {
    const error = errorRecord(e);
    if (error.expected) delete error.stack;
    return { status: 'failed', error, retryable: false, meta: meta() };
  }
}

/** An executor could not run a job (a worker died, Redis went away): not the job's own failure. */
export class ExecutorError extends KitError {
  constructor(
    message: string,
    /** The whole run must stop (Redis lost), rather than just this job being retried. */
    public readonly fatal = false,
  ) {
    super(message, 'ExecutorError');
  }
}
