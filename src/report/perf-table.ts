/**
 * The README's performance table, generated from `tck bench --json` output (or a run's bench.json): per
 * workload the kit's and PyTorch's samples/s (medians over the interleaved rounds), the ratio kit / the better
 * of PyTorch with 1 and 2 threads, and issue 12's targets for that ratio. `updatePerfTable` rewrites the part
 * of a markdown file between `<!-- perf-table:start -->` and `<!-- perf-table:end -->` (`npm run perf-table`).
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../util/files.js';
import { KitError } from '../util/errors.js';

/** A target of the ratio kit / best PyTorch: the issue is done at `done`, `goal` is what it aims for. */
export interface PerfTarget {
  done: number;
  goal: number;
}

/** Issue 12's targets, in the order of the table. */
export const PERF_TARGETS: Readonly<Record<string, PerfTarget>> = Object.freeze({
  'lenet5-train': { done: 1.0, goal: 1.5 },
  'mlp-train': { done: 3.0, goal: 10 },
  'nas-candidate': { done: 5.0, goal: 20 },
  'vgg7s-train': { done: 0.6, goal: 1.0 },
  'lenet5-infer': { done: 1.5, goal: 3.0 },
});

/** The part of `tck bench --json` / bench.json the table reads (older files without `comparison` work too). */
export interface BenchJson {
  backend?: string;
  results?: { name: string; samplesPerSec: number; batch?: number; details?: Record<string, number | string> }[];
  torch?: { name: string; samplesPerSec: number; threads?: number }[];
  torchVersion?: string | null;
  comparison?: { name: string; kit: { samplesPerSec: number }; torch: { threads: number; samplesPerSec: number }[] }[];
  rounds?: { round: number; loadStart: number[]; loadEnd: number[] }[];
  machine?: { cpu?: string; cores?: number };
  loadavg?: { start?: number[]; end?: number[] };
  startedAt?: string;
  endedAt?: string;
  runDir?: string;
  commit?: string | null;
  dirty?: boolean | null;
  provenance?: { commit?: string | null; dirty?: boolean | null };
}

export type Met = 'goal' | 'done' | 'no';

export interface PerfRow {
  name: string;
  kit: number | null;
  /** PyTorch medians with 1 and 2 threads (null: not measured or not recorded). */
  torch1: number | null;
  torch2: number | null;
  /** The better PyTorch figure (in an old bench.json without per-thread figures, the only one recorded). */
  torchBest: number | null;
  bestThreads: number | null;
  ratio: number | null;
  target: PerfTarget;
  /** goal: ratio >= goal; done: ratio >= the done target only; no: below it; null: no ratio. */
  met: Met | null;
}

/** The rows of the table: one per target, in the targets' order, measured or not. */
export function perfTableRows(bench: BenchJson, targets: Readonly<Record<string, PerfTarget>> = PERF_TARGETS): PerfRow[] {
  return Object.entries(targets).map(([name, target]) => {
    const c = bench.comparison?.find((x) => x.name === name);
    let kit: number | null = null;
    let torch1: number | null = null;
    let torch2: number | null = null;
    let torchBest: number | null = null;
    let bestThreads: number | null = null;
    if (c) {
      kit = c.kit.samplesPerSec;
      torch1 = c.torch.find((t) => t.threads === 1)?.samplesPerSec ?? null;
      torch2 = c.torch.find((t) => t.threads === 2)?.samplesPerSec ?? null;
      const best = [...c.torch].sort((a, b) => b.samplesPerSec - a.samplesPerSec)[0];
      if (best) [torchBest, bestThreads] = [best.samplesPerSec, best.threads];
    } else {
      kit = bench.results?.find((x) => x.name === name)?.samplesPerSec ?? null;
      const t = bench.torch?.find((x) => x.name === name);
      if (t) [torchBest, bestThreads] = [t.samplesPerSec, t.threads ?? null];
    }
    const ratio = kit !== null && torchBest !== null && torchBest > 0 ? kit / torchBest : null;
    const met: Met | null = ratio === null ? null : ratio >= target.goal ? 'goal' : ratio >= target.done ? 'done' : 'no';
    return { name, kit, torch1, torch2, torchBest, bestThreads, ratio, target, met };
  });
}

const num = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US'));

/** The ratio with 2 decimals, or 3 where 2 would round it onto a target it does not reach. */
function ratioText(r: number, t: PerfTarget): string {
  const two = r.toFixed(2);
  return [t.done, t.goal].some((x) => r < x && Number(two) >= x) ? r.toFixed(3) : two;
}

/** A target as the issue writes it: 1.0, 0.6, 10. */
const targetText = (x: number) => `≥ ${Number.isInteger(x) && x < 10 ? x.toFixed(1) : String(x)}`;

const MET_TEXT: Record<Met, string> = { goal: 'yes, goal too', done: 'yes', no: 'no' };

/** The markdown table (no trailing newline). */
export function perfTableMarkdown(bench: BenchJson, targets: Readonly<Record<string, PerfTarget>> = PERF_TARGETS): string {
  const lines = [
    '| benchmark | kit samples/s | PyTorch samples/s (1 / 2 threads) | ratio | "done at" target | goal | met? |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of perfTableRows(bench, targets)) {
    const torch =
      r.torch1 !== null || r.torch2 !== null ? `${num(r.torch1)} / ${num(r.torch2)}` : r.torchBest !== null ? `${num(r.torchBest)} (${r.bestThreads ?? '?'} thread${r.bestThreads === 1 ? '' : 's'}, the better)` : '-';
    const kit = r.kit === null ? 'not measured' : num(r.kit);
    lines.push(`| \`${r.name}\` | ${kit} | ${torch} | ${r.ratio === null ? '-' : ratioText(r.ratio, r.target)} | ${targetText(r.target.done)} | ${targetText(r.target.goal)} | ${r.met === null ? '-' : MET_TEXT[r.met]} |`);
  }
  return lines.join('\n');
}

const loads = (xs: number[] | undefined) => (xs?.length ? xs.map((x) => x.toFixed(2)).join(' / ') : '?');

/** The line under the table: when, on what machine, under what load and from which run the figures come. */
export function perfTableCaption(bench: BenchJson, runDir?: string): string {
  const date = (bench.endedAt ?? bench.startedAt ?? '').slice(0, 10) || 'an unrecorded date';
  const m = bench.machine;
  const machine = m?.cpu || m?.cores ? `${m?.cpu ?? 'an unnamed CPU'}, ${m?.cores ?? '?'} cores` : 'an unrecorded machine';
  const rounds = bench.rounds?.length ?? 0;
  const first = bench.rounds?.[0]?.loadStart ?? bench.loadavg?.start;
  const last = bench.rounds?.at(-1)?.loadEnd ?? bench.loadavg?.end;
  const oneMin = (bench.rounds ?? []).flatMap((r) => [r.loadStart[0], r.loadEnd[0]]);
  const range = oneMin.length ? `, 1-minute load ${Math.min(...oneMin).toFixed(2)}-${Math.max(...oneMin).toFixed(2)} over the rounds` : '';
  const torch = !!bench.torchVersion || (bench.comparison ?? []).some((c) => c.torch.length > 0);
  const how = rounds
    ? `medians of ${rounds} round${rounds === 1 ? '' : 's'}${torch ? `, kit and PyTorch${bench.torchVersion ? ` ${bench.torchVersion}` : ''} interleaved` : ', kit only'}`
    : 'medians of repeated runs';
  // nas-candidate is not one training on each side: say how each side runs its 15.
  const pool = bench.results?.find((r) => r.name === 'nas-candidate')?.details?.threads;
  const nas = pool ? ` \`nas-candidate\`: the kit runs the candidate's trainings on its default pool of ${pool} worker threads, as the NAS does; PyTorch one after another, as the seed-000 reference does.` : '';
  const dir = runDir ?? bench.runDir;
  const commit = bench.commit ?? bench.provenance?.commit;
  const dirty = bench.dirty ?? bench.provenance?.dirty;
  return (
    `Measured ${date} with \`tck bench\` (${bench.backend ?? '?'} backend; ${how}) on ${machine}; load average (1 / 5 / 15 min) ${loads(first)} at the start, ${loads(last)} at the end${range}` +
    `${dir ? `; run directory \`${dir}\`` : ''}${commit ? ` (commit ${commit.slice(0, 7)}${dirty ? ' with uncommitted changes' : ''})` : ''}. Ratio = kit / the better of PyTorch's 1- and 2-thread medians.${nas}`
  );
}

export const PERF_TABLE_START = '<!-- perf-table:start -->';
export const PERF_TABLE_END = '<!-- perf-table:end -->';

/**
 * Replaces what lies between the two markers (which stay) with `body`; everything outside is kept byte for byte.
 * Throws a KitError naming `where` when a marker is missing, repeated or out of order.
 */
export function replaceMarked(text: string, body: string, where = 'the text', start = PERF_TABLE_START, end = PERF_TABLE_END): string {
  const count = (m: string) => text.split(m).length - 1;
  for (const m of [start, end]) {
    const n = count(m);
    if (n === 0) throw new KitError(`${where} has no ${m} marker: add ${start} and ${end} on their own lines where the table goes`);
    if (n > 1) throw new KitError(`${where} has ${n} ${m} markers; expected exactly one`);
  }
  const i = text.indexOf(start) + start.length;
  const j = text.indexOf(end);
  if (j < i) throw new KitError(`${where}: ${end} comes before ${start}`);
  return `${text.slice(0, i)}\n${body.replace(/\s+$/, '')}\n${text.slice(j)}`;
}

/** The table and its caption, as they go between the markers. */
export function perfTableSection(bench: BenchJson, opts: { runDir?: string; targets?: Readonly<Record<string, PerfTarget>> } = {}): string {
  return `${perfTableMarkdown(bench, opts.targets)}\n\n${perfTableCaption(bench, opts.runDir)}`;
}

/**
 * Rewrites the marked part of `file` (README.md) with the table of `bench`; returns whether the file changed.
 * Refuses a run without a ratio for every target (a `--only` or `--no-torch` run), unless `partial`.
 */
export function updatePerfTable(file: string, bench: BenchJson, opts: { runDir?: string; targets?: Readonly<Record<string, PerfTarget>>; partial?: boolean } = {}): boolean {
  if (!fs.existsSync(file)) throw new KitError(`${file} does not exist`);
  const missing = perfTableRows(bench, opts.targets).filter((r) => r.ratio === null).map((r) => r.name);
  if (missing.length && !opts.partial) {
    throw new KitError(`the bench run has no kit/PyTorch ratio for ${missing.join(', ')}: run the full \`npm run bench\` (with PyTorch), or pass --partial to write the table anyway`);
  }
  const before = fs.readFileSync(file, 'utf8');
  const after = replaceMarked(before, perfTableSection(bench, opts), file);
  if (after === before) return false;
  writeFileAtomic(file, after);
  return true;
}
