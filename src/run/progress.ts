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
