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
  return d;
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
  train = prepare(train, view);
  test = test && prepare(test, view);
  return { name, train: { ...train, id: name }, test: test && { ...test, id: `${name}:test` }, record: { id: name, files: raw.files } };
}
