/**
 * Training hooks that apply the compression schedules of src/quant/schedules.ts to a model's quantized layers
 * (cyclic precision, ReCU's tau). Experiments describe hooks as data (`HookSpec`, src/experiments/hooks.ts);
 * these are the functions that data turns into.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { StepHooks, StepInfo } from '../train/fit.js';
import { isQuantLayer } from '../quant/layers.js';
import type { QuantizerConfig } from '../quant/quantizers.js';
import { cyclicBits, recuTau, type CyclicPrecisionConfig } from '../quant/schedules.js';

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

