/**
 * The printed-electronics complexity heuristic of seed 000 (§2.1.2, Appendix A), as published and as the
 * reference code computes it, and a corrected variant. Coefficients (anchors.md §1.6, reference `mlp.py`,
 * `cnn.py`, `nn.py`):
 *   weight compression: none = 32, n-bit = n, binary = 1, ternary = 2 (conv and FC alike);
 *   activation: none = 0, ReLU = 10, binary = 1, binary ReSTE = 1.
 *
 * Reference (`peComplexityReference`), Appendix A:
 *   conv, per layer: out = (in - (k // 2 + padding)) // stride (per spatial side);
 *     += c_in * out^2 * c_out * coef + out^2 * c_out * act;  if pooled: += (out // 2)^2;  in = out (pooling is
 *     not applied to the next layer's size, no k^2 factor).
 *   FC, over consecutive pairs (prev, layer) from the list's second entry on:
 *     += prev.height * layer.height * coef(layer) + layer.height * act.
 *   The FC list of an MLP starts at the input layer; that of a CNN at its first hidden FC layer, so the
 *   flatten -> first FC MACs are not counted. The output layer is costed with its compression coefficient
 *   and the FC activation. With three hidden FC layers in a CNN, the third takes the output layer's bit width
 *   (the reference's genome decoding: `fc_output_bitwidth`), applied here when `quirks` is on.
 *
 * Corrected (`peComplexityCorrected`): true MACs from `describeLayers` (k^2, padding, stride, pooling shrinks
 * the next layer), flatten -> FC counted, each layer's own activation (none on the logits), pooling counted
 * as one unit per pooled output value over all channels, and for ternary layers the MAC term scaled by the
 * fraction of non-zero weights when the trained weights are given (seed 000 §2.1.2: zero-weight connections
 * would be removed on implementation, which the published heuristic does not consider).
 */
import { type Architecture, describeLayers } from '../models/arch.js';
import { type BitsConfig, type LayerBits, type PeActivation, type PeCompression, isWeighted } from './bits.js';
import { KitError } from '../util/errors.js';

/** Seed 000 weight-compression coefficient (reference `get_compression_complexity_coef`). */
export function compressionCoefficient(mode: PeCompression, bits: number): number {
  switch (mode) {
    case 'none':
      return 32;
    case 'nbits':
      return bits;
    case 'binary':
      return 1;
    case 'ternary':
      return 2;
  }
}

/** Seed 000 activation coefficient (reference `get_activation_complexity_coef`). */
export function activationCoefficient(a: PeActivation): number {
  switch (a) {
    case 'none':
      return 0;
    case 'relu':
      return 10;
    case 'binary':
    case 'binary-reste':
      return 1;
  }
}

export interface PeLayerTerm {
  name: string;
  kind: 'conv2d' | 'dense' | 'pool';
  macTerm: number;
  activationTerm: number;
  poolTerm: number;
  total: number;
}

export interface PeComplexity {
  total: number;
  conv: number;
  fc: number;
  layers: PeLayerTerm[];
}

interface RefConv {
  name: string;
  channels: number;
  kernel: number;
  stride: number;
  padding: number;
  pooled: boolean;
  bits: LayerBits;
}
interface RefFc {
  name: string;
  height: number;
  bits: LayerBits | null;
}

export class PeComplexityError extends KitError {
  constructor(arch: string, message: string) {
    super(`architecture ${arch}: printed-electronics heuristic: ${message}`);
    this.name = 'PeComplexityError';
  }
}

/** The architecture in the reference's terms: a conv stack with optional pooling, then an FC list. */
function referenceLayers(arch: Architecture, bits: BitsConfig): { convs: RefConv[]; fcs: RefFc[] } {
  describeLayers(arch); // validates the architecture
  const convs: RefConv[] = [];
  const denses: RefFc[] = [];
  let k = 0;
  let pendingPad = 0;
  arch.layers.forEach((spec, i) => {
    const name = spec.name ?? `${spec.kind}_${i}`;
    if (spec.kind === 'conv2d') {
      if (denses.length) throw new PeComplexityError(arch.name, `conv layer ${name} after a dense layer`);
      // PyTorch's padding for 'same' with an odd kernel is k // 2 (the reference's VGG uses padding=1 for 3x3).
      const padding = (spec.padding === 'same' ? Math.floor(spec.kernel / 2) : 0) + pendingPad;
      pendingPad = 0;
      convs.push({ name, channels: spec.filters, kernel: spec.kernel, stride: spec.stride ?? 1, padding, pooled: false, bits: bits.layers[k++] });
    } else if (spec.kind === 'dense') {
      denses.push({ name, height: spec.units, bits: bits.layers[k++] });
    } else if ((spec.kind === 'maxpool' || spec.kind === 'avgpool') && convs.length && !denses.length) {
      convs[convs.length - 1].pooled = true;
    } else if (spec.kind === 'zeropad') {
      pendingPad += spec.pad;
    }
  });
  const fcs: RefFc[] = convs.length ? denses : [{ name: 'input', height: arch.input.reduce((a, b) => a * b, 1), bits: null }, ...denses];
  return { convs, fcs };
}

export interface ReferenceOptions {
  /** Apply the reference's genome-decoding quirk (third hidden FC of a CNN at the output's bits). Default true. */
  quirks?: boolean;
}

/** Seed 000 Appendix A, exactly as the reference code computes it. */
export function peComplexityReference(arch: Architecture, bits: BitsConfig, opts: ReferenceOptions = {}): PeComplexity {
  const { convs, fcs } = referenceLayers(arch, bits);
  const layers: PeLayerTerm[] = [];
  let h = arch.input[0];
  let w = arch.input.length === 3 ? arch.input[1] : 1;
  let cin = arch.input.length === 3 ? arch.input[2] : 1;
  let conv = 0;
  // The reference uses one activation for the whole conv stack; per-layer activations are used here, which
  // is the same thing when all conv layers share one.
  for (const c of convs) {
    const reduce = Math.floor(c.kernel / 2) + c.padding;
    const oh = Math.floor((h - reduce) / c.stride);
    const ow = Math.floor((w - reduce) / c.stride);
    const macTerm = cin * oh * ow * c.channels * compressionCoefficient(c.bits.compression, c.bits.weightBits);
    const activationTerm = oh * ow * c.channels * activationCoefficient(c.bits.activation);
    const poolTerm = c.pooled ? Math.floor(oh / 2) * Math.floor(ow / 2) : 0;
    layers.push({ name: c.name, kind: 'conv2d', macTerm, activationTerm, poolTerm, total: macTerm + activationTerm + poolTerm });
    conv += macTerm + activationTerm + poolTerm;
    h = oh;
    w = ow;
    cin = c.channels;
  }
  // FC activation: the reference applies the FC block's activation to every layer of the list after the
  // first, the output layer included; it is the hidden layers' activation.
  const hidden = fcs.filter((f) => f.bits).slice(0, -1);
  const fcAct = (hidden.at(-1)?.bits ?? fcs.at(-1)?.bits)?.activation ?? 'none';
  const out = fcs.at(-1)?.bits ?? null;
  let fc = 0;
  for (let i = 1; i < fcs.length; i++) {
    const f = fcs[i];
    let lb = f.bits!;
    const cnnThirdHidden = convs.length > 0 && fcs.length === 4 && i === 2;
    if ((opts.quirks ?? true) && cnnThirdHidden && out) lb = { ...lb, weightBits: out.weightBits };
    const macTerm = fcs[i - 1].height * f.height * compressionCoefficient(lb.compression, lb.weightBits);
    const activationTerm = f.height * activationCoefficient(fcAct);
    layers.push({ name: f.name, kind: 'dense', macTerm, activationTerm, poolTerm: 0, total: macTerm + activationTerm });
    fc += macTerm + activationTerm;
  }
  return { total: conv + fc, conv, fc, layers };
}

export interface CorrectedOptions {
  /**
   * Trained weights per weighted layer (conv2d/dense order); for a ternary layer the MAC term is scaled by
   * the fraction of non-zero weights. Layers without weights, or not ternary, are unaffected.
   */
  weights?: (ArrayLike<number> | null | undefined)[];
}

/** Fraction of non-zero entries. */
export function nonZeroFraction(w: ArrayLike<number>): number {
  if (w.length === 0) return 1;
  let nz = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nz++;
  return nz / w.length;
}

/** Seed 000's heuristic with the reference's counting errors corrected (see the file comment). */
export function peComplexityCorrected(arch: Architecture, bits: BitsConfig, opts: CorrectedOptions = {}): PeComplexity {
  const info = describeLayers(arch);
  const layers: PeLayerTerm[] = [];
  let conv = 0;
  let fc = 0;
  let k = 0;
  arch.layers.forEach((spec, i) => {
    const l = info[i];
    const outElems = l.outputShape.reduce((a, b) => a * b, 1);
    if (isWeighted(spec)) {
      const lb = bits.layers[k];
      const w = opts.weights?.[k];
      k++;
      const density = lb.compression === 'ternary' && w ? nonZeroFraction(w) : 1;
      const macTerm = l.macs * compressionCoefficient(lb.compression, lb.weightBits) * density;
      const activationTerm = outElems * activationCoefficient(lb.activation);
      layers.push({ name: l.name, kind: spec.kind, macTerm, activationTerm, poolTerm: 0, total: macTerm + activationTerm });
      if (spec.kind === 'conv2d') conv += macTerm + activationTerm;
      else fc += macTerm + activationTerm;
    } else if (spec.kind === 'maxpool' || spec.kind === 'avgpool') {
      layers.push({ name: l.name, kind: 'pool', macTerm: 0, activationTerm: 0, poolTerm: outElems, total: outElems });
      conv += outElems;
    }
  });
  return { total: conv + fc, conv, fc, layers };
}
