/** The interface of the three genetic trainers and the factory that makes one from its config. */
import type { MajorityHead } from './majority.js';
import type { BinaryNetwork, PackedBatch } from './network.js';
import type { TrainerConfig } from './genetic.js';
import { naiveTrainer } from './naive.js';
import { eliteTrainer } from './elite.js';
import { countingTrainer } from './counting.js';

/** What one step did (integers). */
export interface StepReport {
  step: number;
  /** Correct predictions on the step's batch of the network the step keeps (the best of the elite). */
  correct: number;
  batch: number;
  /** Weights flipped in the kept network relative to its parent (0 when the parent was kept). */
  flips: number;
  /** Forward passes over the batch. */
  evaluations: number;
  /** Counting error: weights marked wrong. */
  wrongWeights?: number;
}

export interface GeneticTrainer<S = unknown> {
  readonly kind: TrainerConfig['kind'];
  /** The whole state: plain objects of integers and integer typed arrays. */
  readonly state: S;
  step(batch: PackedBatch): StepReport;
  /** The network to evaluate (the current one; the elite's first). */
  current(): BinaryNetwork;
}

export interface TrainerContext {
  sizes: number[];
  head: MajorityHead;
  seed: number | string;
}

/** A trainer at step 0: its networks drawn from stream `init`, its flips and tie seeds from stream `genetic`. */
export function createTrainer(config: TrainerConfig, ctx: TrainerContext): GeneticTrainer {
  switch (config.kind) {
    case 'naive':
      return naiveTrainer(config, ctx);
    case 'elite':
      return eliteTrainer(config, ctx);
    case 'counting':
      return countingTrainer(config, ctx);
  }
}
