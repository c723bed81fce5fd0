/**
 * The fast trainer's WebAssembly SIMD batchnorm kernels (src/fast/simd-bn.ts) against the JavaScript functions
 * they replace (batchNormForwardArrays / batchNormBackwardArrays, src/engine/wasm-batchnorm.ts).
 *
 * Tolerance: none. The kernels perform the same float64 operations in the same order (each channel's sums in row
 * order, then the same per-channel formulas, then the per-element pass in float64 rounded once), so every output
 * (y, mean, var, dx, dgamma, dbeta) must be the same float32 bits, which is stricter than any relative bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rngStream, type Rng } from '../src/engine/random.js';
import { WA } from '../src/engine/wasm-writer.js';
import { batchNormBackwardArrays, batchNormForwardArrays } from '../src/engine/wasm-batchnorm.js';
import { createBatchNormKernels, WASM_BN_AVAILABLE, type BatchNormKernels } from '../src/fast/simd-bn.js';

const SKIP = WASM_BN_AVAILABLE ? false : 'this engine has no wasm SIMD: the JavaScript functions run instead';

const MS = [1, 2, 3, 7, 64, 1000];
const CS = [4, 8, 32, 36];
const EPS = 1e-3;
/** Every float of the arena outside what a call may write holds this NaN pattern. */
const SENTINEL = 0x7fc0beef;

/** A memory with a bump allocator (views 16-byte aligned plus `shift` floats, 16 spare bytes after each). */
function arena(pages: number) {
  const memory = new WA!.Memory({ initial: pages });
  const kernels = createBatchNormKernels(memory)!;
  const bits = new Uint32Array(memory.buffer);
  let off = 0;
  return {
    kernels,
    memory,
    reset() {
      off = 0;
      bits.fill(SENTINEL);
    },
    alloc(n: number, shift = 0) {
      const v = new Float32Array(memory.buffer, off + 4 * shift, n);
      off += Math.ceil((4 * (n + shift)) / 16) * 16 + 16;
      return v;
    },
    /** Throws if a float outside `written` (views of the memory) lost the sentinel. */
    checkUntouched(written: Float32Array[], what: string) {
      const mine = new Uint8Array(bits.length);
      for (const v of written) mine.fill(1, v.byteOffset / 4, v.byteOffset / 4 + v.length);
      for (let i = 0; i < bits.length; i++) if (!mine[i] && bits[i] !== SENTINEL) assert.fail(`${what}: wrote outside the outputs at float ${i}`);
    },
  };
}

interface Data {
  x: number[];
  dy: number[];
  gamma: number[];
  beta: number[];
}

/**
 * x with a per-channel offset and scale (so the variance's s2 / M - mean^2 cancels), one channel constant
 * (variance 0 or a rounding residue: the max(0, .) clamp), dy small as in training.
 */
function data(rng: Rng, M: number, C: number): Data {
  const off = Array.from({ length: C }, () => 3 * rng.normal());
  const scale = Array.from({ length: C }, () => Math.exp(rng.normal()));
  const x: number[] = [];
  const dy: number[] = [];
  for (let m = 0; m < M; m++)
    for (let c = 0; c < C; c++) {
      x.push(c === 1 ? 0.7 : off[c] + scale[c] * rng.normal());
      dy.push(1e-2 * rng.normal());
    }
  return { x, dy, gamma: Array.from({ length: C }, () => 1 + 0.3 * rng.normal()), beta: Array.from({ length: C }, () => 0.3 * rng.normal()) };
}

const same = (got: Float32Array, want: Float32Array, what: string) => {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < want.length; i++) if (g[i] !== w[i]) assert.fail(`${what}[${i}]: ${got[i]} != ${want[i]} (JavaScript)`);
};

/** The JavaScript results on plain arrays. */
function reference(d: Data, M: number, C: number, withDx: boolean) {
  const n = M * C;
  const f = (v: number[]) => Float32Array.from(v);
  const x = f(d.x), dy = f(d.dy), gamma = f(d.gamma), beta = f(d.beta);
  const y = new Float32Array(n), mean = new Float32Array(C), variance = new Float32Array(C);
  batchNormForwardArrays(x, gamma, beta, EPS, n, C, y, mean, variance);
  const dx = withDx ? new Float32Array(n) : null, dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  batchNormBackwardArrays(dy, x, gamma, mean, variance, EPS, n, C, dx, dgamma, dbeta);
  return { x, dy, gamma, beta, y, mean, variance, dx, dgamma, dbeta };
}

type Arena = ReturnType<typeof arena>;

/** Runs both kernels on `d` in the arena (views shifted by `shift` floats); returns the outputs. */
function run(a: Arena, k: BatchNormKernels, d: Data, M: number, C: number, withDx: boolean, shift = 0) {
  const n = M * C;
  a.reset();
  const put = (v: number[]) => {
    const t = a.alloc(v.length, shift);
    t.set(v);
    return t;
  };
  const x = put(d.x), dy = put(d.dy), gamma = put(d.gamma), beta = put(d.beta);
  const y = a.alloc(n, shift), mean = a.alloc(C, shift), variance = a.alloc(C, shift);
  const dx = withDx ? a.alloc(n, shift) : null, dgamma = a.alloc(C, shift), dbeta = a.alloc(C, shift);
  k.forward(x, gamma, beta, EPS, n, C, y, mean, variance);
  k.backward(dy, x, gamma, mean, variance, EPS, n, C, dx, dgamma, dbeta);
  const inputs = [x, dy, gamma, beta];
  const outputs = [y, mean, variance, dgamma, dbeta, ...(dx ? [dx] : [])];
  a.checkUntouched([...inputs, ...outputs], `M=${M} C=${C}`);
  return { y, mean, variance, dx, dgamma, dbeta };
}

test('simd batchnorm: forward and backward give the JavaScript functions\' bits (M x C grid, dx and dx null)', { skip: SKIP }, () => {
  const a = arena(20);
  const rng = rngStream(1, 'bn');
  for (const M of MS)
    for (const C of CS)
      for (const withDx of [true, false]) {
        const d = data(rng, M, C);
        const want = reference(d, M, C, withDx);
        const got = run(a, a.kernels, d, M, C, withDx);
        const what = `M=${M} C=${C}${withDx ? '' : ' (dx null)'}`;
        same(got.y, want.y, `${what} y`);
        same(got.mean, want.mean, `${what} mean`);
        same(got.variance, want.variance, `${what} variance`);
        same(got.dgamma, want.dgamma, `${what} dgamma`);
        same(got.dbeta, want.dbeta, `${what} dbeta`);
        if (withDx) same(got.dx!, want.dx!, `${what} dx`);
      }
});

test('simd batchnorm: views not 16-byte aligned, and C % 4 != 0 (the JavaScript fallback)', { skip: SKIP }, () => {
  const a = arena(20);
  const rng = rngStream(2, 'bn');
  for (const [M, C, shift] of [[64, 32, 1], [7, 36, 3], [1000, 4, 2], [9, 3, 0], [50, 6, 1], [5, 1, 0]]) {
    const d = data(rng, M, C);
    const want = reference(d, M, C, true);
    const got = run(a, a.kernels, d, M, C, true, shift);
    for (const k of ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'] as const) same(got[k]!, want[k]!, `M=${M} C=${C} shift=${shift} ${k}`);
  }
});

test('simd batchnorm: deterministic (two calls give identical bits) on a VGG-like shape', { skip: SKIP }, () => {
  const a = arena(40);
  const rng = rngStream(3, 'bn');
  const [M, C] = [4096, 32];
  const d = data(rng, M, C);
  const first = run(a, a.kernels, d, M, C, true);
  const copy = Object.fromEntries(Object.entries(first).map(([k, v]) => [k, Float32Array.from(v!)]));
  const second = run(a, a.kernels, d, M, C, true);
  for (const k of Object.keys(copy)) same(second[k as keyof typeof second]!, copy[k], `second call ${k}`);
  const want = reference(d, M, C, true);
  same(second.y, want.y, 'y');
  same(second.dx!, want.dx!, 'dx');
});

test('simd batchnorm: arguments must be views of the kernels\' memory, long enough', { skip: SKIP }, () => {
  const a = arena(1);
  a.reset();
  const [M, C] = [4, 8];
  const x = a.alloc(M * C), y = a.alloc(M * C), g = a.alloc(C), b = a.alloc(C), mo = a.alloc(C), vo = a.alloc(C);
  assert.throws(() => a.kernels.forward(new Float32Array(M * C), g, b, EPS, M * C, C, y, mo, vo), /not a view/);
  assert.throws(() => a.kernels.forward(x, g, b, EPS, M * C, C, a.alloc(M * C - 1), mo, vo), /holds 31 floats/);
  assert.throws(() => a.kernels.backward(x, x, g, mo, vo, EPS, M * C, C, null, new Float32Array(C), b), /not a view/);
  a.kernels.forward(x, g, b, EPS, M * C, C, y, mo, vo);
});
