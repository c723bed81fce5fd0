/**
 * Throughput benchmarks of the active backend, measured through the kit's own code paths (`fit` for
 * training, batched inference-mode forward passes for inference) on seeded synthetic data.
 * Each measurement runs whole epochs/batches for at least `minSeconds`; the result is the median of
 * `repeats` measurements, after a warm-up.
 */
import { tf } from '../engine/backend.js';
import { rngStream } from '../engine/random.js';
import type { Dataset } from '../data/types.js';
import { architectureByName } from '../models/zoo.js';
import { buildModel } from '../models/build.js';
import { fit } from '../train/fit.js';
import { predictClasses } from '../train/evaluate.js';

export interface BenchResult {
  name: string;
  samplesPerSec: number;
  batch: number;
  repeats: number[];
}

export interface BenchOptions {
  repeats?: number;
  minSeconds?: number;
  only?: string[];
  onResult?: (r: BenchResult) => void;
}

function syntheticDataset(id: string, n: number, shape: number[], classes: number, seed: number): Dataset {
  const rng = rngStream(seed, 'data');
  const d = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  return { id, x, y, shape, classNames: Array.from({ length: classes }, (_, i) => String(i)) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs `once(k)` (which processes k units and returns seconds) with k grown until a run takes minSeconds. */
async function measure(once: (units: number) => Promise<number>, unitSize: number, o: Required<Pick<BenchOptions, 'repeats' | 'minSeconds'>>): Promise<number[]> {
  let units = 2;
  await once(units); // warm-up (kernel set-up, XNNPACK operator caches)
  for (;;) {
    const s = await once(units);
    if (s >= o.minSeconds * 0.5 || units > 1e6) {
      units = Math.max(units, Math.ceil((units * o.minSeconds) / Math.max(s, 1e-6)));
      break;
    }
    units *= 4;
  }
  const out: number[] = [];
  for (let r = 0; r < o.repeats; r++) out.push((units * unitSize) / (await once(units)));
  return out;
}

async function trainBench(name: string, model: string, inputShape: number[], batch: number, o: Required<Pick<BenchOptions, 'repeats' | 'minSeconds'>>): Promise<BenchResult> {
  const arch = architectureByName(model);
  const m = buildModel(arch, { seed: 1 });
  const cache = new Map<number, Dataset>();
  const once = async (steps: number) => {
    if (!cache.has(steps)) cache.set(steps, syntheticDataset(name, steps * batch, inputShape, 10, steps));
    const r = await fit(m, cache.get(steps)!, { epochs: 1, batchSize: batch, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, head: arch.head });
    return r.seconds;
  };
  const reps = await measure(once, batch, o);
  m.dispose();
  return { name, samplesPerSec: median(reps), batch, repeats: reps };
}

async function inferBench(name: string, model: string, inputShape: number[], batch: number, o: Required<Pick<BenchOptions, 'repeats' | 'minSeconds'>>): Promise<BenchResult> {
  const arch = architectureByName(model);
  const m = buildModel(arch, { seed: 1 });
  const cache = new Map<number, Dataset>();
  const once = async (batches: number) => {
    if (!cache.has(batches)) cache.set(batches, syntheticDataset(name, batches * batch, inputShape, 10, batches));
    const t0 = performance.now();
    predictClasses(m, cache.get(batches)!, arch.head, batch);
    return (performance.now() - t0) / 1000;
  };
  const reps = await measure(once, batch, o);
  m.dispose();
  return { name, samplesPerSec: median(reps), batch, repeats: reps };
}

/** The kit's three reference workloads (same as bench/torch_peer.py). */
export const BENCH_WORKLOADS = ['lenet5-train', 'lenet5-infer', 'mlp-train'] as const;

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult[]> {
  const o = { repeats: opts.repeats ?? 5, minSeconds: opts.minSeconds ?? 1 };
  const want = (n: string) => !opts.only || opts.only.includes(n);
  const out: BenchResult[] = [];
  const add = (r: BenchResult) => {
    out.push(r);
    opts.onResult?.(r);
  };
  const before = tf.memory().numTensors;
  if (want('lenet5-train')) add(await trainBench('lenet5-train', 'lenet5-32', [32, 32, 1], 50, o));
  if (want('lenet5-infer')) add(await inferBench('lenet5-infer', 'lenet5-32', [32, 32, 1], 1000, o));
  if (want('mlp-train')) add(await trainBench('mlp-train', 'mlp-21-32-16-10', [21], 32, o));
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) throw new Error(`bench: ${leaked} tensors leaked`);
  return out;
}

