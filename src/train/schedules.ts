/**
 * Learning-rate schedules as pure functions of training progress `t` (in epochs, fractional within an
 * epoch), so resuming at any step gives the same rate.
 */
import { z } from 'zod';

export const ScheduleConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  /**
   * Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017, eq. 5):
   * lr = minLr + (lr0 - minLr) * (1 + cos(pi * Tcur / Ti)) / 2, where the first period lasts `period` epochs
   * and each later one `mult` times the previous. Without restarts set `period` to the epoch count.
   */
  z.strictObject({ kind: z.literal('cosine'), period: z.number().positive(), mult: z.number().min(1).optional(), minLr: z.number().min(0).optional() }),
  /** Step decay: lr0 * gamma^floor(t / every). */
  z.strictObject({ kind: z.literal('step'), every: z.number().positive(), gamma: z.number().positive() }),
]);

export type ScheduleConfig = z.infer<typeof ScheduleConfigSchema>;

/** The learning rate at progress `t` epochs, for base rate `lr0`. */
export function learningRateAt(schedule: ScheduleConfig | undefined, lr0: number, t: number): number {
  if (!schedule || schedule.kind === 'constant') return lr0;
  if (schedule.kind === 'step') return lr0 * Math.pow(schedule.gamma, Math.floor(t / schedule.every));
  const mult = schedule.mult ?? 1;
  const minLr = schedule.minLr ?? 0;
  if (!(schedule.period > 0)) throw new Error(`schedule.period: must be > 0, got ${schedule.period}`);
  if (!(mult >= 1)) throw new Error(`schedule.mult: must be >= 1, got ${mult}`);
  let start = 0;
  let ti = schedule.period;
  while (t >= start + ti) {
    start += ti;
    ti *= mult;
  }
  const tcur = t - start;
  return minLr + ((lr0 - minLr) * (1 + Math.cos((Math.PI * tcur) / ti))) / 2;
}
