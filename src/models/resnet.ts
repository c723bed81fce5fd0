/**
 * ResNet-18 of seed 002 §4.2 as architecture data: pre-activation basic blocks (He et al. 2016, "Identity
 * mappings", §4.2.2), four stages of two blocks with 64, 128, 256 and 512 channels times a width multiplier
 * (so that it trains on a CPU), the CIFAR-style stem (3x3 conv, no max-pool) and global average pooling.
 *
 * Binary variant (§4.2.8, Fig. 4.11 as far as its text describes it; the figure itself is not in the scanned
 * seed): inside the residual blocks every 3x3 convolution has binary weights (ReCU, eq. 4.1, with its tau
 * schedule as a hook) and binary activations (sign of a shifted hardtanh, §4.2.4): block = BN -> hardtanh(x -
 * shift) -> conv(ReCU weights, sign inputs) -> BN -> hardtanh -> conv, plus the shortcut. The stem, the
 * down-sampling shortcuts (2x2 average pool then 1x1 conv and BN, as in the ReCU code) and the classifier stay
 * multi-bit: affine weights and inputs whose width the cyclic-precision hook sets between 3 and 8 bits
 * (§4.2.5); gradients through every quantized layer follow the same schedule. The full-precision baseline is
 * the same network with ReLU, float convolutions and identity quantizers.
 *
 * The hardtanh shift is a config option without a seed value: §4.2.4 takes it from its ref. [62] (Kim et al.
 * 2021), whose value could not be consulted here; the presets use 0.2 and say so.
 */
import type { Architecture, LayerSpec } from './arch.js';
import type { QuantizerConfig } from '../quant/quantizers.js';

export interface ResNetOptions {
  /** Input shape [h, w, c] (28x28x1 MNIST, 32x32x3 CIFAR). */
  input: number[];
  classes: number;
  /** Channel multiplier of 64-128-256-512 (1: ResNet-18). */
  width?: number;
  /** Blocks per stage (ResNet-18: 2, 2, 2, 2). */
  blocks?: number[];
  /** Binary residual blocks (seed 002) or the full-precision baseline. */
  binary: boolean;
  /** Horizontal shift of the hardtanh (binary only). */
  shift?: number;
  /** Initial width of the multi-bit layers (the cyclic-precision hook changes it every step). */
  bits?: number;
  /** ReCU's initial tau (the recu-tau hook changes it every epoch). */
  tau?: number;
}

const STAGES = [64, 128, 256, 512];

export function resnet18(o: ResNetOptions): Architecture {
  const width = o.width ?? 1;
  const blocks = o.blocks ?? [2, 2, 2, 2];
  const bits = o.bits ?? 8;
  const ch = (c: number) => Math.max(1, Math.round(c * width));
  const multiBit = o.binary
    ? { kernelQuantizer: { kind: 'affine', bits, symmetric: true, perChannel: true } as QuantizerConfig, inputQuantizer: { kind: 'affine', bits, symmetric: false, signed: true } as QuantizerConfig }
    : {};
  const act = (name: string): LayerSpec => (o.binary ? { kind: 'hardtanh', shift: o.shift ?? 0, name } : { kind: 'activation', fn: 'relu', name });
  const conv3 = (filters: number, stride: number, name: string): LayerSpec =>
    o.binary
      ? { kind: 'conv2d', filters, kernel: 3, stride, padding: 'same', bias: false, kernelQuantizer: { kind: 'recu', tau: o.tau ?? 0.85 }, inputQuantizer: { kind: 'sign', grad: 'clipped' }, name }
      : { kind: 'conv2d', filters, kernel: 3, stride, padding: 'same', bias: false, name };
  const layers: LayerSpec[] = [{ kind: 'conv2d', filters: ch(64), kernel: 3, padding: 'same', bias: false, ...multiBit, name: 'stem' }];
  let inCh = ch(64);
  STAGES.forEach((c, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      const out = ch(c);
      const stride = s > 0 && b === 0 ? 2 : 1;
      const shortcut: LayerSpec[] =
        stride === 1 && out === inCh
          ? []
          : o.binary
            ? [
                ...(stride > 1 ? [{ kind: 'avgpool', size: 2, stride: 2, padding: 'same' } as LayerSpec] : []),
                { kind: 'conv2d', filters: out, kernel: 1, bias: false, ...multiBit, name: 'down' },
                { kind: 'batchnorm', name: 'down_bn' },
              ]
            : [{ kind: 'conv2d', filters: out, kernel: 1, stride, padding: 'same', bias: false, name: 'down' }];
      layers.push({
        kind: 'residual',
        name: `s${s + 1}b${b + 1}`,
        layers: [{ kind: 'batchnorm', name: 'bn1' }, act('act1'), conv3(out, stride, 'conv1'), { kind: 'batchnorm', name: 'bn2' }, act('act2'), conv3(out, 1, 'conv2')],
        shortcut,
      });
      inCh = out;
    }
  });
  const spatial = (n: number) => Math.ceil(n / 8); // three stride-2 stages with 'same' padding
  layers.push(
    { kind: 'batchnorm', name: 'bn_final' },
    { kind: 'activation', fn: 'relu', name: 'relu_final' },
    { kind: 'avgpool', size: Math.max(spatial(o.input[0]), spatial(o.input[1])), padding: 'same', name: 'gap' },
    { kind: 'flatten', name: 'flatten' },
    { kind: 'dense', units: o.classes, ...multiBit, name: 'fc' },
  );
  return { name: `resnet18-${o.binary ? 'binary' : 'fp'}-w${width}`, input: o.input, head: 'softmax', layers };
}
