/**
 * Binary fully connected layers computed by XNOR and popcount with a majority vote (seed 002 §4.1.2, Fig. 4.2):
 * output j of a sample is 1 when at least half of the n_in products XNOR(a_i, w_ji) are 1, i.e.
 * sign(sum_i a_i w_ji) with sign(0) = +1 (eq. 1.4) in ±1 terms. A layer's weights are `weightRows(n_out)` rows
 * (n_out rounded up to a multiple of 4; the extra rows are zero) of `rowWords(n_in)` words.
 *
 * Two kernels give the same bits: the WebAssembly SIMD kernel (wasm.ts), used when the engine supports it,
 * and a JavaScript one. `forward` runs a whole network over a batch in WebAssembly memory (inputs and weights
 * copied in once), or layer by layer in JavaScript.
 */
import { instantiate, lazyModule, WA, type WasmMemory } from '../engine/wasm-writer.js';
import { popcount32, rowWords } from './pack.js';
import { xnorModuleBytes, XNOR_SAMPLE_BLOCK } from './wasm.js';

/** Weight rows stored for a layer with n_out outputs (the SIMD kernel computes 4 outputs at a time). */
export function weightRows(nOut: number): number {
  return Math.ceil(nOut / 4) * 4;
}

/** Rows allocated for n samples (the SIMD kernel reads them in blocks). */
export function sampleRows(n: number): number {
  return Math.ceil(n / XNOR_SAMPLE_BLOCK) * XNOR_SAMPLE_BLOCK;
}

export type KernelChoice = 'auto' | 'wasm' | 'js';

interface WasmKernel {
  memory: WasmMemory;
  layer: (a: number, n: number, inChunks: number, w: number, out4: number, o: number, oStride: number, thr: number, lastWord: number, lastMask: number) => void;
}

let wasmKernel: WasmKernel | null | undefined;
const xnorModule = lazyModule(xnorModuleBytes);

/** The SIMD kernel of this thread, or null when the engine lacks WebAssembly SIMD. */
function loadWasm(): WasmKernel | null {
  if (wasmKernel !== undefined) return wasmKernel;
  const mod = xnorModule();
  wasmKernel = null;
  if (mod) {
    try {
      const memory = new WA!.Memory({ initial: 16 });
      wasmKernel = { memory, layer: instantiate(mod, memory).xnor_layer as WasmKernel['layer'] };
    } catch {
      // no memory or instance: the JavaScript kernel runs
    }
  }
  return wasmKernel;
}

/** Whether the WebAssembly SIMD kernel runs here. */
export function wasmKernelAvailable(): boolean {
  return loadWasm() !== null;
}

function lastMaskOf(nOut: number): number {
  const r = nOut & 31;
  return r ? (1 << r) - 1 : -1;
}

/**
 * One layer in JavaScript: `a` holds n rows of rowWords(nIn) words, `w` the layer's weights; returns n rows of
 * rowWords(nOut) words (plus `extraRows` zero rows).
 */
export function xnorLayerJs(a: Uint32Array, n: number, nIn: number, w: Uint32Array, nOut: number, extraRows = 0): Uint32Array {
  const wi = rowWords(nIn);
  const wo = rowWords(nOut);
  const thr = nIn >>> 1;
  const out = new Uint32Array((n + extraRows) * wo);
  for (let i = 0; i < n; i++) {
    const ab = i * wi;
    for (let j = 0; j < nOut; j++) {
      const wb = j * wi;
      let mism = 0;
      for (let k = 0; k < wi; k++) mism += popcount32(a[ab + k] ^ w[wb + k]);
      if (mism <= thr) out[i * wo + (j >>> 5)] |= 1 << (j & 31);
    }
  }
  return out;
}

/** A network's shape: sizes[0] input bits, sizes[l + 1] the outputs of layer l. */
export interface LayerStack {
  sizes: number[];
  weights: Uint32Array[];
}

const align16 = (b: number) => Math.ceil(b / 16) * 16;

/**
 * Runs the network on n packed input rows (at least `sampleRows(n)` rows allocated; rows past n are ignored).
 * Returns the output of every layer (`all`) or only the last one, each with sampleRows(n) rows of
 * rowWords(size) words (rows past n are not meaningful).
 */
export function forwardLayers(net: LayerStack, x: Uint32Array, n: number, o: { all?: boolean; kernel?: KernelChoice } = {}): Uint32Array[] {
  const L = net.weights.length;
  const rows = sampleRows(n);
  const kernel = o.kernel ?? 'auto';
  const wasm = kernel === 'js' ? null : loadWasm();
  if (kernel === 'wasm' && !wasm) throw new Error('the WebAssembly SIMD kernel is not available on this engine');
  if (x.length < rows * rowWords(net.sizes[0])) throw new Error(`forward: the input has ${x.length} words, ${rows} rows of ${rowWords(net.sizes[0])} are needed`);
  if (!wasm) {
    const outs: Uint32Array[] = [];
    let a = x;
    for (let l = 0; l < L; l++) {
      a = xnorLayerJs(a, n, net.sizes[l], net.weights[l], net.sizes[l + 1], rows - n);
      outs.push(a);
    }
    return o.all ? outs : [outs[L - 1]];
  }
  // Layout in WebAssembly memory: input, then per layer its weights and its output.
  const inBytes = rows * rowWords(net.sizes[0]) * 4;
  let offset = align16(inBytes);
  const plan = net.weights.map((w, l) => {
    const wPtr = offset;
    offset = align16(offset + w.length * 4);
    const oPtr = offset;
    const oBytes = rows * rowWords(net.sizes[l + 1]) * 4;
    offset = align16(offset + oBytes);
    return { wPtr, oPtr, oBytes };
  });
  const need = offset;
  const have = wasm.memory.buffer.byteLength;
  if (need > have) wasm.memory.grow(Math.ceil((need - have) / 65536));
  const mem = new Uint32Array(wasm.memory.buffer);
  mem.set(x.subarray(0, inBytes / 4), 0);
  net.weights.forEach((w, l) => {
    mem.set(w, plan[l].wPtr / 4);
    mem.fill(0, plan[l].oPtr / 4, (plan[l].oPtr + plan[l].oBytes) / 4);
  });
  let aPtr = 0;
  for (let l = 0; l < L; l++) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const w = net.weights[l];
    if (w.length !== weightRows(nOut) * rowWords(nIn)) throw new Error(`forward: layer ${l} has ${w.length} weight words, ${weightRows(nOut)} rows of ${rowWords(nIn)} expected`);
    wasm.layer(aPtr, n, rowWords(nIn) / 4, plan[l].wPtr, weightRows(nOut), plan[l].oPtr, rowWords(nOut), nIn >>> 1, (nOut - 1) >>> 5, lastMaskOf(nOut));
    aPtr = plan[l].oPtr;
  }
  const copy = (l: number) => mem.slice(plan[l].oPtr / 4, (plan[l].oPtr + plan[l].oBytes) / 4);
  return o.all ? plan.map((_, l) => copy(l)) : [copy(L - 1)];
}
