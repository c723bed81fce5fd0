/**
 * The distributed executor: jobs go on a Redis-backed BullMQ queue, `tck worker --redis <url>` processes take
 * them on any number of machines, and results flow back into the run that queued them.
 *
 * - A job's BullMQ id is its key (the hash of its spec): a rerun after the main process died finds the jobs
 *   that workers finished meanwhile and takes their results without training again.
 * - A worker runs its jobs on its own thread pool, so its event loop stays free to renew the job locks. A worker
 *   that dies stops renewing; after `lockDuration` another worker's stalled-job check puts the job back once
 *   (maxStalledCount 1), and a second death fails it (reported `retryable`, so a rerun tries again).
 * - Redis unreachable at start is a clear error naming the URL; Redis lost mid-run stops the run (a fatal
 *   ExecutorError) with the ledger holding every job finished so far.
 * Outcomes travel as the checkpoint format (typed arrays bit-exact) in base64.
 */
import os from 'node:os';
import { Redis } from 'ioredis';
import { Queue, QueueEvents, Worker, Job } from 'bullmq';
import { encodeCheckpoint, decodeCheckpoint } from '../run/checkpoint.js';
import { KitError } from '../util/errors.js';
import { ExecutorError, type JobOutcome } from './outcome.js';
import type { Executor, JobProgress } from './executor.js';
import { poolExecutor } from './pool.js';
import { parseJobSpec, jobLabel } from './job.js';

export const DEFAULT_QUEUE = 'tck';

/** Reconnection attempts (500 ms apart) before Redis counts as lost. */
const RECONNECT_TRIES = 10;

function redisOptions(extra: Record<string, unknown> = {}) {
  return {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times: number) => (times > RECONNECT_TRIES ? null : 500),
    ...extra,
  };
}

/** Connects and pings, or fails with a message naming the URL. */
export async function connectRedis(url: string): Promise<Redis> {
  let c: Redis;
  try {
    c = new Redis(url, redisOptions({ retryStrategy: () => null }) as never);
  } catch (e) {
    throw new KitError(`--redis ${url}: not a Redis URL (${(e as Error).message}); expected redis://host:port`, 'RedisError');
  }
  c.on('error', () => {}); // reported through connect() below
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    c.disconnect();
    throw new KitError(`cannot reach Redis at ${url} (${(e as Error).message}). Start it (redis-server) or check the --redis URL.`, 'RedisError');
  }
  c.disconnect();
  // The long-lived connection retries for a while before the run counts Redis as lost.
  const live = new Redis(url, redisOptions() as never);
  live.on('error', () => {});
  await live.connect();
  return live;
}

export const encodeOutcome = (o: JobOutcome): string => Buffer.from(encodeCheckpoint(o)).toString('base64');
export const decodeOutcome = (s: string, where: string): JobOutcome => decodeCheckpoint<JobOutcome>(Buffer.from(s, 'base64'), where);

export interface BullOptions {
  url: string;
  queue?: string;
}

export async function bullmqExecutor(o: BullOptions): Promise<Executor> {
  const name = o.queue ?? DEFAULT_QUEUE;
  const connection = await connectRedis(o.url);
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection: connection.duplicate() });
  let lostReject: (e: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => (lostReject = reject));
  lost.catch(() => {});
  const onLost = () => lostReject(new ExecutorError(`lost the connection to Redis at ${o.url}; jobs finished so far are in the run's ledger: rerun the same command to resume`, true));
  connection.on('end', onLost);
  // Connection errors surface as a lost Redis (below), not as stray messages.
  events.on('error', () => {});
  queue.on('error', () => {});
  await events.waitUntilReady();
  const listeners = new Map<string, (p: JobProgress) => void>();
  events.on('progress', ({ jobId, data }) => listeners.get(jobId)?.(data as unknown as JobProgress));
  return {
    kind: 'bullmq',
    slots: Infinity,
    describe: () => `BullMQ workers on queue "${name}" at ${o.url}`,
    async run(job, listener) {
      let started = false;
      listeners.set(job.key, (p) => {
        if (!started) {
          started = true;
          listener?.started?.(p.worker);
        }
        listener?.progress?.(p);
      });
      try {
        const go = async (): Promise<JobOutcome> => {
          // A job with this key may be queued or finished already (the main process died and was rerun).
          let bj = await Job.fromId(queue, job.key);
          if (bj && (await bj.getState()) === 'failed') {
            await bj.remove();
            bj = undefined;
          }
          bj ??= await queue.add(job.label, { spec: job.spec, label: job.label }, { jobId: job.key, attempts: 1, removeOnComplete: false, removeOnFail: false });
          try {
            const encoded = (await bj.waitUntilFinished(events)) as string;
            const out = decodeOutcome(encoded, `BullMQ result of job ${job.key}`);
            await bj.remove().catch(() => {});
            return out;
          } catch (e) {
            if (e instanceof ExecutorError) throw e;
            // The job failed inside BullMQ: its workers died (stalled twice). The job's own errors are outcomes.
            return {
              status: 'failed',
              error: { name: 'WorkerDied', message: `BullMQ: ${(e as Error).message}`, expected: true },
              retryable: true,
              meta: { worker: 'bullmq', attempts: 2, seconds: 0, finishedAt: new Date().toISOString() },
            };
          }
        };
        return await Promise.race([go(), lost]);
      } finally {
        listeners.delete(job.key);
      }
    },
    async close() {
      connection.off('end', onLost);
      await events.close().catch(() => {});
      await queue.close().catch(() => {});
      connection.disconnect();
    },
  };
}

export interface WorkerOptions {
  url: string;
  queue?: string;
  /** Jobs this machine runs at once, each on its own thread (default: one per core). */
  threads: number;
  /** Seconds a job's lock lasts without renewal before another worker may take it over (default 30). */
  lockSeconds?: number;
  log?: (line: string) => void;
}

/**
 * `tck worker`: takes jobs from the queue until stopped, running each on a local worker thread. Returns a
 * function that stops it (waiting for running jobs).
 */
export async function runBullWorker(o: WorkerOptions): Promise<{ name: string; stop: () => Promise<void>; closed: Promise<void> }> {
  const queueName = o.queue ?? DEFAULT_QUEUE;
  const connection = await connectRedis(o.url);
  const pool = poolExecutor({ threads: o.threads });
  const name = `${os.hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const lockDuration = (o.lockSeconds ?? 30) * 1000;
  const worker = new Worker(
    queueName,
    async (bj) => {
      const spec = parseJobSpec(bj.data.spec, `job ${bj.id}`);
      const label = bj.data.label ?? jobLabel(spec);
      log(`${name}: job ${bj.id?.slice(0, 12)} (${label}) started`);
      const out = await pool.run({ index: 0, key: bj.id!, label, spec }, {
        progress: (p) => void bj.updateProgress({ ...p, worker: `${name}/${p.worker}` } as never).catch(() => {}),
      });
      log(`${name}: job ${bj.id?.slice(0, 12)} ${out.status === 'ok' ? 'finished' : `failed (${out.error.message.split('\n')[0]})`} in ${out.meta.seconds.toFixed(1)} s`);
      return encodeOutcome({ ...out, meta: { ...out.meta, worker: `${name}/${out.meta.worker}` } });
    },
    { connection, concurrency: o.threads, lockDuration, stalledInterval: Math.max(1000, lockDuration / 2), maxStalledCount: 1, name },
  );
  worker.on('error', (e) => log(`${name}: ${e.message}`));
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  connection.on('end', () => {
    log(`${name}: lost the connection to Redis at ${o.url}`);
    void stop();
  });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await worker.close().catch(() => {});
      await pool.close().catch(() => {});
      connection.disconnect();
      resolveClosed();
    })());
  await worker.waitUntilReady();
  return { name, stop, closed };
}
