/**
 * Elite evolution (seed 002 appendix .2, §4.1.5; the candidate's reformulation of Morse and Stanley 2016):
 * children of every elite member with weights flipped with probability p, sorted by a score that is "a linear
 * combination of current accuracy ... and accuracy of the model's ancestors", the best of them the new elite.
 *
 * Readings of the printed pseudo-code, each an option:
 * - it creates one child per elite member although it takes `children`: here each member has `children`
 *   children (the parameter's stated meaning);
 * - it returns `population[: population]`: read as the first `eliteSize` (the parameter "number of the
 *   networks in outputs");
 * - the population holds only children (line 2 empties it): the default; `keepParents` lets the parents compete;
 * - "current accuracy" is the number of correct predictions on the step's training mini-batch, and "ancestors'
 *   accuracy" the parent's score, which already combines the grandparents' and so on: score = (current x
 *   correct x SCORE_SCALE + ancestors x parentScore) div (current + ancestors), with integer weights
 *   (default 1 and 1) and integer division; an initial member's score is its correct count x SCORE_SCALE on the
 *   first batch. A kept parent's score is updated the same way with its own current accuracy.
 * Sorting is stable (ties keep population order: members' children in elite order).
 */
import { seedState, nextU32 } from './irand.js';
import { randomNetwork, cloneNetwork, flipWeights, correctCount, type BinaryNetwork, type PackedBatch } from './network.js';
import { SCORE_SCALE, intDiv, type EliteConfig } from './genetic.js';
import type { GeneticTrainer, StepReport, TrainerContext } from './trainer.js';

export interface EliteState {
  kind: 'elite';
  step: number;
  elite: BinaryNetwork[];
  /** Scores of the elite members (-1: not scored yet). */
  scores: Int32Array;
  /** Correct counts of the elite members on the batch that scored them. */
  correct: Int32Array;
  rng: Uint32Array;
}

export function eliteTrainer(config: EliteConfig, ctx: TrainerContext): GeneticTrainer<EliteState> {
  const init = seedState(ctx.seed, 'init');
  const state: EliteState = {
    kind: 'elite',
    step: 0,
    elite: Array.from({ length: config.eliteSize }, () => randomNetwork(ctx.sizes, init)),
    scores: new Int32Array(config.eliteSize).fill(-1),
    correct: new Int32Array(config.eliteSize),
    rng: seedState(ctx.seed, 'genetic'),
  };
  const { current: wc, ancestors: wa } = config.score;
  const combine = (correct: number, parentScore: number) => intDiv(wc * correct * SCORE_SCALE + wa * parentScore, wc + wa);
  return {
    kind: 'elite',
    state,
    current: () => state.elite[0],
    step(batch: PackedBatch): StepReport {
      const tieSeed = nextU32(state.rng);
      let evaluations = 0;
      state.elite.forEach((net, e) => {
        if (state.scores[e] < 0) {
          state.scores[e] = correctCount(net, batch, ctx.head, tieSeed) * SCORE_SCALE;
          evaluations++;
        }
      });
      const population: { net: BinaryNetwork; score: number; correct: number; flips: number }[] = [];
      state.elite.forEach((parent, e) => {
        for (let c = 0; c < config.children; c++) {
          const child = cloneNetwork(parent);
          const flips = flipWeights(child, state.rng, config.flip);
          const correct = correctCount(child, batch, ctx.head, tieSeed);
          evaluations++;
          population.push({ net: child, score: combine(correct, state.scores[e]), correct, flips });
        }
      });
      if (config.keepParents) {
        state.elite.forEach((parent, e) => {
          const correct = correctCount(parent, batch, ctx.head, tieSeed);
          evaluations++;
          population.push({ net: parent, score: combine(correct, state.scores[e]), correct, flips: 0 });
        });
      }
      // Stable sort by score, highest first.
      const order = population.map((_, i) => i).sort((a, b) => population[b].score - population[a].score || a - b);
      const kept = order.slice(0, config.eliteSize).map((i) => population[i]);
      state.elite = kept.map((p) => p.net);
      state.scores = Int32Array.from(kept.map((p) => p.score));
      state.correct = Int32Array.from(kept.map((p) => p.correct));
      state.step++;
      return { step: state.step, correct: kept[0].correct, batch: batch.n, flips: kept[0].flips, evaluations };
    },
  };
}
