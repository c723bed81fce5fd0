/**
 * Training-time schedules of the compression schemes, as pure functions of training progress, and the fit
 * hooks that apply them to a model's quantized layers.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { StepHooks, StepInfo } from '../train/fit.js';
import { isQuantLayer } from './layers.js';
import type { QuantizerConfig } from './quantizers.js';

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

function withBits(q: QuantizerConfig, bits: number): QuantizerConfig {
  return 'bits' in q ? ({ ...q, bits } as QuantizerConfig) : q;
}

/**
 * Hooks that set, before every step, the bit width of every quantizer with a `bits` field (weights and inputs)
 * and the gradient precision (`grad` range, default the same as weights) of every quantized layer.
 */
export function cyclicPrecisionHooks(model: LayersModel, weights: CyclicPrecisionConfig, grad: CyclicPrecisionConfig = weights): StepHooks {
  return {
    beforeStep(s: StepInfo) {
      const b = cyclicBits(s.step, s.totalSteps, weights);
      const g = cyclicBits(s.step, s.totalSteps, grad);
      for (const l of model.layers) {
        if (!isQuantLayer(l)) continue;
        const q = l.quantizers;
        l.setQuantizers({ kernel: withBits(q.kernel, b), input: withBits(q.input, b) });
        l.setGradBits(g);
      }
    },
  };
}

/** Hooks that set ReCU's tau of every `recu` kernel quantizer at the start of each epoch. */
export function recuHooks(model: LayersModel, epochs: number, tauMin = 0.85, tauMax = 0.99): StepHooks {
  return {
    beforeStep(s: StepInfo) {
      if (s.batch !== 0) return;
      const tau = recuTau(s.epoch, epochs, tauMin, tauMax);
      for (const l of model.layers) {
        if (isQuantLayer(l) && l.quantizers.kernel.kind === 'recu') l.setQuantizers({ kernel: { ...l.quantizers.kernel, tau } as QuantizerConfig });
      }
    },
  };
}

/** Runs several hook sets in order. */
export function combineHooks(...hooks: (StepHooks | undefined)[]): StepHooks {
  return {
    beforeStep: (s) => hooks.forEach((h) => h?.beforeStep?.(s)),
    afterStep: (s) => hooks.forEach((h) => h?.afterStep?.(s)),
  };
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
