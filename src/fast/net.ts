/**
 * The fast path: the kit's own trainer for the seeds' dense and convolutional networks (seed 000's MLPs, NAS
 * candidates, LeNet-5 and VGG7; seed 004's QuantNet). Same model description (`Architecture`), same initial
 * weights (taken from the tfjs model `buildModel` made), same loss, optimiser rules, shuffles and training loop
 * (`fitTrainee`), but forward and backward passes run over preallocated float32 arrays in one WebAssembly memory
 * with the kit's SIMD kernels (src/fast/simd*.ts; JavaScript loops in src/fast/kernels.ts where wasm SIMD is
 * missing) and, for large products, the optional native GEMM (src/engine/native-blas.ts), instead of a few hundred
 * tfjs kernel calls per step. Convolutions are im2col + one product (channels last, as tfjs).
 *
 * What it takes (`fastPathSupport` says why not otherwise): dense layers on vectors (the input, or after a
 * flatten), conv2d and maxpool on images, batchnorm over the last axis, dropout, activation, quantize, hardtanh
 * and flatten layers; any activation but softmax; kernel / bias / input quantizers of the kinds in
 * src/fast/quantizers.ts. Not: average pooling, zero padding layers, residual blocks, clustering, pruning masks,
 * gradient quantization, training hooks (the tfjs path runs those).
 *
 * Differences from the tfjs path, by design: products sum in another order (SIMD lanes, OpenBLAS's blocking) and
 * reductions of the batchnorm and quantizers in float64, so values agree within a tolerance, not bit for bit
 * (tested per quantizer family); dropout masks are drawn from the same `dropout:<epoch>` stream but in this
 * trainer's own order. Same spec on this path: identical bits (docs/fast-path.md says what the native GEMM's
 * bits depend on).
 */
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs';
import type { Rng } from '../engine/random.js';
import { WA, type WasmMemory } from '../engine/wasm-writer.js';
import { nativeBlas, type NativeBlas } from '../engine/native-blas.js';
import { sampleSize, type Dataset } from '../data/types.js';
import { KitError } from '../util/errors.js';
import { type Architecture, type Head, type LayerSpec, describeLayers, layerName } from '../models/arch.js';
import { BATCHNORM_DEFAULTS } from '../models/build.js';
import { batchNormBackwardArrays, batchNormForwardArrays } from '../engine/wasm-batchnorm.js';
import { createArrayOptimizer, type OptimizerConfig } from '../train/optimizers.js';
import { checkWeightSizes, type Trainee, writeWeights } from '../train/fit.js';
import { type ArrayQuantizer, fastQuantizer, fastQuantizerSupported } from './quantizers.js';
import { biasGrad, convWindow, isPool2x2, jsConvKernels, matmulBias, matmulNT, matmulTN, maxPool, type ConvGeometry, type ConvKernels } from './kernels.js';
import { createGemm, WASM_GEMM_AVAILABLE, type Gemm } from './simd.js';
import { createBatchNormKernels, type BatchNormKernels } from './simd-bn.js';
import { createConvKernels, int32View } from './simd-conv.js';

/** The batchnorm kernels as JavaScript (src/engine/wasm-batchnorm.ts), where the engine has no wasm SIMD. */
const JS_BATCHNORM: BatchNormKernels = { forward: batchNormForwardArrays, backward: batchNormBackwardArrays };

const f = Math.fround;

/**
 * Rows per evaluation chunk: up to 500 (at least the training batch), fewer when the activations of 500 rows
 * would take more than EVAL_FLOATS floats (convolutional networks). Each row's result does not depend on the
 * chunk it is in.
 */
const EVAL_CHUNK = 500;
const EVAL_FLOATS = 1 << 24;

type Act = 'linear' | 'relu' | 'tanh' | 'sigmoid';

/** Why the fast path cannot train `arch`, or null when it can. */
export function fastPathSupport(arch: Architecture): string | null {
  // Elementwise layers and batchnorm take any shape (batchnorm normalises the last axis); dense needs vectors
  // (the input, or after a flatten), conv2d and maxpool need images [H, W, C].
  let vector = arch.input.length === 1;
  for (const [i, l] of arch.layers.entries()) {
    const where = `layer ${layerName(l, i)}`;
    switch (l.kind) {
      case 'dense':
      case 'conv2d': {
        if (l.activation === 'softmax') return `${where}: softmax activation`;
        if (l.clusters || l.prune || l.gradBits) return `${where}: clustering, pruning or gradient quantization`;
        for (const q of [l.kernelQuantizer, l.biasQuantizer, l.inputQuantizer]) if (!fastQuantizerSupported(q)) return `${where}: quantizer ${q!.kind}`;
        if (l.kind === 'dense' && !vector) return `${where}: dense on input [${arch.input}] without a flatten before it`;
        if (l.kind === 'conv2d' && vector) return `${where}: conv2d on a vector`;
        break;
      }
      case 'maxpool':
        if (vector) return `${where}: maxpool on a vector`;
        break;
      case 'activation':
        if (l.fn === 'softmax') return `${where}: softmax activation`;
        break;
      case 'quantize':
        if (!fastQuantizerSupported(l.quantizer)) return `${where}: quantizer ${l.quantizer.kind}`;
        break;
      case 'flatten':
        vector = true;
        break;
      case 'batchnorm':
      case 'dropout':
      case 'hardtanh':
        break;
      default:
        return `${where}: ${l.kind} layers`;
    }
  }
  return null;
}

interface Dense {
  kind: 'dense';
  nIn: number;
  nOut: number;
  w: Float32Array;
  b: Float32Array | null;
  dw: Float32Array;
  db: Float32Array | null;
  act: Act;
  kq: ArrayQuantizer | null;
  bq: ArrayQuantizer | null;
  iq: ArrayQuantizer | null;
  /** The quantized kernel and bias of this step. */
  wq: Float32Array;
  bqv: Float32Array | null;
  /** The quantized input of this batch (when there is an input quantizer). */
  xq: Float32Array;
  /** Scratch for the transposed kernel (for dx). */
  wT: Float32Array;
}
/**
 * A convolution as im2col + product (channels last, as tfjs): `col` holds one row of K = KH KW C input values
 * per output position, so y [P, CO] = col [P, K] W [K, CO] + b with P = samples x OH x OW. In training, `col`
 * holds the whole batch and the backward pass reuses it: dW = col^T dy, then dcol = dy W^T in place of col,
 * scattered back (col2im) into dx. Evaluation runs in tiles of `colSamples` samples.
 */
interface Conv extends Omit<Dense, 'kind' | 'nIn' | 'nOut'> {
  kind: 'conv';
  g: ConvGeometry;
  col: Float32Array;
  colSamples: number;
}
interface Pool {
  kind: 'maxpool';
  g: ConvGeometry;
  /** For each output value of the training batch, the input index of its maximum (-1: none). */
  argmax: Int32Array;
}
interface BatchNorm {
  kind: 'batchnorm';
  /** Channels (the last axis); every other axis is a batch axis. */
  n: number;
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  momentum: number;
  epsilon: number;
  /** This batch's mean and biased variance (the backward pass needs them). */
  batchMean: Float32Array;
  batchVar: Float32Array;
}
interface Elementwise {
  kind: 'act' | 'quantize' | 'hardtanh' | 'dropout' | 'flatten';
  n: number;
  act?: Act;
  q?: ArrayQuantizer;
  /** Size of the last axis (a quantizer's channels). */
  channels?: number;
  shift?: number;
  rate?: number;
  mask?: Float32Array;
}
type Layer = Dense | Conv | Pool | BatchNorm | Elementwise;

/** A compiled network: its layers over float32 buffers for batches of up to `capacity` rows. */
interface Net {
  layers: Layer[];
  sizes: number[];
  /** Every weight array in the order of the tfjs model's `weights` (trainable first, then the rest). */
  weights: Float32Array[];
  /** The trainable ones with their gradients, in the order of `model.trainableWeights`. */
  trainable: Float32Array[];
  grads: Float32Array[];
  /** The optimiser's slot arrays (two per trainable array). */
  slots: Float32Array[][];
  /** Rows of a forward pass (evaluation chunks); a training step takes at most `trainRows`. */
  capacity: number;
  trainRows: number;
  acts: Float32Array[];
  deltas: Float32Array[];
  target: Float32Array;
  labels: Int32Array;
  /** Scratch for one row's exponentials in the loss. */
  exps: Float64Array;
  /** Scratch for column sums (bias gradients). */
  sums: Float64Array;
  /** A sink for the values `load` reads ahead (so that the reads are kept). */
  touched: number;
  /** A zero bias for products without one. */
  zeros: Float32Array;
  /** Ones, one per row of the largest product of a training step (bias gradients as products). */
  ones: Float32Array;
  /** The SIMD products (null: the JavaScript kernels). */
  gemm: Gemm | null;
  /** The batchnorm kernels: wasm SIMD, or the JavaScript ones (the same bits). */
  bn: BatchNormKernels;
  /** im2col, col2im, ReLU and 2x2 max pooling: wasm SIMD, or the JavaScript loops (the same bits). */
  conv: ConvKernels;
  /** The native products for large shapes (null: none; src/engine/native-blas.ts), over `memory`. */
  blas: NativeBlas | null;
  memory: WasmMemory | null;
  /** Products of at least this many multiply-adds go to `blas`. */
  nativeMinMacs: number;
  /** Whether some product has gone to `blas` (what `kernels` reports). */
  nativeRan: boolean;
}

/**
 * Products of at least this many multiply-adds go to the native GEMM when it is there (with 16 or more rows and
 * columns: in the seeds' networks VGG's convolutions, LeNet-5's second convolution and first dense layer at batch
 * 50); smaller ones stay on the wasm kernels, whose per-call cost is lower. Measured on LeNet-5 at batch 50
 * (docs/fast-path.md): 2^20 gave 12,800-13,600 samples/s against 11,200-12,200 for 2^24 and 10,700-13,500 for 2^18.
 */
export const NATIVE_MIN_MACS = 1 << 20;

/** `auto`: wasm SIMD, plus the native GEMM for large products when built; `simd`: wasm only; `js`: no wasm (tests). */
export type FastKernels = 'auto' | 'simd' | 'js';
/** The kernels a compiled network runs: wasm SIMD (with OpenBLAS for its large products), or JavaScript only. */
export type KernelsUsed = 'simd' | 'simd+openblas' | 'js';

function activationOf(a: string | undefined): Act {
  return (a ?? 'linear') as Act;
}

type Alloc = (n: number) => Float32Array;

/** Bytes an array of n floats takes in the memory: 16-byte aligned, plus 16 readable bytes after it (the SIMD tails read past the end). */
const footprint = (n: number) => Math.ceil((4 * n) / 16) * 16 + 16;

/**
 * Compiles `arch` over the weights of `model` (built by buildModel from the same architecture) for training
 * batches of up to `trainRows` rows and forward passes of up to `capacity` rows. Every array the steps touch
 * is allocated once, here, in one WebAssembly memory (so the SIMD products of src/fast/simd.ts can read them);
 * without wasm SIMD they are plain arrays and the JavaScript kernels of src/fast/kernels.ts run instead.
 */
function compile(arch: Architecture, model: LayersModel, trainRows: number, kernels: FastKernels, nativeMinMacs = NATIVE_MIN_MACS): Net {
  const simd = kernels !== 'js';
  const why = fastPathSupport(arch);
  if (why) throw new KitError(`fast path: ${why}`, 'ConfigError');
  const perRow = [arch.input, ...describeLayers(arch).map((l) => l.outputShape)].reduce((a, sh) => a + sh.reduce((x, y) => x * y, 1), 0);
  const capacity = Math.max(trainRows, Math.min(EVAL_CHUNK, Math.floor(EVAL_FLOATS / perRow)));
  // Pass 1 counts the bytes, pass 2 allocates them in a memory of that size (growing a memory would detach
  // every view of it).
  // Pass 1's arrays are views of one scratch buffer as large as the largest request.
  let bytes = 0;
  let scratch = new Float32Array(0);
  build(arch, model, trainRows, capacity, (n) => {
    bytes += footprint(n);
    if (n > scratch.length) scratch = new Float32Array(n);
    return scratch.subarray(0, n);
  });
  const memory = simd && WASM_GEMM_AVAILABLE && WA ? new WA.Memory({ initial: Math.ceil((bytes + 64) / 65536) }) : null;
  // Touch every page now, so that the operating system maps them here and not during the first training steps.
  if (memory) new Uint8Array(memory.buffer).fill(0);
  let offset = 0;
  const alloc: Alloc = memory
    ? (n) => {
        const v = new Float32Array(memory.buffer, offset, n);
        offset += footprint(n);
        return v;
      }
    : (n) => new Float32Array(n);
  const net = build(arch, model, trainRows, capacity, alloc);
  net.gemm = memory ? createGemm(memory) : null;
  net.bn = (memory && createBatchNormKernels(memory)) || JS_BATCHNORM;
  net.conv = (memory && createConvKernels(memory)) || jsConvKernels;
  net.memory = memory;
  // The native GEMM only where some product of a training step goes to it (forward, dW and dx of a layer with
  // P rows, nIn inputs and nOut outputs).
  const shapes = net.layers.flatMap((l) => (l.kind === 'conv' ? [[trainRows * l.g.OH * l.g.OW, l.g.K, l.g.CO]] : l.kind === 'dense' ? [[trainRows, l.nIn, l.nOut]] : []));
  const someNative = shapes.some(([P, nIn, nOut]) => goesNative(P, nIn, nOut, nativeMinMacs) || goesNative(nIn, P, nOut, nativeMinMacs) || goesNative(P, nOut, nIn, nativeMinMacs));
  net.blas = net.gemm && kernels === 'auto' && someNative ? nativeBlas() : null;
  net.nativeMinMacs = nativeMinMacs;
  return net;
}

/** A conv2d's or maxpool's geometry from its input and output shapes (the output as describeLayers computes it). */
function geometry(inShape: number[], outShape: number[], k: number, stride: number, padding: 'valid' | 'same' | undefined): ConvGeometry {
  const w = convWindow(inShape[0], inShape[1], inShape[2], k, k, stride, padding);
  if (w.OH !== outShape[0] || w.OW !== outShape[1]) throw new Error(`fast path: window ${k} stride ${stride} ${padding ?? 'valid'} on [${inShape}] gives ${w.OH}x${w.OW}, the model says [${outShape}]`);
  return { ...w, CO: outShape[2] };
}

function build(arch: Architecture, model: LayersModel, trainRows: number, capacity: number, alloc: Alloc): Net {
  const infos = describeLayers(arch);
  const all = model.weights as LayerVariable[];
  const trainables = model.trainableWeights as LayerVariable[];
  const weights = all.map((v) => {
    const data = v.read().dataSync() as Float32Array;
    const a = alloc(data.length);
    a.set(data);
    return a;
  });
  const byVar = new Map<LayerVariable, Float32Array>(all.map((v, i) => [v, weights[i]]));
  // Gradients and the optimiser's two slots of the trainable arrays, each kind allocated in one run in the order
  // of the trainable arrays, so that one Adam call can update them all (`fusedSpans`).
  const trainable = trainables.map((v) => byVar.get(v)!);
  const gradList = trainable.map((t) => alloc(t.length));
  const slotM = trainable.map((t) => alloc(t.length));
  const slotV = trainable.map((t) => alloc(t.length));
  const grads = new Map<Float32Array, Float32Array>(trainable.map((t, i) => [t, gradList[i]]));
  const gradOf = (a: Float32Array) => grads.get(a) ?? alloc(a.length);
  const role = (i: number, name: string): Float32Array | null => {
    const v = (model.layers[i].weights as LayerVariable[]).find((w) => new RegExp(`/${name}(_\\d+)?$`).test(w.originalName));
    return v ? byVar.get(v)! : null;
  };
  const sizes = [infos[0].inputShape.reduce((a, b) => a * b, 1), ...infos.map((l) => l.outputShape.reduce((a, b) => a * b, 1))];
  const rows = capacity;
  const layers: Layer[] = arch.layers.map((spec: LayerSpec, i): Layer => {
    const n = sizes[i + 1];
    const outShape = infos[i].outputShape;
    switch (spec.kind) {
      case 'dense':
      case 'conv2d': {
        const w = role(i, 'kernel')!;
        const b = role(i, 'bias');
        const nIn = sizes[i];
        const common = {
          w, b, dw: gradOf(w), db: b && gradOf(b), act: activationOf(spec.activation),
          kq: spec.kernelQuantizer ? fastQuantizer(spec.kernelQuantizer) : null,
          bq: spec.biasQuantizer ? fastQuantizer(spec.biasQuantizer) : null,
          iq: spec.inputQuantizer ? fastQuantizer(spec.inputQuantizer) : null,
          wq: spec.kernelQuantizer ? alloc(w.length) : w,
          bqv: b && spec.biasQuantizer ? alloc(b.length) : b,
          xq: spec.inputQuantizer ? alloc(rows * nIn) : new Float32Array(0),
          wT: alloc(w.length),
        };
        if (spec.kind === 'dense') return { kind: 'dense', nIn, nOut: n, ...common };
        const g = geometry(infos[i].inputShape, outShape, spec.kernel, spec.stride ?? 1, spec.padding);
        return { kind: 'conv', g, ...common, col: alloc(trainRows * g.OH * g.OW * g.K), colSamples: trainRows };
      }
      case 'maxpool': {
        const g = geometry(infos[i].inputShape, outShape, spec.size, spec.stride ?? spec.size, spec.padding);
        return { kind: 'maxpool', g, argmax: int32View(alloc(trainRows * n)) };
      }
      case 'batchnorm': {
        const gamma = role(i, 'gamma')!;
        const beta = role(i, 'beta')!;
        const C = outShape[outShape.length - 1];
        return {
          kind: 'batchnorm', n: C, gamma, beta, mean: role(i, 'moving_mean')!, variance: role(i, 'moving_variance')!,
          dgamma: gradOf(gamma), dbeta: gradOf(beta),
          momentum: spec.momentum ?? BATCHNORM_DEFAULTS.momentum, epsilon: spec.epsilon ?? BATCHNORM_DEFAULTS.epsilon,
          batchMean: alloc(C), batchVar: alloc(C),
        };
      }
      case 'activation':
        return { kind: 'act', n, act: activationOf(spec.fn) };
      case 'quantize':
        return { kind: 'quantize', n, channels: outShape[outShape.length - 1], q: fastQuantizer(spec.quantizer)! };
      case 'hardtanh':
        return { kind: 'hardtanh', n, shift: spec.shift };
      case 'dropout':
        return { kind: 'dropout', n, rate: spec.rate, mask: alloc(trainRows * n) };
      default:
        return { kind: 'flatten', n };
    }
  });
  return {
    layers, sizes, weights, trainable, grads: gradList,
    slots: trainable.map((_, i) => [slotM[i], slotV[i]]),
    capacity: rows,
    trainRows,
    acts: sizes.map((sz) => alloc(rows * sz)),
    deltas: sizes.map((sz) => alloc(trainRows * sz)),
    target: alloc(rows * sizes[sizes.length - 1]),
    labels: new Int32Array(rows),
    exps: new Float64Array(sizes[sizes.length - 1]),
    sums: new Float64Array(Math.max(...sizes)),
    touched: 0,
    zeros: alloc(Math.max(...sizes, ...layers.map((l) => (l.kind === 'conv' ? l.g.K : 0))) + 8),
    ones: alloc(Math.max(trainRows, ...layers.map((l) => (l.kind === 'conv' ? trainRows * l.g.OH * l.g.OW : 0)))).fill(1),
    gemm: null,
    bn: JS_BATCHNORM,
    conv: jsConvKernels,
    blas: null,
    memory: null,
    nativeMinMacs: NATIVE_MIN_MACS,
    nativeRan: false,
  };
}

/**
 * The trainable arrays, their gradients and slots as four spans of the memory when each kind lies in one run with
 * the same layout (as `build` allocates them in wasm memory); null otherwise (plain arrays, frozen layers).
 */
function fusedSpans(net: Net): { weights: Float32Array; grads: Float32Array; m: Float32Array; v: Float32Array } | null {
  const lists = [net.trainable, net.grads, net.slots.map((s) => s[0]), net.slots.map((s) => s[1])];
  if (!net.memory || net.trainable.length === 0) return null;
  const buffer = net.memory.buffer;
  const start = lists.map((l) => l[0].byteOffset);
  for (const l of lists) {
    for (let i = 0; i < l.length; i++) {
      if (l[i].buffer !== buffer || l[i].byteOffset - l[0].byteOffset !== net.trainable[i].byteOffset - start[0]) return null;
      if (i > 0 && l[i].byteOffset !== l[i - 1].byteOffset + footprint(l[i - 1].length)) return null;
    }
  }
  const last = net.trainable[net.trainable.length - 1];
  const n = (last.byteOffset - start[0]) / 4 + Math.ceil(last.length / 4) * 4;
  const [weights, grads, m, v] = start.map((b) => new Float32Array(buffer, b, n));
  return { weights, grads, m, v };
}

/** Fails when a batch does not fit the buffers (the trainer sizes them for its batch and evaluation chunks). */
function ensure(net: Net, rows: number, training: boolean): void {
  const max = training ? net.trainRows : net.capacity;
  if (rows > max) throw new Error(`fast path: a batch of ${rows} rows exceeds the ${max} the buffers hold`);
}

/** out[c, r] = x[r, c] for a rows x cols matrix. */
function transpose(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const xr = r * cols;
    for (let c = 0, o = r; c < cols; c++, o += rows) out[o] = x[xr + c];
  }
}

function applyAct(net: Net, act: Act, y: Float32Array, len: number): void {
  if (act === 'relu') net.conv.relu(y, len);
  else if (act === 'tanh') for (let i = 0; i < len; i++) y[i] = Math.tanh(y[i]);
  else if (act === 'sigmoid') for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
}

/** dy *= act'(.) from the activation's output y. */
function actGrad(net: Net, act: Act, y: Float32Array, dy: Float32Array, len: number): void {
  if (act === 'relu') net.conv.reluGrad(y, dy, len);
  else if (act === 'tanh') for (let i = 0; i < len; i++) dy[i] = f(dy[i] * f(1 - f(y[i] * y[i])));
  else if (act === 'sigmoid') for (let i = 0; i < len; i++) dy[i] = f(dy[i] * f(y[i] * f(1 - y[i])));
}

/** The kernel and bias of this step through their quantizers (per output channel, the last axis). */
function quantizeWeights(l: Dense | Conv, channels: number): void {
  if (l.kq) l.kq.forward(l.w, l.w.length, channels, l.wq);
  if (l.bq && l.b) l.bq.forward(l.b, l.b.length, channels, l.bqv!);
}

/**
 * The native GEMM when it is there and the product C [m, n] (k terms) is large enough; otherwise null. Products
 * with fewer than 16 rows or columns stay on the wasm kernels, which measured faster there (LeNet-5's first
 * convolution, 6 channels: 315 against 348 us forward, 353 against 479 us for dW).
 */
function native(net: Net, m: number, k: number, n: number): NativeBlas | null {
  if (!net.blas || !goesNative(m, k, n, net.nativeMinMacs)) return null;
  net.nativeRan = true;
  return net.blas;
}

/** Whether a product C [m, n] of k terms goes to the native GEMM (nativeMinMacs 0: every product). */
function goesNative(m: number, k: number, n: number, nativeMinMacs: number): boolean {
  return nativeMinMacs === 0 || (m * k * n >= nativeMinMacs && Math.min(m, n) >= 16);
}

/** y [m, n] = x [m, k] w [k, n] + b (null: none). */
function product(net: Net, x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array, m: number, k: number, n: number): void {
  const blas = native(net, m, k, n);
  if (blas) {
    // With a bias: y = the bias in every row (the SIMD product with no terms), then y += x w.
    if (b) net.gemm!.gemm(x, w, y, b, m, 0, n, k, n, n);
    blas.sgemm(net.memory!.buffer, false, false, m, n, k, x.byteOffset, k, w.byteOffset, n, b ? 1 : 0, y.byteOffset, n);
  } else if (net.gemm) net.gemm.gemm(x, w, y, b ?? net.zeros, m, k, n, k, n, n);
  else matmulBias(x, w, b, y, m, k, n);
}

/** dw [nIn, nOut] = x^T dy for x [rows, nIn], dy [rows, nOut]. */
function productTN(net: Net, x: Float32Array, dy: Float32Array, dw: Float32Array, rows: number, nIn: number, nOut: number): void {
  const blas = native(net, nIn, rows, nOut);
  if (blas) blas.sgemm(net.memory!.buffer, true, false, nIn, nOut, rows, x.byteOffset, nIn, dy.byteOffset, nOut, 0, dw.byteOffset, nOut);
  else if (net.gemm) net.gemm.gemmTN(x, dy, dw, nIn, rows, nOut);
  else matmulTN(x, dy, dw, rows, nIn, nOut);
}

/** dx [rows, nIn] = dy [rows, nOut] w^T for w [nIn, nOut] (wT: scratch for w transposed). */
function productNT(net: Net, dy: Float32Array, w: Float32Array, wT: Float32Array, dx: Float32Array, rows: number, nIn: number, nOut: number): void {
  const blas = native(net, rows, nOut, nIn);
  if (blas) blas.sgemm(net.memory!.buffer, false, true, rows, nIn, nOut, dy.byteOffset, nOut, w.byteOffset, nOut, 0, dx.byteOffset, nIn);
  else if (net.gemm) {
    transpose(w, nIn, nOut, wT);
    net.gemm.gemm(dy, wT, dx, net.zeros, rows, nOut, nIn, nOut, nIn, nIn);
  } else matmulNT(dy, w, dx, rows, nIn, nOut);
}

function forward(net: Net, rows: number, training: boolean, dropout: Rng | null): Float32Array {
  for (const [li, l] of net.layers.entries()) {
    const x = net.acts[li];
    const y = net.acts[li + 1];
    const len = rows * net.sizes[li + 1];
    switch (l.kind) {
      case 'dense': {
        let xin = x;
        if (l.iq) {
          l.iq.forward(x, rows * l.nIn, l.nIn, l.xq);
          xin = l.xq;
        }
        quantizeWeights(l, l.nOut);
        product(net, xin, l.wq, l.bqv, y, rows, l.nIn, l.nOut);
        applyAct(net, l.act, y, len);
        break;
      }
      case 'conv': {
        const g = l.g;
        let xin = x;
        if (l.iq) {
          l.iq.forward(x, rows * net.sizes[li], g.C, l.xq);
          xin = l.xq;
        }
        quantizeWeights(l, g.CO);
        // In training the batch is one tile (rows <= colSamples), so col keeps it for the backward pass.
        const P = g.OH * g.OW;
        for (let s0 = 0; s0 < rows; s0 += l.colSamples) {
          const ns = Math.min(l.colSamples, rows - s0);
          net.conv.im2col(xin, g, s0, ns, l.col);
          product(net, l.col, l.wq, l.bqv, y.subarray(s0 * P * g.CO, (s0 + ns) * P * g.CO), ns * P, g.K, g.CO);
        }
        applyAct(net, l.act, y, len);
        break;
      }
      case 'maxpool':
        if (isPool2x2(l.g)) net.conv.maxPool2x2(x, l.g, rows, y, training ? l.argmax : null);
        else maxPool(x, l.g, rows, y, training ? l.argmax : null);
        break;
      case 'batchnorm': {
        const C = l.n;
        if (!training) {
          const a = new Float64Array(C);
          const sh = new Float64Array(C);
          for (let j = 0; j < C; j++) {
            a[j] = (1 / Math.sqrt(l.variance[j] + l.epsilon)) * l.gamma[j];
            sh[j] = l.beta[j] - l.mean[j] * a[j];
          }
          for (let i = 0; i < len; i += C) for (let j = 0; j < C; j++) y[i + j] = x[i + j] * a[j] + sh[j];
          break;
        }
        net.bn.forward(x, l.gamma, l.beta, l.epsilon, len, C, y, l.batchMean, l.batchVar);
        // tfjs BatchNormalization's moving averages: m -= (m - batch statistic) (1 - momentum), biased variance.
        const mom = 1 - l.momentum;
        for (let j = 0; j < C; j++) {
          l.mean[j] = l.mean[j] - f(f(l.mean[j] - l.batchMean[j]) * mom);
          l.variance[j] = l.variance[j] - f(f(l.variance[j] - l.batchVar[j]) * mom);
        }
        break;
      }
      case 'dropout': {
        if (!training || !dropout || !(l.rate! > 0)) {
          y.set(x.subarray(0, len));
          break;
        }
        const keep = 1 / (1 - l.rate!);
        for (let i = 0; i < len; i++) {
          const m = dropout.next() >= l.rate! ? keep : 0;
          l.mask![i] = m;
          y[i] = x[i] * m;
        }
        break;
      }
      case 'act':
        y.set(x.subarray(0, len));
        applyAct(net, l.act!, y, len);
        break;
      case 'quantize':
        l.q!.forward(x, len, l.channels!, y);
        break;
      case 'hardtanh':
        for (let i = 0; i < len; i++) {
          const v = f(x[i] - l.shift!);
          y[i] = v < -1 ? -1 : v > 1 ? 1 : v;
        }
        break;
      default:
        y.set(x.subarray(0, len));
    }
  }
  return net.acts[net.layers.length];
}

/** Back-propagates net.deltas[last] (dLoss/dlogits), filling the trainable gradients. */
function backward(net: Net, rows: number): void {
  for (let li = net.layers.length - 1; li >= 0; li--) {
    const l = net.layers[li];
    const x = net.acts[li];
    const y = net.acts[li + 1];
    const dy = net.deltas[li + 1];
    const dx = net.deltas[li];
    const len = rows * net.sizes[li + 1];
    const needDx = li > 0;
    switch (l.kind) {
      case 'dense':
      case 'conv': {
        // Rows of the product (P) and its input width (nIn): rows x nIn for dense, positions x KH KW C for conv.
        const conv = l.kind === 'conv';
        const nOut = conv ? l.g.CO : l.nOut;
        const nIn = conv ? l.g.K : l.nIn;
        const P = conv ? rows * l.g.OH * l.g.OW : rows;
        actGrad(net, l.act, y, dy, len);
        const xin = conv ? l.col : l.iq ? l.xq : x;
        // dW = x^T dy (the quantized kernel's gradient, then through the kernel quantizer's rule)
        productTN(net, xin, dy, l.dw, P, nIn, nOut);
        if (l.kq) l.kq.backward(l.dw, l.w, l.w.length, nOut, l.dw);
        if (l.db) {
          // db = 1^T dy: the column sums as a product with a row of ones (float64 loop without SIMD)
          if (net.gemm) net.gemm.gemmTN(net.ones, dy, l.db, 1, P, nOut);
          else biasGrad(dy, P, nOut, l.db, net.sums);
          if (l.bq) l.bq.backward(l.db, l.b!, l.b!.length, nOut, l.db);
        }
        if (needDx) {
          // dx = dy W^T; a convolution's goes to its col rows (no longer needed) and back to the image.
          productNT(net, dy, l.wq, l.wT, conv ? l.col : dx, P, nIn, nOut);
          if (conv) net.conv.col2im(l.col, l.g, rows, dx);
          if (l.iq) l.iq.backward(dx, x, rows * net.sizes[li], conv ? l.g.C : nIn, dx);
        }
        break;
      }
      case 'maxpool':
        if (needDx) net.conv.maxPoolGrad(dy, l.argmax, len, dx, rows * net.sizes[li]);
        break;
      case 'batchnorm':
        net.bn.backward(dy, x, l.gamma, l.batchMean, l.batchVar, l.epsilon, len, l.n, needDx ? dx : null, l.dgamma, l.dbeta);
        break;
      case 'dropout':
        if (needDx) {
          if (l.rate! > 0) for (let i = 0; i < len; i++) dx[i] = dy[i] * l.mask![i];
          else dx.set(dy.subarray(0, len));
        }
        break;
      case 'act':
        if (!needDx) break;
        actGrad(net, l.act!, y, dy, len);
        dx.set(dy.subarray(0, len));
        break;
      case 'quantize':
        if (needDx) l.q!.backward(dy, x, len, l.channels!, dx);
        break;
      case 'hardtanh':
        if (needDx) {
          for (let i = 0; i < len; i++) {
            const v = f(x[i] - l.shift!);
            dx[i] = v >= -1 && v <= 1 ? dy[i] : 0;
          }
        }
        break;
      default:
        if (needDx) dx.set(dy.subarray(0, len));
    }
  }
}

/** Copies rows order[start..end) (or start..end) of `ds` into the input buffer; fills the one-hot targets and labels. */
function load(net: Net, ds: Dataset, order: Int32Array | null, start: number, end: number, head: Head): void {
  const d = sampleSize(ds);
  const rows = end - start;
  const x = net.acts[0];
  const src = ds.x;
  const k = net.sizes[net.sizes.length - 1];
  const t = net.target;
  t.fill(0, 0, rows * k);
  if (order) {
    // Shuffled rows are scattered over the dataset: read the first and last value of each row (and its label)
    // first, so that their cache misses overlap instead of coming one row after another in the copy below
    // (measured on mlp-train: 41-50 -> 22-30 us a step).
    let touched = 0;
    for (let i = start; i < end; i++) {
      const from = order[i] * d;
      touched += src[from] + src[from + d - 1] + ds.y[order[i]];
    }
    net.touched = touched;
  }
  for (let i = 0; i < rows; i++) {
    const r = order ? order[start + i] : start + i;
    for (let j = 0, from = r * d, to = i * d; j < d; j++) x[to + j] = src[from + j];
    const label = ds.y[r];
    net.labels[i] = label;
    if (head === 'sigmoid') t[i] = label;
    else if (label >= 0 && label < k) t[i * k + label] = 1;
  }
}

/**
 * Mean loss of the logits for the head's link (as `lossOf` in src/train/batches.ts) and, when `grad`, the
 * gradient (softmax(x) - t) / B, or (sigmoid(x) - t) / B, into `grad`. Also counts the rows whose predicted
 * class (the first largest logit, or logit > 0) is their label.
 */
function lossAndGrad(head: Head, logits: Float32Array, t: Float32Array, labels: Int32Array, rows: number, k: number, grad: Float32Array | null, e: Float64Array): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  if (head === 'sigmoid') {
    for (let i = 0; i < rows; i++) {
      const x = logits[i];
      loss += Math.max(x, 0) - x * t[i] + Math.log1p(Math.exp(-Math.abs(x)));
      if (grad) grad[i] = (1 / (1 + Math.exp(-x)) - t[i]) / rows;
      if ((x > 0 ? 1 : 0) === labels[i]) correct++;
    }
    return { loss: loss / rows, correct };
  }
  for (let i = 0; i < rows; i++) {
    const o = i * k;
    let mx = logits[o];
    let best = 0;
    for (let j = 1; j < k; j++) {
      if (logits[o + j] > mx) {
        mx = logits[o + j];
        best = j;
      }
    }
    if (best === labels[i]) correct++;
    let s = 0;
    for (let j = 0; j < k; j++) s += e[j] = Math.exp(logits[o + j] - mx);
    const logS = Math.log(s);
    for (let j = 0; j < k; j++) {
      if (t[o + j] !== 0) loss -= (logits[o + j] - mx - logS) * t[o + j];
      if (grad) grad[o + j] = (e[j] / s - t[o + j]) / rows;
    }
  }
  return { loss: loss / rows, correct };
}

/** Inference-mode loss and accuracy on `ds`, in chunks of the network's capacity. */
function evaluateNet(net: Net, ds: Dataset, head: Head): { loss: number; accuracy: number } {
  const batchSize = net.capacity;
  const n = ds.y.length;
  if (n === 0) throw new Error(`evaluate: dataset ${ds.id} is empty`);
  const k = net.sizes[net.sizes.length - 1];
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    load(net, ds, null, s, e, head);
    const r = lossAndGrad(head, forward(net, e - s, false, null), net.target, net.labels, e - s, k, null, net.exps);
    lossSum += f(r.loss) * (e - s);
    correct += r.correct;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/**
 * A `Trainee` on the fast path for `model`'s architecture `arch`: starts from the model's current weights and
 * trains copies of them; `writeBack()` puts the trained weights into the model (for export and `weights`).
 */
export function fastTrainee(
  arch: Architecture,
  model: LayersModel,
  o: { optimizer: OptimizerConfig; head: Head; batchSize: number; kernels?: FastKernels; /** Tests: the least multiply-adds of a native product; 0 sends every product there. */ nativeMinMacs?: number },
): Trainee & { writeBack(): void; /** The kernels that have run so far. */ readonly kernels: KernelsUsed; /** The native GEMM's configuration and threads, once it has run. */ readonly blas?: string } {
  const net = compile(arch, model, o.batchSize, o.kernels ?? 'auto', o.nativeMinMacs);
  const gemm = net.gemm;
  const optimizer = createArrayOptimizer(o.optimizer, { slots: net.slots, adamKernel: gemm ? (...a) => gemm.adam(...a) : undefined, fused: fusedSpans(net) ?? undefined });
  const k = net.sizes[net.sizes.length - 1];
  const setAll = (values: (Float32Array | Int32Array)[]) => {
    checkWeightSizes(values, net.weights.map((w) => w.length));
    values.forEach((v, i) => net.weights[i].set(v));
  };
  return {
    step(train, order, s, e, lr, dropout) {
      const rows = e - s;
      ensure(net, rows, true);
      load(net, train, order, s, e, o.head);
      const logits = forward(net, rows, true, dropout);
      const r = lossAndGrad(o.head, logits, net.target, net.labels, rows, k, net.deltas[net.layers.length], net.exps);
      backward(net, rows);
      optimizer.apply(net.trainable, net.grads, lr);
      return { loss: f(r.loss), correct: r.correct };
    },
    evaluate: (ds) => evaluateNet(net, ds, o.head),
    readWeights: () => net.weights.map((w) => Float32Array.from(w)),
    writeWeights: setAll,
    optimizerState: () => optimizer.getState(),
    setOptimizerState: (state) => optimizer.setState(state, net.trainable.map((t) => t.length)),
    dispose: () => undefined,
    modelHooks: false,
    writeBack: () => writeWeights(model, net.weights),
    get kernels(): KernelsUsed {
      return net.nativeRan ? 'simd+openblas' : net.gemm ? 'simd' : 'js';
    },
    get blas() {
      return net.nativeRan && net.blas ? `${net.blas.config}; ${net.blas.threads} OpenBLAS thread(s), products cut in ${net.blas.parts}` : undefined;
    },
  };
}
