/** The flags that choose where an experiment's jobs run (`--workers`, `--redis`, `--queue`), shared by the commands. */
import { createExecutor, defaultThreads, type Executor, type ExecutorChoice } from '../experiments/executor.js';
import path from 'node:path';
import { UsageError, onInterrupt, commandLine } from './common.js';

export const EXECUTOR_OPTIONS = {
  workers: { type: 'string' },
  redis: { type: 'string' },
  queue: { type: 'string' },
} as const;

export const EXECUTOR_HELP = `  --workers <n>|in-process  run the jobs on n worker threads (default: one per core, here ${defaultThreads()})
                        or one after another in this process
  --redis <url>         run the jobs on BullMQ workers (tck worker --redis <url>) on any machines
  --queue <name>        the BullMQ queue (default tck)`;

export function executorChoice(v: { workers?: string; redis?: string; queue?: string }): ExecutorChoice {
  let workers: ExecutorChoice['workers'];
  if (v.workers !== undefined) {
    if (v.workers === 'in-process') workers = 'in-process';
    else {
      const n = Number(v.workers);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--workers: expected a number of threads >= 1 or "in-process", got ${JSON.stringify(v.workers)}`);
      workers = n;
    }
  }
  if (v.redis !== undefined && v.workers !== undefined) throw new UsageError('--workers and --redis exclude each other: with --redis the jobs run on the tck worker processes');
  if (v.queue !== undefined && v.redis === undefined) throw new UsageError('--queue: only with --redis');
  return { workers, redis: v.redis, queue: v.queue };
}

export function executorFromFlags(v: { workers?: string; redis?: string; queue?: string }): Promise<Executor> {
  return createExecutor(executorChoice(v));
}

/**
 * The frame of an experiment command around its run directory: opens the executor, turns Ctrl-C / SIGTERM
 * into an `interrupted` run (the finished jobs stay in the ledger, and the same command resumes), marks the run
 * failed on an error, and always closes the executor.
 */
export async function withExecutor<T>(
  run: { dir: string; interrupt(signal: string): void; fail(error: unknown): void },
  choice: ExecutorChoice,
  command: { name: string; argv: string[] },
  body: (executor: Executor) => Promise<T>,
): Promise<T> {
  const ledger = path.join(path.relative(process.cwd(), run.dir) || '.', 'ledger');
  const off = onInterrupt(run, () => `The finished jobs are kept in ${ledger}.`, commandLine(command.name, command.argv));
  let executor: Executor | null = null;
  try {
    executor = await createExecutor(choice);
    return await body(executor);
  } catch (e) {
    run.fail(e);
    throw e;
  } finally {
    off();
    await executor?.close();
  }
}
