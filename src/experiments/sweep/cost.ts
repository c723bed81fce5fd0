/**
 * What a sweep costs in wall time: the measured training time per unit of work (from the jobs' own timing, which
 * excludes start-up and queueing), and the estimate for another config on the same number of threads. A unit of
 * work is one training sample through one epoch of a network of one multiply-accumulate, so the estimate carries
 * over to another data size, epoch count or VGG7 channel width (whose MACs grow with the width squared). It
 * assumes every job trains all its epochs (early stopping only shortens it) and that time grows linearly with
 * rows and MACs (on a wider network the per-MAC cost falls, so the estimate leans high). A planning number,
 * never a result: it reflects this machine under the load it had while the jobs ran.
 */
import type { JobRecord } from '../runner.js';
import { resolveBits } from '../../hw/bits.js';
import { countTotals, layerCounts } from '../../hw/counts.js';
import type { SweepConfig } from './config.js';
import { sweepCombinations, type SweepPlan } from './jobs.js';
import type { Architecture } from '../../models/arch.js';

export interface SweepTiming {
  /** Jobs whose timing was measured. */
  jobs: number;
  /** Sum of the jobs' training seconds (per thread). */
  trainSeconds: number;
  /** Sum over jobs of training rows x epochs trained x MACs of the job's network. */
  work: number;
  /** Seconds of one thread per training sample, epoch and MAC (validation each epoch included). */
  secondsPerUnit: number;
}

const macsOf = (arch: Architecture) => countTotals(layerCounts(arch, resolveBits(arch))).macs;

/** The measured timing of a sweep's finished jobs (`records[i]` of `plan.jobs[i]`), or null when none finished. */
export function measuredTiming(plan: SweepPlan, records: JobRecord[]): SweepTiming | null {
  const macs = plan.combinations.map((c) => macsOf(c.architecture));
  let trainSeconds = 0;
  let work = 0;
  let jobs = 0;
  records.forEach((r, i) => {
    if (r.outcome.status !== 'ok') return;
    const res = r.outcome.result;
    trainSeconds += res.timing.seconds;
    work += res.trainSamples * res.epochs * macs[Math.floor(i / plan.perCombination)];
    jobs++;
  });
  return jobs && work ? { jobs, trainSeconds, work, secondsPerUnit: trainSeconds / work } : null;
}

/** Training rows of one fold job: the subset minus the held-out fold minus the validation part. */
export function trainRowsPerJob(c: Pick<SweepConfig, 'subset' | 'protocol'>): number {
  return Math.round(c.subset.n * (1 - 1 / c.protocol.k) * (1 - c.protocol.valFraction));
}

/** The work of config `c` with every job training all its epochs. */
export function sweepWork(c: SweepConfig): number {
  const perJob = c.epochs * trainRowsPerJob(c) * c.protocol.k * c.protocol.repeats;
  return sweepCombinations(c).reduce((s, combo) => s + perJob * macsOf(combo.architecture), 0);
}

/** Estimated wall seconds of config `c` on `threads` threads at the measured `timing` (all epochs trained). */
export function estimateSweepSeconds(c: SweepConfig, timing: Pick<SweepTiming, 'secondsPerUnit'>, threads: number): number {
  return (sweepWork(c) * timing.secondsPerUnit) / Math.max(1, threads);
}
