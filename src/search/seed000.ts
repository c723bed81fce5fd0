/**
 * Seed 000 genomes as networks and costs: `genomeArchitecture` builds the kit's architecture of a decoded
 * genome (the reference's layer order, anchors.md §1.3 and its `mlp.py` / `cnn.py`), and `genomeComplexity`
 * computes the printed-electronics heuristic of seed 000 Appendix A by the reference's arithmetic directly from
 * the genome, without building a network. That arithmetic path is what makes the normalisation bounds
 * computable where the network is impossible: the all-highest CNN genome on 28x28 inputs (four stride-2
 * convolutions) shrinks the reference's feature map to 0 (28 -> 13 -> 6 -> 2 -> 0), which `describeLayers`
 * rejects. On every buildable genome it equals `peComplexityReference` of the built architecture (tested).
 *
 * Networks, as the reference builds them:
 *   input: the reference's n-bit quantizer at in_bitwidth bits;
 *   conv i: 3x3 convolution, no padding, no bias, stride s, weights compressed (binary: sign x per-channel
 *     mean|W|; ternary: TWN with Delta = 0.75 mean|W| per channel; n-bit: the reference's quantizer), batchnorm,
 *     the activation, 2x2 max pooling when the gene says 2;
 *   hidden FC: dense without bias, compressed (binary FC weights: plain sign, the reference's `LinearBinary`),
 *     batchnorm, dropout, the activation;
 *   output: a compressed dense layer giving logits.
 * Activations: none; binary (sign, identity straight-through); binary ReSTE (o = 3, t = 1.5); ReLU.
 * Weights start from PyTorch's default initialisation (`torchDefault`), as the reference's layers do.
 *
 * Reference defects fixed here (anchors.md §1.6-1.7): the MLP output layer gets no batchnorm and no activation
 * (the reference binarises its logits and applies softmax before the cross-entropy); the CNN output layer is
 * built with the compression it is costed with (the reference builds a full-precision layer but costs it as
 * compressed); the third hidden FC layer of a CNN takes its own bit width (the reference decodes it with the
 * output layer's; `quirks: true` restores that); n-bit FC weights get a straight-through gradient. The
 * heuristic itself is the reference's (its counting errors are the published objective; the corrected
 * heuristic of src/hw is reported beside it).
 */
import type { Architecture, LayerSpec } from '../models/arch.js';
import type { QuantizerConfig } from '../quant/config.js';
import type { LayerBits, PeActivation, PeCompression } from '../hw/bits.js';
import { activationCoefficient, compressionCoefficient } from '../hw/pe-complexity.js';
import type { CnnGenome, ConvLayer, Seed000Genome } from './spaces.js';

export interface GenomeContext {
  /** Shape of one input sample: [features] (or an image, flattened by the MLP), or [h, w, c] for the CNN. */
  input: number[];
  classes: number;
  /** Decode the CNN's third hidden FC layer with the output layer's bit width, as the reference does. */
  quirks?: boolean;
  /**
   * Keep every CNN buildable: a convolution whose input is smaller than its 3x3 kernel is dropped with the ones
   * after it, and a pooling that would leave no pixel is skipped. Off by default: as in the reference, such a
   * genome keeps its heuristic complexity and scores accuracy 0.
   */
  repair?: boolean;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The weight widths of a compression mode for storage and bits (none: 32, binary: 1, ternary: 2, n-bit: n). */
export function weightBitsOf(c: PeCompression, bits: number): number {
  return c === 'none' ? 32 : c === 'binary' ? 1 : c === 'ternary' ? 2 : bits;
}

/** The kernel quantizer of a compression mode (seed 000 §2.1.3 / anchors.md §1.7). */
export function kernelQuantizer(c: PeCompression, bits: number, layer: 'conv' | 'fc'): QuantizerConfig | undefined {
  switch (c) {
    case 'none':
      return undefined;
    case 'binary':
      return { kind: 'binary', scale: layer === 'conv' ? 'channel' : 'none', grad: 'identity' };
    case 'ternary':
      return { kind: 'ternary', deltaFactor: 0.75, perChannel: true };
    case 'nbits':
      return { kind: 'nbits-reference', bits };
  }
}

export function activationLayers(a: PeActivation, name: string, g: Pick<Seed000Genome, 'resteO' | 'resteT'>): LayerSpec[] {
  switch (a) {
    case 'none':
      return [];
    case 'relu':
      return [{ kind: 'activation', fn: 'relu', name }];
    case 'binary':
      return [{ kind: 'quantize', quantizer: { kind: 'sign', grad: 'identity' }, name }];
    case 'binary-reste':
      return [{ kind: 'quantize', quantizer: { kind: 'reste', o: g.resteO, t: g.resteT }, name }];
  }
}

/** Spatial size after a 3x3 'valid' convolution with stride s (what tfjs and PyTorch compute). */
const convOut = (n: number, s: number) => Math.floor((n - 3) / s) + 1;

/** The genome as it is built: the reference's third-FC quirk (if asked) and the buildability repair (if asked). */
export function effectiveGenome(g: Seed000Genome, ctx: GenomeContext): Seed000Genome {
  if (g.kind !== 'cnn') return g;
  let out: CnnGenome = g;
  if (ctx.quirks && g.hidden.length === 3) out = { ...out, hidden: [g.hidden[0], g.hidden[1], { ...g.hidden[2], bits: g.outputBits }] };
  if (ctx.repair) {
    let h = ctx.input[0];
    let w = ctx.input[1] ?? 1;
    const convs: ConvLayer[] = [];
    for (const c of out.convs) {
      if (h < 3 || w < 3) break;
      h = convOut(h, c.stride);
      w = convOut(w, c.stride);
      const pool = c.pool > 1 && h >= 2 && w >= 2 ? c.pool : 1;
      if (pool > 1) {
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      }
      convs.push({ ...c, pool });
    }
    out = { ...out, convs };
  }
  return out;
}

/** The kit's architecture of a genome (see the file comment). It may be impossible: `describeLayers` says why. */
export function genomeArchitecture(genome: Seed000Genome, ctx: GenomeContext): Architecture {
  const g = effectiveGenome(genome, ctx);
  const layers: LayerSpec[] = [];
  const hiddenFc = (compression: PeCompression) =>
    g.hidden.forEach((h, j) => {
      const i = j + 1;
      const q = kernelQuantizer(compression, h.bits, 'fc');
      layers.push({ kind: 'dense', units: h.height, bias: false, init: 'torchDefault', name: `fc${i}`, ...(q ? { kernelQuantizer: q } : {}) });
      layers.push({ kind: 'batchnorm', name: `fc${i}_bn` });
      if (g.dropout > 0) layers.push({ kind: 'dropout', rate: g.dropout, name: `fc${i}_dropout` });
      layers.push(...activationLayers(g.activation, `fc${i}_act`, g));
    });
  const output = (compression: PeCompression) => {
    const q = kernelQuantizer(compression, g.outputBits, 'fc');
    layers.push({ kind: 'dense', units: ctx.classes, init: 'torchDefault', name: 'out', ...(q ? { kernelQuantizer: q } : {}) });
  };
  const inputQ: LayerSpec = { kind: 'quantize', quantizer: { kind: 'nbits-reference', bits: g.inBits }, name: 'input_q' };
  if (g.kind === 'mlp') {
    if (ctx.input.length > 1) layers.push({ kind: 'flatten', name: 'flatten' });
    layers.push(inputQ);
    hiddenFc(g.compression);
    output(g.compression);
  } else {
    layers.push(inputQ);
    g.convs.forEach((c, j) => {
      const i = j + 1;
      const q = kernelQuantizer(g.convCompression, c.bits, 'conv');
      layers.push({ kind: 'conv2d', filters: c.channels, kernel: 3, stride: c.stride, padding: 'valid', bias: false, init: 'torchDefault', name: `conv${i}`, ...(q ? { kernelQuantizer: q } : {}) });
      layers.push({ kind: 'batchnorm', name: `conv${i}_bn` });
      layers.push(...activationLayers(g.activation, `conv${i}_act`, g));
      if (c.pool > 1) layers.push({ kind: 'maxpool', size: c.pool, name: `conv${i}_pool` });
    });
    layers.push({ kind: 'flatten', name: 'flatten' });
    hiddenFc(g.fcCompression);
    output(g.fcCompression);
  }
  return { name: `nas-${g.kind}`, input: [...ctx.input], head: 'softmax', layers };
}

export interface GenomeComplexity {
  total: number;
  conv: number;
  fc: number;
}

/**
 * Seed 000 Appendix A by the reference's arithmetic, from the genome alone:
 *   conv: out = (in - (k // 2 + padding)) // stride with k = 3, padding 0; += c_in out^2 c_out coef + out^2 c_out act;
 *     += (out // 2)^2 if pooled; in = out (floor division as Python's, so a map shrunk to 0 gives -1 next);
 *   FC: over consecutive pairs of [input (MLP only), hidden..., output]: += prev h coef + h act.
 */
export function genomeComplexity(genome: Seed000Genome, ctx: GenomeContext): GenomeComplexity {
  const g = effectiveGenome(genome, ctx);
  const act = activationCoefficient(g.activation);
  let conv = 0;
  const heights: number[] = [];
  const coefs: number[] = [];
  if (g.kind === 'mlp') {
    heights.push(prod(ctx.input));
    coefs.push(0);
    for (const h of g.hidden) {
      heights.push(h.height);
      coefs.push(compressionCoefficient(g.compression, h.bits));
    }
    heights.push(ctx.classes);
    coefs.push(compressionCoefficient(g.compression, g.outputBits));
  } else {
    let h = ctx.input[0];
    let w = ctx.input[1];
    let cin = ctx.input[2];
    for (const c of g.convs) {
      const oh = Math.floor((h - 1) / c.stride);
      const ow = Math.floor((w - 1) / c.stride);
      conv += cin * oh * ow * c.channels * compressionCoefficient(g.convCompression, c.bits);
      conv += oh * ow * c.channels * act;
      if (c.pool > 1) conv += Math.floor(oh / 2) * Math.floor(ow / 2);
      h = oh;
      w = ow;
      cin = c.channels;
    }
    for (const hl of g.hidden) {
      heights.push(hl.height);
      coefs.push(compressionCoefficient(g.fcCompression, hl.bits));
    }
    heights.push(ctx.classes);
    coefs.push(compressionCoefficient(g.fcCompression, g.outputBits));
  }
  let fc = 0;
  for (let i = 1; i < heights.length; i++) fc += heights[i - 1] * heights[i] * coefs[i] + heights[i] * act;
  return { total: conv + fc, conv, fc };
}

/**
 * Bits per weighted layer of the built architecture (conv..., hidden FC..., output) for the estimators of
 * src/hw. `outputActivation`: what the output layer is costed with (the reference costs it with the hidden
 * layers' activation; the corrected heuristic with none, since logits have no activation).
 */
export function genomeLayerBits(genome: Seed000Genome, ctx: GenomeContext, outputActivation: 'reference' | 'none' = 'reference'): LayerBits[] {
  const g = effectiveGenome(genome, ctx);
  const actBits = g.activation === 'binary' || g.activation === 'binary-reste' ? 1 : 32;
  const lb = (c: PeCompression, bits: number, activation: PeActivation): LayerBits => ({ weightBits: weightBitsOf(c, bits), biasBits: 32, actBits, compression: c, activation });
  const fcComp = g.kind === 'mlp' ? g.compression : g.fcCompression;
  return [
    ...(g.kind === 'cnn' ? g.convs.map((c) => lb(g.convCompression, c.bits, g.activation)) : []),
    ...g.hidden.map((h) => lb(fcComp, h.bits, g.activation)),
    { ...lb(fcComp, g.outputBits, outputActivation === 'none' ? 'none' : g.activation), actBits: 32 },
  ];
}

const modeText = (c: PeCompression, bits: number[]) => (c === 'nbits' ? `${bits.join('/')}-bit` : c === 'none' ? 'float32' : c);

/** A readable one-line description of the genome as built (topology, widths, compression, activation, dropout). */
export function describeGenome(genome: Seed000Genome, ctx: GenomeContext): { architecture: string; weights: string; activation: string; inputBits: number; dropout: number } {
  const g = effectiveGenome(genome, ctx);
  if (g.kind === 'mlp') {
    return {
      architecture: `mlp ${[prod(ctx.input), ...g.hidden.map((h) => h.height), ctx.classes].join('-')}`,
      weights: modeText(g.compression, [...g.hidden.map((h) => h.bits), g.outputBits]),
      activation: g.activation,
      inputBits: g.inBits,
      dropout: g.dropout,
    };
  }
  const convs = g.convs.map((c) => `${c.channels}${c.stride > 1 ? '/s2' : ''}${c.pool > 1 ? '+mp' : ''}`).join('-');
  const fcs = [...g.hidden.map((h) => h.height), ctx.classes].join('-');
  return {
    architecture: `cnn conv ${convs} | fc ${fcs}`,
    weights: `conv ${modeText(g.convCompression, g.convs.map((c) => c.bits))}, fc ${modeText(g.fcCompression, [...g.hidden.map((h) => h.bits), g.outputBits])}`,
    activation: g.activation,
    inputBits: g.inBits,
    dropout: g.dropout,
  };
}

/** The compression label of a genome for figures: the MLP's mode, the CNN's conv/FC modes. */
export function compressionLabel(g: Seed000Genome): string {
  return g.kind === 'mlp' ? g.compression : `${g.convCompression} / ${g.fcCompression}`;
}
