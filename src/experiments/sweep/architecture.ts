/**
 * The networks of the sweep, built as the seed-000 reference builds them for experiment 1 (anchors.md §1.1;
 * reference `src/models/cnn.py`, `builders/LeNet5_builder.py`, `builders/VGGNet_builder.py`):
 *
 *   input quantization (n-bit reference quantizer at the input width: N for n-bit, 1 for binary and ternary,
 *   none for uncompressed; `ArchitectureBuilder._get_input_bitwidth`)
 *   per conv layer: conv (no bias, §2.4; the combination's weight quantizer) -> BatchNorm -> activation -> max-pool
 *   flatten
 *   per hidden FC layer: dense (no bias, the combination's weight quantizer) -> BatchNorm -> activation
 *   output: a plain full-precision dense layer with bias (`CNN.build_fc_layers` builds `nn.Linear` for it)
 *
 * Weight quantizers (§2.1.3, anchors.md §1.7): binary conv = sign x per-output-channel mean|W| (the TWN code),
 * binary FC = plain sign (BinaryNet code), ternary = TWN with Delta = 0.75 mean|W| per output channel, n-bit =
 * the reference's n-bit quantizer (`nbits-reference`). Activations: ReLU, sign with the identity STE
 * (BinaryNet), sign with ReSTE (o = 3, t = 1.5, Table 2.3), or none. Initialisation: PyTorch's defaults.
 */
import type { Architecture, LayerSpec } from '../../models/arch.js';
import type { QuantizerConfig } from '../../quant/config.js';
import type { SweepActivation, SweepWeights } from './config.js';
import { activationLayers, kernelQuantizer } from '../../search/seed000.js';

export interface SweepArchOptions {
  /** N of the n-bit mode (§2.2: 4). */
  nbits: number;
  /** Input shape (LeNet5: 32x32x1; VGG7: 32x32x3). */
  input: number[];
  classes: number;
  /** VGG7 channel-width multiplier (1: the paper's). */
  width?: number;
}

/**
 * The weight quantizer of a compression mode on a conv or dense layer (none: full precision): the same mapping as
 * the NAS networks of seed 000 (src/search/seed000.ts `kernelQuantizer`, anchors.md §1.7).
 */
export function sweepWeightQuantizer(mode: SweepWeights, layer: 'conv2d' | 'dense', nbits: number): QuantizerConfig | undefined {
  return kernelQuantizer(mode, nbits, layer === 'conv2d' ? 'conv' : 'fc');
}

/** Input bit width of a compression mode (the reference's `_get_input_bitwidth`): 32 means no input quantizer. */
export function sweepInputBits(mode: SweepWeights, nbits: number): number {
  return mode === 'none' ? 32 : mode === 'nbits' ? nbits : 1;
}

/** ReSTE's constants (seed 000 Table 2.3: o = 3, t = 1.5). */
const RESTE = { resteO: 3, resteT: 1.5 };

/** The activation layer(s) after a BatchNorm (shared with the NAS networks: src/search/seed000.ts). */
const activation = (a: SweepActivation, name: string): LayerSpec[] => activationLayers(a, name, RESTE);

interface ConvDef {
  filters: number;
  kernel: number;
  padding: 'valid' | 'same';
  pool: boolean;
}

/** LeNet5 of the reference (from the TWN paper): 6@5x5 + pool, 16@5x5 + pool, FC 120, FC 84, output. */
const LENET5: { convs: ConvDef[]; fcs: number[] } = {
  convs: [
    { filters: 6, kernel: 5, padding: 'valid', pool: true },
    { filters: 16, kernel: 5, padding: 'valid', pool: true },
  ],
  fcs: [120, 84],
};

/** VGG7 of the reference: 2x128C3 - MP2 - 2x256C3 - MP2 - 2x512C3 - MP2 - FC 1024 - output, padding 1. */
function vgg7Layers(width: number): { convs: ConvDef[]; fcs: number[] } {
  const w = (n: number) => Math.max(1, Math.round(n * width));
  return {
    convs: [128, 128, 256, 256, 512, 512].map((f, i) => ({ filters: w(f), kernel: 3, padding: 'same' as const, pool: i % 2 === 1 })),
    fcs: [w(1024)],
  };
}

/** One combination's network as data. */
export function sweepArchitecture(model: 'lenet5' | 'vgg7', weights: SweepWeights, act: SweepActivation, o: SweepArchOptions): Architecture {
  const def = model === 'lenet5' ? LENET5 : vgg7Layers(o.width ?? 1);
  const layers: LayerSpec[] = [];
  const inBits = sweepInputBits(weights, o.nbits);
  if (inBits < 32) layers.push({ kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: inBits }, name: 'input_quant' });
  def.convs.forEach((c, i) => {
    const n = i + 1;
    const q = sweepWeightQuantizer(weights, 'conv2d', o.nbits);
    layers.push({ kind: 'conv2d', filters: c.filters, kernel: c.kernel, padding: c.padding, bias: false, init: 'torchDefault', name: `conv${n}`, ...(q ? { kernelQuantizer: q } : {}) });
    layers.push({ kind: 'batchnorm', name: `bn${n}` });
    layers.push(...activation(act, `act${n}`));
    if (c.pool) layers.push({ kind: 'maxpool', size: 2, name: `pool${n}` });
  });
  layers.push({ kind: 'flatten', name: 'flatten' });
  def.fcs.forEach((units, i) => {
    const n = i + 1;
    const q = sweepWeightQuantizer(weights, 'dense', o.nbits);
    layers.push({ kind: 'dense', units, bias: false, init: 'torchDefault', name: `fc${n}`, ...(q ? { kernelQuantizer: q } : {}) });
    layers.push({ kind: 'batchnorm', name: `fc${n}_bn` });
    layers.push(...activation(act, `fc${n}_act`));
  });
  layers.push({ kind: 'dense', units: o.classes, init: 'torchDefault', name: 'output' });
  const widthTag = model === 'vgg7' && (o.width ?? 1) !== 1 ? `-w${o.width}` : '';
  return { name: `${model}${widthTag}-${weights}-${act}`, input: o.input, head: 'softmax', layers };
}
