/**
 * Training-mode batch normalisation for the fast trainer in WebAssembly SIMD, assembled here
 * (src/engine/wasm-writer.ts): the forward and backward of src/engine/wasm-batchnorm.ts's header on arrays seen
 * as [M, C] (C the channels, M = n / C rows), with the same formulas as `batchNormForwardArrays` and
 * `batchNormBackwardArrays`:
 *
 *   forward   s1 = sum x, s2 = sum x^2 per channel; mean = f32(s1 / M), var = f32(max(0, s2 / M - (s1 / M)^2));
 *             y = x a + s with a = gamma / sqrt(var + eps), s = beta - mean a
 *   backward  sdy = sum dy, sdyx = sum dy (x - mean); dbeta = sdy, dgamma = sdyx r with r = 1 / sqrt(var + eps);
 *             dx = (A dy + B x) + D with A = gamma r, B = -A r r sdyx / M, D = -A sdy / M - B mean
 *
 * Every arithmetic step is the float64 operation the JavaScript functions perform, in their order, so the
 * results are the same bits (tested):
 *   - The sums accumulate in float64 (f64x2 lanes, one lane per channel: f32x4 loads are widened with
 *     f64x2.promote_low_f32x4, which is exact), each channel's in row order 0, 1, ..., M - 1, exactly as the
 *     JavaScript loop adds them. The order is fixed, so the result is deterministic, and it is the JavaScript
 *     order, so the sums are the same float64 values. (x^2 and dy (x - mean) are formed in float64 as there;
 *     x^2 of a float32 is exact.)
 *   - The per-channel constants (mean, var, a, s; r, A, B, D) use f64x2 div, sqrt, mul, sub, max, which round
 *     as JavaScript's Number operations do; mean and var are rounded to float32 (f32x4.demote_f64x2_zero, as
 *     Math.fround) where JavaScript rounds them.
 *   - The per-element passes y = x a + s and dx = (A dy + B x) + D run in float64 too and round once to
 *     float32 on the store, as a Float32Array store does. (A float32 form of these passes, with a, s, A, B, D
 *     rounded once per channel, measured 15-30% faster per call, 0.9 ms less for one forward and one backward
 *     on each of the three VGG7 shapes below, and was not kept: it gives up the JavaScript bits.)
 *
 * Layout: the channels are cut into tiles of up to GROUPS x 4 = 16 channels; one call of a tile function runs
 * one tile over all M rows (stride C floats): the sums with the tile's accumulators in registers, the tile's
 * constants, then the per-element pass. No scratch memory is needed (the kernel's memory belongs to the
 * caller), and every channel's sums still run in row order. Tiles of 8 and 12 channels, and of 32 (spilling),
 * measured the same or slower on the VGG7 shapes. C % 4 != 0 (or n % C != 0) runs the JavaScript functions
 * instead.
 *
 * Measured (ms per call, median of 3 runs of 15; JavaScript -> this, f64 / f32 elementwise), VGG7 at quarter
 * width, M x C = 51200 x 32: forward 9.0 -> 0.79 / 0.59, backward 13.0 -> 1.68 / 1.37; 12800 x 64: 4.2 ->
 * 0.41 / 0.29, 6.7 -> 0.70 / 0.53; 3200 x 128: 2.2 -> 0.19 / 0.17, 3.4 -> 0.37 / 0.30 (2 shared cores, load
 * average 0.9-1.5). The largest shape's backward is bound by re-reading x and dy (6.5 MB each) from L3 per
 * tile and pass.
 */
import { checkView, F64, FunctionBody, I32, instantiate, lazyModule, memoryModuleBytes, op, V128, vop, type WasmMemory } from '../engine/wasm-writer.js';
import { batchNormBackwardArrays, batchNormForwardArrays } from '../engine/wasm-batchnorm.js';

const v128Load = (offset: number) => vop.load(0x04, offset);
const v128Store = (offset: number) => vop.store(0x04, offset);
const store64Lane0 = (offset: number) => vop.store64Lane(offset, 0);
/** i8x16.shuffle taking the low 8 bytes of both operands: [a0, a1, b0, b1] as float32 lanes. */
const lowHalves = vop.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
const { load64Zero, zero: v128Zero, f64x2Splat, f32x4DemoteF64x2Zero: demote, f64x2PromoteLowF32x4: promote, f64x2Neg, f64x2Sqrt, f64x2Add, f64x2Sub, f64x2Mul, f64x2Div, f64x2Max } = vop;
const f64Const = (v: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return [0x44, ...b];
};

/** Largest tile, in groups of 4 channels (see the header); tiles of 1..GROUPS groups are assembled. */
const GROUPS = 4;

/** A float32 pair at `ptr + offset` widened to f64x2. */
const widen = (ptr: number, offset: number) => [op.get(ptr), load64Zero(offset), promote].flat();

const hiHalf = vop.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
/**
 * The 4 floats at ptr + offset as two f64x2 in locals lo, hi: one v128.load (into tmp), the high pair moved
 * down by a shuffle. (Two v128.load64_zero instead measured the same or slower.)
 */
function loadHalves(ptr: number, offset: number, lo: number, hi: number, tmp: number): number[] {
  return [op.get(ptr), v128Load(offset), op.tee(tmp), promote, op.set(lo), op.get(tmp), op.get(tmp), hiHalf, promote, op.set(hi)].flat();
}
/** Stores the f64x2 values that the code `lo` and `hi` computes as 4 floats (each rounded once) at ptr + offset. */
function storeHalves(ptr: number, offset: number, lo: number[], hi: number[]): number[] {
  return [op.get(ptr), lo, demote, hi, demote, lowHalves, v128Store(offset)].flat();
}

/**
 * Row loop: `for (p = start; p != start + rows ld; p += ld) { body }`, with extra pointers advancing alongside.
 * `ptrs[0]` is p; the others are set by the caller before and step by ld too.
 */
function rowLoop(b: FunctionBody, ptrs: number[], end: number, ld: number, inner: () => void): void {
  b.e(op.block, op.get(ptrs[0]), op.get(end), op.eq, op.brIf(0), op.loop);
  inner();
  for (const p of ptrs) b.e(op.get(p), op.get(ld), op.add, op.set(p));
  b.e(op.get(ptrs[0]), op.get(end), op.ne, op.brIf(0), op.end, op.end);
}

/**
 * fwd(x, y, rows, ld, gamma, beta, mean, var, M, eps) over one tile of 4 G channels: pointers (bytes) at the
 * tile's first channel, ld the bytes between rows, M and eps float64.
 */
function forwardBody(G: number): number[] {
  const X = 0, Y = 1, ROWS = 2, LD = 3, GAM = 4, BET = 5, MEAN = 6, VAR = 7, MF = 8, EPS = 9;
  const b = new FunctionBody(10);
  const p = b.local(I32), q = b.local(I32), end = b.local(I32);
  const halves = (n: number) => Array.from({ length: G }, () => Array.from({ length: n }, () => b.local(V128)));
  const s1 = halves(2), s2 = halves(2), a = halves(2), s = halves(2);
  const t2 = [b.local(V128), b.local(V128)];
  const t = b.local(V128), m = b.local(V128), mv = b.local(V128), ev = b.local(V128), mean = b.local(V128), vr = b.local(V128), zero = b.local(V128);
  const { e } = b;
  e(op.get(X), op.get(ROWS), op.get(LD), op.mul, op.add, op.set(end));
  e(v128Zero, op.set(zero));
  for (let g = 0; g < G; g++) for (let h = 0; h < 2; h++) e(v128Zero, op.set(s1[g][h]), v128Zero, op.set(s2[g][h]));
  // the sums, each channel in row order
  e(op.get(X), op.set(p));
  rowLoop(b, [p], end, LD, () => {
    for (let g = 0; g < G; g++) {
      e(loadHalves(p, 16 * g, t2[0], t2[1], t));
      for (let h = 0; h < 2; h++) {
        e(op.get(s1[g][h]), op.get(t2[h]), f64x2Add, op.set(s1[g][h]));
        e(op.get(s2[g][h]), op.get(t2[h]), op.get(t2[h]), f64x2Mul, f64x2Add, op.set(s2[g][h]));
      }
    }
  });
  // the tile's constants: q = s1 / M; mean = f32(q); var = f32(max(0, s2 / M - q q)); a = gamma / sqrt(var + eps); s = beta - mean a
  e(op.get(MF), f64x2Splat, op.set(mv), op.get(EPS), f64x2Splat, op.set(ev));
  for (let g = 0; g < G; g++)
    for (let h = 0; h < 2; h++) {
      const o = 16 * g + 8 * h;
      e(op.get(s1[g][h]), op.get(mv), f64x2Div, op.set(m));
      e(op.get(m), demote, op.set(mean), op.get(MEAN), op.get(mean), store64Lane0(o));
      e(op.get(zero), op.get(s2[g][h]), op.get(mv), f64x2Div, op.get(m), op.get(m), f64x2Mul, f64x2Sub, f64x2Max, demote, op.set(vr));
      e(op.get(VAR), op.get(vr), store64Lane0(o));
      e(widen(GAM, o), op.get(vr), promote, op.get(ev), f64x2Add, f64x2Sqrt, f64x2Div, op.set(a[g][h]));
      e(widen(BET, o), op.get(mean), promote, op.get(a[g][h]), f64x2Mul, f64x2Sub, op.set(s[g][h]));
    }
  // y = x a + s
  e(op.get(X), op.set(p), op.get(Y), op.set(q));
  rowLoop(b, [p, q], end, LD, () => {
    for (let g = 0; g < G; g++) {
      e(loadHalves(p, 16 * g, t2[0], t2[1], t));
      const y = (h: number) => [op.get(t2[h]), op.get(a[g][h]), f64x2Mul, op.get(s[g][h]), f64x2Add].flat();
      e(storeHalves(q, 16 * g, y(0), y(1)));
    }
  });
  return b.finish();
}

/**
 * bwd(dy, x, dx, rows, ld, gamma, mean, var, dgamma, dbeta, hasDx, M, eps) over one tile of 4 G channels (as
 * fwd); dx is written only if hasDx != 0.
 */
function backwardBody(G: number): number[] {
  const DY = 0, X = 1, DX = 2, ROWS = 3, LD = 4, GAM = 5, MEAN = 6, VAR = 7, DG = 8, DB = 9, HASDX = 10, MF = 11, EPS = 12;
  const b = new FunctionBody(13);
  const p = b.local(I32), px = b.local(I32), q = b.local(I32), end = b.local(I32);
  const halves = (n: number) => Array.from({ length: G }, () => Array.from({ length: n }, () => b.local(V128)));
  const sdy = halves(2), sdyx = halves(2), mu = halves(2), A = halves(2), B = halves(2), D = halves(2);
  const d2 = [b.local(V128), b.local(V128)], x2 = [b.local(V128), b.local(V128)];
  const d = b.local(V128), r = b.local(V128), na = b.local(V128), mv = b.local(V128), ev = b.local(V128);
  const { e } = b;
  e(op.get(DY), op.get(ROWS), op.get(LD), op.mul, op.add, op.set(end));
  for (let g = 0; g < G; g++)
    for (let h = 0; h < 2; h++) e(v128Zero, op.set(sdy[g][h]), v128Zero, op.set(sdyx[g][h]), widen(MEAN, 16 * g + 8 * h), op.set(mu[g][h]));
  // the sums, each channel in row order: sdy += dy; sdyx += dy (x - mean)
  e(op.get(DY), op.set(p), op.get(X), op.set(px));
  rowLoop(b, [p, px], end, LD, () => {
    for (let g = 0; g < G; g++) {
      e(loadHalves(p, 16 * g, d2[0], d2[1], d), loadHalves(px, 16 * g, x2[0], x2[1], d));
      for (let h = 0; h < 2; h++) {
        e(op.get(sdy[g][h]), op.get(d2[h]), f64x2Add, op.set(sdy[g][h]));
        e(op.get(sdyx[g][h]), op.get(d2[h]), op.get(x2[h]), op.get(mu[g][h]), f64x2Sub, f64x2Mul, f64x2Add, op.set(sdyx[g][h]));
      }
    }
  });
  // r = 1 / sqrt(var + eps); dbeta = sdy; dgamma = sdyx r; A = gamma r; B = (-A r r sdyx) / M; D = (-A sdy) / M - B mean
  e(op.get(MF), f64x2Splat, op.set(mv), op.get(EPS), f64x2Splat, op.set(ev));
  for (let g = 0; g < G; g++)
    for (let h = 0; h < 2; h++) {
      const o = 16 * g + 8 * h;
      e(f64Const(1), f64x2Splat, widen(VAR, o), op.get(ev), f64x2Add, f64x2Sqrt, f64x2Div, op.set(r));
      e(op.get(DB), op.get(sdy[g][h]), demote, store64Lane0(o));
      e(op.get(DG), op.get(sdyx[g][h]), op.get(r), f64x2Mul, demote, store64Lane0(o));
      e(widen(GAM, o), op.get(r), f64x2Mul, op.tee(A[g][h]), f64x2Neg, op.set(na));
      e(op.get(na), op.get(r), f64x2Mul, op.get(r), f64x2Mul, op.get(sdyx[g][h]), f64x2Mul, op.get(mv), f64x2Div, op.set(B[g][h]));
      e(op.get(na), op.get(sdy[g][h]), f64x2Mul, op.get(mv), f64x2Div, op.get(B[g][h]), op.get(mu[g][h]), f64x2Mul, f64x2Sub, op.set(D[g][h]));
    }
  // dx = (A dy + B x) + D
  e(op.get(HASDX), op.if_);
  e(op.get(DY), op.set(p), op.get(X), op.set(px), op.get(DX), op.set(q));
  rowLoop(b, [p, px, q], end, LD, () => {
    for (let g = 0; g < G; g++) {
      e(loadHalves(p, 16 * g, d2[0], d2[1], d), loadHalves(px, 16 * g, x2[0], x2[1], d));
      const v = (h: number) => [op.get(A[g][h]), op.get(d2[h]), f64x2Mul, op.get(B[g][h]), op.get(x2[h]), f64x2Mul, f64x2Add, op.get(D[g][h]), f64x2Add].flat();
      e(storeHalves(q, 16 * g, v(0), v(1)));
    }
  });
  e(op.end);
  return b.finish();
}

/** Tile widths in groups of 4 channels: 1 .. GROUPS. */
const TILES = Array.from({ length: GROUPS }, (_, i) => i + 1);

/** The module: fwd_<G> for every tile width, then bwd_<G>, all exported. */
const bnModule = lazyModule(() => {
  const i32s = (n: number) => new Array(n).fill(I32);
  return memoryModuleBytes([
    ...TILES.map((G) => ({ params: [...i32s(8), F64, F64], body: forwardBody(G), export: `fwd_${G}` })),
    ...TILES.map((G) => ({ params: [...i32s(11), F64, F64], body: backwardBody(G), export: `bwd_${G}` })),
  ]);
});

export const WASM_BN_AVAILABLE = bnModule() !== null;

/** The two kernels; arguments as `batchNormForwardArrays` / `batchNormBackwardArrays`, all views of the memory. */
export interface BatchNormKernels {
  /** x [n / C, C] -> y, and the batch mean and biased variance [C] (float32-rounded). */
  forward(x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number, n: number, C: number, y: Float32Array, meanOut: Float32Array, varOut: Float32Array): void;
  /** From the forward's mean and variance: dgamma, dbeta [C], and dx [n / C, C] unless null. */
  backward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, eps: number, n: number, C: number, dx: Float32Array | null, dgamma: Float32Array, dbeta: Float32Array): void;
}

type TileFwd = (x: number, y: number, rows: number, ld: number, gamma: number, beta: number, mean: number, variance: number, M: number, eps: number) => void;
type TileBwd = (dy: number, x: number, dx: number, rows: number, ld: number, gamma: number, mean: number, variance: number, dg: number, db: number, hasDx: number, M: number, eps: number) => void;

/** Throws unless `v` is a view of `buf` with at least `n` floats. */
const check = (what: string, v: Float32Array, buf: ArrayBuffer, n: number) => checkView('simd batchnorm', what, v, buf, n);

/**
 * The kernels over `memory` (null where the engine has no wasm SIMD). Every array argument must be a view of
 * `memory` (checked; x, y, dy, dx with at least n floats, the per-channel ones with at least C). Tiles read and
 * write only inside [0, n) and [0, C). They give the JavaScript functions' bits.
 */
export function createBatchNormKernels(memory: WasmMemory): BatchNormKernels | null {
  const mod = bnModule();
  if (!mod) return null;
  const ex = instantiate(mod, memory);
  const fwd = Array.from({ length: GROUPS + 1 }, (_, G) => ex[`fwd_${G}`] as TileFwd);
  const bwd = Array.from({ length: GROUPS + 1 }, (_, G) => ex[`bwd_${G}`] as TileBwd);
  const simdShape = (n: number, C: number) => C > 0 && C % 4 === 0 && n % C === 0;
  return {
    forward(x, gamma, beta, eps, n, C, y, meanOut, varOut) {
      if (!simdShape(n, C)) return batchNormForwardArrays(x, gamma, beta, eps, n, C, y, meanOut, varOut);
      const buf = memory.buffer;
      check('x', x, buf, n);
      check('y', y, buf, n);
      for (const [w, v] of [['gamma', gamma], ['beta', beta], ['mean', meanOut], ['variance', varOut]] as const) check(w, v, buf, C);
      const M = n / C;
      for (let c = 0; c < C; c += 4 * GROUPS) {
        const o = 4 * c;
        fwd[Math.min(GROUPS, (C - c) / 4)](x.byteOffset + o, y.byteOffset + o, M, 4 * C, gamma.byteOffset + o, beta.byteOffset + o, meanOut.byteOffset + o, varOut.byteOffset + o, M, eps);
      }
    },
    backward(dy, x, gamma, mean, variance, eps, n, C, dx, dgamma, dbeta) {
      if (!simdShape(n, C)) return batchNormBackwardArrays(dy, x, gamma, mean, variance, eps, n, C, dx, dgamma, dbeta);
      const buf = memory.buffer;
      check('dy', dy, buf, n);
      check('x', x, buf, n);
      if (dx) check('dx', dx, buf, n);
      for (const [w, v] of [['gamma', gamma], ['mean', mean], ['variance', variance], ['dgamma', dgamma], ['dbeta', dbeta]] as const) check(w, v, buf, C);
      const M = n / C;
      const dxp = dx ? dx.byteOffset : 0;
      for (let c = 0; c < C; c += 4 * GROUPS) {
        const o = 4 * c;
        bwd[Math.min(GROUPS, (C - c) / 4)](dy.byteOffset + o, x.byteOffset + o, dxp + o, M, 4 * C, gamma.byteOffset + o, mean.byteOffset + o, variance.byteOffset + o, dgamma.byteOffset + o, dbeta.byteOffset + o, dx ? 1 : 0, M, eps);
      }
    },
  };
}
