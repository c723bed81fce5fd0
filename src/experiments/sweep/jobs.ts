/**
 * The sweep as jobs of the experiment engine: one cross-validated evaluation (k folds x R repeats, `cvJobs`)
 * per combination of weight compression and activation, combination-major in the order of the config's lists
 * (weights outer, activations inner; the reference loops over activations outer, which changes no result: every
 * job is a pure function of its own spec).
 */
import type { Architecture } from '../../models/arch.js';
import type { JobSpecInput } from '../job.js';
import { cvJobs, type CvProtocol } from '../cv.js';
import { sweepArchitecture } from './architecture.js';
import { sweepData, type SweepActivation, type SweepConfig, type SweepWeights } from './config.js';

export interface SweepCombination {
  weights: SweepWeights;
  activation: SweepActivation;
  architecture: Architecture;
}

export interface SweepPlan {
  combinations: SweepCombination[];
  /** `jobs[i * perCombination + r * k + f]`: combination i, repeat r, fold f. */
  jobs: JobSpecInput[];
  perCombination: number;
  protocol: CvProtocol;
}

/** Input shape and classes of the sweep's data (the datasets all have 10 classes of 32x32 images). */
export function sweepInput(c: SweepConfig): { input: number[]; classes: number } {
  return { input: c.model === 'lenet5' ? [32, 32, 1] : [32, 32, 3], classes: 10 };
}

export function sweepCombinations(c: SweepConfig): SweepCombination[] {
  const { input, classes } = sweepInput(c);
  return c.weights.flatMap((weights) =>
    c.activations.map((activation) => ({
      weights,
      activation,
      architecture: sweepArchitecture(c.model, weights, activation, { nbits: c.nbits, input, classes, width: c.width }),
    })),
  );
}

/** Every training of the sweep, on `backend` (resolved: a job never says `auto`). */
export function sweepPlan(c: SweepConfig, backend: 'tensorflow' | 'wasm' | 'cpu'): SweepPlan {
  const protocol: CvProtocol = { k: c.protocol.k, repeats: c.protocol.repeats, valFraction: c.protocol.valFraction };
  const source = sweepData(c).view(c.subset, c.testSubset);
  const combinations = sweepCombinations(c);
  const jobs = combinations.flatMap((combo) =>
    cvJobs(
      {
        model: combo.architecture,
        data: { source },
        train: {
          epochs: c.epochs,
          batchSize: c.batchSize,
          optimizer: c.optimizer,
          earlyStopping: { patience: c.patience, monitor: c.monitor },
        },
        seed: c.seed,
        backend,
        evaluate: ['heldout', 'test'],
        output: { weights: false, history: true },
        label: `${c.model} ${combo.weights}/${combo.activation}`,
      },
      protocol,
    ),
  );
  return { combinations, jobs, perCombination: protocol.k * protocol.repeats, protocol };
}
