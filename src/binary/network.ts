/**
 * A fully binary network as integer data (seed 002 §4.1.2): 2 to 5 binary fully connected layers without
 * batch normalisation, each an XNOR-popcount layer with a majority vote (Fig. 4.2), the last one's bits read
 * by the majority loss (§4.1.4). `sizes[0]` is the number of input bits, `sizes[l + 1]` the outputs of layer l;
 * the last size is classes x bits per label. Weights are `Uint32Array`s (xnor.ts gives the layout).
 */
import { rowWords, wordMask } from './pack.js';
import { nextU32, bernoulliWord, type Ratio } from './irand.js';
import { forwardLayers, weightRows, type KernelChoice, type LayerStack } from './xnor.js';
import { predictMajority, countCorrect, type MajorityHead } from './majority.js';
import { KitError } from '../util/errors.js';
import type { Architecture } from '../models/arch.js';

export interface BinaryNetwork extends LayerStack {
  sizes: number[];
  weights: Uint32Array[];
}

/** Checks a size list: 2 to 5 layers of at least one unit. */
export function checkSizes(sizes: number[], where = 'binary network'): void {
  if (sizes.length < 3 || sizes.length > 6) throw new KitError(`${where}: a binary network has 2 to 5 layers (seed 002 §4.1.2), got ${sizes.length - 1}`, 'ConfigError');
  sizes.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1) throw new KitError(`${where}: size ${i} must be a positive integer, got ${s}`, 'ConfigError');
  });
}

/** A network with every valid weight bit uniform (one uint32 draw per word, masked to the valid bits). */
export function randomNetwork(sizes: number[], rng: Uint32Array): BinaryNetwork {
  checkSizes(sizes);
  const weights = sizes.slice(1).map((nOut, l) => {
    const nIn = sizes[l];
    const wi = rowWords(nIn);
    const w = new Uint32Array(weightRows(nOut) * wi);
    for (let j = 0; j < nOut; j++) for (let k = 0; k < wi; k++) w[j * wi + k] = nextU32(rng) & wordMask(nIn, k);
    return w;
  });
  return { sizes: [...sizes], weights };
}

export function cloneNetwork(net: BinaryNetwork): BinaryNetwork {
  return { sizes: [...net.sizes], weights: net.weights.map((w) => w.slice()) };
}

/** Number of weights (valid bits). */
export function weightCount(sizes: number[]): number {
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l] * sizes[l + 1];
  return n;
}

/**
 * Flips each weight with probability p (in place), optionally only where `only[l]` has a 1 bit (the counting-
 * error algorithm's "wrong" weights). Returns the number of weights flipped.
 */
export function flipWeights(net: BinaryNetwork, rng: Uint32Array, p: Ratio, only?: (Uint32Array | null)[]): number {
  let flips = 0;
  for (let l = 0; l < net.weights.length; l++) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const wi = rowWords(nIn);
    const w = net.weights[l];
    const sel = only ? only[l] : undefined;
    if (only && !sel) continue;
    const usedWords = (nIn + 31) >>> 5;
    for (let j = 0; j < nOut; j++) {
      for (let k = 0; k < usedWords; k++) {
        const idx = j * wi + k;
        let m = wordMask(nIn, k);
        if (sel) {
          m &= sel[idx];
          if (m === 0) continue;
        }
        const f = bernoulliWord(rng, p) & m;
        if (f) {
          w[idx] ^= f;
          let x = f;
          while (x) {
            x &= x - 1;
            flips++;
          }
        }
      }
    }
  }
  return flips;
}

/** Packed inputs with their labels and sample ids (rows past n are zero padding). */
export interface PackedBatch {
  x: Uint32Array;
  n: number;
  labels: Int32Array;
  ids: Int32Array;
}

/** The predictions of a network on a packed batch. */
export function predict(net: BinaryNetwork, b: PackedBatch, head: MajorityHead, tieSeed: number, kernel?: KernelChoice): Int32Array {
  const [out] = forwardLayers(net, b.x, b.n, { kernel });
  return predictMajority(out, b.n, head, tieSeed, b.ids);
}

/** The number of correct predictions (an integer: the genetic trainers' score). */
export function correctCount(net: BinaryNetwork, b: PackedBatch, head: MajorityHead, tieSeed: number, kernel?: KernelChoice): number {
  return countCorrect(predict(net, b, head, tieSeed, kernel), b.labels);
}

/**
 * The network as a kit architecture, for the hardware estimators: binary dense layers without bias (sign
 * weights, sign inputs). The majority vote between layers is the sign of the next layer's input quantizer.
 */
export function binaryArchitecture(sizes: number[], name: string): Architecture {
  return {
    name,
    input: [sizes[0]],
    head: 'softmax',
    layers: sizes.slice(1).map((units, l) => ({
      kind: 'dense' as const,
      units,
      bias: false,
      kernelQuantizer: { kind: 'binary' as const, scale: 'none' as const },
      inputQuantizer: { kind: 'sign' as const },
      name: `xnor${l + 1}`,
    })),
  };
}
