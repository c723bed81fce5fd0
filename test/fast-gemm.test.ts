/**
 * The fast path's WebAssembly SIMD products (src/fast/simd.ts) against a float64 reference: gemm (C = A B + bias,
 * any leading dimensions) and gemmTN (C = A^T B, A stored [K, M]) on every row-block and column-tail shape,
 * large K (several K chunks), agreement with the JavaScript fallback matmulTN, and no write outside C.
 *
 * Tolerance: |C - ref| <= 1e-5 (|bias| + sum_k |a b|), relative to the sum's magnitude (float32 sums in k order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rngStream, type Rng } from '../src/engine/random.js';
import { WA } from '../src/engine/wasm-writer.js';
import { createGemm, WASM_GEMM_AVAILABLE, type Gemm } from '../src/fast/simd.js';
import { matmulTN } from '../src/fast/kernels.js';

const SKIP = WASM_GEMM_AVAILABLE ? false : 'this engine has no wasm SIMD: the JavaScript kernels run instead';
const TOL = 1e-5;

const MS = [1, 3, 4, 5, 9, 37];
const NS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17];
const KS = [1, 7, 25];

/** A memory with a bump allocator: every view 16-byte aligned plus `shift` floats, followed by 16 spare bytes. */
function arena(pages: number) {
  const memory = new WA!.Memory({ initial: pages });
  const gemm = createGemm(memory)!;
  let off = 0;
  return {
    gemm,
    memory,
    reset: () => (off = 0),
    alloc(n: number, shift = 0) {
      const v = new Float32Array(memory.buffer, off + 4 * shift, n);
      off += Math.ceil((4 * (n + shift)) / 16) * 16 + 16;
      return v;
    },
  };
}

const fill = (v: Float32Array, rng: Rng) => {
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return v;
};

/** Worst |C - ref| / (|bias| + sum |a b|) over C's elements; ref in float64. */
function worst(c: Float32Array, ldc: number, m: number, n: number, k: number, aAt: (i: number, t: number) => number, bAt: (t: number, j: number) => number, bias: (j: number) => number): number {
  let w = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = bias(j);
      let mag = Math.abs(s);
      for (let t = 0; t < k; t++) {
        const p = aAt(i, t) * bAt(t, j);
        s += p;
        mag += Math.abs(p);
      }
      const got = c[i * ldc + j];
      w = Math.max(w, Number.isFinite(got) ? Math.abs(got - s) / Math.max(mag, 1e-30) : Infinity);
    }
  return w;
}

function checkGemm(g: Gemm, a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array, m: number, k: number, n: number, lda: number, ldb: number, ldc: number, what: string) {
  g.gemm(a, b, c, bias, m, k, n, lda, ldb, ldc);
  const w = worst(c, ldc, m, n, k, (i, t) => a[i * lda + t], (t, j) => b[t * ldb + j], (j) => bias[j]);
  assert.ok(w <= TOL, `gemm ${what} M=${m} K=${k} N=${n} lda=${lda} ldb=${ldb} ldc=${ldc}: relative error ${w}`);
}

function checkTN(g: Gemm, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, what: string) {
  g.gemmTN(a, b, c, m, k, n);
  const w = worst(c, n, m, n, k, (i, t) => a[t * m + i], (t, j) => b[t * n + j], () => 0);
  assert.ok(w <= TOL, `gemmTN ${what} M=${m} K=${k} N=${n}: relative error ${w}`);
}

test('wasm gemm: C = A B + bias on every row-block and column-tail shape (contiguous)', { skip: SKIP }, () => {
  const { gemm, alloc, reset } = arena(4);
  const rng = rngStream(1, 'gemm');
  for (const m of MS)
    for (const n of NS)
      for (const k of [0, ...KS]) {
        reset();
        const a = fill(alloc(m * k), rng), b = fill(alloc(k * n), rng), bias = fill(alloc(n), rng);
        const c = alloc(m * n).fill(Number.NaN);
        checkGemm(gemm, a, b, c, bias, m, k, n, k, n, n, 'contiguous');
      }
});

test('wasm gemm: non-contiguous lda, ldb, ldc and unaligned views', { skip: SKIP }, () => {
  const { gemm, alloc, reset } = arena(4);
  const rng = rngStream(2, 'gemm');
  for (const m of MS)
    for (const n of NS)
      for (const k of KS) {
        const [lda, ldb, ldc] = [k + 3, n + 5, n + 1 + (m % 3)];
        reset();
        const a = fill(alloc((m - 1) * lda + k, 1), rng), b = fill(alloc((k - 1) * ldb + n, 3), rng), bias = fill(alloc(n, 2), rng);
        const c = alloc((m - 1) * ldc + n, 1).fill(Number.NaN);
        checkGemm(gemm, a, b, c, bias, m, k, n, lda, ldb, ldc, 'strided');
      }
});

test('wasm gemm: large K (several K chunks) and the MLP and im2col shapes', { skip: SKIP }, () => {
  const { gemm, alloc, reset } = arena(40);
  const rng = rngStream(3, 'gemm');
  for (const [m, k, n] of [[5, 5000, 3], [9, 3000, 17], [37, 2500, 64], [32, 21, 32], [32, 16, 10], [800, 25, 6], [130, 150, 16]]) {
    reset();
    const a = fill(alloc(m * k), rng), b = fill(alloc(k * n), rng), bias = fill(alloc(n), rng);
    checkGemm(gemm, a, b, alloc(m * n), bias, m, k, n, k, n, n, 'large');
  }
});

test('wasm gemmTN: C = A^T B on every shape, and the JavaScript fallback matmulTN agrees', { skip: SKIP }, () => {
  const { gemm, alloc, reset } = arena(4);
  const rng = rngStream(4, 'gemm');
  for (const m of MS)
    for (const n of NS)
      for (const k of [0, ...KS]) {
        reset();
        const a = fill(alloc(k * m), rng), b = fill(alloc(k * n), rng);
        const c = alloc(m * n).fill(Number.NaN);
        checkTN(gemm, a, b, c, m, k, n, 'small');
        // matmulTN(x [rows, nIn], dy [rows, nOut], dw [nIn, nOut], rows, nIn, nOut) is gemmTN(x, dy, dw, nIn, rows, nOut)
        const js = new Float32Array(m * n);
        matmulTN(a, b, js, k, m, n);
        const w = worst(js, n, m, n, k, (i, t) => a[t * m + i], (t, j) => b[t * n + j], () => 0);
        assert.ok(w <= TOL, `matmulTN M=${m} K=${k} N=${n}: relative error ${w}`);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(js[i] - c[i]) <= 2 * TOL * (1 + Math.abs(js[i])), `gemmTN vs matmulTN M=${m} K=${k} N=${n} at ${i}: ${c[i]} vs ${js[i]}`);
      }
});

test('wasm gemmTN: large K (several K chunks) and im2col weight-gradient shapes', { skip: SKIP }, () => {
  const { gemm, alloc, reset } = arena(40);
  const rng = rngStream(5, 'gemm');
  for (const [m, k, n] of [[37, 5000, 17], [25, 5000, 6], [4, 5000, 1], [150, 1000, 16], [1, 5000, 10], [21, 32, 32], [16, 32, 10]]) {
    reset();
    const a = fill(alloc(k * m, 1), rng), b = fill(alloc(k * n, 2), rng);
    checkTN(gemm, a, b, alloc(m * n, 3), m, k, n, 'large');
  }
});

test('wasm gemm and gemmTN write nothing outside C\'s M x N elements', { skip: SKIP }, () => {
  const { gemm, alloc, reset, memory } = arena(4);
  const rng = rngStream(6, 'gemm');
  const SENTINEL = -12345.5;
  for (const m of [1, 3, 4, 5, 9])
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13])
      for (const tn of [false, true]) {
        const k = 7;
        const ldc = tn ? n : n + 3;
        reset();
        const a = fill(alloc(m * k), rng), b = fill(alloc(k * n), rng), bias = fill(alloc(n), rng);
        // C inside a sentinel-filled region: 8 floats before, the row gaps (ldc > n), 8 floats after
        const region = alloc((m - 1) * ldc + n + 16).fill(SENTINEL);
        const c = region.subarray(8, 8 + (m - 1) * ldc + n);
        const before = new Uint8Array(memory.buffer).slice();
        if (tn) gemm.gemmTN(a, b, c, m, k, n);
        else gemm.gemm(a, b, c, bias, m, k, n, k, n, ldc);
        const after = new Uint8Array(memory.buffer);
        const cStart = c.byteOffset;
        for (let i = 0; i < after.length; i++) {
          const f = (i - cStart) >> 2;
          const inC = i >= cStart && f < (m - 1) * ldc + n && f % ldc < n;
          if (!inC && after[i] !== before[i]) assert.fail(`${tn ? 'gemmTN' : 'gemm'} M=${m} N=${n} ldc=${ldc}: byte ${i} (C float ${f}) written`);
        }
        for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) assert.notEqual(c[r * ldc + j], SENTINEL, `C[${r}, ${j}] not written`);
      }
});

test('wasm gemm and gemmTN check their operands', { skip: SKIP }, () => {
  const { gemm, alloc } = arena(1);
  const a = alloc(12), b = alloc(12), c = alloc(12), bias = alloc(4);
  assert.throws(() => gemm.gemm(new Float32Array(12), b, c, bias, 3, 4, 3, 4, 3, 3), /not a view of the kernel's memory/);
  assert.throws(() => gemm.gemmTN(a, b, new Float32Array(12), 3, 4, 3), /not a view of the kernel's memory/);
  assert.throws(() => gemm.gemm(a, b, c, bias, 3, 4, 4, 4, 4, 4), /B holds 12 floats/);
  assert.throws(() => gemm.gemmTN(a, b, c.subarray(1), 3, 3, 4), /C holds 11 floats/);
});
