/**
 * Training-time schedules of the compression schemes, as pure functions of training progress. The training
 * hooks that apply them to a model's layers are in src/compress/hooks.ts.
 */
import { z } from 'zod';

/**
 * ReCU's tau schedule (Xu et al. 2021, seed 002 ref. [61], as in the ReCU code): exponential from tauMin at the
 * first epoch to tauMax at the end, tau(e) = A e^(e/E) + B with A = (tauMax - tauMin)/(e - 1), B = tauMin - A.
 * Defaults 0.85 and 0.99.
 */
export function recuTau(epoch: number, epochs: number, tauMin = 0.85, tauMax = 0.99): number {
  const A = (tauMax - tauMin) / (Math.E - 1);
  return A * Math.exp(epoch / Math.max(1, epochs)) + tauMin - A;
}

export const CyclicPrecisionSchema = z
  .strictObject({
    min: z.number().int().min(1).max(32),
    max: z.number().int().min(1).max(32),
    /** Number of cycles over the whole training (32 in the CPT paper). */
    cycles: z.number().int().min(1).optional(),
  })
  .refine((c) => c.max >= c.min, { message: 'max must be >= min', path: ['max'] });

export type CyclicPrecisionConfig = z.infer<typeof CyclicPrecisionSchema>;

/**
 * Cyclic precision (CPT, Fu et al. 2021, seed 002 ref. [63]; seed 002 uses 3 to 8 bits): within each of
 * `cycles` equal periods the precision rises along a cosine from min to max:
 * B_t = round(min + (max - min)(1 - cos(pi (t mod T) / T)) / 2), T = totalSteps / cycles.
 */
export function cyclicBits(step: number, totalSteps: number, c: CyclicPrecisionConfig): number {
  const T = Math.max(1, totalSteps / (c.cycles ?? 32));
  const phase = (step % T) / T;
  return Math.round(c.min + ((c.max - c.min) * (1 - Math.cos(Math.PI * phase))) / 2);
}

const fraction = z.number().min(0).max(1);
const stepIndex = z.number().int().min(0);

export const SparsityScheduleSchema = z.discriminatedUnion('kind', [
  /** The same sparsity at every update from `begin` (TFMOT ConstantSparsity). */
  z.strictObject({ kind: z.literal('constant'), sparsity: fraction, begin: stepIndex.optional(), end: stepIndex.optional(), frequency: z.number().int().min(1).optional() }),
  /**
   * TFMOT's PolynomialDecay: s_t = final + (initial - final)(1 - (t - begin)/(end - begin))^power, power 3 by
   * default, updated every `frequency` steps between begin and end.
   */
  z.strictObject({
    kind: z.literal('polynomial'),
    initial: fraction,
    final: fraction,
    begin: stepIndex,
    end: stepIndex,
    power: z.number().positive().optional(),
    frequency: z.number().int().min(1).optional(),
  }),
]);

export type SparsitySchedule = z.infer<typeof SparsityScheduleSchema>;

/** The target sparsity at `step`, or null when the schedule does not update the masks at this step. */
export function sparsityAt(s: SparsitySchedule, step: number): number | null {
  const freq = s.frequency ?? 100;
  const begin = s.begin ?? 0;
  if (step < begin || (s.end !== undefined && step > s.end) || (step - begin) % freq !== 0) return null;
  if (s.kind === 'constant') return s.sparsity;
  const frac = Math.min(1, (step - begin) / Math.max(1, s.end - begin));
  return s.final + (s.initial - s.final) * Math.pow(1 - frac, s.power ?? 3);
}
