/**
 * The fast path: the kit's own trainer for the seeds' small fully connected networks (seed 000's MLPs and
 * their NAS candidates, seed 004's dense heads). Same model description (`Architecture`), same initial weights
 * (taken from the tfjs model `buildModel` made), same loss, optimiser rules, shuffles and training loop
 * (`fitTrainee`), but forward and backward passes are loops over preallocated float32 arrays instead of a few
 * hundred tfjs kernel calls per step. For networks this small a step is bound by per-op overhead, not
 * arithmetic (../shared/notes/engine-performance.md), so this is where the speed comes from.
 *
 * What it takes (`fastPathSupport` says why not otherwise): vector inputs (or `flatten` first), dense layers
 * (any activation but softmax, kernel / bias / input quantizers of the kinds in src/fast/quantizers.ts),
 * batchnorm, dropout, activation, quantize and hardtanh layers. Not: convolutions, pooling, residual blocks,
 * clustering, pruning masks, gradient quantization, training hooks (the tfjs path runs those).
 *
 * Differences from the tfjs path, by design: sums accumulate in float64 and round to float32 once (tfjs
 * rounds every partial sum), so values agree within a tolerance, not bit for bit (tested per quantizer
 * family); dropout masks are drawn from the same `dropout:<epoch>` stream but in this trainer's own order.
 * Same spec on this path: identical bits.
 */
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs';
import type { Rng } from '../engine/random.js';
import { WA } from '../engine/wasm-writer.js';
import { sampleSize, type Dataset } from '../data/types.js';
import { type Architecture, type Head, type LayerSpec, describeLayers, layerName } from '../models/arch.js';
import { BATCHNORM_DEFAULTS } from '../models/build.js';
import { createArrayOptimizer, type OptimizerConfig } from '../train/optimizers.js';
import { type Trainee, writeWeights } from '../train/fit.js';
import { type ArrayQuantizer, fastQuantizer, fastQuantizerSupported } from './quantizers.js';
import { matmulBias, matmulNT, matmulTN } from './kernels.js';
import { createGemm, WASM_GEMM_AVAILABLE, type Gemm } from './simd.js';

const f = Math.fround;

/** Rows per evaluation chunk (at least; a larger training batch raises it). */
const EVAL_CHUNK = 500;

type Act = 'linear' | 'relu' | 'tanh' | 'sigmoid';

/** Why the fast path cannot train `arch`, or null when it can. */
export function fastPathSupport(arch: Architecture): string | null {
  // Elementwise layers take any shape; dense and batchnorm need vectors (the input, or after a flatten).
  let vector = arch.input.length === 1;
  for (const [i, l] of arch.layers.entries()) {
    const where = `layer ${layerName(l, i)}`;
    const needVector = () => (vector ? null : `${where}: ${l.kind} on input [${arch.input}] without a flatten before it`);
    switch (l.kind) {
      case 'dense': {
        if (l.activation === 'softmax') return `${where}: softmax activation`;
        if (l.clusters || l.prune || l.gradBits) return `${where}: clustering, pruning or gradient quantization`;
        for (const q of [l.kernelQuantizer, l.biasQuantizer, l.inputQuantizer]) if (!fastQuantizerSupported(q)) return `${where}: quantizer ${q!.kind}`;
        const v = needVector();
        if (v) return v;
        break;
      }
      case 'batchnorm': {
        const v = needVector();
        if (v) return v;
        break;
      }
      case 'activation':
        if (l.fn === 'softmax') return `${where}: softmax activation`;
        break;
      case 'quantize':
        if (!fastQuantizerSupported(l.quantizer)) return `${where}: quantizer ${l.quantizer.kind}`;
        break;
      case 'flatten':
        vector = true;
        break;
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
  /** Scratch for the transposed input (for dW) and transposed kernel (for dx). */
  xT: Float32Array;
  wT: Float32Array;
}
interface BatchNorm {
  kind: 'batchnorm';
  n: number;
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  momentum: number;
  epsilon: number;
  xhat: Float32Array;
  invStd: Float64Array;
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
type Layer = Dense | BatchNorm | Elementwise;

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
  capacity: number;
  acts: Float32Array[];
  deltas: Float32Array[];
  target: Float32Array;
  labels: Int32Array;
  /** Scratch for one row's exponentials in the loss. */
  exps: Float64Array;
  /** A zero bias for products without one. */
  zeros: Float32Array;
  /** The SIMD products (null: the JavaScript kernels). */
  gemm: Gemm | null;
}

function activationOf(a: string | undefined): Act {
  return (a ?? 'linear') as Act;
}

type Alloc = (n: number) => Float32Array;

/**
 * Compiles `arch` over the weights of `model` (built by buildModel from the same architecture) for batches of
 * up to `capacity` rows. Every array the steps touch is allocated once, here, in one WebAssembly memory (so the
 * SIMD products of src/fast/simd.ts can read them); without wasm SIMD they are plain arrays and the
 * JavaScript kernels of src/fast/kernels.ts run instead.
 */
function compile(arch: Architecture, model: LayersModel, capacity: number, simd: boolean): Net {
  const why = fastPathSupport(arch);
  if (why) throw new Error(`fast path: ${why}`);
  // Pass 1 counts the bytes, pass 2 allocates them in a memory of that size (growing a memory would detach
  // every view of it).
  let bytes = 0;
  build(arch, model, capacity, (n) => {
    bytes += Math.ceil((4 * n) / 16) * 16;
    return new Float32Array(n);
  });
  const memory = simd && WASM_GEMM_AVAILABLE && WA ? new WA.Memory({ initial: Math.ceil((bytes + 16) / 65536) }) : null;
  let offset = 0;
  const alloc: Alloc = memory
    ? (n) => {
        const v = new Float32Array(memory.buffer, offset, n);
        offset += Math.ceil((4 * n) / 16) * 16;
        return v;
      }
    : (n) => new Float32Array(n);
  const net = build(arch, model, capacity, alloc);
  net.gemm = memory ? createGemm(memory) : null;
  return net;
}

function build(arch: Architecture, model: LayersModel, capacity: number, alloc: Alloc): Net {
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
  const grads = new Map<Float32Array, Float32Array>();
  const gradOf = (a: Float32Array) => {
    const g = alloc(a.length);
    grads.set(a, g);
    return g;
  };
  const role = (i: number, name: string): Float32Array | null => {
    const v = (model.layers[i].weights as LayerVariable[]).find((w) => new RegExp(`/${name}(_\\d+)?$`).test(w.originalName));
    return v ? byVar.get(v)! : null;
  };
  const sizes = [infos[0].inputShape.reduce((a, b) => a * b, 1), ...infos.map((l) => l.outputShape.reduce((a, b) => a * b, 1))];
  const rows = capacity;
  const layers: Layer[] = arch.layers.map((spec: LayerSpec, i): Layer => {
    const n = sizes[i + 1];
    switch (spec.kind) {
      case 'dense': {
        const w = role(i, 'kernel')!;
        const b = role(i, 'bias');
        const nIn = sizes[i];
        return {
          kind: 'dense', nIn, nOut: n, w, b, dw: gradOf(w), db: b && gradOf(b), act: activationOf(spec.activation),
          kq: spec.kernelQuantizer ? fastQuantizer(spec.kernelQuantizer) : null,
          bq: spec.biasQuantizer ? fastQuantizer(spec.biasQuantizer) : null,
          iq: spec.inputQuantizer ? fastQuantizer(spec.inputQuantizer) : null,
          wq: spec.kernelQuantizer ? alloc(w.length) : w,
          bqv: b && spec.biasQuantizer ? alloc(b.length) : b,
          xq: spec.inputQuantizer ? alloc(rows * nIn) : new Float32Array(0),
          xT: alloc(rows * nIn),
          wT: alloc(w.length),
        };
      }
      case 'batchnorm': {
        const gamma = role(i, 'gamma')!;
        const beta = role(i, 'beta')!;
        return {
          kind: 'batchnorm', n, gamma, beta, mean: role(i, 'moving_mean')!, variance: role(i, 'moving_variance')!,
          dgamma: gradOf(gamma), dbeta: gradOf(beta),
          momentum: spec.momentum ?? BATCHNORM_DEFAULTS.momentum, epsilon: spec.epsilon ?? BATCHNORM_DEFAULTS.epsilon,
          xhat: alloc(rows * n), invStd: new Float64Array(n),
        };
      }
      case 'activation':
        return { kind: 'act', n, act: activationOf(spec.fn) };
      case 'quantize':
        return { kind: 'quantize', n, channels: infos[i].outputShape[infos[i].outputShape.length - 1], q: fastQuantizer(spec.quantizer)! };
      case 'hardtanh':
        return { kind: 'hardtanh', n, shift: spec.shift };
      case 'dropout':
        return { kind: 'dropout', n, rate: spec.rate, mask: alloc(rows * n) };
      default:
        return { kind: 'flatten', n };
    }
  });
  const trainable = trainables.map((v) => byVar.get(v)!);
  return {
    layers, sizes, weights, trainable, grads: trainable.map((t) => grads.get(t)!),
    slots: trainable.map((t) => [alloc(t.length), alloc(t.length)]),
    capacity: rows,
    acts: sizes.map((sz) => alloc(rows * sz)),
    deltas: sizes.map((sz) => alloc(rows * sz)),
    target: alloc(rows * sizes[sizes.length - 1]),
    labels: new Int32Array(rows),
    exps: new Float64Array(sizes[sizes.length - 1]),
    zeros: alloc(Math.max(...sizes) + 8),
    gemm: null,
  };
}

/** Fails when a batch does not fit the buffers (the trainer sizes them for its batch and evaluation chunks). */
function ensure(net: Net, rows: number): void {
  if (rows > net.capacity) throw new Error(`fast path: a batch of ${rows} rows exceeds the ${net.capacity} the buffers hold`);
}

/** out[c, r] = x[r, c] for a rows x cols matrix. */
function transpose(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const xr = r * cols;
    for (let c = 0, o = r; c < cols; c++, o += rows) out[o] = x[xr + c];
  }
}

function applyAct(act: Act, y: Float32Array, len: number): void {
  if (act === 'relu') for (let i = 0; i < len; i++) y[i] = y[i] > 0 ? y[i] : 0;
  else if (act === 'tanh') for (let i = 0; i < len; i++) y[i] = Math.tanh(y[i]);
  else if (act === 'sigmoid') for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
}

/** dy *= act'(.) from the activation's output y. */
function actGrad(act: Act, y: Float32Array, dy: Float32Array, len: number): void {
  if (act === 'relu') for (let i = 0; i < len; i++) dy[i] = y[i] > 0 ? dy[i] : 0;
  else if (act === 'tanh') for (let i = 0; i < len; i++) dy[i] = f(dy[i] * f(1 - f(y[i] * y[i])));
  else if (act === 'sigmoid') for (let i = 0; i < len; i++) dy[i] = f(dy[i] * f(y[i] * f(1 - y[i])));
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
        if (l.kq) l.kq.forward(l.w, l.w.length, l.nOut, l.wq);
        if (l.bq && l.b) l.bq.forward(l.b, l.b.length, l.nOut, l.bqv!);
        if (net.gemm) net.gemm.gemm(xin, l.wq, y, l.bqv ?? net.zeros, rows, l.nIn, l.nOut, l.nIn, l.nOut, l.nOut);
        else matmulBias(xin, l.wq, l.bqv, y, rows, l.nIn, l.nOut);
        applyAct(l.act, y, len);
        break;
      }
      case 'batchnorm': {
        const n = l.n;
        if (!training) {
          for (let j = 0; j < n; j++) l.invStd[j] = 1 / Math.sqrt(l.variance[j] + l.epsilon);
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < n; j++) y[r * n + j] = (x[r * n + j] - l.mean[j]) * l.invStd[j] * l.gamma[j] + l.beta[j];
          }
          break;
        }
        const mom = 1 - l.momentum;
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += x[r * n + j];
          const mean = s / rows;
          let v = 0;
          for (let r = 0; r < rows; r++) {
            const d = x[r * n + j] - mean;
            v += d * d;
          }
          const variance = v / rows;
          const inv = 1 / Math.sqrt(f(variance) + l.epsilon);
          l.invStd[j] = inv;
          for (let r = 0; r < rows; r++) {
            const xh = f((x[r * n + j] - mean) * inv);
            l.xhat[r * n + j] = xh;
            y[r * n + j] = xh * l.gamma[j] + l.beta[j];
          }
          // tfjs BatchNormalization's moving averages: m -= (m - batch statistic) (1 - momentum), biased variance.
          l.mean[j] = l.mean[j] - f(f(l.mean[j] - f(mean)) * mom);
          l.variance[j] = l.variance[j] - f(f(l.variance[j] - f(variance)) * mom);
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
        applyAct(l.act!, y, len);
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
      case 'dense': {
        const { nIn, nOut } = l;
        actGrad(l.act, y, dy, len);
        const xin = l.iq ? l.xq : x;
        // dW = x^T dy (the quantized kernel's gradient, then through the kernel quantizer's rule)
        const dwq = l.dw;
        if (net.gemm) {
          transpose(xin, rows, nIn, l.xT);
          net.gemm.gemm(l.xT, dy, dwq, net.zeros, nIn, rows, nOut, rows, nOut, nOut);
        } else matmulTN(xin, dy, dwq, rows, nIn, nOut);
        if (l.kq) l.kq.backward(dwq, l.w, l.w.length, nOut, dwq);
        if (l.db) {
          l.db.fill(0);
          for (let r = 0; r < rows; r++) for (let o = 0; o < nOut; o++) l.db[o] += dy[r * nOut + o];
          if (l.bq) l.bq.backward(l.db, l.b!, l.b!.length, nOut, l.db);
        }
        if (needDx) {
          if (net.gemm) {
            transpose(l.wq, nIn, nOut, l.wT);
            net.gemm.gemm(dy, l.wT, dx, net.zeros, rows, nOut, nIn, nOut, nIn, nIn);
          } else matmulNT(dy, l.wq, dx, rows, nIn, nOut);
          if (l.iq) l.iq.backward(dx, x, rows * nIn, nIn, dx);
        }
        break;
      }
      case 'batchnorm': {
        const n = l.n;
        for (let j = 0; j < n; j++) {
          let sdy = 0;
          let sdyx = 0;
          for (let r = 0; r < rows; r++) {
            const d = dy[r * n + j];
            sdy += d;
            sdyx += d * l.xhat[r * n + j];
          }
          l.dbeta[j] = sdy;
          l.dgamma[j] = sdyx;
          if (!needDx) continue;
          // dx = gamma invStd / B (B dy - sum dy - xhat sum(dy xhat))
          const k = (l.gamma[j] * l.invStd[j]) / rows;
          for (let r = 0; r < rows; r++) dx[r * n + j] = k * (rows * dy[r * n + j] - sdy - l.xhat[r * n + j] * sdyx);
        }
        break;
      }
      case 'dropout':
        if (needDx) {
          if (l.rate! > 0) for (let i = 0; i < len; i++) dx[i] = dy[i] * l.mask![i];
          else dx.set(dy.subarray(0, len));
        }
        break;
      case 'act':
        if (needDx) {
          actGrad(l.act!, y, dy, len);
          dx.set(dy.subarray(0, len));
        }
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

/** Inference-mode loss and accuracy on `ds` (batches of `batchSize`). */
function evaluateNet(net: Net, ds: Dataset, head: Head): { loss: number; accuracy: number } {
  const batchSize = net.capacity;
  const n = ds.y.length;
  if (n === 0) throw new Error(`evaluate: dataset ${ds.id} is empty`);
  ensure(net, Math.min(n, batchSize));
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
  o: { optimizer: OptimizerConfig; head: Head; batchSize: number; /** `js`: the JavaScript kernels even where wasm SIMD runs (tests). */ kernels?: 'auto' | 'js' },
): Trainee & { writeBack(): void; kernels: 'simd' | 'js' } {
  // Evaluation runs in chunks of this many rows too (a function of the spec, so results stay reproducible).
  const net = compile(arch, model, Math.max(o.batchSize, EVAL_CHUNK), o.kernels !== 'js');
  const gemm = net.gemm;
  const optimizer = createArrayOptimizer(o.optimizer, { slots: net.slots, adamKernel: gemm ? (...a) => gemm.adam(...a) : undefined });
  const k = net.sizes[net.sizes.length - 1];
  const setAll = (values: (Float32Array | Int32Array)[]) => {
    if (values.length !== net.weights.length) throw new Error(`checkpoint has ${values.length} weight tensors, the model has ${net.weights.length}`);
    values.forEach((v, i) => {
      if (v.length !== net.weights[i].length) throw new Error(`checkpoint weight ${i} has ${v.length} values, the model needs ${net.weights[i].length}`);
      net.weights[i].set(v);
    });
  };
  return {
    step(train, order, s, e, lr, dropout) {
      const rows = e - s;
      ensure(net, rows);
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
    writeBack: () => writeWeights(model, net.weights),
    kernels: net.gemm ? 'simd' : 'js',
  };
}
