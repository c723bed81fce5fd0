/**
 * The one registry of presets and profiles, as data. The CLI resolves `--preset/--profile` here, the notebooks
 * read their settings here (`presetSettings('notebook', 'quickstart', profile)`), and `reproduce.sh` asks
 * `tck steps` for its list of steps instead of keeping its own. An experiment adds its presets and its steps
 * here.
 */
import type { Profile } from '../run/profile.js';
import { PROFILES } from '../run/profile.js';
import { KitError } from '../util/errors.js';

/** A named config: the preset's settings, and what each profile changes (smoke: seconds, quick: minutes, paper: the seed's). */
export interface PresetDef<C = Record<string, unknown>> {
  description: string;
  config: Partial<C>;
  profiles: Record<Profile, Partial<C>>;
}

export type PresetTable<C = Record<string, unknown>> = Record<string, PresetDef<C>>;

const smokeSubset = { subset: { n: 2000, mode: 'stratified' as const } };

/** NAS profiles (seed 000 Table 2.3 at paper): smoke proves the code path, quick is a small search. */
const NAS_MLP_PROFILES = {
  smoke: { population: 6, offspring: 2, generations: 3, epochs: 2, folds: 2, repeats: 1 },
  quick: { population: 12, offspring: 4, generations: 4, epochs: 10, folds: 5, repeats: 1 },
  paper: {},
};
/** CNN trainings cost seconds to minutes each on a CPU: smoke and quick use subsets and narrower channels. */
const narrowConvs = (channels: number[]) => Object.fromEntries([1, 2, 3, 4].map((i) => [`conv_channels${i}`, channels]));
const NAS_CNN_PROFILES = {
  smoke: { subset: { n: 150, mode: 'stratified' }, population: 4, offspring: 2, generations: 2, epochs: 1, folds: 2, repeats: 1, geneOptions: { conv_layers: [1, 2], ...narrowConvs([16]) } },
  quick: { subset: { n: 500, mode: 'stratified' }, population: 8, offspring: 4, generations: 2, epochs: 2, folds: 2, repeats: 1, geneOptions: narrowConvs([16, 24, 32]) },
  paper: {},
};

/** Presets of every command, by command name. */
export const PRESETS: Record<string, PresetTable> = {
  train: {
    'lenet5-mnist': {
      description: 'LeNet-5 (seed 001, 28x28, no padding) on MNIST, Adam 1e-3, batch 50',
      config: { model: 'lenet5', dataset: 'mnist' },
      profiles: { smoke: { epochs: 1, ...smokeSubset }, quick: { epochs: 3 }, paper: { epochs: 10 } },
    },
    'lenet5-fashion-mnist': {
      description: 'LeNet-5 on Fashion-MNIST, Adam 1e-3, batch 50',
      config: { model: 'lenet5', dataset: 'fashion-mnist' },
      profiles: { smoke: { epochs: 1, ...smokeSubset }, quick: { epochs: 3 }, paper: { epochs: 10 } },
    },
  },
  // Seed 000 experiment 1 (src/experiments/sweep/): every other setting is the seed's (sweep/config.ts,
  // SWEEP_DEFAULTS); smoke and quick reduce data, folds, repeats, epochs and (VGG7) channel width.
  sweep: {
    'lenet5-mnist32': {
      description: 'seed 000 experiment 1: LeNet5 on mini-MNIST 32x32, 4 weight compressions x 4 activations, 5-fold x 3 repeats, 30 epochs, batch 50',
      config: { model: 'lenet5', data: 'mini-mnist32', batchSize: 50 },
      profiles: {
        smoke: { subset: { n: 400, mode: 'first' }, testSubset: { n: 200, mode: 'first' }, epochs: 1, protocol: { k: 2, repeats: 1, valFraction: 0.1 } },
        // quick: the first 2,000 images (not 4,000) and 4 epochs, 1 repeat, to stay within 20 minutes on 2 shared cores (docs/sweep.md).
        quick: { subset: { n: 2000, mode: 'first' }, testSubset: { n: 1000, mode: 'first' }, epochs: 4, protocol: { k: 5, repeats: 1, valFraction: 0.1 } },
        paper: {},
      },
    },
    'vgg7-cifar10': {
      description: 'seed 000 experiment 1: VGG7 on mini-CIFAR10 (needs CIFAR-10; --stand-in: Fashion-MNIST 32x32x3), 16 combinations, 5-fold x 3 repeats, 30 epochs, batch 100',
      config: { model: 'vgg7', data: 'mini-cifar10', subset: { n: 8000, mode: 'first' }, batchSize: 100 }, // mini-CIFAR10: the first 8,000 (§2.1.4)
      profiles: {
        smoke: { width: 0.0625, subset: { n: 300, mode: 'first' }, testSubset: { n: 100, mode: 'first' }, epochs: 1, protocol: { k: 2, repeats: 1, valFraction: 0.1 } },
        quick: { width: 0.125, subset: { n: 1000, mode: 'first' }, testSubset: { n: 1000, mode: 'first' }, epochs: 3, protocol: { k: 3, repeats: 1, valFraction: 0.1 } },
        paper: {},
      },
    },
  },
  // Seed 000 §2.3 NAS (src/experiments/nas.ts): every other setting is Table 2.3's (NAS_DEFAULTS); smoke and
  // quick shrink the population, generations, epochs, folds and repeats (and the CNN's data and channels).
  nas: {
    'mlp-vertebral': { description: 'seed 000 NAS, MLP space (Table 2.1) on Vertebral Column (needs tck data fetch vertebral), batch 32', config: { space: 'mlp', dataset: 'vertebral', batchSize: 32 }, profiles: NAS_MLP_PROFILES },
    'mlp-breast-cancer': { description: 'seed 000 NAS, MLP space (Table 2.1) on Breast Cancer (Ljubljana), batch 32', config: { space: 'mlp', dataset: 'breast-cancer', batchSize: 32 }, profiles: NAS_MLP_PROFILES },
    'mlp-cardio': { description: 'seed 000 NAS, MLP space (Table 2.1) on Cardiotocography (10 classes), batch 32', config: { space: 'mlp', dataset: 'cardio', batchSize: 32 }, profiles: NAS_MLP_PROFILES },
    'mlp-mini-mnist': { description: 'seed 000 NAS, MLP space (Table 2.1) on mini-MNIST (4,000 images, flattened), batch 50', config: { space: 'mlp', dataset: 'mini-mnist', batchSize: 50 }, profiles: { ...NAS_MLP_PROFILES, smoke: { ...NAS_MLP_PROFILES.smoke, subset: { n: 300, mode: 'stratified' } }, quick: { ...NAS_MLP_PROFILES.quick, subset: { n: 1000, mode: 'stratified' } } } },
    'cnn-mini-mnist': { description: 'seed 000 NAS, CNN space (Table 2.2) on mini-MNIST (28x28), batch 50', config: { space: 'cnn', dataset: 'mini-mnist', batchSize: 50 }, profiles: NAS_CNN_PROFILES },
    'cnn-mini-cifar10': { description: 'seed 000 NAS, CNN space (Table 2.2) on mini-CIFAR10 (needs tck data fetch cifar10), batch 100', config: { space: 'cnn', dataset: 'mini-cifar10', batchSize: 100 }, profiles: NAS_CNN_PROFILES },
  },
  // Seed 004's compression study (tck compress; notebooks 06 and 07 open the same run directories). Nested
  // settings merge deeply (compressConfig in src/experiments/compress/config.ts).
  // Pipelines' smoke trains on 128 images and clusters into 4 (k-means of linear1's 524,288 weights into 16
  // clusters takes ~14 s here). Quick trains on 1,500 images for 6 epochs and stops the N_c curve at 16 (each
  // k-means costs about N_c) to stay within 20 minutes per preset on this shared 2-core machine (docs/compress.md).
  compress: {
    'layer-significance': {
      description: 'seed 004 Tables 4.5, 4.6, Figs. 3.3, 4.1-4.4: ID profiles, significant layers, mixed precision (XNOR-Net, TwoNN hybrid, PCA Hybrid-Net)',
      config: { parts: ['sensitivity', 'id-profile', 'mixed-precision'] },
      profiles: {
        smoke: { repeats: 1, trainSubset: 256, testSubset: 200, train: { epochs: 1 }, fineTune: { epochs: 1 }, id: { points: 60, channelPoints: 300 }, calibrationSamples: 100 },
        quick: { repeats: 2, trainSubset: 1500, testSubset: 1000, train: { epochs: 6 }, fineTune: { epochs: 3, patience: 2 }, id: { points: 400, channelPoints: 1500 } },
        paper: {},
      },
    },
    pipelines: {
      description: 'seed 004 Tables 4.3, 4.4, 4.7, 4.8, 4.9, Figs. 4.5, 4.6: PTQ/QAT standalone and transfer, pruning, clustering, the proposed pipelines',
      config: { parts: ['quantization', 'pruning', 'clustering', 'pipelines'] },
      profiles: {
        smoke: { repeats: 1, trainSubset: 128, testSubset: 100, train: { epochs: 1 }, fineTune: { epochs: 1 }, id: { points: 60, channelPoints: 300 }, clusters: 4, clusterCounts: [2, 4], sparsities: [0.5], calibrationSamples: 100 },
        quick: { repeats: 2, trainSubset: 1500, testSubset: 1000, train: { epochs: 6 }, fineTune: { epochs: 3, patience: 2 }, id: { points: 400, channelPoints: 1500 }, clusterCounts: [2, 4, 8, 16], sparsities: [0.1, 0.3, 0.5, 0.7, 0.9] },
        paper: {},
      },
    },
  },
  // Seed 002 (tck binary, src/experiments/binary.ts; notebooks 08 and 09 run the same presets). genetic-mnist:
  // §4.1.6's 5 layers and 100 bits per label (hidden width and flip rates are not in the seed: kit choices);
  // smoke shrinks the network. resnet-*: Tables 5.1-5.3; smoke and quick narrow the network and the data.
  binary: {
    'genetic-mnist': {
      description: 'seed 002 §4.1: naive, elite and counting-error genetic training of a 5-layer XNOR-popcount network (100 bits per label) on MNIST',
      config: {
        experiment: 'genetic',
        dataset: 'mnist',
        hidden: [1000, 1000, 1000, 1000],
        bitsPerLabel: 100,
        batchSize: 100,
        trainers: [
          { kind: 'naive', flip: { num: 1, den: 4096 } },
          { kind: 'elite', flip: { num: 1, den: 4096 }, eliteSize: 4, children: 4 },
          { kind: 'counting', flip: { num: 1, den: 16 }, children: 4 },
          // Not the seed's rule: wrong in an eighth of the batch, only the last layer marked (docs/binary.md, "Counting
          // error on MNIST: investigation": 73% at quick against ~10% for the line above).
          { kind: 'counting', flip: { num: 1, den: 16 }, children: 4, errorThreshold: { num: 1, den: 8 }, blameDepth: 1 },
        ],
      },
      profiles: {
        smoke: { hidden: [64, 64], bitsPerLabel: 10, subset: { n: 1000, mode: 'stratified' }, steps: 10, evalRows: 500 },
        quick: { subset: { n: 10000, mode: 'stratified' }, steps: 1500, evalRows: 2000 },
        paper: { steps: 20000 },
      },
    },
    'resnet-mnist': {
      description: 'seed 002 §4.2, Table 5.3: binary ResNet-18 (ReCU, shifted hardtanh, cyclic 3-8 bits, SGD lr 0.1, cosine) and the full-precision baseline on MNIST, no augmentation',
      config: { experiment: 'resnet', dataset: 'mnist', variants: ['sgd', 'fp'] },
      profiles: {
        smoke: { width: 0.0625, subset: { n: 256, mode: 'stratified' }, epochs: 1, batchSize: 64 },
        quick: { width: 0.125, subset: { n: 5000, mode: 'stratified' }, epochs: 3, batchSize: 64 },
        paper: { width: 1, epochs: 600 },
      },
    },
    'resnet-cifar10': {
      description: 'seed 002 Table 5.1: binary ResNet-18 (Adam lr 0.0025 / SGD lr 0.1) and the full-precision baseline on CIFAR-10 with augmentation (needs tck data fetch cifar10)',
      config: { experiment: 'resnet', dataset: 'cifar10', variants: ['sgd', 'adam', 'fp'] },
      profiles: {
        smoke: { width: 0.0625, subset: { n: 256, mode: 'stratified' }, epochs: 1, batchSize: 64 },
        quick: { width: 0.125, subset: { n: 5000, mode: 'stratified' }, epochs: 3, batchSize: 64 },
        paper: { width: 1, epochs: 600, adamEpochs: 254 },
      },
    },
    'resnet-cifar100': {
      description: 'seed 002 Table 5.2: binary ResNet-18 (Adam / SGD) and the full-precision baseline on CIFAR-100 with augmentation (needs tck data fetch cifar100)',
      config: { experiment: 'resnet', dataset: 'cifar100', variants: ['sgd', 'adam', 'fp'] },
      profiles: {
        smoke: { width: 0.0625, subset: { n: 256, mode: 'stratified' }, epochs: 1, batchSize: 64 },
        quick: { width: 0.125, subset: { n: 5000, mode: 'stratified' }, epochs: 3, batchSize: 64 },
        paper: { width: 1, epochs: 600, adamEpochs: 254 },
      },
    },
  },
  notebook: {
    // Notebooks 02 and 03 (seed 000 NAS): the `nas` presets they run at the notebook's profile (the same run
    // directories as reproduce.sh's nas steps) and the size of their NSGA-II demonstration on ZDT1.
    'nas-mlp': {
      description: 'notebook 02: NSGA-II on ZDT1, then the MLP searches of seed 000 on the offline datasets',
      config: { presets: ['mlp-cardio', 'mlp-breast-cancer'], zdt: { population: 100, generations: 250 } },
      profiles: { smoke: { zdt: { population: 40, generations: 60 } }, quick: {}, paper: {} },
    },
    'nas-cnn': {
      description: 'notebook 03: the CNN search of seed 000 on mini-MNIST (and mini-CIFAR10 when its data is present)',
      config: { presets: ['cnn-mini-mnist', 'cnn-mini-cifar10'] },
      profiles: { smoke: {}, quick: {}, paper: {} },
    },
    quickstart: {
      description: 'the quickstart notebook: LeNet-5 on an MNIST subset',
      config: { model: 'lenet5', dataset: 'mnist', batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1 },
      profiles: { smoke: { trainSamples: 1000, epochs: 1 }, quick: { trainSamples: 10000, epochs: 2 }, paper: { trainSamples: 60000, epochs: 10 } },
    },
    'compression-tutorial': {
      description: 'the compression tutorial: LeNet-5 (32x32) with float, 4-bit, ternary and binary weights on MNIST',
      config: { model: 'lenet5-32', dataset: 'mnist32', batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1, weights: ['none', '4bit', 'ternary', 'binary'], exportVariant: '4bit', checkSamples: 1000 },
      profiles: { smoke: { trainSamples: 1000, epochs: 1, checkSamples: 300 }, quick: { trainSamples: 10000, epochs: 3 }, paper: { trainSamples: 60000, epochs: 10 } },
    },
    // Notebooks 06 and 07 (seed 004) run the compress presets named here, in the same run directories as tck
    // compress (results/compress-<preset>[-stand-in]-<profile>), with --stand-in where CIFAR-10 is missing.
    'layer-significance': {
      description: 'notebook 06: seed 004 ID profiles, significant layers and mixed precision (the compress preset layer-significance)',
      config: { compressPreset: 'layer-significance' },
      profiles: { smoke: {}, quick: {}, paper: {} },
    },
    'compression-pipelines': {
      description: 'notebook 07: seed 004 PTQ/QAT, transfer learning, pruning, clustering and the pipelines (the compress preset pipelines)',
      config: { compressPreset: 'pipelines' },
      profiles: { smoke: {}, quick: {}, paper: {} },
    },
  },
};

/** The presets of `command` (an error listing the commands that have presets when it has none). */
export function presetsOf<C = Record<string, unknown>>(command: string): PresetTable<C> {
  const t = PRESETS[command];
  if (!t) throw new KitError(`no presets for command ${command}; commands with presets: ${Object.keys(PRESETS).join(', ')}`, 'UsageError');
  return t as PresetTable<C>;
}

/** A preset's settings at a profile (the profile's values over the preset's). */
export function presetSettings<C = Record<string, unknown>>(command: string, preset: string, profile: Profile): Partial<C> {
  const p = presetsOf<C>(command)[preset];
  if (!p) throw new KitError(`unknown ${command} preset ${JSON.stringify(preset)}; known: ${Object.keys(presetsOf(command)).join(', ')}`, 'UsageError');
  if (!(PROFILES as readonly string[]).includes(profile)) throw new KitError(`unknown profile ${JSON.stringify(profile)}; profiles: ${PROFILES.join(', ')}`, 'UsageError');
  return { ...p.config, ...p.profiles[profile] };
}

/** One step of reproduce.sh: a `tck` command line, run with `--profile <p>` appended. */
export interface ReproduceStep {
  name: string;
  argv: string[];
  description: string;
}

/** What `reproduce.sh` runs, in order (before the notebooks and the report). */
export const REPRODUCE_STEPS: ReproduceStep[] = [
  { name: 'estimate-lenet5', argv: ['estimate', '--model', 'lenet5'], description: 'seed 001 Tables 5.1 and 5.2 (MNIST)' },
  { name: 'estimate-lenet5-cifar10', argv: ['estimate', '--model', 'lenet5-cifar10'], description: 'seed 001 Table 5.1 (CIFAR-10)' },
  { name: 'estimate-quantnet', argv: ['estimate', '--model', 'quantnet'], description: 'seed 004 Tables 4.1 and 4.6' },
  { name: 'train-lenet5-mnist', argv: ['train', '--preset', 'lenet5-mnist'], description: 'LeNet-5 baseline on MNIST (seed 001)' },
  { name: 'train-lenet5-fashion-mnist', argv: ['train', '--preset', 'lenet5-fashion-mnist'], description: 'LeNet-5 baseline on Fashion-MNIST (seed 001)' },
  // Seed 004 on the Fashion-MNIST stand-ins (CIFAR-10 cannot be obtained offline; with it present, run the same
  // commands without --stand-in). Notebooks 06 and 07 then read these runs.
  { name: 'compress-layer-significance', argv: ['compress', '--preset', 'layer-significance', '--stand-in'], description: 'seed 004 Tables 4.5, 4.6, Figs. 3.3, 4.1-4.4 (stand-in data)' },
  { name: 'compress-pipelines', argv: ['compress', '--preset', 'pipelines', '--stand-in'], description: 'seed 004 Tables 4.3, 4.4, 4.7-4.9, Figs. 4.5, 4.6 (stand-in data)' },
  { name: 'sweep-lenet5-mnist32', argv: ['sweep', '--preset', 'lenet5-mnist32'], description: 'seed 000 experiment 1: LeNet5 compression sweep (Figs. 3.1, 3.2)' },
  // CIFAR-10 cannot be obtained offline: the VGG7 half runs on the Fashion-MNIST stand-in, marked STAND-IN
  // (once CIFAR-10 is imported: tck sweep --preset vgg7-cifar10 --profile <p>).
  { name: 'sweep-vgg7-stand-in', argv: ['sweep', '--preset', 'vgg7-cifar10', '--stand-in'], description: 'seed 000 experiment 1 on VGG7, on the Fashion-MNIST stand-in for mini-CIFAR10' },
  // Seed 000 §2.3 NAS on the datasets obtainable offline (notebooks 02 and 03 read these runs); mlp-vertebral and
  // cnn-mini-cifar10 need a download: tck data fetch vertebral / cifar10, then tck nas --preset <p> --profile <p>.
  { name: 'nas-mlp-cardio', argv: ['nas', '--preset', 'mlp-cardio'], description: 'seed 000 NAS, MLP space on Cardiotocography (Fig. 3.4, Table 2.4)' },
  { name: 'nas-mlp-breast-cancer', argv: ['nas', '--preset', 'mlp-breast-cancer'], description: 'seed 000 NAS, MLP space on Breast Cancer (Fig. 3.5, Table 2.4)' },
  { name: 'nas-mlp-mini-mnist', argv: ['nas', '--preset', 'mlp-mini-mnist'], description: 'seed 000 NAS, MLP space on mini-MNIST (Fig. 3.6)' },
  { name: 'nas-cnn-mini-mnist', argv: ['nas', '--preset', 'cnn-mini-mnist'], description: 'seed 000 NAS, CNN space on mini-MNIST (Fig. 3.6, Table 2.4)' },
  // Seed 002 on MNIST (CIFAR-10/100 presets need the datasets: tck binary --preset resnet-cifar10 once imported).
  { name: 'binary-genetic-mnist', argv: ['binary', '--preset', 'genetic-mnist'], description: 'seed 002 §4.1.6: the three genetic trainers of a binary XNOR network on MNIST' },
  { name: 'binary-resnet-mnist', argv: ['binary', '--preset', 'resnet-mnist'], description: 'seed 002 Table 5.3: binary ResNet-18 with cyclic precision and its full-precision baseline on MNIST' },
];
