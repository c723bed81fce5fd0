/**
 * Learning-rate schedules as pure functions of training progress `t` (in epochs, fractional within an
 * epoch), so resuming at any step gives the same rate.
 */

export type ScheduleConfig =
  | { kind: 'constant' }
  /**
   * Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017, eq. 5):
   * lr = minLr + (lr0 - minLr) * (1 + cos(pi * Tcur / Ti)) / 2, where the first period lasts `period` epochs
   * and each later one `mult` times the previous. Without restarts set `period` to the epoch count.
   */
  | { kind: 'cosine'; period: number; mult?: number; minLr?: number }
  /** Step decay: lr0 * gamma^floor(t / every). */
  | { kind: 'step'; every: number; gamma: number };

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
