/** Named architectures of the seed documents, as plain `Architecture` data. */
import { type Architecture, type ActivationName, type LayerSpec, ArchitectureError } from './arch.js';

export interface ZooOptions {
  /** Number of classes (default 10). Two classes with `head: 'sigmoid'` give one output logit. */
  classes?: number;
  head?: 'softmax' | 'sigmoid';
}

function outputs(classes: number, head: 'softmax' | 'sigmoid'): number {
  if (head === 'sigmoid') {
    if (classes !== 2) throw new ArchitectureError('zoo', 'head', `a sigmoid head needs 2 classes, got ${classes}`);
    return 1;
  }
  return classes;
}

/**
 * LeNet-5 as seed 001 uses it (Figure 4.3, Table 5.1): conv 6@5x5 + ReLU + maxpool 2, conv 16@5x5 + ReLU +
 * maxpool 2, FC 120 + ReLU, FC 84 + ReLU, FC classes; no padding. For 28x28x1 this has 44,426 parameters,
 * 173.5 KiB at 32 bits (Table 5.1, "PyTorch not optimized"). `input` selects the variant.
 */
export function lenet5(input: number[] = [28, 28, 1], opts: ZooOptions = {}, name = 'lenet5'): Architecture {
  const head = opts.head ?? 'softmax';
  return {
    name,
    input,
    head,
    layers: [
      { kind: 'conv2d', filters: 6, kernel: 5, activation: 'relu', name: 'conv1' },
      { kind: 'maxpool', size: 2, name: 'pool1' },
      { kind: 'conv2d', filters: 16, kernel: 5, activation: 'relu', name: 'conv2' },
      { kind: 'maxpool', size: 2, name: 'pool2' },
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', units: 120, activation: 'relu', name: 'fc1' },
      { kind: 'dense', units: 84, activation: 'relu', name: 'fc2' },
      { kind: 'dense', units: outputs(opts.classes ?? 10, head), name: 'fc3' },
    ],
  };
}

/**
 * VGG7 of the TWN paper and the seed-000 reference: 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-FC1024-FC10, 'same'
 * padding, BatchNorm after every conv and hidden FC layer with convolutions without bias (seed 000 §2.4).
 */
export function vgg7(input: number[] = [32, 32, 3], opts: ZooOptions & { width?: number } = {}): Architecture {
  const w = opts.width ?? 1;
  const head = opts.head ?? 'softmax';
  const block = (filters: number, n: number): LayerSpec[] => [
    { kind: 'conv2d', filters: Math.max(1, Math.round(filters * w)), kernel: 3, padding: 'same', bias: false, name: `conv${n}` },
    { kind: 'batchnorm', name: `bn${n}` },
    { kind: 'activation', fn: 'relu', name: `relu${n}` },
  ];
  return {
    name: w === 1 ? 'vgg7' : `vgg7-w${w}`,
    input,
    head,
    layers: [
      ...block(128, 1),
      ...block(128, 2),
      { kind: 'maxpool', size: 2, name: 'pool1' },
      ...block(256, 3),
      ...block(256, 4),
      { kind: 'maxpool', size: 2, name: 'pool2' },
      ...block(512, 5),
      ...block(512, 6),
      { kind: 'maxpool', size: 2, name: 'pool3' },
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', units: Math.max(1, Math.round(1024 * w)), bias: false, name: 'fc1' },
      { kind: 'batchnorm', name: 'bn7' },
      { kind: 'activation', fn: 'relu', name: 'relu7' },
      { kind: 'dense', units: outputs(opts.classes ?? 10, head), name: 'fc2' },
    ],
  };
}

/**
 * QuantNet of seed 004 §3.2 (Figure 3.1, Table 4.1): two 3x3 stride-2 'same' convs (32, 64 filters, ReLU,
 * He normal), dropout 0.1, flatten, FC 128 and FC 16 (ReLU, He normal), output layer with Glorot normal
 * initialisation: one sigmoid unit for binary tasks (the seed's setting), softmax over k classes otherwise.
 * Seed 004 puts "a dropout of 0.1 after the two Conv2D layers"; we read that as one dropout after the conv
 * block, which leaves the parameter counts of Table 4.1 unchanged either way.
 */
export function quantnet(input: number[] = [32, 32, 3], opts: ZooOptions = {}): Architecture {
  const classes = opts.classes ?? 2;
  const head = opts.head ?? (classes === 2 ? 'sigmoid' : 'softmax');
  return {
    name: 'quantnet',
    input,
    head,
    layers: [
      { kind: 'conv2d', filters: 32, kernel: 3, stride: 2, padding: 'same', activation: 'relu', init: 'heNormal', name: 'conv1' },
      { kind: 'conv2d', filters: 64, kernel: 3, stride: 2, padding: 'same', activation: 'relu', init: 'heNormal', name: 'conv2' },
      { kind: 'dropout', rate: 0.1, name: 'dropout' },
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', units: 128, activation: 'relu', init: 'heNormal', name: 'linear1' },
      { kind: 'dense', units: 16, activation: 'relu', init: 'heNormal', name: 'linear2' },
      { kind: 'dense', units: outputs(classes, head), init: 'glorotNormal', name: 'linear3' },
    ],
  };
}

export interface MlpOptions extends ZooOptions {
  hidden: number[];
  activation?: ActivationName;
  batchnorm?: boolean;
  dropout?: number;
  name?: string;
}

/** A multilayer perceptron `input-hidden...-classes` (the seed-000 search space builds these). */
export function mlp(inputs: number, opts: MlpOptions): Architecture {
  const head = opts.head ?? 'softmax';
  const layers: LayerSpec[] = [];
  opts.hidden.forEach((units, i) => {
    const n = i + 1;
    layers.push({ kind: 'dense', units, bias: !opts.batchnorm, name: `fc${n}` });
    if (opts.batchnorm) layers.push({ kind: 'batchnorm', name: `bn${n}` });
    layers.push({ kind: 'activation', fn: opts.activation ?? 'relu', name: `act${n}` });
    if (opts.dropout) layers.push({ kind: 'dropout', rate: opts.dropout, name: `dropout${n}` });
  });
  layers.push({ kind: 'dense', units: outputs(opts.classes ?? 10, head), name: `fc${opts.hidden.length + 1}` });
  return { name: opts.name ?? `mlp-${[inputs, ...opts.hidden, opts.classes ?? 10].join('-')}`, input: [inputs], head, layers };
}

/** The built-in names `tck` accepts, with the input each expects. */
export const MODEL_NAMES = ['lenet5', 'lenet5-32', 'lenet5-cifar10', 'vgg7', 'quantnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * A built-in architecture by name. `mlp-21-32-16-10` style names build an MLP with those widths.
 * `classes` overrides the class count (for example 2 for the class-pair sets of seed 004).
 */
export function architectureByName(name: string, opts: ZooOptions = {}): Architecture {
  switch (name) {
    case 'lenet5':
      return lenet5([28, 28, 1], opts, 'lenet5');
    case 'lenet5-32':
      // Seed 000's "MNIST 32x32": 28x28 digits padded to 32x32.
      return lenet5([32, 32, 1], opts, 'lenet5-32');
    case 'lenet5-cifar10':
      return lenet5([32, 32, 3], opts, 'lenet5-cifar10');
    case 'vgg7':
      return vgg7([32, 32, 3], opts);
    case 'quantnet':
      return quantnet([32, 32, 3], opts);
  }
  const m = /^mlp-(\d+(?:-\d+)+)$/.exec(name);
  if (m) {
    const widths = m[1].split('-').map(Number);
    const classes = widths[widths.length - 1];
    if (opts.classes !== undefined && opts.classes !== classes && !(opts.head === 'sigmoid' && classes === 1)) {
      throw new ArchitectureError(name, 'output', `the name gives ${classes} outputs but the data has ${opts.classes} classes; use mlp-${widths.slice(0, -1).join('-')}-${opts.classes}`);
    }
    return mlp(widths[0], { ...opts, hidden: widths.slice(1, -1), classes, name });
  }
  throw new ArchitectureError(
    name,
    'name',
    `unknown model; built-in models are ${MODEL_NAMES.join(', ')} and mlp-<in>-<hidden...>-<classes>`,
  );
}
