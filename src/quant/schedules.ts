/**
 * Training-time schedules of the compression schemes, as pure functions of training progress. The training
 * hooks that apply them to a model's layers are in src/compress/hooks.ts.
 */

/**
 * ReCU's tau schedule (Xu et al. 2021, seed 002 ref. [61], as in the ReCU code): exponential from tauMin at the
 * first epoch to tauMax at the end, tau(e) = A e^(e/E) + B with A = (tauMax - tauMin)/(e - 1), B = tauMin - A.
 * Defaults 0.85 and 0.99.
 */
export function recuTau(epoch: number, epochs: number, tauMin = 0.85, tauMax = 0.99): number {
  const A = (tauMax - tauMin) / (Math.E - 1);
  return A * Math.exp(epoch / Math.max(1, epochs)) + tauMin - A;
}

export interface CyclicPrecisionConfig {
  min: number;
  max: number;
  /** Number of cycles over the whole training (32 in the CPT paper). */
  cycles?: number;
}

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

export type SparsitySchedule =
  /** The same sparsity at every update from `begin` (TFMOT ConstantSparsity). */
  | { kind: 'constant'; sparsity: number; begin?: number; end?: number; frequency?: number }
  /**
   * TFMOT's PolynomialDecay: s_t = final + (initial - final)(1 - (t - begin)/(end - begin))^power, power 3 by
   * default, updated every `frequency` steps between begin and end.
   */
  | { kind: 'polynomial'; initial: number; final: number; begin: number; end: number; power?: number; frequency?: number };

/** The target sparsity at `step`, or null when the schedule does not update the masks at this step. */
export function sparsityAt(s: SparsitySchedule, step: number): number | null {
  const freq = s.frequency ?? 100;
  const begin = s.begin ?? 0;
  if (step < begin || (s.end !== undefined && step > s.end) || (step - begin) % freq !== 0) return null;
  if (s.kind === 'constant') return s.sparsity;
  const frac = Math.min(1, (step - begin) / Math.max(1, s.end - begin));
  return s.final + (s.initial - s.final) * Math.pow(1 - frac, s.power ?? 3);
}
