/**
 * The optional native GEMM (native/build/blas.node over OpenBLAS, src/engine/native-blas.ts): all four
 * transA/transB combinations with beta 0 and 1 on odd shapes and padded leading dimensions, against a float64
 * reference, with the operands at non-zero byte offsets of a WebAssembly.Memory buffer; the bytes around C are
 * left alone; operand ranges outside the buffer and other bad arguments throw errors that name them. Skipped,
 * with the reason, when the addon is not built (npm run build:native needs gcc and libopenblas-dev).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeBlas, nativeBlasStatus, type NativeBlas } from '../src/engine/native-blas.js';
import { WA } from '../src/engine/wasm-writer.js';

const status = nativeBlasStatus();
const skip = status.available ? false : `native GEMM unavailable: ${status.reason}`;

/** Deterministic values in [-1, 1) (mulberry32), so failures reproduce. */
function fill(f: Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < f.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    f[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
}

interface Case {
  M: number;
  N: number;
  K: number;
  pad: number; // extra floats per row beyond the minimum leading dimension
}
const CASES: Case[] = [
  { M: 1, N: 1, K: 1, pad: 0 },
  { M: 7, N: 5, K: 3, pad: 0 },
  { M: 13, N: 17, K: 11, pad: 2 },
  { M: 33, N: 9, K: 29, pad: 0 },
  { M: 67, N: 37, K: 19, pad: 5 },
  { M: 5, N: 70, K: 131, pad: 1 },
];

/**
 * Lays A, B and C out at odd float offsets of a fresh wasm memory (guard floats between them), runs
 * sgemm and checks C against the float64 reference and the guards against their fill.
 */
function check(blas: NativeBlas, { M, N, K, pad }: Case, transA: boolean, transB: boolean, beta: number): void {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;
  const aLen = (aRows - 1) * lda + aCols, bLen = (bRows - 1) * ldb + bCols, cLen = (M - 1) * ldc + N;
  const GUARD = 13;
  const aAt = 3, bAt = aAt + aLen + GUARD, cAt = bAt + bLen + GUARD, end = cAt + cLen + GUARD;
  const memory = new WA!.Memory({ initial: Math.ceil((end * 4) / 65536) + 1 });
  const f = new Float32Array(memory.buffer);
  fill(f.subarray(0, end), M * 1000003 + N * 1009 + K * 7 + (transA ? 1 : 0) + (transB ? 2 : 0));
  const before = Float32Array.from(f.subarray(0, end));
  const a = (i: number, k: number) => (transA ? f[aAt + k * lda + i] : f[aAt + i * lda + k]);
  const b = (k: number, j: number) => (transB ? f[bAt + j * ldb + k] : f[bAt + k * ldb + j]);
  const ref = new Float64Array(M * N), bound = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const c0 = f[cAt + i * ldc + j];
      let s = beta * c0, m = Math.abs(beta * c0);
      for (let k = 0; k < K; k++) {
        s += a(i, k) * b(k, j);
        m += Math.abs(a(i, k) * b(k, j));
      }
      ref[i * N + j] = s;
      bound[i * N + j] = m;
    }
  }
  blas.sgemm(memory.buffer, transA, transB, M, N, K, aAt * 4, lda, bAt * 4, ldb, beta, cAt * 4, ldc);
  const label = `M=${M} N=${N} K=${K} pad=${pad} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} beta=${beta}`;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const got = f[cAt + i * ldc + j], want = ref[i * N + j];
      const tol = 1e-5 * Math.max(bound[i * N + j], Math.abs(want)) + 1e-30;
      if (!(Math.abs(got - want) <= tol)) assert.fail(`${label}: C[${i},${j}] = ${got}, reference ${want}`);
    }
  }
  // Everything but C's M x N elements is untouched: A, B, the guards, and C's row padding.
  const inC = (p: number) => p >= cAt && p < cAt + cLen && (p - cAt) % ldc < N;
  for (let p = 0; p < end; p++)
    if (!inC(p) && !Object.is(f[p], before[p])) assert.fail(`${label}: float ${p} outside C changed`);
}

describe('native GEMM (OpenBLAS through N-API)', { skip }, () => {
  const blas = nativeBlas() as NativeBlas;

  test('reports its OpenBLAS build and thread count', () => {
    assert.match(blas.config, /OpenBLAS/);
    assert.ok(Number.isInteger(blas.threads) && blas.threads >= 1);
  });

  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    for (const beta of [0, 1]) {
      test(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}, beta ${beta}: matches a float64 reference on odd shapes`, () => {
        for (const c of CASES) check(blas, c, transA, transB, beta);
      });
    }
  }

  test('K = 0 scales C by beta; M or N = 0 does nothing', () => {
    const memory = new WA!.Memory({ initial: 1 });
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5, 6], 10);
    blas.sgemm(memory.buffer, false, false, 2, 3, 0, 0, 1, 0, 3, 1, 40, 3);
    assert.deepEqual(Array.from(f.subarray(10, 16)), [1, 2, 3, 4, 5, 6]);
    blas.sgemm(memory.buffer, false, false, 0, 3, 4, 0, 4, 0, 3, 0, 40, 3);
    assert.deepEqual(Array.from(f.subarray(10, 16)), [1, 2, 3, 4, 5, 6]);
    blas.sgemm(memory.buffer, false, false, 2, 3, 0, 0, 1, 0, 3, 0, 40, 3);
    assert.deepEqual(Array.from(f.subarray(10, 16)), [0, 0, 0, 0, 0, 0]);
  });

  test('operand ranges outside the buffer and bad arguments throw errors naming them', () => {
    const memory = new WA!.Memory({ initial: 1 }); // 65536 bytes
    const buf = memory.buffer;
    const len = buf.byteLength;
    // 8x8 * 8x8: each operand spans 256 bytes.
    const call = (aOff: number, bOff: number, cOff: number, lda = 8, ldb = 8, ldc = 8) => () =>
      blas.sgemm(buf, false, false, 8, 8, 8, aOff, lda, bOff, ldb, 0, cOff, ldc);
    assert.throws(call(len - 252, 0, 4096), { name: 'RangeError', message: /operand A .*outside the buffer/ });
    assert.throws(call(0, len, 4096), { name: 'RangeError', message: /operand B .*outside the buffer/ });
    assert.throws(call(0, 1024, len - 4), { name: 'RangeError', message: /operand C .*outside the buffer/ });
    assert.throws(call(0, 1024, 2 ** 40), { name: 'RangeError', message: /operand C/ });
    assert.doesNotThrow(call(len - 256, len - 512, len - 768)); // exactly at the end is fine
    // A padded leading dimension makes A span (M-1)*lda + K floats: 7*100+8 = 708 floats here.
    assert.throws(call(len - 708 * 4 + 4, 0, 4096, 100), { message: /operand A/ });
    assert.throws(call(2, 1024, 4096), { message: /A offset 2 is not a multiple of 4/ });
    assert.throws(call(0, 1024, 4096, 7), { message: /lda 7 < 8/ });
    assert.throws(call(0, 1024, 4096, 8, 8, 5), { message: /ldc 5 < N = 8/ });
    assert.throws(call(0, 1024, 128), { message: /C overlaps A/ });
    assert.throws(call(0, 1024, 1024 + 252), { message: /C overlaps B/ });
    assert.throws(() => blas.sgemm(new Float32Array(64) as unknown as ArrayBuffer, false, false, 1, 1, 1, 0, 1, 4, 1, 0, 8, 1), {
      message: /buffer must be an ArrayBuffer/,
    });
    assert.throws(() => blas.sgemm(buf, false, false, -1, 8, 8, 0, 8, 1024, 8, 0, 4096, 8), { message: /sgemm: M must be/ });
    assert.throws(() => blas.sgemm(buf, false, false, 2.5, 8, 8, 0, 8, 1024, 8, 0, 4096, 8), { message: /sgemm: M must be/ });
    // A buffer detached by memory.grow() has length 0: everything is out of range.
    memory.grow(1);
    assert.throws(call(0, 1024, 4096), { message: /operand A .*outside the buffer \(0 bytes\)/ });
  });
});

test('TCK_NATIVE=0 turns the native GEMM off', () => {
  const saved = process.env.TCK_NATIVE;
  process.env.TCK_NATIVE = '0';
  try {
    assert.equal(nativeBlas(), null);
    assert.match(nativeBlasStatus().reason, /TCK_NATIVE=0/);
  } finally {
    if (saved === undefined) delete process.env.TCK_NATIVE;
    else process.env.TCK_NATIVE = saved;
  }
});

test('a large product cut into parts on threads of their own: the same bits on every call, and the product of one call within rounding', { skip }, () => {
  const blas = nativeBlas()!;
  const before = blas.parts;
  // Shapes of the fast trainer's products (im2col forward, dW) and odd ones, all above the 2^24 multiply-adds from
  // which products are cut (SPLIT_MIN_MACS in native/blas.c); M < N cuts C's columns, M >= N its rows.
  const shapes: [number, number, number][] = [[12800, 64, 288], [288, 32, 12800], [1000, 77, 300], [77, 1000, 300], [17, 4001, 300]];
  let cutsDiffering = 0;
  const mem = new WA!.Memory({ initial: 1 + Math.ceil((3 * 4 * 12800 * 288 + 4096) / 65536) });
  try {
    for (const [M, N, K] of shapes) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = new Float32Array(mem.buffer, 0, M * K);
        const b = new Float32Array(mem.buffer, 4 * M * K, K * N);
        const c = new Float32Array(mem.buffer, 4 * (M * K + K * N), M * N);
        fill(a, M + K);
        fill(b, N + 3 * K);
        const run = (parts: number) => {
          blas.setParts(parts);
          c.fill(0);
          blas.sgemm(mem.buffer, ta, tb, M, N, K, a.byteOffset, ta ? M : K, b.byteOffset, tb ? K : N, 0, c.byteOffset, N);
          return Float32Array.from(c);
        };
        // OpenBLAS blocks each part by its own shape, so the bits depend on the number of parts (never on the cores
        // or on timing): the same parts give the same bits, and any parts agree within float32 rounding.
        const one = run(1);
        for (const parts of [2, 3]) {
          const cut = run(parts);
          assert.deepEqual(run(parts), cut, `${M}x${N}x${K} transA ${ta} transB ${tb}: ${parts} parts, two calls differ`);
          const worst = cut.reduce((m, v, i) => Math.max(m, Math.abs(v - one[i]) / (1 + Math.abs(one[i]))), 0);
          assert.ok(worst < 1e-5 * Math.sqrt(K), `${M}x${N}x${K} transA ${ta} transB ${tb}: ${parts} parts differ from one call by ${worst}`);
          if (worst > 0) cutsDiffering++;
        }
      }
    }
    // Some cut gave other bits than one call: the products were really cut (a cut that never ran would pass
    // every check above).
    assert.ok(cutsDiffering > 0, 'no cut product differs from one call: were the products cut at all?');
  } finally {
    blas.setParts(before);
  }
});
