/**
 * Training kernels the tfjs `wasm` backend lacks or runs slowly (see shared/notes/engine-performance.md):
 *
 * - `Conv2DBackpropFilter` is not registered at all for wasm, so stock CNN training fails. We compute
 *   dW as a forward conv2d of the input with channels moved to the batch axis, using the output gradient
 *   (batch moved to the input-channel axis) as the filter, with dilation = stride:
 *     dW[i,j,c,o] = sum_{n,p,q} x[n, p*s + i - padTop, q*s + j - padLeft, c] * dy[n,p,q,o]
 *                 = conv2d(x^T[c, h, w, n], dy^T[p, q, n, o], stride 1, dilation s)[c, i, j, o].
 * - `Conv2DBackpropInput` exists but is a scalar loop. For stride 1 it equals a forward conv2d of dy with
 *   the spatially flipped filter whose in/out channels are swapped, padded by (k - 1 - pad):
 *     dx = conv2d(dy, reverse_{h,w}(W)^T[h, w, o, c], pad' = k - 1 - pad).
 *   Strides > 1 fall back to the stock kernel.
 *
 * - `BatchMatMul` with a transposed operand takes a scalar loop in the stock kernel (1.7 ms for the dense-layer
 *   gradients of LeNet5 against 0.3 ms for an explicit transpose followed by XNNPACK's matmul, measured here).
 *   We transpose explicitly and call the stock kernel untransposed.
 * - `MaxPoolGrad` is a scalar loop over every (input, window) pair in the stock kernel (4.5 ms per LeNet5
 *   layer). Ours walks the windows once in JavaScript over the wasm heap, sending each window's gradient to
 *   the first maximum in row-major order, which is the rule of the `cpu` backend (`maxPoolPositions`).
 *   The 2x2 stride-2 pools of LeNet-5 and VGG7 take a loop of their own (non-overlapping windows: each input
 *   written once, no clearing pass, no per-window buffers): 7.3 -> 3.2 ms per LeNet-5 step against the
 *   earlier per-window-buffer loop (measured at load 4.5-5 on the shared 2-core machine).
 * - `Identity` copies its input in stock wasm; the engine runs it for every tensor a gradient saves. Ours
 *   shares the buffer by reference count, as wasm's Reshape does (tfjs tensors are immutable).
 *
 * - `UnsortedSegmentSum` is missing, and it is the gradient of `gather` (weight clustering gathers a layer's
 *   kernel from its centroids). Ours sums rows in JavaScript over the wasm heap.
 * - Batch normalisation in training: the fused kernels of wasm-batchnorm.ts (used by src/models/batchnorm.ts),
 *   registered from here.
 *
 * They are built from other wasm kernels (XNNPACK conv, transpose, reverse, slice), called directly through
 * the kernel registry, so they run on XNNPACK's SIMD code paths. Intermediate buffers are freed here.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, NamedAttrMap, KernelFunc } from '@tensorflow/tfjs';
import { installWasmBatchNorm } from './wasm-batchnorm.js';

type Backend = {
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
};
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: Backend; attrs?: NamedAttrMap };

let installed = false;
let stockBackpropInput: KernelFunc | null = null;
let stockBatchMatMul: KernelFunc | null = null;
let stockIdentity: KernelFunc | null = null;

function run(name: string, inputs: Record<string, TensorInfo>, backend: Backend, attrs: object = {}): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

function free(backend: Backend, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function conv2dInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs) {
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') {
    throw new Error(`wasm conv2d gradient kernels support NHWC only, got ${attrs.dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as never,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** dW for conv2d on wasm, from the input `x` and the output gradient `dy`. */
function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const backend = args.backend;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const [kh, kw, inC, outC] = attrs.filterShape;
  const info = conv2dInfo(x.shape, attrs.filterShape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const sH = info.strideHeight;
  const sW = info.strideWidth;
  const [, H, W] = x.shape;
  const [, outH, outW] = dy.shape;
  // The dilated "filter" dy spans (outH - 1) * sH + 1 rows; the result must have exactly kh rows.
  const padBottom = Math.max(0, kh + (outH - 1) * sH - H - top);
  const padRight = Math.max(0, kw + (outW - 1) * sW - W - left);
  const xT = run('Transpose', { x }, backend, { perm: [3, 1, 2, 0] }); // [inC, H, W, N]
  const dyT = run('Transpose', { x: dy }, backend, { perm: [1, 2, 0, 3] }); // [outH, outW, N, outC]
  const conv = run('Conv2D', { x: xT, filter: dyT }, backend, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [top, padBottom],
      [left, padRight],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [sH, sW],
    dimRoundingMode: undefined,
  }); // [inC, >=kh, >=kw, outC]
  free(backend, xT, dyT);
  let trimmed = conv;
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    // 'valid' padding with a stride that leaves input rows unused: those rows give extra outputs.
    trimmed = run('Slice', { x: conv }, backend, { begin: [0, 0, 0, 0], size: [inC, kh, kw, outC] });
    free(backend, conv);
  }
  const dW = run('Transpose', { x: trimmed }, backend, { perm: [1, 2, 0, 3] }); // [kh, kw, inC, outC]
  free(backend, trimmed);
  return dW;
}

/** dx for conv2d on wasm; stride 1 as a forward conv, other strides by the stock kernel. */
function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs;
  const backend = args.backend;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = conv2dInfo(attrs.inputShape, filter.shape, attrs);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) {
    return stockBackpropInput!(args as never) as TensorInfo;
  }
  const [kh, kw] = filter.shape;
  const { top, bottom, left, right } = info.padInfo;
  const flipped = run('Reverse', { x: filter }, backend, { dims: [0, 1] });
  const swapped = run('Transpose', { x: flipped }, backend, { perm: [0, 1, 3, 2] }); // [kh, kw, outC, inC]
  free(backend, flipped);
  const dx = run('Conv2D', { x: dy, filter: swapped }, backend, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  });
  free(backend, swapped);
  return dx;
}

/** Batched matmul with explicit transposes, so the stock kernel always takes its XNNPACK path. */
function batchMatMul(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs;
  const backend = args.backend;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!transposeA && !transposeB) return stockBatchMatMul!(args as never) as TensorInfo;
  const swapLast = (t: TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return run('Transpose', { x: t }, backend, { perm });
  };
  const aT = transposeA ? swapLast(a) : a;
  const bT = transposeB ? swapLast(b) : b;
  const out = stockBatchMatMul!({
    inputs: { a: aT, b: bT },
    backend,
    attrs: { ...args.attrs, transposeA: false, transposeB: false },
  } as never) as TensorInfo;
  if (transposeA) free(backend, aT);
  if (transposeB) free(backend, bT);
  return out;
}

/**
 * The 2x2, stride-2 max-pool gradient with every window inside the image (LeNet-5's and VGG7's pools). The
 * windows do not overlap, so each input gets its window's dy or 0, written once; the last row or column that no
 * window covers ('valid' on an odd size) is cleared first. Same first-maximum rule as the general loop below.
 */
function maxPool2x2Grad(x: Float32Array, g: Float32Array, dx: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): void {
  if (2 * OH !== H || 2 * OW !== W) dx.fill(0);
  const rowStride = W * C;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      let a = (n * H + 2 * oy) * rowStride; // top-left of the window, channel 0
      let gi = ((n * OH + oy) * OW) * C;
      for (let ox = 0; ox < OW; ox++, a += 2 * C) {
        for (let ch = 0; ch < C; ch++, gi++) {
          const i0 = a + ch;
          const i1 = i0 + C;
          const i2 = i0 + rowStride;
          const i3 = i2 + C;
          const v0 = x[i0];
          const v1 = x[i1];
          const v2 = x[i2];
          const v3 = x[i3];
          // First maximum in row-major order, a later element winning only if strictly greater, from a
          // running maximum of -Infinity (as the general loop: NaN or all -Infinity send the gradient nowhere).
          let k = v0 > -Infinity ? 0 : -1;
          let m = k === 0 ? v0 : -Infinity;
          if (v1 > m) { m = v1; k = 1; }
          if (v2 > m) { m = v2; k = 2; }
          if (v3 > m) { m = v3; k = 3; }
          const d = g[gi];
          dx[i0] = k === 0 ? d : 0;
          dx[i1] = k === 1 ? d : 0;
          dx[i2] = k === 2 ? d : 0;
          dx[i3] = k === 3 ? d : 0;
        }
      }
    }
  }
}

/** Max-pool gradient: each window's dy goes to its first maximum (the `cpu` backend's tie rule). */
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs;
  const backend = args.backend;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const out = backend.makeOutput(input.shape, 'float32');
  // Views are taken after the allocation above: growing the heap detaches older views.
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sH, strideWidth: sW, filterHeight: fH, filterWidth: fW } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  // The 2x2 stride-2 path needs every window inside the image ('valid', or 'same' on even sizes).
  if (fH === 2 && fW === 2 && sH === 2 && sW === 2 && padTop === 0 && padLeft === 0 && 2 * OH <= H && 2 * OW <= W) {
    maxPool2x2Grad(x, g, dx, batchSize, H, W, C, OH, OW);
    return out;
  }
  dx.fill(0);
  // Channel by channel inside each window, with the running maximum in locals: no per-window buffers.
  // Scanning rows then columns with a strict `>` keeps the first maximum in row-major order.
  const rowStride = W * C;
  for (let n = 0; n < batchSize; n++) {
    const xBase = n * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = oy * sH - padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(H, r0 + fH);
      for (let ox = 0; ox < OW; ox++) {
        const c0 = ox * sW - padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(W, c0 + fW);
        const gBase = ((n * OH + oy) * OW + ox) * C;
        const wBase = xBase + rMin * rowStride + cMin * C;
        for (let ch = 0; ch < C; ch++) {
          let bestVal = -Infinity;
          let best = -1;
          for (let r = rMin, rowBase = wBase + ch; r < rMax; r++, rowBase += rowStride) {
            for (let c = cMin, i = rowBase; c < cMax; c++, i += C) {
              const v = x[i];
              if (v > bestVal) {
                bestVal = v;
                best = i;
              }
            }
          }
          if (best >= 0) dx[best] += g[gBase + ch];
        }
      }
    }
  }
  return out;
}

/**
 * Identity (tf.clone, and the engine's copy of every tensor a gradient saves) sharing the input's buffer, as
 * wasm's own Reshape and the `cpu` backend's Identity do: tfjs tensors are immutable, the backend counts
 * references. Stock wasm copies the data, which was 2-3% of a convolutional training step.
 */
function identity(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return stockIdentity!(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** out[s] = sum of the rows of x whose segment id is s (ids outside 0..numSegments-1 are dropped). */
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const { x, segmentIds } = args.inputs;
  const backend = args.backend;
  const { numSegments } = args.attrs as { numSegments: number };
  if (x.dtype !== 'float32') throw new Error(`wasm UnsortedSegmentSum supports float32, got ${x.dtype}`);
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32');
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds) as unknown as Int32Array;
  const o = backend.typedArrayFromHeap(out);
  o.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    for (let j = 0; j < inner; j++) o[s * inner + j] += xs[r * inner + j];
  }
  return out;
}

function replace(name: string, kernelFunc: (args: KernelArgs) => TensorInfo): KernelFunc | null {
  const stock = tf.getKernel(name, 'wasm');
  if (stock) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    // The stock kernel's set-up (binding its wasm function) must still run where we fall back to it.
    setupFunc: stock?.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  });
  return stock ? stock.kernelFunc : null;
}

/**
 * Registers the kernels above for the `wasm` backend. Idempotent. Must run after
 * `@tensorflow/tfjs-backend-wasm` is imported (it registers the stock kernels on import).
 */
export function installWasmTrainingKernels(): void {
  if (installed) return;
  if (!tf.getKernel('Conv2D', 'wasm')) {
    throw new Error('the wasm backend is not loaded: import @tensorflow/tfjs-backend-wasm first');
  }
  stockBackpropInput = replace('Conv2DBackpropInput', conv2dBackpropInput);
  stockBatchMatMul = replace('BatchMatMul', batchMatMul);
  replace('Conv2DBackpropFilter', conv2dBackpropFilter);
  replace('MaxPoolGrad', maxPoolGrad);
  replace('UnsortedSegmentSum', unsortedSegmentSum);
  stockIdentity = replace('Identity', identity);
  installWasmBatchNorm();
  installed = true;
}

/** Names of the wasm kernels this module replaces or adds (for provenance). */
export const WASM_KERNEL_OVERRIDES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput (stride 1)',
  'BatchMatMul (transposed operands)',
  'MaxPoolGrad',
  'UnsortedSegmentSum',
  'Identity (shares the buffer)',
  'TckBatchNormTrain (batchnorm layer in training, with its gradient)',
] as const;
