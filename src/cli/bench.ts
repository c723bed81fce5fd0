/**
 * `tck bench` (`npm run bench`): training and inference throughput of the active backend, and, where
 * `/usr/bin/python3` can import torch, the same workloads in PyTorch with 1 and 2 threads in the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initEngine } from '../engine/backend.js';
import { runBench, BENCH_WORKLOADS, TORCH_PEER_WORKLOADS, type BenchResult } from '../bench/workloads.js';
import { KIT_ROOT } from '../data/paths.js';
import { openRun } from '../run/rundir.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, printJson, UsageError } from './common.js';

const HELP = `tck bench: samples per second of the kit's reference workloads on the active backend

  tck bench [--json] [--backend auto|tensorflow|wasm|cpu] [--repeats 5] [--min-seconds 1]
            [--only ${BENCH_WORKLOADS.join(',')}] [--python /usr/bin/python3] [--no-torch]
            [--out dir (default results/bench-<backend>-custom)] [--fresh]

Workloads: lenet5-train (LeNet-5 32x32, batch 50, Adam), lenet5-infer (batch 1000),
mlp-train (MLP 21-32-16-10, batch 32), nas-candidate (one seed-000 mlp-cardio candidate:
5 folds x 3 repeats, 30 epochs, patience 5), vgg7s-train (VGG7 at width 1/4, 32x32x3, batch 50), jobs-throughput (30 seed-000-style trainings of the
Cardiotocography MLP in this process and on the worker-thread pool). Medians of repeated runs. With --json the last
line of stdout is {"backend", "results": [...], "torch": [...]}.
`;

/** The workloads bench/torch_peer.py has a PyTorch counterpart of. */
const TORCH_WORKLOADS = TORCH_PEER_WORKLOADS;

interface TorchResult extends BenchResult {
  threads: number;
}

/** Runs bench/torch_peer.py; returns null when torch is not importable (exit code 3) or python is missing. */
function torchPeer(python: string, threads: number, repeats: number, minSeconds: number, only: string[]): { torch: string; results: TorchResult[] } | null {
  if (!fs.existsSync(python)) return null;
  const script = path.join(KIT_ROOT, 'bench', 'torch_peer.py');
  const r = spawnSync(python, [script, '--threads', String(threads), '--repeats', String(repeats), '--min-seconds', String(minSeconds), '--only', only.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status === 3) return null;
  if (r.status !== 0) throw new Error(`bench: ${python} ${script} failed with exit code ${r.status}:\n${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  return { torch: j.torch, results: j.results.map((x: BenchResult) => ({ ...x, threads })) };
}

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
  say(`tck bench on ${engine.backend} (tfjs ${engine.tfjsVersion}, ${engine.cpu}, ${engine.cores} cores); median of ${repeats} runs of >= ${minSeconds}s`);
  const results = await runBench({
    repeats,
    minSeconds,
    only,
    backend: engine.backend,
    onResult: (r) => {
      say(`  ${r.name.padEnd(15)} ${Math.round(r.samplesPerSec).toString().padStart(8)} samples/s  (batch ${r.batch})`);
      if (r.name === 'jobs-throughput' && r.details) {
        const d = r.details as Record<string, number>;
        say(`  ${''.padEnd(15)} ${d.jobs} trainings: ${d.inProcessSeconds.toFixed(1)} s in-process, ${d.poolSeconds.toFixed(1)} s on ${d.threads} worker threads (${d.speedup.toFixed(2)}x; thread start-up ${d.poolWarmUpSeconds.toFixed(1)} s not counted)`);
      }
    },
    onSkip: (name, why) => say(`  ${name.padEnd(15)} skipped: ${why}`),
  });

  const torch: TorchResult[] = [];
  if (!v['no-torch'] && only.some((n) => TORCH_WORKLOADS.includes(n))) {
    const python = v.python ?? '/usr/bin/python3';
    const peers = [1, 2].map((t) => {
      say(`PyTorch peer, ${t} thread(s) ...`);
      return torchPeer(python, t, repeats, minSeconds, only.filter((n) => TORCH_WORKLOADS.includes(n)));
    });
    if (peers.every((p) => p === null)) say(`PyTorch peer: skipped (${python} cannot import torch; apt-get install python3-torch to compare)`);
    else {
      for (const name of only) {
        const cands = peers.flatMap((p) => p?.results.filter((x) => x.name === name) ?? []);
        const best = cands.sort((a, b) => b.samplesPerSec - a.samplesPerSec)[0];
        if (best) torch.push(best);
      }
      say(`PyTorch ${peers.find((p) => p)?.torch} (best of 1 and 2 threads) and the kit's ratio to it:`);
      for (const t of torch) {
        const kit = results.find((r) => r.name === t.name)!;
        const all = peers.map((p, i) => `${i + 1}t ${Math.round(p?.results.find((x) => x.name === t.name)?.samplesPerSec ?? NaN)}`).join(', ');
        say(`  ${t.name.padEnd(13)} ${Math.round(t.samplesPerSec).toString().padStart(8)} samples/s (${all})  kit/torch = ${(kit.samplesPerSec / t.samplesPerSec).toFixed(2)}`);
      }
    }
  }
  const summary = {
    backend: engine.backend,
    results: results.map((r) => ({ name: r.name, samplesPerSec: r.samplesPerSec, batch: r.batch, ...(r.details ? { details: r.details } : {}) })),
    torch: torch.map((t) => ({ name: t.name, samplesPerSec: t.samplesPerSec, batch: t.batch, threads: t.threads })),
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
  run.writeJson('bench.json', { ...summary, repeats: Object.fromEntries(results.map((r) => [r.name, r.repeats])) });
  run.writeCsv(
    'bench.csv',
    results.map((r) => {
      const t = torch.find((x) => x.name === r.name);
      return { workload: r.name, batch: r.batch, kit_samples_per_sec: r.samplesPerSec, torch_samples_per_sec: t?.samplesPerSec ?? null, torch_threads: t?.threads ?? null, kit_over_torch: t ? r.samplesPerSec / t.samplesPerSec : null };
    }),
  );
  run.writeComparison([]);
  run.log({ type: 'bench', ...summary });
  run.finish();
  say(`run directory ${path.relative(process.cwd(), run.dir) || '.'}`);
  if (v.json) printJson({ ...summary, kit: run.provenance.kit.version, commit: run.provenance.git.commit, runDir: run.dir });
  return 0;
}
