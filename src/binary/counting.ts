/**
 * The counting-error algorithm (seed 002 appendix .3, §4.1.5, the candidate's own): count, over the step's
 * mini-batch, which output bits are wrong, trace the blame back through the majority votes layer by layer,
 * and flip only the weights marked wrong, each with probability p, in `children` children.
 *
 * The printed step (lines 1-14) and the prose of §4.1.5, as implemented (options in CountingConfig):
 * 1. forward the batch and keep every layer's output bits;
 * 2. output bit o is wrong when it differs from its target bit (1 inside the label's group, 0 outside,
 *    §4.1.4) in at least B x num/den samples (§4.1.5: "at least BatchSize/2 times"; `errorThreshold` = 1/2);
 * 3. line 3, "the weights in the last layer that make prediction != batchY": weight (o, i) of a wrong output o
 *    is wrong when its vote XNOR(a_i, w_oi) equalled o's (wrong) output in at least the threshold's number of
 *    samples where o was wrong (the prose: it "contributed ... to predict a bit set wrong");
 * 4. lines 4 and 7, input nodes: `majority-of-weights` (the pseudo-code, default): node i is wrong when more
 *    than half of its weights to wrong nodes are wrong; `votes` (the prose): when it voted for a wrong bit in at
 *    least the threshold's number of samples;
 * 5. lines 5-7 repeat this for every earlier layer, the wrong input nodes of layer l + 1 being the wrong
 *    outputs of layer l; in sample s node i counts as wrong when it voted for the wrong output of a wrong node
 *    in s. Line 6 ("the weights in layer l if connected to output node set wrong") read literally marks every
 *    weight into a wrong node (`hiddenWeightRule: 'all'`); the default `votes` applies step 3's rule ("the same
 *    process is continued until the input layer is reached");
 * 6. lines 8-12: `children` clones, each flipping the wrong weights with probability p; line 13 ("flip the w
 *    with probability p") is read as part of line 11;
 * 7. line 14 sorts the children by evaluation and the step returns nothing: the best child (correct count on the
 *    batch) replaces the network when it scores at least as well as the parent (`keepParent`, default; ties go
 *    to the child as in appendix .1), or unconditionally without `keepParent`.
 * `blameDepth` (not in the seed) stops step 5 after that many layers from the output.
 * Counts are kept in bit-sliced integer counters (counter.ts).
 */
import { seedState, nextU32 } from './irand.js';
import { rowWords, wordMask } from './pack.js';
import { forwardLayers } from './xnor.js';
import { predictMajority, countCorrect, targetRows, type MajorityHead } from './majority.js';
import { randomNetwork, cloneNetwork, flipWeights, correctCount, type BinaryNetwork, type PackedBatch } from './network.js';
import { SlicedCounter } from './counter.js';
import { intDiv, type CountingConfig } from './genetic.js';
import type { GeneticTrainer, StepReport, TrainerContext } from './trainer.js';

export interface CountingState {
  kind: 'counting';
  step: number;
  net: BinaryNetwork;
  rng: Uint32Array;
}

export interface WrongMarks {
  /** Per layer, a 1 bit at every weight marked wrong (weights' layout), or null when none is. */
  weights: (Uint32Array | null)[];
  /** Wrong weights per layer, wrong output nodes per layer. */
  wrongWeights: number[];
  wrongNodes: number[];
}

const popcountRow = (a: Uint32Array, from: number, to: number) => {
  let c = 0;
  for (let i = from; i < to; i++) {
    let x = a[i];
    while (x) {
      x &= x - 1;
      c++;
    }
  }
  return c;
};

/** Steps 2-5: the weights marked wrong, given every layer's output on the batch (`acts[l]`: output of layer l). */
export function markWrong(net: BinaryNetwork, batch: PackedBatch, acts: Uint32Array[], head: MajorityHead, config: Pick<CountingConfig, 'errorThreshold' | 'nodeRule' | 'hiddenWeightRule' | 'blameDepth'>): WrongMarks {
  const L = net.weights.length;
  const n = batch.n;
  const { num, den } = config.errorThreshold;
  const thr = intDiv(num * n + den - 1, den); // count * den >= num * n
  const outBits = net.sizes[L];
  let wo = rowWords(outBits);
  // Step 2: per-sample wrong output bits, and the bits wrong in at least thr samples.
  const targets = targetRows(head);
  let E = new Uint32Array(n * wo);
  const errors = new SlicedCounter(wo, n);
  for (let s = 0; s < n; s++) {
    const t = targets[batch.labels[s]];
    for (let k = 0; k < wo; k++) {
      const e = (acts[L - 1][s * wo + k] ^ t[k]) & wordMask(outBits, k);
      E[s * wo + k] = e;
      errors.addWord(k, e);
    }
  }
  let W = new Uint32Array(wo);
  for (let k = 0; k < wo; k++) W[k] = errors.atLeastWord(k, thr) & wordMask(outBits, k);
  for (let s = 0; s < n; s++) for (let k = 0; k < wo; k++) E[s * wo + k] &= W[k];
  const marks: WrongMarks = { weights: new Array(L).fill(null), wrongWeights: new Array(L).fill(0), wrongNodes: new Array(L).fill(0) };
  for (let l = L - 1; l >= 0; l--) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const wi = rowWords(nIn);
    wo = rowWords(nOut);
    const used = (nIn + 31) >>> 5;
    const A = l === 0 ? batch.x : acts[l - 1];
    const O = acts[l];
    const w = net.weights[l];
    const all = l < L - 1 && config.hiddenWeightRule === 'all';
    const mask = new Uint32Array(w.length);
    const blame = new Uint32Array(n * wi);
    const votes = new SlicedCounter(wi, n);
    const nodeWeights = new SlicedCounter(wi, nOut);
    let wrongOut = 0;
    for (let o = 0; o < nOut; o++) {
      if (!((W[o >>> 5] >>> (o & 31)) & 1)) continue;
      wrongOut++;
      votes.reset();
      const ob = o >>> 5;
      const bit = 1 << (o & 31);
      for (let s = 0; s < n; s++) {
        if (!(E[s * wo + ob] & bit)) continue;
        const outOne = (O[s * wo + ob] & bit) !== 0;
        for (let k = 0; k < used; k++) {
          // the inputs whose vote XNOR(a_i, w_oi) equals o's output in this sample
          let d = A[s * wi + k] ^ w[o * wi + k];
          if (outOne) d = ~d;
          d &= wordMask(nIn, k);
          votes.addWord(k, d);
          blame[s * wi + k] |= d;
        }
      }
      for (let k = 0; k < used; k++) {
        const m = all ? wordMask(nIn, k) : votes.atLeastWord(k, thr) & wordMask(nIn, k);
        mask[o * wi + k] = m;
        nodeWeights.addWord(k, m);
      }
    }
    marks.wrongNodes[l] = wrongOut;
    if (wrongOut) {
      marks.weights[l] = mask;
      marks.wrongWeights[l] = popcountRow(mask, 0, mask.length);
    }
    if (l === 0 || wrongOut === 0 || L - l >= (config.blameDepth ?? L)) break;
    // Step 4: the wrong input nodes of this layer are the wrong outputs of the layer below.
    const Wn = new Uint32Array(wi);
    if (config.nodeRule === 'majority-of-weights') {
      const need = intDiv(wrongOut, 2) + 1;
      for (let k = 0; k < used; k++) Wn[k] = nodeWeights.atLeastWord(k, need) & wordMask(nIn, k);
    } else {
      const nodeVotes = new SlicedCounter(wi, n);
      for (let s = 0; s < n; s++) for (let k = 0; k < used; k++) nodeVotes.addWord(k, blame[s * wi + k]);
      for (let k = 0; k < used; k++) Wn[k] = nodeVotes.atLeastWord(k, thr) & wordMask(nIn, k);
    }
    for (let s = 0; s < n; s++) for (let k = 0; k < wi; k++) blame[s * wi + k] &= Wn[k];
    E = blame;
    W = Wn;
  }
  return marks;
}

export function countingTrainer(config: CountingConfig, ctx: TrainerContext): GeneticTrainer<CountingState> {
  const state: CountingState = { kind: 'counting', step: 0, net: randomNetwork(ctx.sizes, seedState(ctx.seed, 'init')), rng: seedState(ctx.seed, 'genetic') };
  return {
    kind: 'counting',
    state,
    current: () => state.net,
    step(batch: PackedBatch): StepReport {
      const tieSeed = nextU32(state.rng);
      const acts = forwardLayers(state.net, batch.x, batch.n, { all: true });
      const parent = countCorrect(predictMajority(acts[acts.length - 1], batch.n, ctx.head, tieSeed, batch.ids), batch.labels);
      const marks = markWrong(state.net, batch, acts, ctx.head, config);
      const wrongWeights = marks.wrongWeights.reduce((a, b) => a + b, 0);
      let best: BinaryNetwork | null = null;
      let bestCorrect = config.keepParent ? parent : -1;
      let bestFlips = 0;
      let evaluations = 1;
      if (wrongWeights > 0) {
        for (let c = 0; c < config.children; c++) {
          const child = cloneNetwork(state.net);
          const flips = flipWeights(child, state.rng, config.flip, marks.weights);
          const correct = correctCount(child, batch, ctx.head, tieSeed);
          evaluations++;
          if (best === null ? correct >= bestCorrect : correct > bestCorrect) {
            best = child;
            bestCorrect = correct;
            bestFlips = flips;
          }
        }
      }
      if (best) state.net = best;
      state.step++;
      return { step: state.step, correct: best ? bestCorrect : parent, batch: batch.n, flips: best ? bestFlips : 0, evaluations, wrongWeights };
    },
  };
}
