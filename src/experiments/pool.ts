/**
 * The local executor: a pool of worker threads (piscina), by default one per core. Each thread has its own
 * tfjs engine and loads each dataset once. A thread that dies takes its job with it: the job is retried once on
 * a new thread, then reported failed.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Executor, JobProgress } from './executor.js';
import type { JobOutcome } from './outcome.js';
import type { PoolTask } from './pool-worker.js';

/** The worker module next to this one (`.ts` under tsx, `.js` in dist/). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `pool-worker${path.extname(here)}`);
}

export interface PoolOptions {
  threads: number;
  /** Attempts per job when its thread dies (default 2: one retry). */
  attempts?: number;
}

export interface PoolExecutor extends Executor {
  /** Starts every thread's engine on `backend` (so that a measurement does not count start-up). */
  warm(backend: string): Promise<string[]>;
}

export function poolExecutor(o: PoolOptions): PoolExecutor {
  const threads = Math.max(1, Math.floor(o.threads));
  const attempts = o.attempts ?? 2;
  const pool = new Piscina<PoolTask, JobOutcome | string>({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
    // Node prints a warning per thread for tfjs's banner-level ExperimentalWarnings; keep stderr readable.
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return {
    kind: 'pool',
    slots: threads,
    describe: () => `a pool of ${threads} worker thread${threads > 1 ? 's' : ''}`,
    async warm(backend) {
      return (await Promise.all(Array.from({ length: threads }, () => pool.run({ warm: backend })))) as string[];
    },
    async run(job, listener) {
      let lastError = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const { port1, port2 } = new MessageChannel();
        let started = false;
        port1.on('message', (p: JobProgress) => {
          if (!started) {
            started = true;
            listener?.started?.(p.worker);
          }
          listener?.progress?.(p);
        });
        try {
          const out = (await pool.run({ spec: job.spec, port: port2 }, { transferList: [port2] })) as JobOutcome;
          return { ...out, meta: { ...out.meta, attempts: attempt } };
        } catch (e) {
          // The thread died (crash, out of memory, killed): the job's own errors come back as outcomes.
          lastError = (e as Error).message;
        } finally {
          port1.close();
        }
      }
      return {
        status: 'failed',
        error: { name: 'WorkerDied', message: `the worker thread running this job died ${attempts} times (last: ${lastError})`, expected: true },
        retryable: true,
        meta: { worker: 'pool', attempts, seconds: 0, finishedAt: new Date().toISOString() },
      };
    },
    close: () => pool.destroy(),
  };
}
