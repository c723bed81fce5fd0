/**
 * Progress for people: an in-place bar with ETA on a terminal (cli-progress), one line per epoch or step
 * elsewhere (CI logs, notebooks). Everything goes to stderr so `--json` output stays clean on stdout.
 */
import cliProgress from 'cli-progress';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface Progress {
  /** Starts or moves the bar of a unit of work (an epoch, a generation) to `value` of `total`. */
  update(label: string, value: number, total: number, info?: string): void;
  /** Prints a finished line (ends the current bar). */
  line(text: string): void;
  stop(): void;
}

/** A progress reporter on stderr; `quiet` prints nothing. */
export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update() {}, line() {}, stop() {} };
  if (!stream.isTTY) {
    return { update() {}, line: (t) => void stream.write(t + '\n'), stop() {} };
  }
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = null;
    current = '';
  };
  return {
    update(label, value, total, info = '') {
      if (!bar || label !== current) {
        stop();
        bar = new cliProgress.SingleBar(
          { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, value, { info });
        current = label;
      } else bar.update(value, { info });
    },
    line(text) {
      stop();
      stream.write(text + '\n');
    },
    stop,
  };
}

/** Progress of an experiment's jobs: one bar for the whole experiment and a line per worker. */
export interface JobsProgress {
  /** A worker's current activity (`thread-2: lenet5 r0 f3 epoch 4/30`). */
  worker(id: string, text: string): void;
  /** A job finished (or was taken from the ledger): advances the bar; `text` describes it. */
  done(text: string): void;
  /** A line that is not about one job. */
  line(text: string): void;
  stop(): void;
}

/**
 * On a terminal: an overall bar (jobs done / total, ETA from the jobs finished in this session) above one line
 * per worker (cli-progress MultiBar). Elsewhere (CI logs, notebooks): a line per finished job with the count
 * and the ETA.
 */
export function createJobsProgress(opts: { total: number; done: number; label: string; quiet?: boolean; stream?: NodeJS.WriteStream }): JobsProgress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { worker() {}, done() {}, line() {}, stop() {} };
  const t0 = performance.now();
  const startDone = opts.done;
  let done = opts.done;
  const eta = () => {
    const finished = done - startDone;
    if (finished === 0) return '?';
    return formatDuration((((performance.now() - t0) / 1000) * (opts.total - done)) / finished);
  };
  if (!stream.isTTY) {
    return {
      worker() {},
      done(text) {
        done++;
        stream.write(`[${done}/${opts.total}] ${text}${done < opts.total ? `  ETA ${eta()}` : ''}\n`);
      },
      line: (t) => void stream.write(t + '\n'),
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream, hideCursor: true, clearOnComplete: false, format: `${opts.label} [{bar}] {value}/{total} jobs | ETA {eta_text} | {info}` },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(opts.total, done, { eta_text: eta(), info: '' });
  const lines = new Map<string, cliProgress.SingleBar>();
  return {
    worker(id, text) {
      let l = lines.get(id);
      if (!l) {
        l = multi.create(1, 0, { text }, { format: '  {text}' });
        lines.set(id, l);
      }
      l.update(0, { text: `${id}: ${text}` });
    },
    done(text) {
      done++;
      bar.update(done, { eta_text: eta(), info: text.slice(0, 60) });
    },
    line: (t) => multi.log(t + '\n'),
    stop: () => multi.stop(),
  };
}
