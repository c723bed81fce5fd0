/**
 * The `binary-infer` workload of `npm run bench` (issue 14): a binary MLP 784-2048-2048-1000 (10 labels x 100
 * bits, seed 002 §4.1.6's output) on batches of 1000 random ±1 inputs, predicted by the bit-packed XNOR-popcount
 * engine and by float inference of the same ±1 network in tfjs on the active backend (matMul, then the
 * majority vote as x >= 0, then the label groups' sums and argmax). Before timing, the two are checked to give
 * the same output bits of every layer and the same predictions (the tfjs path decides a tie by the lowest label,
 * so the engine's `lowest` rule is used here).
 */
import { tf } from '../engine/backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import { seedState, nextU32 } from './irand.js';
import { randomNetwork } from './network.js';
import { forwardLayers, sampleRows, wasmKernelAvailable } from './xnor.js';
import { predictMajority } from './majority.js';
import { rowWords, unpackSigns, wordMask } from './pack.js';

export const BINARY_INFER_SIZES = [784, 2048, 2048, 1000];
export const BINARY_INFER_BATCH = 1000;

/** The bench harness's timing settings: repeats and the least seconds of one measurement. */
export interface BenchTiming {
  repeats: number;
  minSeconds: number;
}

export interface BinaryInferResult {
  name: string;
  samplesPerSec: number;
  batch: number;
  repeats: number[];
  details?: Record<string, number | string>;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The ±1 float weights of layer l as an [n_in, n_out] matrix. */
function floatWeights(w: Uint32Array, nIn: number, nOut: number): Float32Array {
  const words = rowWords(nIn);
  const m = new Float32Array(nIn * nOut);
  for (let j = 0; j < nOut; j++) for (let i = 0; i < nIn; i++) m[i * nOut + j] = (w[j * words + (i >>> 5)] >>> (i & 31)) & 1 ? 1 : -1;
  return m;
}

/**
 * Batches per measurement so that one takes at least `minSeconds`, after a warm-up (the WebAssembly kernel
 * tiers up to optimised code after its first calls).
 */
function calibrate(once: (batches: number) => number, minSeconds: number): number {
  once(2);
  let k = 1;
  for (;;) {
    const s = once(k);
    if (s >= minSeconds || k > 1e5) return k;
    k = Math.max(k + 1, Math.ceil((k * minSeconds * 1.2) / Math.max(s, 1e-6)));
  }
}

/**
 * Measures the two engines alternately (packed, float, packed, float, ...) so that the load of a shared machine
 * affects both alike; the speed-up is the median of the per-repeat ratios.
 */
export async function binaryInferBench(timing: BenchTiming): Promise<BinaryInferResult[]> {
  const sizes = BINARY_INFER_SIZES;
  const n = BINARY_INFER_BATCH;
  const head = { classes: 10, bitsPerLabel: 100, tie: 'lowest' as const };
  const net = randomNetwork(sizes, seedState(1, 'bench:init'));
  const rng = seedState(1, 'bench:data');
  const words = rowWords(sizes[0]);
  const x = new Uint32Array(sampleRows(n) * words);
  for (let r = 0; r < n; r++) for (let k = 0; k < words; k++) x[r * words + k] = nextU32(rng) & wordMask(sizes[0], k);
  const xf = tf.tensor2d(Float32Array.from(unpackSigns(x, n, sizes[0])), [n, sizes[0]]);
  const wf = net.weights.map((w, l) => tf.tensor2d(floatWeights(w, sizes[l], sizes[l + 1]), [sizes[l], sizes[l + 1]]));
  try {
    const floatLayers = () =>
      tf.tidy(() => {
        const outs: Tensor[] = [];
        let h: Tensor = xf;
        for (const w of wf) {
          h = tf.sub(tf.mul(tf.cast(tf.greaterEqual(tf.matMul(h, w), 0), 'float32'), 2), 1);
          outs.push(h);
        }
        return outs.map((t) => tf.keep(t));
      });
    const floatPredict = () =>
      tf.tidy(() => {
        let h: Tensor = xf;
        for (const w of wf) h = tf.sub(tf.mul(tf.cast(tf.greaterEqual(tf.matMul(h, w), 0), 'float32'), 2), 1);
        return tf.argMax(tf.sum(tf.reshape(h, [n, head.classes, head.bitsPerLabel]), 2), 1).dataSync() as Int32Array;
      });
    // The same bits in every layer, and the same predictions.
    const packed = forwardLayers(net, x, n, { all: true });
    const fl = floatLayers();
    fl.forEach((t, l) => {
      const f = t.dataSync();
      const p = unpackSigns(packed[l], n, sizes[l + 1]);
      for (let i = 0; i < p.length; i++) if (p[i] !== f[i]) throw new Error(`bench binary-infer: layer ${l + 1} differs from the float reference at ${i}`);
      t.dispose();
    });
    const pf = floatPredict();
    const pp = predictMajority(packed[packed.length - 1], n, head, 0);
    for (let i = 0; i < n; i++) if (pf[i] !== pp[i]) throw new Error(`bench binary-infer: prediction ${i} differs (${pp[i]} vs ${pf[i]})`);

    const packedOnce = (batches: number) => {
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        const [out] = forwardLayers(net, x, n);
        predictMajority(out, n, head, 0);
      }
      return (performance.now() - t0) / 1000;
    };
    const floatOnce = (batches: number) => {
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) floatPredict();
      return (performance.now() - t0) / 1000;
    };
    const kp = calibrate(packedOnce, timing.minSeconds);
    const kf = calibrate(floatOnce, timing.minSeconds);
    const pr: number[] = [];
    const fr: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < timing.repeats; r++) {
      pr.push((kp * n) / packedOnce(kp));
      fr.push((kf * n) / floatOnce(kf));
      ratios.push(pr[r] / fr[r]);
      await new Promise((res) => setImmediate(res));
    }
    const p = median(pr);
    const f = median(fr);
    const kernel = wasmKernelAvailable() ? 'wasm-simd' : 'js';
    return [
      { name: 'binary-infer', samplesPerSec: p, batch: n, repeats: pr, details: { network: sizes.join('-'), kernel, floatSamplesPerSec: f, speedup: median(ratios), backend: tf.getBackend() } },
      { name: 'binary-infer-float', samplesPerSec: f, batch: n, repeats: fr, details: { network: sizes.join('-'), backend: tf.getBackend() } },
    ];
  } finally {
    xf.dispose();
    wf.forEach((t) => t.dispose());
  }
}
