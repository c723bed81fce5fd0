/**
 * A small separable problem for the trainers' tests and demonstrations, all integers: each class has a random
 * prototype of `bits` bits; a sample is its class's prototype with every bit flipped with probability `noise`
 * (an integer ratio). With few classes and low noise the classes are linearly separable.
 */
import { seedState, below, bernoulliWord, type Ratio } from './irand.js';
import { rowWords, wordMask } from './pack.js';
import type { PackedSet } from './genetic.js';

export interface PrototypeProblem {
  bits: number;
  classes: number;
  n: number;
  noise: Ratio;
  seed: number | string;
}

/** Training and test rows of a prototype problem (test rows drawn after the training rows from the same streams). */
export function prototypeProblem(p: PrototypeProblem, testRows = 0): { train: PackedSet; test: PackedSet } {
  const words = rowWords(p.bits);
  const rng = seedState(p.seed, 'data');
  const protos = new Uint32Array(p.classes * words);
  for (let c = 0; c < p.classes; c++) for (let k = 0; k < words; k++) protos[c * words + k] = (bernoulliWord(rng, { num: 1, den: 2 }) & wordMask(p.bits, k)) >>> 0;
  const make = (n: number): PackedSet => {
    const x = new Uint32Array((n + 1) * words);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = below(rng, p.classes);
      labels[i] = c;
      for (let k = 0; k < words; k++) x[i * words + k] = (protos[c * words + k] ^ bernoulliWord(rng, p.noise)) & wordMask(p.bits, k);
    }
    return { x, n, bits: p.bits, labels };
  };
  return { train: make(p.n), test: make(testRows) };
}
