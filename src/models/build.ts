/** Builds a tfjs model from an `Architecture`, with every initialiser seeded from the `init` stream. */
import { tf } from '../engine/backend.js';
import { rngStream, type Rng } from '../engine/random.js';
import { type Architecture, type InitName, type LayerSpec, type LayerCompression, describeLayers, layerName } from './arch.js';
import { QuantConv2D, QuantDense, QuantActivation, ShiftedHardtanh } from '../quant/layers.js';
import { batchNormalization } from './batchnorm.js';

/** Whether a conv2d/dense spec needs the kit's quantized layer (any compression option set). */
export function needsQuantLayer(spec: LayerCompression): boolean {
  return Boolean(spec.kernelQuantizer || spec.biasQuantizer || spec.inputQuantizer || spec.clusters || spec.prune || spec.gradBits);
}

function compressionOf(spec: LayerCompression) {
  return {
    kernelQuantizer: spec.kernelQuantizer,
    biasQuantizer: spec.biasQuantizer,
    inputQuantizer: spec.inputQuantizer,
    clusters: spec.clusters,
    prune: spec.prune,
    gradBits: spec.gradBits,
  };
}

function quantActivation(a: string | undefined): 'linear' | 'relu' {
  if (a === undefined || a === 'linear' || a === 'relu') return (a ?? 'linear') as 'linear' | 'relu';
  throw new Error(`a quantized layer supports activation linear or relu (use a separate activation layer), got ${a}`);
}

/** BatchNorm defaults follow PyTorch (the reference implementations): momentum 0.1 there is 0.9 here. */
export const BATCHNORM_DEFAULTS = { momentum: 0.9, epsilon: 1e-5 };

type Initializer = ReturnType<typeof tf.initializers.zeros>;

function initializer(name: InitName, fanIn: number, rng: Rng): Initializer {
  const seed = rng.int32() >>> 0;
  switch (name) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform({ seed });
    case 'glorotNormal':
      return tf.initializers.glorotNormal({ seed });
    case 'heNormal':
      return tf.initializers.heNormal({ seed });
    case 'heUniform':
      return tf.initializers.heUniform({ seed });
    case 'torchDefault': {
      // PyTorch's default for Linear/Conv2d: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
      const bound = 1 / Math.sqrt(fanIn);
      return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
    }
    case 'zeros':
      return tf.initializers.zeros();
  }
}

function toLayer(spec: LayerSpec, index: number, inputShape: number[] | null, fanIn: number, rng: Rng) {
  const name = layerName(spec, index);
  const first = inputShape ? { inputShape } : {};
  switch (spec.kind) {
    case 'conv2d':
    case 'dense': {
      const init = spec.init ?? 'glorotUniform';
      const kernelInitializer = initializer(init, fanIn, rng);
      const torchBias = init === 'torchDefault' ? initializer(init, fanIn, rng) : null;
      const common = { ...first, name, useBias: spec.bias !== false, kernelInitializer };
      const shape = spec.kind === 'conv2d'
        ? { filters: spec.filters, kernelSize: spec.kernel, strides: spec.stride ?? 1, padding: spec.padding ?? 'valid' as const }
        : { units: spec.units };
      if (needsQuantLayer(spec)) {
        const q = { ...common, ...compressionOf(spec), activation: quantActivation(spec.activation), biasInitializer: torchBias ?? tf.initializers.zeros() };
        return spec.kind === 'conv2d' ? new QuantConv2D({ ...q, ...(shape as { filters: number; kernelSize: number }) }) : new QuantDense({ ...q, units: spec.units });
      }
      const plain = { ...common, ...shape, activation: spec.activation ?? 'linear', biasInitializer: torchBias ?? 'zeros' };
      return spec.kind === 'conv2d' ? tf.layers.conv2d(plain as never) : tf.layers.dense(plain as never);
    }
    case 'maxpool':
      return tf.layers.maxPooling2d({ ...first, name, poolSize: spec.size, strides: spec.stride ?? spec.size, padding: spec.padding ?? 'valid' });
    case 'avgpool':
      return tf.layers.averagePooling2d({ ...first, name, poolSize: spec.size, strides: spec.stride ?? spec.size, padding: spec.padding ?? 'valid' });
    case 'flatten':
      return tf.layers.flatten({ ...first, name });
    case 'batchnorm':
      return batchNormalization({
        ...first,
        name,
        momentum: spec.momentum ?? BATCHNORM_DEFAULTS.momentum,
        epsilon: spec.epsilon ?? BATCHNORM_DEFAULTS.epsilon,
      });
    case 'activation':
      return tf.layers.activation({ ...first, name, activation: spec.fn });
    case 'dropout':
      // Unseeded on purpose: a seeded tfjs dropout repeats one mask on every step. The trainer runs each
      // step with Math.random replaced by the run's `dropout` stream instead.
      return tf.layers.dropout({ ...first, name, rate: spec.rate });
    case 'zeropad':
      return tf.layers.zeroPadding2d({ ...first, name, padding: spec.pad });
    case 'quantize':
      return new QuantActivation({ ...first, name, quantizer: spec.quantizer });
    case 'hardtanh':
      return new ShiftedHardtanh({ ...first, name, shift: spec.shift });
    case 'residual':
      throw new Error(`layer ${name}: a residual block is built by buildGraphModel, not as a layer`);
  }
}

/** Fan-in of a conv2d/dense spec on an input of shape `inShape` (what the torch-default initialiser needs). */
function fanInOf(spec: LayerSpec, inShape: number[]): number {
  return spec.kind === 'conv2d' ? spec.kernel * spec.kernel * inShape[inShape.length - 1] : inShape[inShape.length - 1];
}

/**
 * A functional tfjs model for an architecture with residual blocks (arch.ts): each block's main branch and
 * shortcut read the block's input and are added. Layers draw their initialisers from the `init` stream in
 * order (main branch, then shortcut), so the same architecture and seed give the same weights.
 */
export function buildGraphModel(arch: Architecture, opts: { seed: number | string }): import('@tensorflow/tfjs').LayersModel {
  const infos = describeLayers(arch);
  const rng = rngStream(opts.seed, 'init');
  const safe = arch.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  type Sym = import('@tensorflow/tfjs').SymbolicTensor;
  const input = tf.input({ shape: arch.input, name: `${safe}_input` });
  const shapeOf = (t: Sym) => t.shape.slice(1) as number[];
  let x: Sym = input;
  arch.layers.forEach((spec, i) => {
    if (spec.kind !== 'residual') {
      x = toLayer(spec, i, null, fanInOf(spec, infos[i].inputShape), rng).apply(x) as Sym;
      return;
    }
    const block = layerName(spec, i);
    const branch = (layers: LayerSpec[], what: string): Sym => {
      let y = x;
      layers.forEach((l, k) => {
        const named = { ...l, name: `${block}_${l.name ?? `${what}${k}_${l.kind}`}` } as LayerSpec;
        y = toLayer(named, k, null, fanInOf(named, shapeOf(y)), rng).apply(y) as Sym;
      });
      return y;
    };
    const main = branch(spec.layers, 'main');
    const short = spec.shortcut?.length ? branch(spec.shortcut, 'shortcut') : x;
    x = tf.layers.add({ name: `${block}_add` }).apply([main, short]) as Sym;
  });
  return tf.model({ inputs: input, outputs: x, name: safe });
}

/**
 * A tfjs `Sequential` for `arch`. Same architecture and seed: identical initial weights.
 * Throws an `ArchitectureError` (naming the layer) for impossible architectures, before building anything.
 */
export function buildModel(arch: Architecture, opts: { seed: number | string }): import('@tensorflow/tfjs').Sequential {
  // Residual blocks need a functional model; callers use the LayersModel API it shares with Sequential.
  if (arch.layers.some((l) => l.kind === 'residual')) return buildGraphModel(arch, opts) as unknown as import('@tensorflow/tfjs').Sequential;
  const infos = describeLayers(arch);
  const rng = rngStream(opts.seed, 'init');
  const model = tf.sequential({ name: arch.name.replace(/[^A-Za-z0-9_.-]/g, '_') });
  if (arch.layers.length === 0) throw new Error(`architecture ${arch.name}: has no layers`);
  arch.layers.forEach((spec, i) => {
    const inShape = infos[i].inputShape;
    const fanIn = spec.kind === 'conv2d' ? spec.kernel * spec.kernel * inShape[inShape.length - 1] : inShape[inShape.length - 1];
    model.add(toLayer(spec, i, i === 0 ? arch.input : null, fanIn, rng) as never);
  });
  return model;
}
