/**
 * `tck bench` (`npm run bench`): training and inference throughput of the active backend, and, where
 * `/usr/bin/python3` can import torch, the same workloads in PyTorch with 1 and 2 threads in the same run.
 *
 * The workloads with a PyTorch peer are measured in rounds so that a shared machine's drifting load hits both
 * sides alike: each is sized once (warm-up, then enough units for --min-seconds), then round k measures every
 * selected kit workload once, then runs bench/torch_peer.py once with 1 thread and once with 2 threads (one
 * measurement each, timed inside the script, so python's start-up is not counted). Each side's figure is the
 * median over the --repeats rounds; the ratio is the kit's median over the better of the two PyTorch medians.
 * The workloads without a peer (jobs-throughput, binary-infer) run after the rounds as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initEngine, tf } from '../engine/backend.js';
import { runBench, prepareRoundBenches, BENCH_WORKLOADS, TORCH_PEER_WORKLOADS, type BenchResult } from '../bench/workloads.js';
import { KIT_ROOT } from '../data/paths.js';
import { openRun } from '../run/rundir.js';
import { median } from '../util/stats.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, printJson, UsageError } from './common.js';

const HELP = `tck bench: samples per second of the kit's reference workloads on the active backend

  tck bench [--json] [--backend auto|tensorflow|wasm|cpu] [--repeats 5] [--min-seconds 1]
            [--only ${BENCH_WORKLOADS.join(',')}] [--python /usr/bin/python3] [--no-torch]
            [--out dir (default results/bench-<backend>-custom)] [--fresh]

Workloads: lenet5-train (LeNet-5 32x32, batch 50, Adam), lenet5-infer (batch 1000),
mlp-train (MLP 21-32-16-10, batch 32), nas-candidate (one seed-000 mlp-cardio candidate:
5 folds x 3 repeats, 30 epochs, patience 5), vgg7s-train (VGG7 at width 1/4, 32x32x3, batch 50), jobs-throughput (30 seed-000-style trainings of the
Cardiotocography MLP in this process and on the worker-thread pool), binary-infer.

The workloads with a PyTorch peer (${TORCH_PEER_WORKLOADS.join(', ')}) run in --repeats rounds: each is sized
once, then every round measures each of them once in the kit, then once in PyTorch with 1 thread and once with
2 threads (bench/torch_peer.py, timed inside python); figures are medians over the rounds (nas-candidate: one
whole candidate per round per side). jobs-throughput and binary-infer run afterwards (medians of --repeats).
With --json the last line of stdout is {"backend", "results": [...], "torch": [...], "comparison": [...],
"rounds": [...], ...}; results/<run>/bench.json holds the same. README table: npm run perf-table -- <bench.json>.
`;

/** The workloads bench/torch_peer.py has a PyTorch counterpart of. */
const THREADS = [1, 2] as const;

interface TorchResult extends BenchResult {
  threads: number;
}

/**
 * Runs bench/torch_peer.py for one measurement per workload (`--repeats 1`) as round `round`; returns null when
 * torch is not importable (exit code 3) or python is missing.
 */
function torchPeer(python: string, threads: number, round: number, minSeconds: number, only: string[]): { torch: string; results: TorchResult[] } | null {
  if (!fs.existsSync(python)) return null;
  const script = path.join(KIT_ROOT, 'bench', 'torch_peer.py');
  const args = [script, '--threads', String(threads), '--repeats', '1', '--round', String(round), '--min-seconds', String(minSeconds), '--warmup-seconds', String(Math.min(0.5, minSeconds / 4)), '--only', only.join(',')];
  const r = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status === 3) return null;
  if (r.status !== 0) throw new Error(`bench: ${python} ${script} failed with exit code ${r.status}:\n${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  return { torch: j.torch, results: j.results.map((x: BenchResult) => ({ ...x, threads })) };
}

/** One PyTorch thread count of a workload over the rounds. */
interface TorchSide {
  threads: number;
  samplesPerSec: number;
  /** One measurement per round. */
  samples: number[];
  /** The script's details per round (nas-candidate: trainings done, mean epochs). */
  details?: Record<string, unknown>[];
}

/** One workload measured on both sides in the same rounds. */
export interface BenchComparison {
  name: string;
  batch: number;
  kit: { samplesPerSec: number; samples: number[] };
  torch: TorchSide[];
  /** Thread count of the better PyTorch median, or null without PyTorch. */
  bestThreads: number | null;
  /** kit median / the better of the PyTorch medians (1 and 2 threads), or null without PyTorch. */
  ratio: number | null;
  /** Per round: the kit's measurement / the better PyTorch measurement of the same round (empty without PyTorch). */
  roundRatios: number[];
}

export interface BenchRound {
  round: number;
  /** os.loadavg() (1, 5, 15 minutes) when the round started and when it ended. */
  loadStart: number[];
  loadEnd: number[];
  seconds: number;
}

/** A path inside the kit relative to it (results/bench-wasm-custom), any other absolute. */
const kitRelative = (p: string) => {
  const rel = path.relative(KIT_ROOT, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(p);
};
const r2 = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toString() : '-');

export async function benchCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('bench', argv, {
    backend: COMMON_OPTIONS.backend,
    out: COMMON_OPTIONS.out,
    fresh: COMMON_OPTIONS.fresh,
    json: COMMON_OPTIONS.json,
    help: COMMON_OPTIONS.help,
    repeats: { type: 'string' },
    'min-seconds': { type: 'string' },
    only: { type: 'string' },
    python: { type: 'string' },
    'no-torch': { type: 'boolean' },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const repeats = intFlag(v.repeats, 'repeats', 1) ?? 5;
  const minSeconds = numFlag(v['min-seconds'], 'min-seconds') ?? 1;
  if (!(minSeconds > 0)) throw new UsageError(`--min-seconds: expected a number > 0, got ${minSeconds}`);
  const only = v.only ? v.only.split(',').map((x) => x.trim()) : [...BENCH_WORKLOADS];
  const unknown = only.filter((x) => !(BENCH_WORKLOADS as readonly string[]).includes(x));
  if (unknown.length) throw new UsageError(`--only: unknown workload ${unknown.join(', ')}; known: ${BENCH_WORKLOADS.join(', ')}`);
  const engine = await initEngine({ backend: v.backend });
  const say = (s: string) => process.stderr.write(s + '\n');
  const startedAt = new Date().toISOString();
  const loadAtStart = r2(os.loadavg());
  say(`tck bench on ${engine.backend} (tfjs ${engine.tfjsVersion}, ${engine.cpu}, ${engine.cores} cores); ${repeats} rounds of >= ${minSeconds}s measurements, kit and PyTorch interleaved; load ${loadAtStart.join(' ')}`);

  // 1. The workloads with a PyTorch peer, in rounds.
  const python = v.python ?? '/usr/bin/python3';
  const roundNames = only.filter((n) => TORCH_PEER_WORKLOADS.includes(n));
  const tensorsBefore = tf.memory().numTensors;
  const benches = await prepareRoundBenches({ only: roundNames, minSeconds, backend: engine.backend, onSkip: (name, why) => say(`  ${name.padEnd(15)} skipped: ${why}`) });
  const torchNames = v['no-torch'] ? [] : benches.map((b) => b.name);
  let torchVersion: string | null = null;
  let torchOn = torchNames.length > 0;
  // name -> threads -> per-round results
  const torchRounds = new Map<string, Map<number, TorchResult[]>>(torchNames.map((n) => [n, new Map(THREADS.map((t) => [t, [] as TorchResult[]]))]));
  const rounds: BenchRound[] = [];
  try {
    if (benches.length) say(`sized: ${benches.map((b) => `${b.name} ${b.units} ${b.name === 'nas-candidate' ? 'candidate' : b.name.endsWith('infer') ? 'batches' : 'steps'}`).join(', ')}`);
    for (let k = 0; k < (benches.length ? repeats : 0); k++) {
      const loadStart = r2(os.loadavg());
      const t0 = performance.now();
      const kit = new Map<string, number>();
      for (const b of benches) kit.set(b.name, await b.measureRound(k));
      const peer = new Map<string, Partial<Record<number, number>>>();
      for (const t of torchOn ? THREADS : []) {
        const p = torchPeer(python, t, k, minSeconds, torchNames);
        if (p === null) {
          say(`PyTorch peer: skipped (${python} cannot import torch; apt-get install python3-torch to compare)`);
          torchOn = false;
          break;
        }
        torchVersion = p.torch;
        for (const x of p.results) {
          torchRounds.get(x.name)?.get(t)?.push(x);
          peer.set(x.name, { ...peer.get(x.name), [t]: x.samplesPerSec });
        }
      }
      const loadEnd = r2(os.loadavg());
      rounds.push({ round: k + 1, loadStart, loadEnd, seconds: Math.round(performance.now() - t0) / 1000 });
      say(`round ${k + 1}/${repeats} (load ${loadStart[0]} -> ${loadEnd[0]}): ` + benches.map((b) => `${b.name} ${fmt(kit.get(b.name)!)}` + (peer.has(b.name) ? ` (torch ${THREADS.map((t) => `${t}t ${fmt(peer.get(b.name)![t] ?? NaN)}`).join(', ')})` : '')).join('; '));
    }
  } finally {
    for (const b of benches) b.dispose();
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked > 0) throw new Error(`bench: ${leaked} tensors leaked`);
  const results: BenchResult[] = benches.map((b) => b.result());

  const comparison: BenchComparison[] = results.map((r) => {
    const perThread = torchRounds.get(r.name);
    const sides: TorchSide[] = [];
    for (const t of THREADS) {
      const xs = perThread?.get(t) ?? [];
      if (!xs.length) continue;
      const details = xs.map((x) => x.details).filter((d): d is Record<string, number | string> => d !== undefined);
      sides.push({ threads: t, samplesPerSec: median(xs.map((x) => x.samplesPerSec)), samples: xs.map((x) => x.samplesPerSec), ...(details.length ? { details } : {}) });
    }
    const best = [...sides].sort((a, b) => b.samplesPerSec - a.samplesPerSec)[0];
    const roundRatios = sides.length ? r.repeats.map((x, k) => x / Math.max(...sides.map((s) => s.samples[k] ?? NaN))).filter(Number.isFinite) : [];
    return { name: r.name, batch: r.batch, kit: { samplesPerSec: r.samplesPerSec, samples: r.repeats }, torch: sides, bestThreads: best?.threads ?? null, ratio: best ? r.samplesPerSec / best.samplesPerSec : null, roundRatios };
  });
  if (benches.length) {
    say(`medians over ${rounds.length} rounds${torchVersion ? `; PyTorch ${torchVersion} with 1 / 2 threads and the kit's ratio to the better` : ''}:`);
    for (const c of comparison) {
      const t = c.torch.length ? `   torch ${c.torch.map((s) => `${s.threads}t ${fmt(s.samplesPerSec)}`).join(' / ')}   kit/torch = ${c.ratio!.toFixed(2)} (per round ${c.roundRatios.map((x) => x.toFixed(2)).join(', ')})` : '';
      say(`  ${c.name.padEnd(15)} ${fmt(c.kit.samplesPerSec).padStart(8)} samples/s${t}`);
    }
  }
  const torch: (TorchResult & { samples: number[] })[] = comparison.flatMap((c) => {
    const best = c.torch.find((s) => s.threads === c.bestThreads);
    return best ? [{ name: c.name, samplesPerSec: best.samplesPerSec, batch: c.batch, threads: best.threads, repeats: best.samples, samples: best.samples }] : [];
  });

  // 2. The workloads without a peer, as before.
  const otherNames = only.filter((n) => !TORCH_PEER_WORKLOADS.includes(n));
  if (otherNames.length) {
    results.push(
      ...(await runBench({
        repeats,
        minSeconds,
        only: otherNames,
        backend: engine.backend,
        onResult: (r) => {
          say(`  ${r.name.padEnd(15)} ${Math.round(r.samplesPerSec).toString().padStart(8)} samples/s  (batch ${r.batch})`);
          if (r.name === 'jobs-throughput' && r.details) {
            const d = r.details as Record<string, number>;
            say(`  ${''.padEnd(15)} ${d.jobs} trainings: ${d.inProcessSeconds.toFixed(1)} s in-process, ${d.poolSeconds.toFixed(1)} s on ${d.threads} worker threads (${d.speedup.toFixed(2)}x; thread start-up ${d.poolWarmUpSeconds.toFixed(1)} s not counted)`);
          }
        },
        onSkip: (name, why) => say(`  ${name.padEnd(15)} skipped: ${why}`),
      })),
    );
  }

  const summary = {
    backend: engine.backend,
    results: results.map((r) => ({ name: r.name, samplesPerSec: r.samplesPerSec, batch: r.batch, samples: r.repeats, ...(r.details ? { details: r.details } : {}) })),
    torch: torch.map((t) => ({ name: t.name, samplesPerSec: t.samplesPerSec, batch: t.batch, threads: t.threads, samples: t.samples })),
    torchVersion,
    comparison,
    rounds,
    machine: { cpu: engine.cpu, cores: engine.cores, node: process.version },
    loadavg: { start: loadAtStart, end: r2(os.loadavg()) },
    startedAt,
    endedAt: new Date().toISOString(),
  };
  // The run directory records the measurement with its provenance (machine, engine, commit).
  const run = openRun({
    command: 'bench',
    preset: engine.backend,
    profile: 'custom',
    seed: 1,
    config: { repeats, minSeconds, only, torch: !v['no-torch'] },
    out: v.out,
    fresh: Boolean(v.fresh),
    resumable: false,
    engine,
  });
  run.writeJson('bench.json', { ...summary, repeats: Object.fromEntries(results.map((r) => [r.name, r.repeats])), runDir: kitRelative(run.dir) });
  run.writeCsv(
    'bench.csv',
    results.map((r) => {
      const c = comparison.find((x) => x.name === r.name);
      const t = torch.find((x) => x.name === r.name);
      const at = (n: number) => c?.torch.find((s) => s.threads === n)?.samplesPerSec ?? null;
      return { workload: r.name, batch: r.batch, kit_samples_per_sec: r.samplesPerSec, torch_samples_per_sec: t?.samplesPerSec ?? null, torch_threads: t?.threads ?? null, kit_over_torch: t ? r.samplesPerSec / t.samplesPerSec : null, torch_1t_samples_per_sec: at(1), torch_2t_samples_per_sec: at(2), rounds: c ? rounds.length : null };
    }),
  );
  run.writeComparison([]);
  run.log({ type: 'bench', ...summary });
  run.finish();
  say(`run directory ${path.relative(process.cwd(), run.dir) || '.'}`);
  if (v.json) printJson({ ...summary, kit: run.provenance.kit.version, commit: run.provenance.git.commit, dirty: run.provenance.git.dirty, runDir: run.dir });
  return 0;
}
