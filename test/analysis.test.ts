/**
 * Intrinsic dimension (src/analysis): TwoNN on spheres and cubes of known dimension, its fit and likelihood on
 * exact Pareto ratios, duplicates, exact neighbours; PCA's nPC on data with k equal-variance components; the
 * significance rules on hand-made ID profiles (seed 004 Table 4.5's); layer representations of QuantNet.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '@tensorflow/tfjs';
import { initEngine, tf } from '../src/engine/backend.js';
import { rngStream } from '../src/engine/random.js';
import { architectureByName } from '../src/models/zoo.js';
import { buildModel } from '../src/models/build.js';
import {
  twoNN,
  twoNNFromRatios,
  twoNearestNeighbours,
  pcaSpectrum,
  componentsFor,
  pcaDimension,
  uniquePoints,
  twoNNSignificance,
  pcaSignificance,
  hybridPrecisions,
  xnorPrecisions,
  layerRepresentations,
  representationPoints,
  idProfile,
  AnalysisError,
  type PointSet,
  type IdPoint,
} from '../src/analysis/index.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** `cols` orthonormal directions in R^dim (Gram-Schmidt on seeded normals). */
function orthonormal(dim: number, cols: number, seed: string): Float64Array[] {
  const rng = rngStream(seed, 'basis');
  const basis: Float64Array[] = [];
  while (basis.length < cols) {
    const v = Float64Array.from({ length: dim }, () => rng.normal());
    for (const u of basis) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += u[i] * v[i];
      for (let i = 0; i < dim; i++) v[i] -= dot * u[i];
    }
    const norm = Math.hypot(...v);
    basis.push(v.map((x) => x / norm));
  }
  return basis;
}

/** n points uniform on the unit sphere S^d (in R^(d+1)), embedded isometrically in R^ambient. */
function sphere(d: number, n: number, ambient: number, seed: string): PointSet {
  const rng = rngStream(seed, 'points');
  const basis = orthonormal(ambient, d + 1, seed);
  const x = new Float32Array(n * ambient);
  for (let p = 0; p < n; p++) {
    const z = Array.from({ length: d + 1 }, () => rng.normal());
    const r = Math.hypot(...z);
    for (let c = 0; c <= d; c++) for (let i = 0; i < ambient; i++) x[p * ambient + i] += (z[c] / r) * basis[c][i];
  }
  return { x, n, dim: ambient };
}

/** n points uniform in the unit cube [0, 1]^d. */
function cube(d: number, n: number, seed: string): PointSet {
  const rng = rngStream(seed, 'points');
  return { x: Float32Array.from({ length: n * d }, () => rng.next()), n, dim: d };
}

const within = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * want, `${what}: ${got.toFixed(3)} is not within ${100 * rel}% of ${want}`);

test('TwoNN: 2000 points uniform on S^d embedded linearly in R^64 give d within 10% (d = 2, 5, 10)', () => {
  for (const d of [2, 5, 10]) {
    const r = twoNN(sphere(d, 2000, 64, `sphere-${d}`));
    within(r.dimension, d, 0.1, `S^${d} fit`);
    within(r.mle, d, 0.1, `S^${d} maximum likelihood`);
    assert.equal(r.duplicates, 0);
    assert.equal(r.fitted, 1800); // the largest 10% of mu left out
  }
});

test('TwoNN: 2000 points uniform in the d-cube give d within 15% (d = 1..5)', () => {
  for (const d of [1, 2, 3, 4, 5]) {
    const r = twoNN(cube(d, 2000, `cube-${d}`));
    within(r.dimension, d, 0.15, `${d}-cube`);
  }
});

test('TwoNN estimates are not fooled: a 3-sphere is not read as 2 or 5, and noise-free lines give 1', () => {
  const r = twoNN(sphere(3, 1500, 20, 'not-fooled'));
  assert.ok(r.dimension > 2.5 && r.dimension < 3.5, `S^3: ${r.dimension}`);
  // A line embedded in R^10 (uneven spacing, so mu is not constant).
  const rng = rngStream('line', 'points');
  const dir = orthonormal(10, 1, 'line')[0];
  const x = new Float32Array(1000 * 10);
  for (let p = 0; p < 1000; p++) {
    const t = rng.next() * 10;
    for (let i = 0; i < 10; i++) x[p * 10 + i] = t * dir[i];
  }
  within(twoNN({ x, n: 1000, dim: 10 }).dimension, 1, 0.1, 'line');
});

test('TwoNN from ratios: exact Pareto samples recover d; the fit follows scikit-dimension on a hand example', () => {
  for (const d of [1.5, 4, 12]) {
    const rng = rngStream(`pareto-${d}`, 'points');
    // F(mu) = 1 - mu^-d (Facco et al.): mu = u^(-1/d) with u uniform in (0, 1].
    const mu = Float64Array.from({ length: 20000 }, () => (1 - rng.next()) ** (-1 / d));
    const f = twoNNFromRatios(mu);
    within(f.dimension, d, 0.03, `Pareto fit d=${d}`);
    within(f.mle, d, 0.03, `Pareto MLE d=${d}`);
    assert.ok(Math.abs(f.mleError - d / Math.sqrt(20000)) < 0.01 * d);
  }
  // N = 4, discard 0.1: floor(3.6) = 3 ratios fitted, F_emp = 0, 1/4, 2/4 (scikit-dimension's convention).
  const mu = [Math.E, Math.E ** 2, Math.E ** 3, Math.E ** 9];
  const x = [1, 2, 3];
  const y = [0, -Math.log(3 / 4), -Math.log(2 / 4)];
  const want = (x[0] * y[0] + x[1] * y[1] + x[2] * y[2]) / (1 + 4 + 9);
  const f = twoNNFromRatios(mu, 0.1);
  assert.ok(Math.abs(f.dimension - want) < 1e-12, `${f.dimension} vs ${want}`);
  assert.equal(f.fitted, 3);
  assert.ok(Math.abs(f.mle - 4 / 15) < 1e-12); // N / sum(log mu) = 4 / (1 + 2 + 3 + 9)
  assert.throws(() => twoNNFromRatios([0.5, 2, 3]), AnalysisError);
  assert.throws(() => twoNNFromRatios([1, 2, Infinity]), /duplicate/);
});

test('TwoNN: duplicate points are removed, not turned into infinite ratios', () => {
  const base = sphere(2, 500, 5, 'dups');
  const doubled = new Float32Array(base.x.length + 100 * 5);
  doubled.set(base.x);
  // 100 copies of existing points, some of the same point, one with -0 for +0.
  for (let i = 0; i < 100; i++) doubled.set(base.x.subarray((i % 40) * 5, (i % 40) * 5 + 5), base.x.length + i * 5);
  const withDups = { x: doubled, n: 600, dim: 5 };
  assert.equal(uniquePoints(withDups).duplicates, 100);
  const a = twoNN(base);
  const b = twoNN(withDups);
  assert.equal(b.duplicates, 100);
  assert.equal(b.points, 600);
  assert.equal(b.dimension, a.dimension);
  const zeros = { x: new Float32Array([0, 1, -0, 1, 0, 1, 2, 3, 5, 1, 7, 2]), n: 6, dim: 2 };
  assert.equal(uniquePoints(zeros).duplicates, 2);
  assert.throws(() => twoNN({ x: new Float32Array([1, 1, 1, 1, 2, 2]), n: 3, dim: 2 }), /at least 3 distinct points/);
});

test('TwoNN: neighbours are exact (double precision) even where float32 distance products cancel', () => {
  const rng = rngStream('exact', 'points');
  const n = 300;
  const dim = 50;
  // Points far from the origin with small spreads: |x|^2 + |y|^2 - 2 x.y loses digits in float32.
  const x = Float32Array.from({ length: n * dim }, (_, i) => 1000 + (i % dim) + rng.normal() * 0.01);
  const nn = twoNearestNeighbours({ x, n, dim }, { blockValues: 7000 }); // several blocks
  for (let i = 0; i < n; i++) {
    const d: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let k = 0; k < dim; k++) s += (x[i * dim + k] - x[j * dim + k]) ** 2;
      d.push([Math.sqrt(s), j]);
    }
    d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.equal(nn.i1[i], d[0][1], `point ${i}: first neighbour`);
    assert.equal(nn.i2[i], d[1][1], `point ${i}: second neighbour`);
    assert.equal(nn.r1[i], d[0][0]);
    assert.equal(nn.r2[i], d[1][0]);
  }
});

/** n points with k equal-variance components along random orthonormal directions of R^dim, plus tiny noise. */
function kComponents(k: number, n: number, dim: number, noise: number, seed: string): PointSet {
  const rng = rngStream(seed, 'points');
  const basis = orthonormal(dim, k, seed);
  const x = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < k; c++) {
      const z = rng.normal();
      for (let i = 0; i < dim; i++) x[p * dim + i] += z * basis[c][i];
    }
    for (let i = 0; i < dim; i++) x[p * dim + i] += 5 + noise * rng.normal();
  }
  return { x, n, dim };
}

test('PCA: k equal-variance components plus tiny noise give nPC = k at 90, 95 and 99% where (k-1)/k is below the fraction', () => {
  for (const k of [1, 2, 3, 5, 8]) {
    const dims = pcaDimension(kComponents(k, 2000, 40, 1e-3, `pca-${k}`), [0.9, 0.95, 0.99]);
    for (const { fraction, components } of dims) {
      if ((k - 1) / k < fraction - 0.03) assert.equal(components, k, `k = ${k} at ${fraction}`);
    }
  }
  // With large noise the count grows beyond k: the test above could fail.
  const noisy = pcaDimension(kComponents(3, 2000, 40, 0.5, 'pca-noisy'), [0.99])[0].components;
  assert.ok(noisy > 3, `noisy: ${noisy}`);
});

test('PCA: fewer points than dimensions use the Gram matrix, with the same spectrum as the covariance', () => {
  const p = kComponents(4, 30, 300, 1e-3, 'gram');
  const s = pcaSpectrum(p);
  assert.equal(s.method, 'gram');
  assert.equal(componentsFor(s, 0.99), 4);
  // The covariance of the transposed problem's non-zero spectrum is the same: compare with 30 points in 300 dims
  // against the first 30 columns... instead: duplicate the coordinates (dim 600): the spectrum doubles exactly.
  const wide = new Float32Array(30 * 600);
  for (let i = 0; i < 30; i++) {
    wide.set(p.x.subarray(i * 300, (i + 1) * 300), i * 600);
    wide.set(p.x.subarray(i * 300, (i + 1) * 300), i * 600 + 300);
  }
  const w = pcaSpectrum({ x: wide, n: 30, dim: 600 });
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(w.eigenvalues[i] - 2 * s.eigenvalues[i]) < 1e-3 * s.eigenvalues[0], `eigenvalue ${i}`);
  // Covariance path on a small problem against a hand computation: points (0,0), (2,0), (0,2), (2,2) -> variances 4/3, 4/3.
  const c = pcaSpectrum({ x: new Float32Array([0, 0, 2, 0, 0, 2, 2, 2, 1, 1]), n: 5, dim: 2 });
  assert.equal(c.method, 'covariance');
  assert.ok(Math.abs(c.eigenvalues[0] - 1) < 1e-6 && Math.abs(c.eigenvalues[1] - 1) < 1e-6, `${c.eigenvalues}`);
  assert.equal(componentsFor(c, 0.5), 1);
  assert.equal(componentsFor(c, 0.51), 2);
  assert.equal(componentsFor(pcaSpectrum({ x: new Float32Array(6).fill(3), n: 3, dim: 2 }), 0.9), 0); // no variance
  assert.throws(() => componentsFor(c, 1.5), AnalysisError);
});

// Seed 004 Table 4.5 (QuantNet trained on Cat vs Dog): IDs of the target domain's (Horse vs Frog) representations.
const TABLE_45_TD_TWONN: IdPoint[] = [
  { layer: 'input', id: 27.57 },
  { layer: 'conv1', id: 36.85 },
  { layer: 'conv2', id: 52.1 },
  { layer: 'linear1', id: 23.78 },
  { layer: 'linear2', id: 0.84 },
];
const TABLE_45_TD_PCA: IdPoint[] = [
  { layer: 'input', id: 2 },
  { layer: 'conv1', id: 14 },
  { layer: 'conv2', id: 49 },
  { layer: 'linear1', id: 31 },
  { layer: 'linear2', id: 1 },
];
const QUANTNET_LAYERS = ['conv1', 'conv2', 'linear1', 'linear2', 'linear3'];

test('significance: the TwoNN rule on Table 4.5 picks linear1 and linear2, giving Table 4.6\'s last design', () => {
  const s = twoNNSignificance(TABLE_45_TD_TWONN, 20);
  assert.deepEqual(s.map((x) => [x.layer, x.significant]), [['conv1', false], ['conv2', false], ['linear1', true], ['linear2', true]]);
  assert.ok(Math.abs(s[2].criterion - 28.32) < 1e-9);
  // conv1 full, conv2 binary, linear1 2-bit, linear2 2-bit, linear3 full (Table 4.6, last row)
  assert.deepEqual(hybridPrecisions(QUANTNET_LAYERS, s).map((p) => p.bits), [32, 1, 2, 2, 32]);
  // Source-domain IDs of Table 4.5 give the same design.
  const sd = [25.61, 33.19, 49.48, 23.76, 0.98].map((id, i) => ({ layer: ['input', ...QUANTNET_LAYERS][i], id }));
  assert.deepEqual(hybridPrecisions(QUANTNET_LAYERS, twoNNSignificance(sd)).map((p) => p.bits), [32, 1, 2, 2, 32]);
  // A larger Delta leaves only linear1; a smaller one adds conv2.
  assert.deepEqual(twoNNSignificance(TABLE_45_TD_TWONN, 25).filter((x) => x.significant).map((x) => x.layer), ['linear1']);
  assert.deepEqual(twoNNSignificance(TABLE_45_TD_TWONN, 15).filter((x) => x.significant).map((x) => x.layer), ['conv2', 'linear1', 'linear2']);
});

test('significance: the PCA Hybrid-Net rule counts increases only and picks conv2 (seed 004 §4.2.2)', () => {
  const s = pcaSignificance(TABLE_45_TD_PCA, 20);
  assert.deepEqual(s.map((x) => [x.layer, x.criterion, x.significant]), [['conv1', 12, false], ['conv2', 35, true], ['linear1', -18, false], ['linear2', -30, false]]);
  assert.deepEqual(hybridPrecisions(QUANTNET_LAYERS, s).map((p) => p.bits), [32, 2, 1, 1, 32]);
  // A hunchback profile: a large drop is significant for TwoNN, never for PCA.
  const drop: IdPoint[] = [{ layer: 'input', id: 50 }, { layer: 'a', id: 80 }, { layer: 'b', id: 10 }];
  assert.deepEqual(twoNNSignificance(drop).map((x) => x.significant), [true, true]);
  assert.deepEqual(pcaSignificance(drop).map((x) => x.significant), [true, false]);
  assert.deepEqual(xnorPrecisions(QUANTNET_LAYERS).map((p) => p.bits), [32, 1, 1, 1, 32]);
  assert.deepEqual(hybridPrecisions(QUANTNET_LAYERS, s, { significantBits: 4, insignificantBits: 2 }).map((p) => p.bits), [32, 4, 2, 2, 32]);
  assert.throws(() => hybridPrecisions(['a', 'x', 'c'], s), /no significance for layer x/);
  assert.throws(() => twoNNSignificance([{ layer: 'input', id: 1 }]), /at least one layer/);
  assert.throws(() => twoNNSignificance([{ layer: 'input', id: 1 }, { layer: 'a', id: NaN }]), /ID of a is NaN/);
});

test('representations: QuantNet layer outputs, flattened (O*W*H) and per channel (M*W*H points of O), and an ID profile', () => {
  const arch = architectureByName('quantnet');
  const model = buildModel(arch, { seed: 3 });
  const rng = rngStream('images', 'points');
  const n = 60;
  const data = { x: Float32Array.from({ length: n * 32 * 32 * 3 }, () => rng.next()), shape: [32, 32, 3], y: new Int32Array(n) };
  const reps = layerRepresentations(model, arch, data, { batchSize: 25 });
  assert.deepEqual(reps.map((r) => r.layer), ['input', 'conv1', 'conv2', 'linear1', 'linear2']);
  assert.deepEqual(reps.map((r) => r.shape), [[32, 32, 3], [16, 16, 32], [8, 8, 64], [128], [16]]);
  // The last representation is what the output layer reads: W x + b of it are the model's logits.
  const [w, b] = model.getLayer('linear3').getWeights().map((t) => t.dataSync());
  const logits = (model.predict(tf.tensor(data.x, [n, 32, 32, 3])) as Tensor).dataSync();
  for (let i = 0; i < n; i++) {
    let z = b[0];
    for (let k = 0; k < 16; k++) z += reps[4].values[i * 16 + k] * w[k];
    assert.ok(Math.abs(z - logits[i]) < 1e-4 * (1 + Math.abs(z)), `sample ${i}: ${z} vs ${logits[i]}`);
  }
  const flat = representationPoints(reps[1], 'flat');
  const chan = representationPoints(reps[1], 'channel');
  assert.deepEqual([flat.n, flat.dim, chan.n, chan.dim], [60, 8192, 60 * 256, 32]);
  assert.deepEqual([representationPoints(reps[3], 'channel').n, representationPoints(reps[3], 'channel').dim], [60, 128]);
  // ReLU outputs are never negative.
  assert.ok(reps.slice(1).every((r) => r.values.every((v) => v >= 0)));
  const p = idProfile(reps, { channelPoints: 400, seed: 1 });
  assert.equal(p.rows.length, 5);
  for (const r of p.rows) {
    assert.ok(Number.isFinite(r.twonn) && r.twonn > 0, `${r.layer} TwoNN ${r.twonn}`);
    assert.ok(r.pcaChannel >= 1 && r.pcaChannel <= r.channelDim, `${r.layer} PCA ${r.pcaChannel}`);
    assert.ok(r.pcaFlat !== null && r.pcaFlat <= Math.min(r.points - 1, r.flatDim));
  }
  // Random pixels: the input's flattened ID is large (thousands of independent dimensions, 60 points).
  assert.ok(p.rows[0].twonn > 20, `input ${p.rows[0].twonn}`);
  assert.throws(() => layerRepresentations(model, arch, data, { layers: ['dropout'] }), /not a weighted layer/);
  model.dispose();
});
