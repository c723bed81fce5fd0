/**
 * Executors run jobs: in this process, on a pool of worker threads (each with its own tfjs engine and its own
 * loaded datasets), or on BullMQ workers on any number of machines. One interface, chosen by `--workers` /
 * `--redis`; the same job gives the same bits on each. Every executor retries a job whose worker died once,
 * then reports it failed (`retryable`, so a rerun tries again); a job's own error is never retried.
 */
import os from 'node:os';
import type { JobSpec } from './job.js';
import { executeJob, type JobOutcome } from './outcome.js';
import type { FitEvent } from '../train/fit.js';

export interface QueuedJob {
  /** Position in the experiment's job list. */
  index: number;
  key: string;
  label: string;
  spec: JobSpec;
}

/** Progress of a running job, small enough to cross threads and queues. */
export interface JobProgress {
  worker: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
}

export interface JobListener {
  started?(worker: string): void;
  progress?(p: JobProgress): void;
}

export interface Executor {
  readonly kind: 'in-process' | 'pool' | 'bullmq';
  /** How many jobs it runs at once (Infinity: it queues them itself). */
  readonly slots: number;
  describe(): string;
  /** Runs one job. Resolves with its outcome; rejects only with a fatal ExecutorError (Redis lost). */
  run(job: QueuedJob, listener?: JobListener): Promise<JobOutcome>;
  close(): Promise<void>;
}

/** Turns training events into the small progress record executors pass around. */
export function progressOf(worker: string, e: FitEvent): JobProgress | null {
  if (e.type === 'batch') return { worker, epoch: e.epoch + 1, epochs: e.epochs, batch: e.batch, batches: e.batches, loss: e.loss };
  if (e.type === 'epoch') return { worker, epoch: e.log.epoch + 1, epochs: e.epochs, batch: 0, batches: 0, loss: e.log.loss };
  return null;
}

/** Runs jobs one after another in this process (what notebooks and `tck train` use by default). */
export function inProcessExecutor(): Executor {
  return {
    kind: 'in-process',
    slots: 1,
    describe: () => 'in-process',
    async run(job, listener) {
      listener?.started?.('in-process');
      return executeJob(job.spec, 'in-process', {
        onEvent: (e) => {
          const p = progressOf('in-process', e);
          if (p) listener?.progress?.(p);
        },
      });
    },
    close: async () => {},
  };
}

/** The default number of worker threads: one per core. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

export interface ExecutorChoice {
  /** `in-process`, or a number of worker threads (default: one per core). */
  workers?: number | 'in-process';
  /** A Redis URL: run on BullMQ workers (`tck worker --redis <url>`). */
  redis?: string;
  /** BullMQ queue name (default `tck`). */
  queue?: string;
}

/** The executor a command's `--workers` / `--redis` choose. */
export async function createExecutor(c: ExecutorChoice = {}): Promise<Executor> {
  if (c.redis) {
    const { bullmqExecutor } = await import('./bullmq.js');
    return bullmqExecutor({ url: c.redis, queue: c.queue });
  }
  if (c.workers === 'in-process' || c.workers === 0) return inProcessExecutor();
  const { poolExecutor } = await import('./pool.js');
  return poolExecutor({ threads: c.workers ?? defaultThreads() });
}
