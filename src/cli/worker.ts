/**
 * `tck worker --redis <url>`: a BullMQ worker. Takes training jobs from the queue and runs them on this
 * machine's worker threads until stopped (Ctrl-C / SIGTERM finish the running jobs first; a second signal
 * stops at once, and the queue gives the jobs to another worker).
 */
import { defaultThreads } from '../experiments/executor.js';
import { runBullWorker, DEFAULT_QUEUE } from '../experiments/bullmq.js';
import { parse, intFlag, numFlag, UsageError } from './common.js';

const HELP = `tck worker: run training jobs from a BullMQ queue on this machine

  tck worker --redis <url> [--queue ${DEFAULT_QUEUE}] [--threads n] [--lock-seconds 30]

Options:
  --redis <url>         the Redis server of the queue, e.g. redis://10.0.0.5:6379
  --queue <name>        queue name (default ${DEFAULT_QUEUE}; the experiment command's --queue)
  --threads <n>         jobs at once, each on its own thread (default: one per core, here ${defaultThreads()})
  --lock-seconds <s>    a job whose worker stops renewing its lock for this long is given to another worker
                        (default 30; a job is retried once after its worker died, then fails)
  --quiet               no log lines
`;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('worker', argv, {
    redis: { type: 'string' },
    queue: { type: 'string' },
    threads: { type: 'string' },
    'lock-seconds': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!v.redis) throw new UsageError('--redis <url> is required (see tck worker --help)');
  const lockSeconds = numFlag(v['lock-seconds'], 'lock-seconds');
  if (lockSeconds !== undefined && !(lockSeconds >= 1)) throw new UsageError(`--lock-seconds: expected a number >= 1, got ${lockSeconds}`);
  const log = v.quiet ? () => {} : (line: string) => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const threads = intFlag(v.threads, 'threads', 1) ?? defaultThreads();
  const w = await runBullWorker({ url: v.redis, queue: v.queue, threads, lockSeconds, log });
  log(`${w.name}: waiting for jobs on queue ${v.queue ?? DEFAULT_QUEUE} at ${v.redis} with ${threads} thread${threads > 1 ? 's' : ''}`);
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) process.exit(130);
    log(`${w.name}: ${sig}: finishing the running jobs, then stopping (again to stop at once)`);
    void w.stop();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  await w.closed;
  log(`${w.name}: stopped`);
  return 0;
}
