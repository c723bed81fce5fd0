/**
 * The fast path's WebAssembly SIMD kernels around convolutions (src/fast/simd-conv.ts) against the JavaScript
 * loops of src/fast/kernels.ts (which run where wasm SIMD is missing): im2col and col2im on
 * many geometries ('valid' / 'same', stride 1..3, C 1..5 and 8, odd sizes, KH, KW 1..5), relu and its gradient
 * on every length 0..9 (and longer) with sentinels after n, 2x2 max pooling with ties, -Infinity and NaN, and
 * its scatter backward. Copies, max and float32 sums in the same order are exact: every comparison is bit for
 * bit, and nothing outside a destination's elements may change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rngStream, type Rng } from '../src/engine/random.js';
import { WA } from '../src/engine/wasm-writer.js';
import { createConvKernels, int32View, WASM_CONV_AVAILABLE } from '../src/fast/simd-conv.js';
import { WASM_GEMM_AVAILABLE } from '../src/fast/simd.js';
// The references: the JavaScript loops the fast path runs where wasm SIMD is missing.
import { col2im, convWindow, im2col, maxPool2x2, maxPoolGrad, type ConvWindow } from '../src/fast/kernels.js';

const SKIP = WASM_CONV_AVAILABLE ? false : 'this engine has no wasm SIMD: the JavaScript loops run instead';
const SENTINEL = -12345.5;

/** A memory with a bump allocator: every view 16-byte aligned plus `shift` floats, followed by 16 spare bytes. */
function arena(pages: number) {
  const memory = new WA!.Memory({ initial: pages });
  const k = createConvKernels(memory)!;
  let off = 0;
  return {
    k,
    memory,
    reset: () => (off = 0),
    /** Bytes handed out so far (the writes checked by onlyWrites lie below, plus a margin). */
    used: () => off,
    alloc(n: number, shift = 0) {
      const v = new Float32Array(memory.buffer, off + 4 * shift, n);
      off += Math.ceil((4 * (n + shift)) / 16) * 16 + 16;
      if (off > memory.buffer.byteLength) throw new Error('arena: out of memory');
      return v;
    },
  };
}

const fill = (v: Float32Array, rng: Rng) => {
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return v;
};

const geometry = convWindow;

test('the conv kernels module validates wherever the GEMM module does (no silent skip)', () => {
  assert.equal(WASM_CONV_AVAILABLE, WASM_GEMM_AVAILABLE);
});






// --- helpers ---

const bits = (v: Float32Array | Int32Array) => new Uint32Array(v.buffer, v.byteOffset, v.length);

function sameBits(got: Float32Array | Int32Array, want: Float32Array | Int32Array, what: string): void {
  const a = bits(got), b = bits(want);
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: element ${i} is ${got[i]} (0x${a[i].toString(16)}), want ${want[i]} (0x${b[i].toString(16)})`);
}

/** Runs `fn` and fails if any byte of the memory's first `limit` bytes outside [start, start + 4 n) changed. */
function onlyWrites(memory: { buffer: ArrayBuffer }, limit: number, dst: Float32Array | Int32Array, n: number, fn: () => void, what: string): void {
  const end = Math.min(memory.buffer.byteLength, limit + 4096);
  const before = new Uint8Array(memory.buffer, 0, end).slice();
  fn();
  const after = new Uint8Array(memory.buffer, 0, end);
  const lo = dst.byteOffset, hi = dst.byteOffset + 4 * n;
  for (let i = 0; i < after.length; i++) if ((i < lo || i >= hi) && after[i] !== before[i]) assert.fail(`${what}: byte ${i} outside the destination [${lo}, ${hi}) written`);
}

const desc = (g: ConvWindow) => `H=${g.H} W=${g.W} C=${g.C} KH=${g.KH} KW=${g.KW} s=${g.stride} pad=${g.padTop},${g.padLeft} -> ${g.OH}x${g.OW}`;

/** Geometries: 'valid' and 'same', stride 1..3, C 1..5 and 8, odd and even sizes, square and non-square windows 1..5. */
function geometries(): ConvWindow[] {
  const out: ConvWindow[] = [];
  for (const C of [1, 2, 3, 4, 5, 8])
    for (const k of [1, 2, 3, 4, 5])
      for (const stride of [1, 2, 3])
        for (const padding of ['valid', 'same'] as const)
          for (const [H, W] of [[5, 7], [8, 6], [9, 9], [k, k + 2]])
            for (const [KH, KW] of [[k, k], [k, Math.max(1, k - 2)], [Math.max(1, k - 3), k]]) {
              if ((KH !== k || KW !== k) && (C === 2 || C === 4)) continue;
              if (padding === 'valid' && (H < KH || W < KW)) continue;
              out.push(geometry(H, W, C, KH, KW, stride, padding));
            }
  // the LeNet5 / VGG shapes (VGG smaller in H, W)
  out.push(geometry(32, 32, 1, 5, 5, 1, 'valid'), geometry(14, 14, 6, 5, 5, 1, 'valid'), geometry(8, 8, 32, 3, 3, 1, 'same'), geometry(6, 7, 128, 3, 3, 2, 'same'), geometry(5, 5, 64, 3, 3, 1, 'valid'));
  return out;
}

test('wasm im2col: the bits of kernels.ts\'s im2col on every geometry, nothing written outside col', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(8);
  const rng = rngStream(1, 'conv-kernels');
  let n = 0;
  for (const g of geometries()) {
    const samples = 3;
    const [s0, ns] = n % 3 === 0 ? [0, 3] : n % 3 === 1 ? [1, 2] : [2, 1];
    reset();
    const x = fill(alloc(samples * g.H * g.W * g.C, n % 4), rng);
    const nCol = ns * g.OH * g.OW * g.K;
    const region = alloc(nCol + 16, (n + 1) % 4).fill(SENTINEL);
    const col = region.subarray(8, 8 + nCol).fill(Number.NaN);
    onlyWrites(memory, used(), col, nCol, () => k.im2col(x, g, s0, ns, col), `im2col ${desc(g)}`);
    const want = new Float32Array(nCol);
    im2col(x, g, s0, ns, want);
    sameBits(col, want, `im2col ${desc(g)} s0=${s0} ns=${ns}`);
    n++;
  }
  assert.ok(n > 500, `${n} geometries`);
});

test('wasm col2im: the bits of kernels.ts\'s col2im (dx zeroed, sums in the same order), nothing written outside dx', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(8);
  const rng = rngStream(2, 'conv-kernels');
  let n = 0;
  for (const g of geometries()) {
    const ns = 1 + (n % 3);
    reset();
    const nCol = ns * g.OH * g.OW * g.K;
    const col = fill(alloc(nCol, (n + 2) % 4), rng);
    const nx = ns * g.H * g.W * g.C;
    const region = alloc(nx + 16, n % 4).fill(SENTINEL);
    const dx = region.subarray(8, 8 + nx).fill(Number.NaN);
    onlyWrites(memory, used(), dx, nx, () => k.col2im(col, g, ns, dx), `col2im ${desc(g)}`);
    const want = new Float32Array(nx);
    col2im(col, g, ns, want);
    sameBits(dx, want, `col2im ${desc(g)} ns=${ns}`);
    n++;
  }
});

test('wasm im2col and col2im: no samples, and x shared by several tiles (s0 > 0)', { skip: SKIP }, () => {
  const { k, alloc, memory, used } = arena(4);
  const rng = rngStream(3, 'conv-kernels');
  const g = geometry(7, 5, 3, 3, 3, 2, 'same');
  const x = fill(alloc(4 * g.H * g.W * g.C), rng);
  const col = alloc(4 * g.OH * g.OW * g.K).fill(SENTINEL);
  onlyWrites(memory, used(), col, 0, () => k.im2col(x, g, 4, 0, col), 'im2col ns=0');
  onlyWrites(memory, used(), col, 0, () => k.col2im(col, g, 0, x), 'col2im ns=0');
  for (let s0 = 0; s0 < 4; s0++) {
    k.im2col(x, g, s0, 1, col);
    const want = new Float32Array(g.OH * g.OW * g.K);
    im2col(x, g, s0, 1, want);
    sameBits(col.subarray(0, want.length), want, `im2col tile s0=${s0}`);
  }
});

const SPECIAL = [0, -0, 1.5, -2.25, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40, -1e-40, 3, -7];

test('wasm relu: y = max(y, 0) for n = 0..9 and longer, nothing written past n; NaN stays NaN', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(1);
  const rng = rngStream(4, 'conv-kernels');
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 250]) {
    for (let shift = 0; shift < 4; shift++) {
      reset();
      const region = alloc(n + 8, shift).fill(SENTINEL);
      const y = region.subarray(0, n);
      for (let i = 0; i < n; i++) y[i] = i % 3 === 0 ? SPECIAL[(i / 3 + shift) % SPECIAL.length] : rng.normal();
      const want = Float32Array.from(y, (v) => Math.max(v, 0));
      onlyWrites(memory, used(), y, n, () => k.relu(y, n), `relu n=${n}`);
      sameBits(y, want, `relu n=${n} shift=${shift}`);
      for (let i = n; i < n + 8; i++) assert.equal(region[i], SENTINEL);
    }
  }
  reset();
  const y = alloc(6);
  y.set([Number.NaN, -1, Number.NaN, 2, 0, Number.NaN]);
  k.relu(y, 6);
  assert.deepEqual(Array.from(y), [Number.NaN, 0, Number.NaN, 2, 0, Number.NaN]);
});

test('wasm reluGrad: dy = y > 0 ? dy : 0 for n = 0..9 and longer (zeros, -0, NaN y), nothing written past n', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(1);
  const rng = rngStream(5, 'conv-kernels');
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 250]) {
    for (let shift = 0; shift < 4; shift++) {
      reset();
      const y = alloc(n, (shift + 1) % 4);
      for (let i = 0; i < n; i++) y[i] = i % 4 === 0 ? [0, -0, Number.NaN, 1e-40, -1e-40][(i / 4 + shift) % 5] : rng.normal();
      const region = alloc(n + 8, shift).fill(SENTINEL);
      const dy = region.subarray(0, n);
      for (let i = 0; i < n; i++) dy[i] = i % 5 === 1 ? -0 : rng.normal();
      const want = Float32Array.from(dy);
      for (let i = 0; i < n; i++) want[i] = y[i] > 0 ? want[i] : 0;
      onlyWrites(memory, used(), dy, n, () => k.reluGrad(y, dy, n), `reluGrad n=${n}`);
      sameBits(dy, want, `reluGrad n=${n} shift=${shift}`);
    }
  }
});

/** Pooling inputs with many ties (values from a set of 3), some -Infinity and NaN. */
function tiedValues(v: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < v.length; i++) {
    const r = rng.next();
    v[i] = r < 0.05 ? Number.NaN : r < 0.1 ? Number.NEGATIVE_INFINITY : r < 0.15 ? -0 : [0, 1, -1][rng.int(3)];
  }
  return v;
}

test('wasm maxPool2x2: values and argmax of kernels.ts\'s maxPool2x2 (ties, -Infinity, NaN, all C, odd sizes)', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(16);
  const rng = rngStream(6, 'conv-kernels');
  for (const C of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 32])
    for (const [H, W] of [[2, 2], [4, 6], [5, 7], [7, 4], [28, 28], [10, 10]])
      for (const ties of [true, false]) {
        if ((H === 28 || H === 10) && ![1, 6, 16].includes(C)) continue;
        const g = { H, W, C, KH: 2, KW: 2, stride: 2, padTop: 0, padLeft: 0, OH: Math.floor(H / 2), OW: Math.floor(W / 2), K: 4 * C };
        const rows = 2 + (C % 2);
        reset();
        const x = alloc(rows * H * W * C, C % 4);
        if (ties) tiedValues(x, rng);
        else fill(x, rng);
        const ny = rows * g.OH * g.OW * C;
        const y = alloc(ny, (C + 1) % 4).fill(SENTINEL);
        const arg = int32View(alloc(ny, (C + 2) % 4).fill(SENTINEL));
        const wantY = new Float32Array(ny), wantArg = new Int32Array(ny);
        maxPool2x2(x, g, rows, wantY, wantArg);
        const what = `maxPool2x2 ${H}x${W}x${C} rows=${rows} ties=${ties}`;
        k.maxPool2x2(x, g, rows, y, arg);
        sameBits(y, wantY, `${what}: y`);
        sameBits(arg, wantArg, `${what}: argmax`);
        // without argmax: y only
        y.fill(SENTINEL);
        onlyWrites(memory, used(), y, ny, () => k.maxPool2x2(x, g, rows, y, null), `${what} (no argmax)`);
        sameBits(y, wantY, `${what} (no argmax): y`);
      }
  // every value NaN or -Infinity: -Infinity and -1
  reset();
  const g = { H: 2, W: 2, C: 4, KH: 2, KW: 2, stride: 2, padTop: 0, padLeft: 0, OH: 1, OW: 1, K: 16 };
  const x = alloc(16).fill(Number.NaN);
  x[5] = Number.NEGATIVE_INFINITY;
  const y = alloc(4), arg = int32View(alloc(4));
  k.maxPool2x2(x, g, 1, y, arg);
  assert.deepEqual(Array.from(y), [-Infinity, -Infinity, -Infinity, -Infinity]);
  assert.deepEqual(Array.from(arg), [-1, -1, -1, -1]);
  x.fill(1);
  x[6] = 2; // channel 2 of the second pixel
  k.maxPool2x2(x, g, 1, y, arg);
  assert.deepEqual(Array.from(arg), [0, 1, 6, 3], 'first maximum in window order, later only when strictly greater');
});

test('wasm maxPoolGrad: dx zeroed, dx[argmax[i]] += dy[i] in order (duplicates, -1), nothing written outside dx', { skip: SKIP }, () => {
  const { k, alloc, reset, memory, used } = arena(4);
  const rng = rngStream(7, 'conv-kernels');
  for (const [n, nIn] of [[0, 0], [0, 5], [1, 1], [3, 7], [9, 4], [50, 200], [1000, 4000], [2000, 333]]) {
    reset();
    const dy = fill(alloc(n, n % 4), rng);
    const arg = int32View(alloc(n, (n + 1) % 4));
    for (let i = 0; i < n; i++) arg[i] = nIn > 0 && rng.next() < 0.85 ? rng.int(nIn) : -1;
    const region = alloc(nIn + 16, nIn % 4).fill(SENTINEL);
    const dx = region.subarray(8, 8 + nIn).fill(Number.NaN);
    onlyWrites(memory, used(), dx, nIn, () => k.maxPoolGrad(dy, arg, n, dx, nIn), `maxPoolGrad n=${n} nIn=${nIn}`);
    const want = new Float32Array(nIn);
    maxPoolGrad(dy, arg, n, want, nIn);
    sameBits(dx, want, `maxPoolGrad n=${n} nIn=${nIn}`);
  }
  // the forward's argmax, then the scatter: the JavaScript backward of kernels.ts
  reset();
  const g = { H: 28, W: 28, C: 6, KH: 2, KW: 2, stride: 2, padTop: 0, padLeft: 0, OH: 14, OW: 14, K: 24 };
  const rows = 3, nx = rows * 28 * 28 * 6, ny = rows * 14 * 14 * 6;
  const x = tiedValues(alloc(nx), rng), y = alloc(ny), arg = int32View(alloc(ny)), dy = fill(alloc(ny), rng), dx = alloc(nx);
  k.maxPool2x2(x, g, rows, y, arg);
  k.maxPoolGrad(dy, arg, ny, dx, nx);
  const wantY = new Float32Array(ny), wantArg = new Int32Array(ny), wantDx = new Float32Array(nx);
  maxPool2x2(x, g, rows, wantY, wantArg);
  maxPoolGrad(dy, wantArg, ny, wantDx, nx);
  sameBits(dx, wantDx, 'maxpool forward + backward');
});

test('wasm conv kernels check their operands', { skip: SKIP }, () => {
  const { k, alloc } = arena(1);
  const g = geometry(5, 5, 2, 3, 3, 1, 'valid');
  const x = alloc(2 * 50), col = alloc(2 * 9 * 18);
  assert.throws(() => k.im2col(new Float32Array(100), g, 0, 2, col), /not a view of the kernel's memory/);
  assert.throws(() => k.im2col(x, g, 1, 2, col), /x holds 100 floats, needs 150/);
  assert.throws(() => k.im2col(x, g, 0, 2, col.subarray(1)), /col holds/);
  assert.throws(() => k.im2col(x, { ...g, K: 17 }, 0, 2, col), /K = 17/);
  assert.throws(() => k.im2col(x, { ...g, stride: 3 }, 0, 2, col), /wholly left or right/);
  assert.throws(() => k.col2im(col, { ...g, padLeft: 3 }, 2, x), /wholly left or right/);
  assert.throws(() => k.im2col(x, g, 0, 2, new Float32Array(x.buffer, x.byteOffset + 16, 324)), /x and col overlap/);
  assert.throws(() => k.col2im(col, g, 2, col), /overlap/);
  assert.throws(() => k.relu(x, 101), /y holds 100 floats/);
  assert.throws(() => k.reluGrad(x, x, 10), /overlap/);
  const pg = { H: 4, W: 4, C: 1, KH: 2, KW: 2, stride: 2, padTop: 0, padLeft: 0, OH: 2, OW: 2, K: 4 };
  assert.throws(() => k.maxPool2x2(x, { ...pg, OH: 3 }, 1, col, null), /every window inside the image/);
  assert.throws(() => k.maxPool2x2(x, pg, 1, col, new Int32Array(4)), /argmax is not a view/);
  assert.throws(() => k.maxPoolGrad(x, int32View(col), 10, alloc(4), 5), /dx holds 4 floats/);
  assert.throws(() => k.relu(x, -1), /not a non-negative integer/);
});
