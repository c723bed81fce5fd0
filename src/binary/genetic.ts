/**
 * What the three genetic trainers of seed 002's appendix share: their configs (zod schemas beside the types),
 * the mini-batch of every step, and the integer scores. The trainers themselves are naive.ts (.1), elite.ts
 * (.2) and counting.ts (.3).
 *
 * No floating point in the trainers: weights, activations, masks and error counts are integer typed arrays,
 * scores are integer counts of correct predictions, probabilities are integer ratios num / 2^k and the
 * weights of the elite score's linear combination are integer ratios. Random draws come from the integer
 * generator of irand.ts seeded from the kit's named streams. Every trainer exposes its whole state as a plain
 * object of integers and integer typed arrays (`state`), which is what a test inspects.
 *
 * Mini-batches: the training rows are visited epoch by epoch, each epoch in the order of a Fisher-Yates
 * permutation drawn (with `below`) from stream `shuffle:<epoch>` of the job's seed; step t takes batch
 * t mod floor(n / B) of epoch floor(t / floor(n / B)) (the last incomplete batch of an epoch is dropped). The
 * batch of a step is a function of the step alone, so a run is a pure function of its seed and budget.
 */
import { z } from 'zod';
import { checkRatio, seedState, shuffleInts, type Ratio } from './irand.js';
import { gatherRows, rowWords } from './pack.js';
import { sampleRows } from './xnor.js';
import type { PackedBatch } from './network.js';

const powerOfTwo = z.number().int().min(2).max(2 ** 31).refine((d) => (d & (d - 1)) === 0, { message: 'must be a power of two (the trainers draw dyadic probabilities)' });
export const RatioSchema = z
  .strictObject({ num: z.number().int().min(0), den: powerOfTwo })
  .refine((r) => r.num <= r.den, { message: 'num must be <= den', path: ['num'] });

/** Appendix .1: flip every weight with probability `flip`; keep the child unless the parent scores higher. */
export const NaiveConfigSchema = z.strictObject({
  kind: z.literal('naive'),
  flip: RatioSchema,
});

/**
 * Appendix .2 with the readings documented in elite.ts: `children` children per elite member, the new elite the
 * best `eliteSize` by score = (current x correct x SCORE_SCALE + ancestors x parent's score) / (current +
 * ancestors), integer division.
 */
export const EliteConfigSchema = z.strictObject({
  kind: z.literal('elite'),
  flip: RatioSchema,
  eliteSize: z.number().int().min(1).default(4),
  children: z.number().int().min(1).default(4),
  /** Integer weights of the linear combination: current accuracy and ancestors' (the parent's score). */
  score: z.strictObject({ current: z.number().int().min(0), ancestors: z.number().int().min(0) }).refine((s) => s.current + s.ancestors > 0, { message: 'current + ancestors must be > 0' }).default({ current: 1, ancestors: 1 }),
  /** Parents compete with their children for the new elite (not in the printed pseudo-code). */
  keepParents: z.boolean().default(false),
});

/** Appendix .3 with the readings documented in counting.ts. */
export const CountingConfigSchema = z.strictObject({
  kind: z.literal('counting'),
  flip: RatioSchema,
  children: z.number().int().min(1).default(4),
  /** §4.1.5's rule: wrong when at least BatchSize x num/den times (num/den = 1/2: BatchSize/2). */
  errorThreshold: RatioSchema.default({ num: 1, den: 2 }),
  /** Which input nodes are wrong: most of their weights to wrong nodes are wrong (pseudo-code lines 4, 7) or they voted for a wrong bit in at least the threshold's share of the batch (§4.1.5's prose). */
  nodeRule: z.enum(['majority-of-weights', 'votes']).default('majority-of-weights'),
  /** Wrong weights below the last layer: those that voted for a wrong bit (the prose: "the same process") or every weight into a wrong node (pseudo-code line 6 read literally). */
  hiddenWeightRule: z.enum(['votes', 'all']).default('votes'),
  /**
   * Layers, counted from the output, whose weights may be marked wrong (absent: every layer, "until the input
   * layer is reached", §4.1.5). 1 trains only the last layer on the fixed random features below it: on MNIST the
   * blame reaching a hidden layer marks nearly all of its weights (docs/binary.md, "Counting error on MNIST").
   */
  blameDepth: z.number().int().min(1).max(5).optional(),
  /** The parent stays when no child scores at least as high (the printed step returns nothing). */
  keepParent: z.boolean().default(true),
});

export const TrainerConfigSchema = z.discriminatedUnion('kind', [NaiveConfigSchema, EliteConfigSchema, CountingConfigSchema]);
export type NaiveConfig = z.infer<typeof NaiveConfigSchema>;
export type EliteConfig = z.infer<typeof EliteConfigSchema>;
export type CountingConfig = z.infer<typeof CountingConfigSchema>;
export type TrainerConfig = z.infer<typeof TrainerConfigSchema>;
export type TrainerConfigInput = z.input<typeof TrainerConfigSchema>;
export type TrainerKind = TrainerConfig['kind'];

export function checkTrainerConfig(c: TrainerConfig, where: string): void {
  checkRatio(c.flip, `${where}.flip`);
  if (c.kind === 'counting') checkRatio(c.errorThreshold, `${where}.errorThreshold`);
}

/** The training rows, packed once. */
export interface PackedSet {
  x: Uint32Array;
  n: number;
  bits: number;
  labels: Int32Array;
}

/** Draws the mini-batch of each step (see the module comment). */
export class BatchPlan {
  readonly perEpoch: number;
  readonly size: number;
  private epoch = -1;
  private order: Int32Array | null = null;

  constructor(
    private readonly data: PackedSet,
    batchSize: number,
    private readonly seed: number | string,
  ) {
    this.size = Math.min(batchSize, data.n);
    this.perEpoch = Math.max(1, Math.floor(data.n / this.size));
  }

  /** The sample indices of step `t`. */
  indices(t: number): Int32Array {
    const e = Math.floor(t / this.perEpoch);
    if (e !== this.epoch || !this.order) {
      const order = new Int32Array(this.data.n);
      for (let i = 0; i < order.length; i++) order[i] = i;
      this.order = shuffleInts(seedState(this.seed, `shuffle:${e}`), order);
      this.epoch = e;
    }
    const b = t % this.perEpoch;
    return this.order.subarray(b * this.size, (b + 1) * this.size);
  }

  /** The packed mini-batch of step `t` (with the zero rows the SIMD kernel reads). */
  batch(t: number): PackedBatch {
    const ids = Int32Array.from(this.indices(t));
    const words = rowWords(this.data.bits);
    const labels = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) labels[i] = this.data.labels[ids[i]];
    return { x: gatherRows(this.data.x, words, ids, sampleRows(ids.length) - ids.length), n: ids.length, labels, ids };
  }
}

/** Fixed-point scale of the elite score (correct counts times 2^10 keep 10 bits below the count). */
export const SCORE_SCALE = 1024;

/** floor(a / b) for non-negative integers, exactly (no rounding of a float quotient). */
export function intDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

export type { Ratio };
