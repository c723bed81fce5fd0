/**
 * Dataset views: a registry dataset plus the preprocessing an experiment needs (normalisation, 28->32,
 * mini subsets, class pairs, tabular target). Named views cover the seeds' datasets; a view can also be
 * given as an object in a config.
 */
import { z } from 'zod';
import { rngStream } from '../engine/random.js';
import { type Dataset, DataError } from './types.js';
import { loadDataset, type LoadOptions } from './registry.js';
import { normalizeChannels, padImages, resizeBilinear } from './preprocess.js';
import { concat, filterClasses, miniSubset } from './split.js';
import type { DatasetRecord } from '../run/provenance.js';

const Subset = z.strictObject({ n: z.number().int().min(1), mode: z.enum(['first', 'stratified']) });

/** A dataset view given as data (in configs and job specs); the named views below are instances. */
export const DatasetViewSchema = z.strictObject({
  /** Registry id. */
  dataset: z.string().min(1),
  /** Tabular recipe and target (see `LoadOptions`). */
  recipe: z.enum(['reference', 'raw']).optional(),
  target: z.string().optional(),
  /** Keep only these classes, relabelled 0..k-1 in this order. */
  classes: z.array(z.union([z.string(), z.number().int()])).min(2).optional(),
  /** Merge train and test before taking a subset (the seed-000 reference's mini sets); no test split remains. */
  mergeSplits: z.boolean().optional(),
  /** Keep n training samples: `first` (the reference) or `stratified` (seeded). */
  subset: Subset.optional(),
  /** Per-channel normalisation; `none` keeps pixels in [0, 1]. */
  normalize: z.union([z.literal('none'), z.strictObject({ mean: z.array(z.number()), std: z.array(z.number().positive()) })]).optional(),
  /** Image size change: zero padding (28 -> 32 with 2 pixels) or bilinear resize (the reference's). */
  resize: z.strictObject({ to: z.number().int().min(1), method: z.enum(['pad', 'bilinear']) }).optional(),
  /** Keep n rows of the test split (`first`, or a seeded stratified draw); default: the whole test split. */
  testSubset: Subset.optional(),
  /** Repeat a grey channel three times, after normalising (a grey stand-in for an RGB dataset, marked as such by its user). */
  grayToRgb: z.boolean().optional(),
  /**
   * Rotate every image (train and test) by this many degrees, counter-clockwise about its centre; bilinear with
   * zero fill, exact for multiples of 90 (seed 004 Table 4.4's "Rotated Cat vs Dog", whose angle is not printed).
   */
  rotate: z.number().optional(),
});

export type DatasetView = z.infer<typeof DatasetViewSchema>;

/** A subset rule: n rows, the first ones or a seeded stratified draw. */
export const SubsetSchema = Subset;
export type SubsetRule = z.infer<typeof Subset>;

const MNIST_NORM = { mean: [0.1307], std: [0.3081] };
const FASHION_NORM = { mean: [0.286], std: [0.353] };
/** The seed-000 reference's CIFAR-10 normalisation. */
const CIFAR_NORM = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };

/** Named views. `mini-*` follow the seed-000 reference (first 4,000 / 8,000 images of train + test). */
export const VIEWS: Record<string, { view: DatasetView; description: string }> = {
  mnist: { view: { dataset: 'mnist', normalize: MNIST_NORM }, description: 'MNIST 28x28, normalised (0.1307, 0.3081)' },
  mnist32: {
    view: { dataset: 'mnist', normalize: MNIST_NORM, resize: { to: 32, method: 'pad' } },
    description: 'MNIST zero-padded to 32x32 (LeNet-5 input)',
  },
  'mini-mnist': {
    view: { dataset: 'mnist', normalize: MNIST_NORM, mergeSplits: true, subset: { n: 4000, mode: 'first' } },
    description: 'seed 000 mini-MNIST: first 4,000 of train+test, 28x28',
  },
  'mini-mnist32': {
    view: { dataset: 'mnist', normalize: MNIST_NORM, mergeSplits: true, subset: { n: 4000, mode: 'first' }, resize: { to: 32, method: 'bilinear' } },
    description: 'seed 000 mini-MNIST 32x32: first 4,000 of train+test, resized bilinearly as the reference does',
  },
  'fashion-mnist': { view: { dataset: 'fashion-mnist', normalize: FASHION_NORM }, description: 'Fashion-MNIST 28x28, normalised' },
  cifar10: { view: { dataset: 'cifar10', normalize: CIFAR_NORM }, description: 'CIFAR-10, normalised as the seed-000 reference' },
  'mini-cifar10': {
    view: { dataset: 'cifar10', normalize: CIFAR_NORM, mergeSplits: true, subset: { n: 8000, mode: 'first' } },
    description: 'seed 000 mini-CIFAR10: first 8,000 of train+test',
  },
  'cifar10-cat-dog': {
    view: { dataset: 'cifar10', normalize: 'none', classes: ['cat', 'dog'] },
    description: 'seed 004 Cat vs Dog (pixels in [0, 1])',
  },
  'cifar10-horse-frog': {
    view: { dataset: 'cifar10', normalize: 'none', classes: ['horse', 'frog'] },
    description: 'seed 004 Horse vs Frog (pixels in [0, 1])',
  },
  // Offline stand-ins for seed 004's CIFAR-10 pairs (tck compress --stand-in): two Fashion-MNIST class pairs, padded
  // to 32x32 and repeated into 3 channels so QuantNet and its Table 4.1 parameter counts stay as they are.
  'stand-in-shirt-tshirt': {
    view: { dataset: 'fashion-mnist', normalize: 'none', classes: ['Shirt', 'T-shirt/top'], resize: { to: 32, method: 'pad' }, grayToRgb: true },
    description: 'STAND-IN for seed 004 Cat vs Dog: Fashion-MNIST Shirt vs T-shirt/top, 32x32x3, pixels in [0, 1]',
  },
  'stand-in-sandal-sneaker': {
    view: { dataset: 'fashion-mnist', normalize: 'none', classes: ['Sandal', 'Sneaker'], resize: { to: 32, method: 'pad' }, grayToRgb: true },
    description: 'STAND-IN for seed 004 Horse vs Frog: Fashion-MNIST Sandal vs Sneaker, 32x32x3, pixels in [0, 1]',
  },
  cifar100: { view: { dataset: 'cifar100', normalize: 'none' }, description: 'CIFAR-100 fine labels, pixels in [0, 1]' },
  cardio: { view: { dataset: 'cardio', target: 'CLASS' }, description: 'Cardiotocography, CLASS target (10 classes), reference scaling' },
  'cardio-nsp': { view: { dataset: 'cardio', target: 'NSP' }, description: 'Cardiotocography, NSP target (3 classes)' },
  'breast-cancer': { view: { dataset: 'breast-cancer' }, description: 'Breast Cancer Ljubljana, reference encoding and scaling' },
  wdbc: { view: { dataset: 'wdbc' }, description: 'Breast Cancer Wisconsin Diagnostic, standardised' },
  vertebral: { view: { dataset: 'vertebral' }, description: 'Vertebral Column, 3 classes' },
};

/** A view by name (one of `VIEWS`) or given as data. */
export const ViewRefSchema = z.union([
  z.string().refine((s) => s in VIEWS, { message: `unknown dataset view; known: ${Object.keys(VIEWS).join(', ')}` }),
  DatasetViewSchema,
]);

export function resolveView(v: string | DatasetView): { name: string; view: DatasetView } {
  if (typeof v !== 'string') return { name: v.dataset, view: v };
  const named = VIEWS[v];
  if (!named) throw new DataError(`dataset ${v}`, `unknown dataset view; known views are ${Object.keys(VIEWS).join(', ')}`);
  return { name: v, view: named.view };
}

export interface LoadedView {
  name: string;
  train: Dataset;
  test?: Dataset;
  record: DatasetRecord;
}

/** NHWC images with one channel repeated three times. */
function grayToRgb(ds: Dataset): Dataset {
  if (ds.shape[2] !== 1) throw new DataError(`dataset ${ds.id}`, `grayToRgb needs 1-channel images, got shape [${ds.shape}]`);
  const x = new Float32Array(ds.x.length * 3);
  for (let i = 0; i < ds.x.length; i++) x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = ds.x[i];
  return { ...ds, x, shape: [ds.shape[0], ds.shape[1], 3] };
}

/** Resizes, then normalises: padding happens on [0, 1] pixels, so the border is black background. */
function prepare(ds: Dataset, v: DatasetView): Dataset {
  let d = ds;
  if (v.resize) {
    const [h] = d.shape;
    if (v.resize.method === 'pad') {
      const pad = (v.resize.to - h) / 2;
      if (!Number.isInteger(pad) || pad < 0) throw new DataError(`dataset ${d.id}`, `cannot pad ${h}x${h} to ${v.resize.to}x${v.resize.to} evenly`);
      d = padImages(d, pad);
    } else {
      d = resizeBilinear(d, v.resize.to, v.resize.to);
    }
  }
  if (v.normalize && v.normalize !== 'none') d = normalizeChannels(d, v.normalize.mean, v.normalize.std);
  if (v.grayToRgb) d = grayToRgb(d);
  if (v.rotate !== undefined && v.rotate % 360 !== 0) d = rotateImages(d, v.rotate);
  return d;
}

/** Every NHWC image rotated by `degrees` counter-clockwise about its centre (bilinear, zero outside). */
function rotateImages(ds: Dataset, degrees: number): Dataset {
  const [h, w, c] = ds.shape;
  const t = (degrees * Math.PI) / 180;
  // Multiples of 90 degrees land on pixel centres: snap the trigonometry so they are exact permutations.
  const snap = (v: number) => (Math.abs(v - Math.round(v)) < 1e-12 ? Math.round(v) : v);
  const cos = snap(Math.cos(t));
  const sin = snap(Math.sin(t));
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const x = new Float32Array(ds.x.length);
  const px = (base: number, r: number, q: number, ch: number) => (r < 0 || r >= h || q < 0 || q >= w ? 0 : ds.x[base + (r * w + q) * c + ch]);
  for (let i = 0; i < ds.y.length; i++) {
    const base = i * h * w * c;
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        // The source of output pixel (r, q) (rows grow downwards): at 90 degrees the top-left takes the top-right.
        const sr = cy + cos * (r - cy) + sin * (q - cx);
        const sq = cx - sin * (r - cy) + cos * (q - cx);
        const r0 = Math.floor(sr + 1e-9);
        const q0 = Math.floor(sq + 1e-9);
        const fr = Math.max(0, sr - r0);
        const fq = Math.max(0, sq - q0);
        for (let ch = 0; ch < c; ch++) {
          const top = (1 - fq) * px(base, r0, q0, ch) + (fq ? fq * px(base, r0, q0 + 1, ch) : 0);
          const bottom = fr ? (1 - fq) * px(base, r0 + 1, q0, ch) + (fq ? fq * px(base, r0 + 1, q0 + 1, ch) : 0) : 0;
          x[base + (r * w + q) * c + ch] = (1 - fr) * top + fr * bottom;
        }
      }
    }
  }
  return { ...ds, x };
}

/** Loads a view: registry data, merged/subset/filtered and preprocessed. `seed` drives stratified subsets. */
export async function loadView(v: string | DatasetView, seed: number | string): Promise<LoadedView> {
  const { name, view } = resolveView(v);
  const raw = await loadDataset(view.dataset, { recipe: view.recipe, target: view.target });
  let train = raw.train;
  let test = raw.test;
  if (view.classes) {
    train = filterClasses(train, view.classes);
    test = test && filterClasses(test, view.classes);
  }
  if (view.mergeSplits && test) {
    train = concat([train, test], `${view.dataset}:all`);
    test = undefined;
  }
  if (view.subset) train = miniSubset(train, view.subset.n, view.subset.mode, rngStream(seed, 'data'));
  if (view.testSubset && test) test = miniSubset(test, view.testSubset.n, view.testSubset.mode, rngStream(seed, 'data:test'));
  train = prepare(train, view);
  test = test && prepare(test, view);
  return { name, train: { ...train, id: name }, test: test && { ...test, id: `${name}:test` }, record: { id: name, files: raw.files } };
}
