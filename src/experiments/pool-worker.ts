/**
 * The task function of the worker-thread pool: runs one job in this thread (its own tfjs engine and dataset
 * cache) and posts its progress on the port it was given.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import { initEngine } from '../engine/backend.js';
import { executeJob, type JobOutcome } from './outcome.js';
import { progressOf } from './executor.js';
import type { JobSpec } from './job.js';

export type PoolTask = { spec: JobSpec; port?: MessagePort } | { warm: string };

export default async function task(t: PoolTask): Promise<JobOutcome | string> {
  const worker = `thread-${threadId}`;
  if ('warm' in t) {
    // Start the engine before the clock of a measurement starts.
    const e = await initEngine({ backend: t.warm });
    return `${worker}:${e.backend}`;
  }
  try {
    return await executeJob(t.spec, worker, {
      onEvent: (e) => {
        const p = progressOf(worker, e);
        if (p) t.port?.postMessage(p);
      },
    });
  } finally {
    t.port?.close();
  }
}
