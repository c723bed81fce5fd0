/**
 * Post-training quantization after TensorFlow Lite's schemes (seed 004 §2.1.2 C/D, Table 4.3), simulated
 * with fake quantization so accuracy can be measured in tfjs:
 * - `float16`: weights rounded to half precision, activations float.
 * - `dynamic-range`: int8 weights (per output channel, symmetric, restricted range [-127, 127]); activations
 *   quantized on the fly to int8 (asymmetric, per tensor, from each batch's own range).
 * - `int8`: int8 weights as above and int8 activations (asymmetric, per tensor) with static ranges calibrated
 *   on a representative sample (TFLite's full integer quantization).
 * - `int16-activations`: int8 weights and int16 activations (symmetric, static), TFLite's "16x8" mode
 *   (seed 004 Table 4.3, "Int Quantization + Int 16 Activation").
 * The same transforms applied to a model trained with fake quantization give "PTQ on a QAT model".
 * Biases stay float (TFLite stores them as int32 at scale s_in * s_w, an error below 1e-9 relative).
 */
import { tf } from '../engine/backend.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Dataset } from '../data/types.js';
import type { Architecture, LayerSpec } from '../models/arch.js';
import { buildModel } from '../models/build.js';
import { inputBatch } from '../train/batches.js';
import { isQuantLayer } from '../quant/layers.js';
import type { QuantizerConfig } from '../quant/quantizers.js';

export type PtqScheme = 'float16' | 'dynamic-range' | 'int8' | 'int16-activations';
export const PTQ_SCHEMES: readonly PtqScheme[] = ['float16', 'dynamic-range', 'int8', 'int16-activations'];

/** Observed input range of every conv/dense layer, by layer name. */
export type Calibration = Record<string, { min: number; max: number }>;

const INT8_WEIGHTS: QuantizerConfig = { kind: 'affine', bits: 8, symmetric: true, narrowRange: true, perChannel: true };

/**
 * Runs `samples` through the model in inference mode and records the min and max of every conv2d/dense
 * layer's input (TFLite's representative-dataset calibration).
 */
export function calibrate(model: LayersModel, samples: Dataset, batchSize = 500): Calibration {
  const out: Calibration = {};
  for (let s = 0; s < samples.y.length; s += batchSize) {
    const input = inputBatch(samples, s, Math.min(samples.y.length, s + batchSize));
    tf.tidy(() => {
      let x: Tensor = input;
      for (const layer of model.layers) {
        const cls = layer.getClassName();
        if (isQuantLayer(layer) || cls === 'Dense' || cls === 'Conv2D') {
          const lo = tf.min(x).dataSync()[0];
          const hi = tf.max(x).dataSync()[0];
          const prev = out[layer.name];
          out[layer.name] = prev ? { min: Math.min(prev.min, lo), max: Math.max(prev.max, hi) } : { min: lo, max: hi };
        }
        x = layer.apply(x, { training: false }) as Tensor;
      }
    });
    input.dispose();
  }
  return out;
}

function inputQuantizer(scheme: PtqScheme, range: { min: number; max: number } | undefined, name: string): QuantizerConfig | undefined {
  switch (scheme) {
    case 'float16':
      return undefined;
    case 'dynamic-range':
      return { kind: 'affine', bits: 8, symmetric: false, signed: true };
    case 'int8':
    case 'int16-activations':
      if (!range) throw new Error(`ptq ${scheme}: no calibrated range for layer ${name}; run calibrate() on a representative sample`);
      return scheme === 'int8'
        ? { kind: 'affine', bits: 8, symmetric: false, signed: true, range: { min: Math.min(range.min, 0), max: Math.max(range.max, 0) + (range.max === range.min ? 1e-6 : 0) } }
        : { kind: 'affine', bits: 16, symmetric: true, range: { min: -Math.max(Math.abs(range.min), Math.abs(range.max), 1e-6), max: Math.max(Math.abs(range.min), Math.abs(range.max), 1e-6) } };
  }
}

/** The architecture with every conv2d/dense layer quantized by `scheme` (kernel and, where the scheme has one, input). */
export function ptqArchitecture(arch: Architecture, scheme: PtqScheme, calibration: Calibration = {}): Architecture {
  return {
    ...arch,
    name: `${arch.name}-ptq-${scheme}`,
    layers: arch.layers.map((s, i): LayerSpec => {
      if (s.kind !== 'conv2d' && s.kind !== 'dense') return s;
      const name = s.name ?? `${s.kind}_${i}`;
      const kernel: QuantizerConfig = scheme === 'float16' ? { kind: 'float16' } : INT8_WEIGHTS;
      const input = inputQuantizer(scheme, calibration[name], name);
      return { ...s, kernelQuantizer: kernel, ...(input ? { inputQuantizer: input } : {}) };
    }),
  };
}

/**
 * Keeps the kernel quantizers and gives every conv2d/dense layer whose input is not already quantized by an
 * activation quantizer a static affine input quantizer (asymmetric, signed) from the calibrated ranges: what
 * an integer export needs.
 */
export function staticInputQuantizers(arch: Architecture, calibration: Calibration, bits = 8): Architecture {
  let quantizedByActivation = false;
  return {
    ...arch,
    layers: arch.layers.map((s, i): LayerSpec => {
      if (s.kind === 'quantize') quantizedByActivation = true;
      else if (s.kind === 'conv2d' || s.kind === 'dense') {
        const name = s.name ?? `${s.kind}_${i}`;
        const range = calibration[name];
        const out: LayerSpec = quantizedByActivation
          ? s
          : (() => {
              if (!range) throw new Error(`staticInputQuantizers: no calibrated range for layer ${name}`);
              return { ...s, inputQuantizer: { kind: 'affine', bits, symmetric: false, signed: true, range: { min: Math.min(range.min, 0), max: Math.max(range.max, 1e-6) } } };
            })();
        quantizedByActivation = false;
        return out;
      } else if (!['maxpool', 'flatten', 'dropout'].includes(s.kind)) quantizedByActivation = false;
      return s;
    }),
  };
}

/** Copies weights layer by layer (by name) from a trained model into a model of a compatible architecture. */
export function transferWeights(from: LayersModel, to: LayersModel): void {
  for (const target of to.layers) {
    const ws = target.getWeights();
    if (ws.length === 0) continue;
    const source = from.getLayer(target.name);
    const sw = source.getWeights();
    if (sw.length !== ws.length || sw.some((w, i) => w.shape.join() !== ws[i].shape.join())) {
      throw new Error(`transferWeights: layer ${target.name} has weights [${ws.map((w) => w.shape).join(' | ')}] but the source has [${sw.map((w) => w.shape).join(' | ')}]`);
    }
    target.setWeights(sw);
  }
}

/**
 * Post-training quantization of a trained model: calibrates on `representative` where the scheme needs it,
 * builds the quantized architecture and copies the trained weights in.
 */
export function postTrainingQuantize(model: LayersModel, arch: Architecture, scheme: PtqScheme, representative?: Dataset): { arch: Architecture; model: LayersModel } {
  const needsCalibration = scheme === 'int8' || scheme === 'int16-activations';
  if (needsCalibration && !representative) throw new Error(`ptq ${scheme}: needs a representative dataset for calibration`);
  const calibration = needsCalibration ? calibrate(model, representative!) : {};
  const qArch = ptqArchitecture(arch, scheme, calibration);
  const q = buildModel(qArch, { seed: 0 });
  transferWeights(model, q);
  return { arch: qArch, model: q };
}

/** Quantization-aware training set-up (seed 004 Table 4.3 "QAT"): fake int8 weights and inputs, ranges from each batch. */
export function qatArchitecture(arch: Architecture, bits = 8): Architecture {
  return {
    ...arch,
    name: `${arch.name}-qat${bits}`,
    layers: arch.layers.map((s): LayerSpec =>
      s.kind === 'conv2d' || s.kind === 'dense'
        ? { ...s, kernelQuantizer: { kind: 'affine', bits, symmetric: true, narrowRange: true, perChannel: true }, inputQuantizer: { kind: 'affine', bits, symmetric: false, signed: true } }
        : s,
    ),
  };
}
