/**
 * Integer export of a quantized model and an integer-only reference inference over the export.
 *
 * For every conv2d/dense layer: x~ = s_in (q_in - z_in) and W~ = s_w[c] q_w with integer codes, so the layer
 * computes acc[c] = sum q_w (q_in - z_in) + q_b exactly in integers (q_b = round(b / (s_in s_w[c]))). Everything
 * between this layer and the next quantizer (batchnorm, ReLU, sign / ReSTE / uniform activation quantizers,
 * max-pooling, flatten) is folded into a per-channel requantization of acc to the next layer's input codes:
 * - affine or uniform codes: q = clamp(floor((acc * m0 + o + 2^(e-1)) / 2^e), lo, hi), a fixed-point multiplier
 *   m0 / 2^e and offset o (TFLite's scheme; ReLU raises lo to the zero point);
 * - sign codes: q = +1 where acc >= T (or <= T when the folded scale is negative), else -1.
 * Max-pooling commutes with these monotone maps, so it runs on the codes. The last layer's accumulators are
 * dequantized to logits (the only floating-point step). Supported kernel quantizers: binary, ternary, affine
 * (symmetric), the reference n-bit, seed 004's scaled-uniform, fixed point, ReCU, and any of these on top of
 * cluster centroids; inputs must be quantized (a static affine range, sign/ReSTE or uniform activations).
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/backend.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { isQuantLayer, QuantActivation, type QuantLayer, QuantConv2D } from '../quant/layers.js';
import { type InputCoding, QUANTIZER_KIND_NAMES, QUANTIZER_KINDS, QUANTIZER_OPS, quantizerCodes, quantizerOps, type QuantizerConfig } from '../quant/quantizers.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import type { Architecture } from '../models/arch.js';
import { buildModel } from '../models/build.js';
import type { Dataset } from '../data/types.js';
import { calibrate, staticInputQuantizers, transferWeights } from './ptq.js';
import { KitError } from '../util/errors.js';

/** How the next layer reads this layer's output: codes of an affine/uniform quantizer, signs, or final logits. */
export type Requant =
  | { kind: 'affine'; m0: number[]; shift: number[]; offset: string[]; lo: number; hi: number; codeScale: number; codeOffset: number }
  | { kind: 'sign'; threshold: number[]; positive: boolean[]; constant: (number | null)[] }
  | { kind: 'logits'; scale: number[]; offset: number[] };

export interface ExportedLayer {
  name: string;
  op: 'conv2d' | 'dense';
  inputShape: number[];
  outputShape: number[];
  kernelShape: number[];
  strides: number;
  padding: 'valid' | 'same';
  weightBits: number;
  /** Integer weight codes, flattened in the kernel's layout ([kh, kw, in, out] or [in, out]). */
  weights: number[];
  /** Per-output-channel real scale of a weight code. */
  weightScale: number[];
  inputScale: number;
  inputZero: number;
  /** Integer bias in accumulator units. */
  bias: number[];
  requant: Requant;
  /** Max-pooling applied to the codes after requantization. */
  pool: { size: number; stride: number } | null;
  flattenAfter: boolean;
}

export interface ExportedModel {
  format: 'tck-integer-v1';
  name: string;
  inputShape: number[];
  /** Quantization of the model input (from the first layer's input quantizer). */
  input: { scale: number; zero: number; qmin: number; qmax: number };
  layers: ExportedLayer[];
  classes: number;
}

export class ExportError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

type Codes = { codes: Float32Array; scale: Float64Array; bits: number };

/** The weight quantizers with integer codes. */
const KERNEL_KINDS = QUANTIZER_KIND_NAMES.filter((k) => QUANTIZER_OPS[k].codes && QUANTIZER_KINDS[k].family !== 'activation');

/** Integer codes and per-channel scales of a layer's effective kernel (the layer's own `quantizerCodes`). */
function kernelCodes(layer: QuantLayer): Codes {
  const q = layer.quantizers.kernel;
  const raw = layer.rawKernel();
  const channels = raw.shape[raw.shape.length - 1];
  const c = quantizerCodes(q, raw);
  raw.dispose();
  if (!c) throw new ExportError(`layer ${layer.name}: kernel quantizer ${q.kind} has no integer codes (use ${KERNEL_KINDS.slice(0, -1).join(', ')} or ${KERNEL_KINDS.at(-1)})`);
  if (c.zero.dataSync()[0] !== 0) throw new ExportError(`layer ${layer.name}: export needs weights with zero point 0 (symmetric)`);
  const sv = c.scale.dataSync();
  const out = { codes: Float32Array.from(c.codes.dataSync()), scale: sv.length === 1 ? new Float64Array(channels).fill(sv[0]) : Float64Array.from(sv), bits: c.bits };
  [c.codes, c.scale, c.zero].forEach((t) => t.dispose());
  return out;
}

/** The integer coding of a model's input or an activation (`QUANTIZER_OPS[kind].inputCoding`). */
function inputCoding(q: QuantizerConfig, where: string): InputCoding {
  const coding = quantizerOps(q).inputCoding;
  if (!coding) throw new ExportError(`${where}: input quantizer ${q.kind} cannot be exported as integers`);
  const c = coding(q);
  if (!c) throw new ExportError(`${where}: the input quantizer needs a static range (calibrate, e.g. with staticInputQuantizers) to be exported`);
  return c;
}

/** Scale and zero of the codes an input coding produces (what the consuming layer multiplies with). */
function codeUnits(c: InputCoding): { scale: number; zero: number } {
  if (c.kind === 'sign') return { scale: 1, zero: 0 };
  return { scale: c.unit, zero: c.codeScale === 1 ? c.zero : 0 };
}

/** m = m0 / 2^e with |m0| in [2^30, 2^31). */
function fixedPoint(m: number): { m0: number; e: number } {
  if (m === 0 || !Number.isFinite(m)) return { m0: 0, e: 0 };
  const e = Math.max(0, 30 - Math.floor(Math.log2(Math.abs(m))));
  return { m0: Math.round(m * 2 ** e), e };
}

interface Segment {
  layer: QuantLayer;
  bn: { a: Float64Array; b: Float64Array } | null;
  relu: boolean;
  quantAct: QuantizerConfig | null;
  pool: { size: number; stride: number } | null;
  flatten: boolean;
}

function bnFold(l: { getWeights(): Tensor[]; getConfig(): Record<string, unknown> }): { a: Float64Array; b: Float64Array } {
  const [gamma, beta, mean, variance] = l.getWeights().map((w) => Float64Array.from(w.dataSync()));
  const eps = Number(l.getConfig().epsilon);
  const a = Float64Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + eps));
  return { a, b: Float64Array.from(beta, (bt, i) => bt - a[i] * mean[i]) };
}

/** Splits the model into quantized layers, each with the float ops that follow it. */
function segments(model: LayersModel): Segment[] {
  const out: Segment[] = [];
  let cur: Segment | null = null;
  for (const l of model.layers) {
    const cls = l.getClassName();
    const where = `layer ${l.name} (${cls})`;
    if (isQuantLayer(l)) {
      cur = { layer: l, bn: null, relu: false, quantAct: null, pool: null, flatten: false };
      if ((l.getConfig() as { activation?: string }).activation === 'relu') cur.relu = true;
      out.push(cur);
      continue;
    }
    if (!cur) throw new ExportError(`${where}: the model must start with a quantized conv2d/dense layer (build it with quantizers)`);
    if (cls === 'BatchNormalization') {
      if (cur.relu || cur.quantAct || cur.pool) throw new ExportError(`${where}: batchnorm after an activation or pooling is not supported`);
      cur.bn = bnFold(l as never);
    } else if (cls === 'Activation') {
      const a = (l.getConfig() as { activation: string }).activation;
      if (a === 'relu') cur.relu = true;
      else if (a !== 'linear') throw new ExportError(`${where}: activation ${a} cannot be exported`);
    } else if (l instanceof QuantActivation) {
      cur.quantAct = l.quantizer;
    } else if (cls === 'MaxPooling2D') {
      const c = l.getConfig() as { poolSize: number[]; strides: number[]; padding: string };
      if (c.padding !== 'valid') throw new ExportError(`${where}: only 'valid' max-pooling is supported`);
      cur.pool = { size: c.poolSize[0], stride: c.strides[0] };
    } else if (cls === 'Flatten') {
      cur.flatten = true;
    } else if (cls !== 'Dropout') {
      throw new ExportError(`${where}: layer type ${cls} cannot be exported`);
    }
  }
  if (out.length === 0) throw new ExportError('the model has no quantized conv2d/dense layer');
  return out;
}

/**
 * A trained model made exportable: every conv2d/dense layer whose input is not already quantized (the model
 * input, layers after ReLU) gets a static affine `bits`-bit input quantizer calibrated on `representative`
 * (TFLite's full-integer recipe); kernel quantizers and weights stay as trained. Returns a new model (the caller
 * disposes both).
 */
export function exportableModel(model: LayersModel, arch: Architecture, representative: Dataset, bits = 8): { arch: Architecture; model: LayersModel } {
  const qArch = staticInputQuantizers(arch, calibrate(model, representative), bits);
  const qModel = buildModel(qArch, { seed: 0 });
  transferWeights(model, qModel);
  return { arch: qArch, model: qModel };
}

/** Builds the integer export of a quantized tfjs model. */
export function exportModel(model: LayersModel, name = model.name): ExportedModel {
  const segs = segments(model);
  const first = segs[0].layer.quantizers.input;
  const inCoding = inputCoding(first, `layer ${segs[0].layer.name}`);
  if (inCoding.kind !== 'affine' || inCoding.codeScale !== 1) throw new ExportError(`layer ${segs[0].layer.name}: the model input needs an affine input quantizer`);
  const inQuant = inCoding;
  const layers: ExportedLayer[] = [];
  let coding: InputCoding = inCoding;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    const l = s.layer;
    const k = kernelCodes(l);
    const channels = k.scale.length;
    const units = codeUnits(coding);
    const accScale = Float64Array.from(k.scale, (sw) => units.scale * sw);
    const bT = l.effectiveBias();
    const bias = bT ? Array.from(bT.dataSync(), (b, c) => Math.round(b / accScale[c])) : new Array(channels).fill(0);
    bT?.dispose();
    // The real value after batchnorm: z = A acc + B.
    const A = Float64Array.from(accScale, (sc, c) => (s.bn ? s.bn.a[c] : 1) * sc);
    const B = Float64Array.from({ length: channels }, (_, c) => (s.bn ? s.bn.b[c] : 0));
    const next = segs[i + 1];
    let requant: Requant;
    let nextCoding: InputCoding | null = null;
    if (!next) {
      if (s.relu || s.quantAct || s.pool) throw new ExportError(`layer ${l.name}: the output layer must end in logits (no activation or pooling after it)`);
      requant = { kind: 'logits', scale: Array.from(A), offset: Array.from(B) };
    } else {
      const nextQ = next.layer.quantizers.input;
      if (s.quantAct && nextQ.kind !== 'none') throw new ExportError(`layer ${next.layer.name}: an activation quantizer followed by an input quantizer is not supported`);
      const q = s.quantAct ?? nextQ;
      if (q.kind === 'none') throw new ExportError(`layer ${next.layer.name}: float inputs; give it an input quantizer (e.g. calibrate with ptq int8) or put an activation quantizer before it`);
      nextCoding = inputCoding(q, `layer ${next.layer.name}`);
      if (nextCoding.kind === 'sign') {
        // z >= 0 <=> acc >= -B/A (A > 0) or acc <= -B/A (A < 0); ReLU first makes z >= 0 always.
        requant = {
          kind: 'sign',
          threshold: Array.from(A, (a, c) => (a === 0 ? 0 : a > 0 ? Math.ceil(-B[c] / a) : Math.floor(-B[c] / a))),
          positive: Array.from(A, (a) => a > 0),
          constant: Array.from(A, (a, c) => (s.relu ? 1 : a === 0 ? (B[c] >= 0 ? 1 : -1) : null)),
        };
      } else {
        const nc = nextCoding;
        const fps = Array.from(A, (a) => fixedPoint(a / nc.step));
        requant = {
          kind: 'affine',
          m0: fps.map((f) => f.m0),
          shift: fps.map((f) => f.e),
          offset: fps.map((f, c) => BigInt(Math.round((B[c] / nc.step + nc.zero + nc.levelOffset) * 2 ** f.e)).toString()),
          lo: s.relu ? Math.max(nc.qmin, nc.zero) : nc.qmin,
          hi: nc.qmax,
          codeScale: nc.codeScale,
          codeOffset: nc.codeOffset,
        };
      }
    }
    const inShape = l.input ? ((Array.isArray(l.input) ? l.input[0] : l.input).shape.slice(1) as number[]) : [];
    const outShape = (Array.isArray(l.output) ? l.output[0] : l.output).shape.slice(1) as number[];
    layers.push({
      name: l.name,
      op: l instanceof QuantConv2D ? 'conv2d' : 'dense',
      inputShape: inShape,
      outputShape: outShape,
      kernelShape: l instanceof QuantConv2D ? [l.kernelSize, l.kernelSize, inShape[2], l.filters] : [inShape[0], channels],
      strides: l instanceof QuantConv2D ? l.strides : 1,
      padding: l instanceof QuantConv2D ? l.padding : 'valid',
      weightBits: k.bits,
      weights: Array.from(k.codes),
      weightScale: Array.from(k.scale),
      inputScale: units.scale,
      inputZero: units.zero,
      bias,
      requant,
      pool: s.pool,
      flattenAfter: s.flatten,
    });
    if (nextCoding) coding = nextCoding;
  }
  const lastShape = layers[layers.length - 1].outputShape;
  return {
    format: 'tck-integer-v1',
    name,
    inputShape: (model.inputs[0].shape.slice(1) as number[]),
    input: { scale: inQuant.step, zero: inQuant.zero, qmin: inQuant.qmin, qmax: inQuant.qmax },
    layers,
    classes: lastShape[lastShape.length - 1],
  };
}

/** Round half to even, as tf.round. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** acc for every output position of a conv2d/dense layer from integer input codes (HWC or flat). */
function accumulate(L: ExportedLayer, x: Int32Array): Float64Array {
  const Wt = L.weights;
  if (L.op === 'dense') {
    const [n, m] = L.kernelShape;
    const out = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let acc = L.bias[j];
      for (let i = 0; i < n; i++) acc += (x[i] - L.inputZero) * Wt[i * m + j];
      out[j] = acc;
    }
    return out;
  }
  const [kh, kw, cin, cout] = L.kernelShape;
  const [H, W] = L.inputShape;
  const [OH, OW] = L.outputShape;
  const s = L.strides;
  const padT = L.padding === 'same' ? Math.floor(Math.max(0, (OH - 1) * s + kh - H) / 2) : 0;
  const padL = L.padding === 'same' ? Math.floor(Math.max(0, (OW - 1) * s + kw - W) / 2) : 0;
  const out = new Float64Array(OH * OW * cout);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let co = 0; co < cout; co++) {
        let acc = L.bias[co];
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * s + ky - padT;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * s + kx - padL;
            if (ix < 0 || ix >= W) continue;
            const xb = (iy * W + ix) * cin;
            const wb = ((ky * kw + kx) * cin) * cout + co;
            for (let ci = 0; ci < cin; ci++) acc += (x[xb + ci] - L.inputZero) * Wt[wb + ci * cout];
          }
        }
        out[(oy * OW + ox) * cout + co] = acc;
      }
    }
  }
  return out;
}

function requantize(L: ExportedLayer, acc: Float64Array): Int32Array {
  const r = L.requant;
  const channels = L.outputShape[L.outputShape.length - 1];
  const out = new Int32Array(acc.length);
  if (r.kind === 'sign') {
    for (let i = 0; i < acc.length; i++) {
      const c = i % channels;
      const k = r.constant[c];
      out[i] = k !== null ? k : r.positive[c] ? (acc[i] >= r.threshold[c] ? 1 : -1) : acc[i] <= r.threshold[c] ? 1 : -1;
    }
    return out;
  }
  if (r.kind !== 'affine') throw new Error('requantize: logits have no codes');
  const m0 = r.m0.map((v) => BigInt(v));
  const off = r.offset.map((v) => BigInt(v));
  const half = r.shift.map((e) => (e > 0 ? 1n << BigInt(e - 1) : 0n));
  const div = r.shift.map((e) => 1n << BigInt(e));
  for (let i = 0; i < acc.length; i++) {
    const c = i % channels;
    const q = Number(floorDiv(BigInt(acc[i]) * m0[c] + off[c] + half[c], div[c]));
    out[i] = Math.min(r.hi, Math.max(r.lo, q)) * r.codeScale + r.codeOffset;
  }
  return out;
}

function maxPool(x: Int32Array, shape: number[], p: { size: number; stride: number }): { data: Int32Array; shape: number[] } {
  const [H, W, C] = shape;
  const OH = Math.floor((H - p.size) / p.stride) + 1;
  const OW = Math.floor((W - p.size) / p.stride) + 1;
  const out = new Int32Array(OH * OW * C).fill(-2147483648);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let ky = 0; ky < p.size; ky++)
        for (let kx = 0; kx < p.size; kx++) {
          const ib = ((oy * p.stride + ky) * W + (ox * p.stride + kx)) * C;
          const ob = (oy * OW + ox) * C;
          for (let c = 0; c < C; c++) if (x[ib + c] > out[ob + c]) out[ob + c] = x[ib + c];
        }
  return { data: out, shape: [OH, OW, C] };
}

/**
 * Integer-only inference over an export: quantizes the float input once, then integer accumulations,
 * fixed-point requantization and pooling on codes; returns the dequantized logits and predicted classes.
 */
export function integerInference(exp: ExportedModel, x: Float32Array, n: number): { logits: Float64Array; classes: Int32Array } {
  const d = exp.inputShape.reduce((a, b) => a * b, 1);
  if (x.length !== n * d) throw new ExportError(`integerInference: expected ${n} x ${d} inputs, got ${x.length} values`);
  const logits = new Float64Array(n * exp.classes);
  const classes = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    let codes = new Int32Array(d);
    const { scale, zero, qmin, qmax } = exp.input;
    for (let i = 0; i < d; i++) {
      // Float32 like the tfjs quantizer (round half to even), so the two pick the same input codes.
      codes[i] = Math.min(qmax, Math.max(qmin, roundHalfEven(Math.fround(x[s * d + i] / Math.fround(scale))) + zero));
    }
    for (const L of exp.layers) {
      const acc = accumulate(L, codes);
      if (L.requant.kind === 'logits') {
        const r = L.requant;
        let best = 0;
        for (let c = 0; c < exp.classes; c++) {
          logits[s * exp.classes + c] = acc[c] * r.scale[c] + r.offset[c];
          if (logits[s * exp.classes + c] > logits[s * exp.classes + best]) best = c;
        }
        classes[s] = best;
        break;
      }
      let next = requantize(L, acc);
      let shape = L.outputShape;
      if (L.pool) ({ data: next, shape } = maxPool(next, shape, L.pool));
      codes = next;
    }
  }
  return { logits, classes };
}

function cName(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The export as a C header: weight codes, biases, requantization tables and shapes per layer. */
export function toCHeader(exp: ExportedModel): string {
  const g = `TCK_${cName(exp.name).toUpperCase()}_H`;
  const arr = (type: string, name: string, v: (number | string)[]) => `static const ${type} ${name}[${v.length}] = {${v.join(', ')}};`;
  const lines = [
    `/* ${exp.name}: integer export by tiny-compression-kit (format ${exp.format}). */`,
    `#ifndef ${g}`,
    `#define ${g}`,
    '#include <stdint.h>',
    `#define ${cName(exp.name).toUpperCase()}_CLASSES ${exp.classes}`,
    `/* input: code = clamp(round(x / ${exp.input.scale}) + ${exp.input.zero}, ${exp.input.qmin}, ${exp.input.qmax}) */`,
  ];
  for (const L of exp.layers) {
    const p = cName(L.name);
    const wType = L.weightBits <= 8 ? 'int8_t' : L.weightBits <= 16 ? 'int16_t' : 'int32_t';
    lines.push(`/* ${L.name}: ${L.op} ${L.kernelShape.join('x')}, input [${L.inputShape}] -> [${L.outputShape}], stride ${L.strides}, ${L.padding}, input zero ${L.inputZero} */`);
    lines.push(arr(wType, `${p}_weights`, L.weights), arr('int32_t', `${p}_bias`, L.bias));
    const r = L.requant;
    if (r.kind === 'affine') {
      lines.push(arr('int32_t', `${p}_m0`, r.m0), arr('int8_t', `${p}_shift`, r.shift), arr('int64_t', `${p}_offset`, r.offset.map((o) => `${o}LL`)));
      lines.push(`#define ${p.toUpperCase()}_LO ${r.lo}`, `#define ${p.toUpperCase()}_HI ${r.hi}`);
    } else if (r.kind === 'sign') {
      lines.push(arr('int32_t', `${p}_threshold`, r.threshold), arr('int8_t', `${p}_positive`, r.positive.map((b) => (b ? 1 : 0))));
    } else {
      lines.push(arr('float', `${p}_scale`, r.scale.map((v) => `${v}f`)), arr('float', `${p}_offset`, r.offset.map((v) => `${v}f`)));
    }
  }
  lines.push(`#endif /* ${g} */`, '');
  return lines.join('\n');
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.h`. */
export function writeExport(exp: ExportedModel, dir: string): { json: string; header: string } {
  const json = path.join(dir, `${cName(exp.name)}.json`);
  const header = path.join(dir, `${cName(exp.name)}.h`);
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(json, exp);
  writeFileAtomic(header, toCHeader(exp));
  return { json, header };
}
