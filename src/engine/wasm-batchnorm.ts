/**
 * Batch normalisation in training mode as one kernel with one gradient kernel, for the `wasm` backend.
 *
 * Why: tfjs-layers' BatchNormalization trains as `moments(x)` followed by `batchNorm(x, mean, variance, ...)`,
 * and the tape then differentiates each piece separately. The stock `FusedBatchNorm` gradient broadcasts
 * 1/sqrt(var + eps) to the full input shape with `tile` (tfjs-core gradients/FusedBatchNorm_grad.ts, `derX`),
 * and stock wasm's `Tile` walks every element with a generic index computation: on VGG7 at quarter width it was
 * 28% of a training step, more than all convolutions. The moments' own gradients (Mean, Sub, Square) and the
 * reductions over the batch and spatial axes (wasm `Sum` transposes the whole tensor first) added another ~15%.
 *
 * Here the whole layer is one kernel over a tensor seen as [M, C] (C the last axis, M all the others):
 *   forward   mean_c = sum_m x / M,  var_c = sum_m (x - mean_c)^2 / M  (biased, as tfjs `moments`),
 *             y = (x - mean_c) * gamma_c / sqrt(var_c + eps) + beta_c;
 *   backward  with r_c = 1 / sqrt(var_c + eps) and xhat = (x - mean_c) r_c,
 *             dbeta_c = sum_m dy,  dgamma_c = sum_m dy xhat,
 *             dx = gamma_c r_c (dy - dbeta_c / M - xhat dgamma_c / M),
 * which is the derivative of the forward through the batch statistics (what the stock tape computes op by
 * op). Sums accumulate in float64 in a fixed order and are rounded to float32 once (the variance as
 * sum(x^2)/M - mean^2 from one pass, exact enough in float64), so the result differs from the stock path by
 * float32 rounding only (tested against the `cpu` backend: below 5e-5 relative) and is deterministic. The
 * forward normalises with the float32-rounded mean and variance it returns, and the gradient recomputes xhat
 * from those same values, so the pair is consistent.
 *
 * Loops run in JavaScript directly over the wasm heap, as the kit's MaxPoolGrad does (wasm-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor, TensorInfo, NamedAttrMap, KernelFunc } from '@tensorflow/tfjs';

export const BATCHNORM_TRAIN = 'TckBatchNormTrain';
export const BATCHNORM_TRAIN_GRAD = 'TckBatchNormTrainGrad';

type Backend = {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
};
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: Backend; attrs?: NamedAttrMap };

function channelsOf(x: TensorInfo): { C: number; n: number } {
  const C = x.shape[x.shape.length - 1];
  const n = x.shape.reduce((a, b) => a * b, 1);
  return { C, n };
}

function checkFloat(name: string, ...ts: TensorInfo[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${name}: float32 only, got ${t.dtype}`);
}

/**
 * The forward of the header on arrays: x seen as [n / C, C]; writes y, the batch mean and the biased batch
 * variance (float32-rounded). Also the fast trainer's batchnorm (src/fast/net.ts).
 */
export function batchNormForwardArrays(xs: Float32Array, g: Float32Array, b: Float32Array, eps: number, n: number, C: number, ys: Float32Array, meanOut: Float32Array, varOut: Float32Array): void {
  const M = n / C;
  // One pass for both sums, in float64: var = E[x^2] - mean^2 loses nothing that matters at float32
  // (the cancellation costs ~1e-16 (mean/std)^2 relative).
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const v = xs[i + c];
      s1[c] += v;
      s2[c] += v * v;
    }
  }
  // y = x * a_c + s_c with a_c = gamma_c r_c and s_c = beta_c - mean_c a_c.
  const a = new Float64Array(C);
  const s = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = Math.fround(s1[c] / M);
    const v = Math.fround(Math.max(0, s2[c] / M - (s1[c] / M) * (s1[c] / M)));
    meanOut[c] = m;
    varOut[c] = v;
    a[c] = g[c] / Math.sqrt(v + eps);
    s[c] = b[c] - m * a[c];
  }
  for (let i = 0; i < n; i += C) for (let c = 0; c < C; c++) ys[i + c] = xs[i + c] * a[c] + s[c];
}

/**
 * The backward of the header on arrays, from the forward's batch mean `mu` and variance `va`: dgamma, dbeta,
 * and dx unless `dxs` is null.
 */
export function batchNormBackwardArrays(gs: Float32Array, xs: Float32Array, g: Float32Array, mu: Float32Array, va: Float32Array, eps: number, n: number, C: number, dxs: Float32Array | null, dgOut: Float32Array, dbOut: Float32Array): void {
  const M = n / C;
  const sdy = new Float64Array(C);
  const sdyx = new Float64Array(C); // sum dy (x - mean)
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const d = gs[i + c];
      sdy[c] += d;
      sdyx[c] += d * (xs[i + c] - mu[c]);
    }
  }
  // dx = A dy + B x + D per channel (see the header), with r = 1/sqrt(var + eps), A = gamma r,
  // B = -A r^2 sdyx / M, D = -A sdy / M - B mean.
  const A = new Float64Array(C);
  const B = new Float64Array(C);
  const D = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(va[c] + eps);
    dbOut[c] = sdy[c];
    dgOut[c] = sdyx[c] * r;
    A[c] = g[c] * r;
    B[c] = (-A[c] * r * r * sdyx[c]) / M;
    D[c] = (-A[c] * sdy[c]) / M - B[c] * mu[c];
  }
  if (dxs) for (let i = 0; i < n; i += C) for (let c = 0; c < C; c++) dxs[i + c] = A[c] * gs[i + c] + B[c] * xs[i + c] + D[c];
}

/** Inputs x [..., C], scale [C], offset [C]; attr varianceEpsilon. Outputs y, mean [C], variance [C]. */
function batchNormTrain(args: KernelArgs): TensorInfo[] {
  const { x, scale, offset } = args.inputs;
  const backend = args.backend;
  const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  checkFloat(BATCHNORM_TRAIN, x, scale, offset);
  const { C, n } = channelsOf(x);
  const yInfo = backend.makeOutput(x.shape, 'float32');
  const meanInfo = backend.makeOutput([C], 'float32');
  const varInfo = backend.makeOutput([C], 'float32');
  // Views after every allocation: growing the heap detaches older views.
  const xs = backend.typedArrayFromHeap(x);
  const g = backend.typedArrayFromHeap(scale);
  const b = backend.typedArrayFromHeap(offset);
  const ys = backend.typedArrayFromHeap(yInfo);
  const meanOut = backend.typedArrayFromHeap(meanInfo);
  const varOut = backend.typedArrayFromHeap(varInfo);

  batchNormForwardArrays(xs, g, b, eps, n, C, ys, meanOut, varOut);
  return [yInfo, meanInfo, varInfo];
}

/** Inputs dy, x, scale, mean, variance; attr varianceEpsilon. Outputs dx, dscale, doffset. */
function batchNormTrainGrad(args: KernelArgs): TensorInfo[] {
  const { dy, x, scale, mean, variance } = args.inputs;
  const backend = args.backend;
  const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  checkFloat(BATCHNORM_TRAIN_GRAD, dy, x, scale, mean, variance);
  const { C, n } = channelsOf(x);
  const dxInfo = backend.makeOutput(x.shape, 'float32');
  const dgInfo = backend.makeOutput([C], 'float32');
  const dbInfo = backend.makeOutput([C], 'float32');
  const xs = backend.typedArrayFromHeap(x);
  const gs = backend.typedArrayFromHeap(dy);
  const g = backend.typedArrayFromHeap(scale);
  const mu = backend.typedArrayFromHeap(mean);
  const va = backend.typedArrayFromHeap(variance);
  const dxs = backend.typedArrayFromHeap(dxInfo);
  const dgOut = backend.typedArrayFromHeap(dgInfo);
  const dbOut = backend.typedArrayFromHeap(dbInfo);

  batchNormBackwardArrays(gs, xs, g, mu, va, eps, n, C, dxs, dgOut, dbOut);
  return [dxInfo, dgInfo, dbInfo];
}

let installed = false;

/** Registers the two kernels for `wasm` and the gradient of the forward one. Idempotent. */
export function installWasmBatchNorm(): void {
  if (installed) return;
  for (const [name, f] of [
    [BATCHNORM_TRAIN, batchNormTrain],
    [BATCHNORM_TRAIN_GRAD, batchNormTrainGrad],
  ] as const) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: f as unknown as KernelFunc });
  }
  tf.registerGradient({
    kernelName: BATCHNORM_TRAIN,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    // The mean and variance outputs only feed the moving averages, never the loss: their dy (zeros) is ignored.
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, scale, mean, variance] = saved;
      const [dx, dscale, doffset] = tf.engine().runKernel(BATCHNORM_TRAIN_GRAD, { dy, x, scale, mean, variance }, attrs) as Tensor[];
      return { x: () => dx, scale: () => dscale, offset: () => doffset };
    },
  });
  installed = true;
}

/** Whether `batchNormTrainOp` runs on the active backend (only `wasm` has the kernels). */
export function batchNormTrainAvailable(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(BATCHNORM_TRAIN, 'wasm') != null;
}

/**
 * Training-mode batch normalisation over every axis but the last: y, and the batch mean and (biased) variance
 * for the moving averages. Differentiable with respect to x, scale and offset. `wasm` only (see
 * `batchNormTrainAvailable`).
 */
export function batchNormTrainOp(x: Tensor, scale: Tensor, offset: Tensor, varianceEpsilon: number): { y: Tensor; mean: Tensor; variance: Tensor } {
  const C = x.shape[x.shape.length - 1];
  if (scale.size !== C || offset.size !== C) throw new Error(`batchNormTrainOp: scale and offset need ${C} values (the last axis)`);
  const [y, mean, variance] = tf.engine().runKernel(
    BATCHNORM_TRAIN,
    { x, scale, offset } as never,
    { varianceEpsilon } as never,
  ) as Tensor[];
  return { y, mean, variance };
}
