/**
 * Naive perturbation (seed 002 appendix .1, §4.1.5): clone the network, flip every weight with probability p,
 * keep the clone unless the original scores higher ("if evaluate(N) > evaluate(NewNetwork) return N, else
 * NewNetwork": a tie keeps the clone). Reading: `evaluate` is the number of correct predictions on the step's
 * training mini-batch (the seed does not say on what data; evaluating on the test set would select on it).
 */
import { seedState, nextU32 } from './irand.js';
import { randomNetwork, cloneNetwork, flipWeights, correctCount, type BinaryNetwork, type PackedBatch } from './network.js';
import type { NaiveConfig } from './genetic.js';
import type { GeneticTrainer, StepReport, TrainerContext } from './trainer.js';

export interface NaiveState {
  kind: 'naive';
  step: number;
  net: BinaryNetwork;
  /** xoshiro128** state of the flips and tie seeds. */
  rng: Uint32Array;
}

export function naiveTrainer(config: NaiveConfig, ctx: TrainerContext): GeneticTrainer<NaiveState> {
  const state: NaiveState = { kind: 'naive', step: 0, net: randomNetwork(ctx.sizes, seedState(ctx.seed, 'init')), rng: seedState(ctx.seed, 'genetic') };
  return {
    kind: 'naive',
    state,
    current: () => state.net,
    step(batch: PackedBatch): StepReport {
      const tieSeed = nextU32(state.rng);
      const parent = correctCount(state.net, batch, ctx.head, tieSeed);
      const child = cloneNetwork(state.net);
      const flips = flipWeights(child, state.rng, config.flip);
      const score = correctCount(child, batch, ctx.head, tieSeed);
      const keepParent = parent > score;
      if (!keepParent) state.net = child;
      state.step++;
      return { step: state.step, correct: keepParent ? parent : score, batch: batch.n, flips: keepParent ? 0 : flips, evaluations: 2 };
    },
  };
}
