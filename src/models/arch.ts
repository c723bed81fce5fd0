/**
 * Architecture description: a network as plain data (a list of layer specs after an input shape).
 * The model builder, the summary and the hardware estimators all read this one description, so a
 * network's cost can be computed without building it.
 */

import type { QuantizerConfig } from '../quant/quantizers.js';
import { KitError } from '../util/errors.js';

export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'linear' | 'softmax';

/** Compression options of a conv2d or dense layer (see src/quant/layers.ts). */
export interface LayerCompression {
  kernelQuantizer?: QuantizerConfig;
  biasQuantizer?: QuantizerConfig;
  inputQuantizer?: QuantizerConfig;
  /** Hold the kernel as this many shared values (weight clustering). */
  clusters?: number;
  /** Give the kernel a pruning mask. */
  prune?: boolean;
  /** Quantize gradients through the layer's output to this many bits. */
  gradBits?: number;
}
export type InitName = 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'torchDefault' | 'zeros';
export type Padding = 'valid' | 'same';

export type LayerSpec =
  | ({
      kind: 'conv2d';
      filters: number;
      kernel: number;
      stride?: number;
      padding?: Padding;
      bias?: boolean;
      activation?: ActivationName;
      init?: InitName;
      name?: string;
    } & LayerCompression)
  | ({ kind: 'dense'; units: number; bias?: boolean; activation?: ActivationName; init?: InitName; name?: string } & LayerCompression)
  | { kind: 'maxpool'; size: number; stride?: number; padding?: Padding; name?: string }
  | { kind: 'avgpool'; size: number; stride?: number; padding?: Padding; name?: string }
  | { kind: 'flatten'; name?: string }
  | { kind: 'batchnorm'; momentum?: number; epsilon?: number; name?: string }
  | { kind: 'activation'; fn: ActivationName; name?: string }
  | { kind: 'dropout'; rate: number; name?: string }
  | { kind: 'zeropad'; pad: number; name?: string }
  /** An activation quantizer as a layer (binary STE, ReSTE, uniform b-bit). */
  | { kind: 'quantize'; quantizer: QuantizerConfig; name?: string }
  /**
   * Hardtanh clip(x - shift, -1, 1) (seed 002 §4.2.4). The shift is required: seed 002 takes it from its ref.
   * [62] (Kim et al. 2021), whose value could not be consulted here, so the kit sets no default.
   */
  | { kind: 'hardtanh'; shift: number; name?: string }
  /**
   * A residual block: `layers` (the main branch) and `shortcut` (empty or absent: the identity) both read the
   * block's input, and their outputs are added (He et al. 2016; seed 002's ResNet-18, src/models/resnet.ts).
   * Inner layers are named `<block>_<name>` in the built model. Blocks do not nest.
   */
  | { kind: 'residual'; layers: LayerSpec[]; shortcut?: LayerSpec[]; name?: string };

/** How the last layer's outputs are read: the network ends in logits and the head names the link. */
export type Head = 'softmax' | 'sigmoid';

export interface Architecture {
  name: string;
  /** Shape of one input sample: `[h, w, c]` for images, `[n]` for vectors. */
  input: number[];
  layers: LayerSpec[];
  /**
   * `softmax`: k logits, softmax cross-entropy. `sigmoid`: one logit for two classes, binary
   * cross-entropy (seed 004 §4.1.3). The model outputs logits; the link is applied by loss and predict.
   */
  head: Head;
}

export interface LayerInfo {
  index: number;
  name: string;
  kind: LayerSpec['kind'];
  inputShape: number[];
  outputShape: number[];
  /** Trainable weights (kernel) count. */
  weights: number;
  /** Trainable bias count (for batchnorm: gamma + beta). */
  biases: number;
  /** Non-trainable state (batchnorm moving mean and variance). */
  state: number;
  /** Multiply-accumulates per sample. */
  macs: number;
}

/** An architecture that cannot be built: says which layer and why. */
export class ArchitectureError extends KitError {
  constructor(arch: string, where: string, message: string) {
    super(`architecture ${arch}: ${where}: ${message}`);
    this.name = 'ArchitectureError';
  }
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function outSize(inSize: number, k: number, stride: number, padding: Padding): number {
  // TensorFlow's rule (seed 004 §3.2): 'same' gives ceil(I / S), 'valid' gives ceil((I - K + 1) / S).
  return padding === 'same' ? Math.ceil(inSize / stride) : Math.ceil((inSize - k + 1) / stride);
}

/**
 * A layer's id: its `name`, which is the layer's stable identity (the tfjs layer name, the key of its weights,
 * what weight inheritance matches on). Layers without a name fall back to `<kind>_<index>`, which moves when a
 * layer is inserted before them: give every layer a name (`assignLayerIds`) before mutating an architecture.
 */
export function layerName(spec: LayerSpec, index: number): string {
  return spec.name ?? `${spec.kind}_${index}`;
}

/** An id for a new `kind` layer that no layer of `arch` uses: `<kind>_<n>` with the smallest free n >= 1. */
export function freshLayerId(arch: Pick<Architecture, 'layers'>, kind: string): string {
  const used = new Set(arch.layers.map((l, i) => layerName(l, i)));
  let n = 1;
  while (used.has(`${kind}_${n}`)) n++;
  return `${kind}_${n}`;
}

/**
 * The architecture with every layer named (unnamed layers get fresh ids, named ones keep theirs). From then on
 * ids are data: inserting or removing layers never renames the others.
 */
export function assignLayerIds(arch: Architecture): Architecture {
  const layers: LayerSpec[] = [];
  const named = arch.layers.filter((l) => l.name);
  for (const l of arch.layers) layers.push(l.name ? l : { ...l, name: freshLayerId({ layers: [...named, ...layers] }, l.kind) });
  return { ...arch, layers };
}

/** Inserts `spec` before position `index`, with a fresh id if it has none; every other layer keeps its id. */
export function insertLayer(arch: Architecture, index: number, spec: LayerSpec): Architecture {
  const base = assignLayerIds(arch);
  const layer = spec.name ? spec : { ...spec, name: freshLayerId(base, spec.kind) };
  if (base.layers.some((l) => l.name === layer.name)) throw new ArchitectureError(arch.name, `layer ${index}`, `id ${layer.name} is already used`);
  return { ...base, layers: [...base.layers.slice(0, index), layer, ...base.layers.slice(index)] };
}

/**
 * Shapes, parameter counts and MACs of every layer. Throws an `ArchitectureError` naming the layer when
 * the architecture is impossible (a kernel larger than its input, a conv after flatten, ...).
 */
export function describeLayers(arch: Architecture): LayerInfo[] {
  const fail = (i: number, msg: string) => {
    throw new ArchitectureError(arch.name, i < 0 ? 'input' : `layer ${i} (${layerName(arch.layers[i], i)})`, msg);
  };
  if (!Array.isArray(arch.input) || arch.input.length === 0 || arch.input.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(-1, `input shape must be positive integers, got ${JSON.stringify(arch.input)}`);
  }
  let shape = [...arch.input];
  const out: LayerInfo[] = [];
  arch.layers.forEach((spec, i) => {
    const inputShape = shape;
    let weights = 0;
    let biases = 0;
    let state = 0;
    let macs = 0;
    const positive = (v: number | undefined, what: string) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) fail(i, `${what} must be a positive integer, got ${v}`);
    };
    switch (spec.kind) {
      case 'conv2d':
      case 'maxpool':
      case 'avgpool': {
        if (shape.length !== 3) fail(i, `needs an image input [h, w, c], got [${shape}]`);
        const k = spec.kind === 'conv2d' ? spec.kernel : spec.size;
        const stride = spec.stride ?? (spec.kind === 'conv2d' ? 1 : spec.size);
        const padding = spec.padding ?? 'valid';
        positive(k, 'kernel size');
        positive(stride, 'stride');
        const [h, w, c] = shape;
        if (padding === 'valid' && (k > h || k > w)) fail(i, `kernel ${k}x${k} is larger than its ${h}x${w} input`);
        const oh = outSize(h, k, stride, padding);
        const ow = outSize(w, k, stride, padding);
        if (spec.kind === 'conv2d') {
          positive(spec.filters, 'filters');
          shape = [oh, ow, spec.filters];
          weights = k * k * c * spec.filters;
          biases = spec.bias === false ? 0 : spec.filters;
          macs = oh * ow * spec.filters * k * k * c;
        } else {
          shape = [oh, ow, c];
        }
        break;
      }
      case 'dense': {
        if (shape.length !== 1) fail(i, `needs a vector input; add a flatten layer before it (input is [${shape}])`);
        positive(spec.units, 'units');
        weights = shape[0] * spec.units;
        biases = spec.bias === false ? 0 : spec.units;
        macs = weights;
        shape = [spec.units];
        break;
      }
      case 'flatten':
        shape = [prod(shape)];
        break;
      case 'batchnorm': {
        const c = shape[shape.length - 1];
        biases = 2 * c;
        state = 2 * c;
        break;
      }
      case 'zeropad': {
        if (shape.length !== 3) fail(i, `needs an image input [h, w, c], got [${shape}]`);
        if (!Number.isInteger(spec.pad) || spec.pad < 0) fail(i, `pad must be a non-negative integer, got ${spec.pad}`);
        shape = [shape[0] + 2 * spec.pad, shape[1] + 2 * spec.pad, shape[2]];
        break;
      }
      case 'dropout':
        if (!(spec.rate >= 0 && spec.rate < 1)) fail(i, `dropout rate must be in [0, 1), got ${spec.rate}`);
        break;
      case 'activation':
      case 'quantize':
      case 'hardtanh':
        break;
      case 'residual': {
        // Each branch is described as a network of its own (a trailing flatten satisfies the vector check).
        const branch = (layers: LayerSpec[], what: string) => {
          if (!layers.length) return { shape, infos: [] as LayerInfo[] };
          if (layers.some((l) => l.kind === 'residual')) fail(i, `${what}: residual blocks do not nest`);
          let infos: LayerInfo[] = [];
          try {
            infos = describeLayers({ name: `${arch.name}/${layerName(spec, i)}/${what}`, input: shape, layers: [...layers, { kind: 'flatten' }], head: arch.head });
          } catch (e) {
            if (e instanceof ArchitectureError) fail(i, `${what}: ${e.message}`);
            throw e;
          }
          infos.pop();
          return { shape: infos[infos.length - 1].outputShape, infos };
        };
        if (!Array.isArray(spec.layers) || spec.layers.length === 0) fail(i, 'a residual block needs at least one layer');
        const main = branch(spec.layers, 'layers');
        const short = branch(spec.shortcut ?? [], 'shortcut');
        if (main.shape.join() !== short.shape.join()) fail(i, `the main branch gives [${main.shape}] and the shortcut [${short.shape}]: they must have one shape to be added`);
        for (const l of [...main.infos, ...short.infos]) {
          weights += l.weights;
          biases += l.biases;
          state += l.state;
          macs += l.macs;
        }
        shape = main.shape;
        break;
      }
      default:
        fail(i, `unknown layer kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    }
    if (shape.some((d) => !(d >= 1))) fail(i, `output shape [${shape}] is empty`);
    out.push({ index: i, name: layerName(spec, i), kind: spec.kind, inputShape, outputShape: shape, weights, biases, state, macs });
  });
  const last = out.length ? out[out.length - 1].outputShape : arch.input;
  if (last.length !== 1) {
    throw new ArchitectureError(arch.name, 'output', `the network must end in a vector of logits, got [${last}]`);
  }
  return out;
}

/** Number of logits the architecture produces. */
export function numOutputs(arch: Architecture): number {
  const layers = describeLayers(arch);
  return layers.length ? layers[layers.length - 1].outputShape[0] : arch.input[0];
}

/** Trainable parameter count (weights + biases, batchnorm gamma/beta). */
export function countParams(arch: Architecture): number {
  return describeLayers(arch).reduce((s, l) => s + l.weights + l.biases, 0);
}
