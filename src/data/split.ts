/**
 * Subsets and splits: seeded stratified k-fold, stratified hold-out, "mini" subsets (the reference's first-N
 * and a seeded stratified variant) and class filters (seed 004 §4.1.1's class pairs).
 */
import type { Rng } from '../engine/random.js';
import { type Dataset, DataError, sampleSize } from './types.js';

/** The rows `indices` of `ds`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>, id = ds.id): Dataset {
  const d = sampleSize(ds);
  const x = new Float32Array(indices.length * d);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!(r >= 0 && r < ds.y.length)) throw new DataError(`dataset ${ds.id}`, `row index ${r} out of range`);
    x.set(ds.x.subarray(r * d, (r + 1) * d), i * d);
    y[i] = ds.y[r];
  }
  return { ...ds, id, x, y };
}

/** Concatenates datasets of the same sample shape and classes (e.g. MNIST train + test, as the reference does). */
export function concat(parts: Dataset[], id: string): Dataset {
  const [first] = parts;
  for (const p of parts) {
    if (p.shape.join() !== first.shape.join()) throw new DataError(`concat ${id}`, `shapes differ: [${p.shape}] vs [${first.shape}]`);
  }
  const x = new Float32Array(parts.reduce((s, p) => s + p.x.length, 0));
  const y = new Int32Array(parts.reduce((s, p) => s + p.y.length, 0));
  let ox = 0;
  let oy = 0;
  for (const p of parts) {
    x.set(p.x, ox);
    y.set(p.y, oy);
    ox += p.x.length;
    oy += p.y.length;
  }
  return { ...first, id, x, y };
}

/** Row indices of each class, in dataset order. */
export function indicesByClass(y: Int32Array, classes: number): number[][] {
  const by: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < y.length; i++) by[y[i]].push(i);
  return by;
}

function classCount(y: Int32Array): number {
  let m = -1;
  for (let i = 0; i < y.length; i++) if (y[i] > m) m = y[i];
  return m + 1;
}

/**
 * Stratified k-fold: each class's rows are shuffled and dealt to the folds in turn, continuing where the
 * previous class stopped, so every fold holds floor or ceil of each class's share and fold sizes differ by
 * at most one. Returns the held-out indices of each fold (sorted); together they partition 0..n-1.
 */
export function stratifiedKFold(y: Int32Array, k: number, rng: Rng): Int32Array[] {
  if (!Number.isInteger(k) || k < 2) throw new DataError('stratifiedKFold', `k must be an integer >= 2, got ${k}`);
  if (y.length < k) throw new DataError('stratifiedKFold', `${y.length} samples cannot make ${k} folds`);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const rows of indicesByClass(y, classCount(y))) {
    rng.shuffle(rows);
    for (const r of rows) {
      folds[next].push(r);
      next = (next + 1) % k;
    }
  }
  return folds.map((f) => Int32Array.from(f).sort());
}

/** The complement of `held` in 0..n-1 (the training rows of a fold). */
export function complement(n: number, held: Int32Array): Int32Array {
  const mask = new Uint8Array(n);
  for (const i of held) mask[i] = 1;
  const out = new Int32Array(n - held.length);
  let j = 0;
  for (let i = 0; i < n; i++) if (!mask[i]) out[j++] = i;
  return out;
}

/**
 * Stratified hold-out: `fraction` of each class (rounded, at least one row of every class with two or more
 * rows) goes to `held`, the rest to `kept`. Indices are in shuffled order.
 */
export function stratifiedSplit(y: Int32Array, fraction: number, rng: Rng): { kept: Int32Array; held: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new DataError('stratifiedSplit', `fraction must be in (0, 1), got ${fraction}`);
  const kept: number[] = [];
  const held: number[] = [];
  for (const rows of indicesByClass(y, classCount(y))) {
    rng.shuffle(rows);
    const h = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * fraction)));
    held.push(...rows.slice(0, h));
    kept.push(...rows.slice(h));
  }
  return { kept: Int32Array.from(rng.shuffle(kept)), held: Int32Array.from(rng.shuffle(held)) };
}

/**
 * A "mini" subset of `n` rows. `first`: the first n rows, as the seed-000 reference takes mini-MNIST and
 * mini-CIFAR10 (class balance is whatever the file order gives). `stratified`: n rows with the class ratios
 * of the full set, drawn with `rng`, in dataset order.
 */
export function miniSubset(ds: Dataset, n: number, mode: 'first' | 'stratified', rng?: Rng): Dataset {
  if (!Number.isInteger(n) || n < 1) throw new DataError(`dataset ${ds.id}`, `subset size must be a positive integer, got ${n}`);
  if (n >= ds.y.length) return ds;
  const id = `${ds.id}[${mode === 'first' ? 'first' : 'strat'}${n}]`;
  if (mode === 'first') return subset(ds, Array.from({ length: n }, (_, i) => i), id);
  if (!rng) throw new DataError(`dataset ${ds.id}`, 'a stratified subset needs a random stream');
  const byClass = indicesByClass(ds.y, classCount(ds.y));
  const take = allocate(byClass.map((r) => r.length), n);
  const rows = byClass.flatMap((r, c) => rng.shuffle(r).slice(0, take[c]));
  return subset(ds, Int32Array.from(rows).sort(), id);
}

/**
 * Splits `n` over classes in proportion to `counts` (largest remainder: floors first, then the largest
 * fractional parts, ties to the lower class index), so the parts sum to exactly n.
 */
export function allocate(counts: number[], n: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const quota = counts.map((c) => (c * n) / total);
  const out = quota.map(Math.floor);
  const order = quota.map((q, i) => i).sort((a, b) => quota[b] - out[b] - (quota[a] - out[a]) || a - b);
  const short = n - out.reduce((a, b) => a + b, 0); // < number of classes: each largest remainder gets one more
  for (let k = 0; k < short; k++) out[order[k]]++;
  return out;
}

/**
 * Keeps only the listed classes and relabels them 0..k-1 in the order given (seed 004 §4.1.1: "Cat vs Dog"
 * gives cat = 0, dog = 1). Classes are given by name or index.
 */
export function filterClasses(ds: Dataset, keep: (string | number)[]): Dataset {
  const idx = keep.map((c) => {
    const i = typeof c === 'number' ? c : ds.classNames.indexOf(c);
    if (!(i >= 0 && i < ds.classNames.length)) {
      throw new DataError(`dataset ${ds.id}`, `no class ${JSON.stringify(c)}; classes are ${ds.classNames.join(', ')}`);
    }
    return i;
  });
  const map = new Map(idx.map((c, j) => [c, j]));
  const rows: number[] = [];
  for (let i = 0; i < ds.y.length; i++) if (map.has(ds.y[i])) rows.push(i);
  const out = subset(ds, rows, `${ds.id}:${idx.map((i) => ds.classNames[i]).join('-')}`);
  for (let i = 0; i < out.y.length; i++) out.y[i] = map.get(out.y[i])!;
  return { ...out, classNames: idx.map((i) => ds.classNames[i]) };
}

/** Number of samples of each class. */
export function classCounts(ds: Dataset): number[] {
  const c = new Array<number>(ds.classNames.length).fill(0);
  for (let i = 0; i < ds.y.length; i++) c[ds.y[i]]++;
  return c;
}
