/**
 * Synthetic datasets made from a seed, for benchmarks and tests: `noise` (standard normal inputs, uniform
 * labels: what the throughput benchmarks train on) and `blobs` (one Gaussian blob per class, separable).
 */
import { z } from 'zod';
import { rngStream } from '../engine/random.js';
import type { Dataset } from './types.js';
import { prod } from '../util/stats.js';

export const SyntheticSchema = z.strictObject({
  kind: z.enum(['noise', 'blobs']),
  n: z.number().int().min(1),
  shape: z.array(z.number().int().min(1)).min(1).max(3),
  classes: z.number().int().min(2),
  /** Seed of the data (independent of the job's seed, so different jobs can share one dataset). */
  seed: z.union([z.number().int(), z.string()]),
  /** Test rows, made the same way (default none). */
  test: z.number().int().min(1).optional(),
});

export type SyntheticSpec = z.infer<typeof SyntheticSchema>;

function make(s: SyntheticSpec, n: number, stream: string): Dataset {
  const rng = rngStream(s.seed, stream);
  const d = prod(s.shape);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = s.kind === 'blobs' ? i % s.classes : rng.int(s.classes);
    for (let j = 0; j < d; j++) x[i * d + j] = s.kind === 'blobs' ? rng.normal() * 0.5 + (j % s.classes === y[i] ? 3 : 0) : rng.normal();
  }
  return { id: `synthetic-${s.kind}`, x, y, shape: [...s.shape], classNames: Array.from({ length: s.classes }, (_, i) => String(i)) };
}

/** The training rows (and test rows when `test` is set) of a synthetic dataset. */
export function syntheticDataset(s: SyntheticSpec): { train: Dataset; test?: Dataset } {
  const train = make(s, s.n, 'data');
  return s.test ? { train, test: { ...make(s, s.test, 'data:test'), id: `synthetic-${s.kind}:test` } } : { train };
}
