/**
 * The fast trainer's WebAssembly kernels with 128-bit SIMD, assembled here (src/engine/wasm-writer.ts): float32
 * matrix products and the Adam update. One product shape serves all three products of a dense layer:
 *
 *   C[M, N] = A[M, K] B[K, N] + bias[N]        (row-major, leading dimensions lda, ldb, ldc in floats)
 *
 * forward y = x W + b; dW = x^T dy (A = x transposed); dx = dy W^T (B = W transposed). Each exported function
 * computes blocks of RB rows x 4 CB columns with RB x CB f32x4 accumulators over the whole K loop (one splat
 * of A and CB vector loads of B feed RB x CB multiply-adds), so sums are held in registers and stored once.
 * `gemm` covers any M, N with the 4x2, 1x2 and 1x1 blocks and leaves the last N mod 4 columns to a JavaScript
 * loop. Sums are float32 (mul, then add: wasm SIMD has no fused multiply-add), accumulated in k order.
 *
 * `adam_*` is src/train/optimizers.ts's Adam rule four values at a time with the same float32 operations in the
 * same order (wasm f32x4 mul, add, div and sqrt round like Math.fround of the double operation), so it gives the
 * bits of the JavaScript loop (tested); one function per weight-decay mode (none, L2, decoupled).
 *
 * Measured on MLP 21-32-16-10, batch 32: docs/performance.md, "The fast path".
 */
import { I32, op, section, uleb, vec, WA, type WasmMemory } from '../engine/wasm-writer.js';

const simd = op.simd;
const v128Load = (offset: number) => simd(0x00, 0x02, ...uleb(offset));
const v128Store = (offset: number) => simd(0x0b, 0x02, ...uleb(offset));
const f32Load = [0x2a, 0x02, 0x00];
const f32x4Splat = simd(0x13);
const f32x4Sqrt = simd(0xe3);
const f32x4Add = simd(0xe4);
const f32x4Sub = simd(0xe5);
const f32x4Mul = simd(0xe6);
const f32x4Div = simd(0xe7);
const V128 = 0x7b;
const F32 = 0x7d;

/** Parameters of every exported function (all i32; pointers in bytes, sizes and strides in floats). */
const A = 0, B = 1, C = 2, BIAS = 3, M = 4, K = 5, N = 6, LDA = 7, LDB = 8, LDC = 9;
const NPARAMS = 10;

/** The body of a function computing blocks of RB rows x 4*CB columns (M a multiple of RB, N of 4 CB). */
function gemmBody(RB: number, CB: number): number[] {
  let next = NPARAMS;
  const local = () => next++;
  const m = local(), n = local(), k = local(), pb = local(), ldaB = local(), ldbB = local(), ldcB = local(), cp = local();
  const pa = Array.from({ length: RB }, local);
  const nI32 = next - NPARAMS;
  const firstV = next;
  const acc = Array.from({ length: RB * CB }, local); // acc[r * CB + c]
  const bv = Array.from({ length: CB }, local);
  const s = local();
  const locals = [[...uleb(nI32), I32], [...uleb(next - firstV), V128]];
  const code: number[] = [];
  const e = (...parts: number[][]) => parts.forEach((p) => code.push(...p));
  e(op.get(LDA), op.i32(2), op.shl, op.set(ldaB));
  e(op.get(LDB), op.i32(2), op.shl, op.set(ldbB));
  e(op.get(LDC), op.i32(2), op.shl, op.set(ldcB));
  // for m in 0..M step RB
  e(op.i32(0), op.set(m), op.block, op.loop);
  e(op.get(m), op.get(M), op.geU, op.brIf(1));
  //   for n in 0..N step 4 CB
  e(op.i32(0), op.set(n), op.block, op.loop);
  e(op.get(n), op.get(N), op.geU, op.brIf(1));
  for (let c = 0; c < CB; c++) {
    e(op.get(BIAS), op.get(n), op.i32(2), op.shl, op.add, v128Load(16 * c), op.set(acc[c]));
    for (let r = 1; r < RB; r++) e(op.get(acc[c]), op.set(acc[r * CB + c]));
  }
  pa.forEach((p, r) => {
    e(op.get(A), op.get(m), op.get(ldaB), op.mul, op.add);
    if (r > 0) e(op.get(ldaB), op.i32(r), op.mul, op.add);
    e(op.set(p));
  });
  e(op.get(B), op.get(n), op.i32(2), op.shl, op.add, op.set(pb));
  //     for k in 0..K
  e(op.i32(0), op.set(k), op.block, op.loop);
  e(op.get(k), op.get(K), op.geU, op.brIf(1));
  bv.forEach((b, c) => e(op.get(pb), v128Load(16 * c), op.set(b)));
  pa.forEach((p, r) => {
    e(op.get(p), f32Load, f32x4Splat, op.set(s));
    for (let c = 0; c < CB; c++) e(op.get(acc[r * CB + c]), op.get(s), op.get(bv[c]), f32x4Mul, f32x4Add, op.set(acc[r * CB + c]));
    e(op.get(p), op.i32(4), op.add, op.set(p));
  });
  e(op.get(pb), op.get(ldbB), op.add, op.set(pb));
  e(op.get(k), op.i32(1), op.add, op.set(k), op.br(0), op.end, op.end);
  //     store the block
  e(op.get(C), op.get(m), op.get(ldcB), op.mul, op.add, op.get(n), op.i32(2), op.shl, op.add, op.set(cp));
  for (let r = 0; r < RB; r++) {
    for (let c = 0; c < CB; c++) e(op.get(cp), op.get(acc[r * CB + c]), v128Store(16 * c));
    if (r + 1 < RB) e(op.get(cp), op.get(ldcB), op.add, op.set(cp));
  }
  e(op.get(n), op.i32(4 * CB), op.add, op.set(n), op.br(0), op.end, op.end);
  e(op.get(m), op.i32(RB), op.add, op.set(m), op.br(0), op.end, op.end);
  e(op.end);
  const body = [...vec(locals), ...code];
  return [...uleb(body.length), ...body];
}

/** Adam constants in the order of the `adam_*` parameters after the pointers and the count. */
export const ADAM_CONSTS = ['b1', 'nb1', 'b2', 'nb2', 'wd', 'stepSize', 'epsHat', 'keep'] as const;
export type AdamMode = 'plain' | 'l2' | 'decoupled';

/**
 * adam(w, g, m, v, n, b1, nb1, b2, nb2, wd, stepSize, epsHat, keep) over ceil(n / 4) * 4 values (the arrays'
 * 16-byte padding, which stays zero, takes the rest):
 *   g' = g + wd w (l2); m = b1 m + nb1 g'; v = b2 v + nb2 g'^2; w = (w keep, decoupled) - stepSize m / (sqrt(v) + epsHat)
 */
function adamBody(mode: AdamMode): number[] {
  const W = 0, G = 1, Mp = 2, Vp = 3, Nn = 4;
  const cst = (name: (typeof ADAM_CONSTS)[number]) => 5 + ADAM_CONSTS.indexOf(name);
  let next = 5 + ADAM_CONSTS.length;
  const local = () => next++;
  const off = local(), end = local();
  const firstV = next;
  const splats = Object.fromEntries(ADAM_CONSTS.map((c) => [c, local()])) as Record<(typeof ADAM_CONSTS)[number], number>;
  const wv = local(), gv = local(), mv = local(), vv = local();
  const locals = [[...uleb(2), I32], [...uleb(next - firstV), V128]];
  const code: number[] = [];
  const e = (...parts: number[][]) => parts.forEach((p) => code.push(...p));
  for (const c of ADAM_CONSTS) e(op.get(cst(c)), f32x4Splat, op.set(splats[c]));
  e(op.get(Nn), op.i32(3), op.add, op.i32(-4), op.and, op.i32(2), op.shl, op.set(end));
  e(op.i32(0), op.set(off), op.block, op.loop);
  e(op.get(off), op.get(end), op.geU, op.brIf(1));
  e(op.get(W), op.get(off), op.add, v128Load(0), op.set(wv));
  e(op.get(G), op.get(off), op.add, v128Load(0), op.set(gv));
  if (mode === 'l2') e(op.get(gv), op.get(splats.wd), op.get(wv), f32x4Mul, f32x4Add, op.set(gv));
  // m = b1 m + nb1 g
  e(op.get(splats.b1), op.get(Mp), op.get(off), op.add, v128Load(0), f32x4Mul, op.get(splats.nb1), op.get(gv), f32x4Mul, f32x4Add, op.set(mv));
  e(op.get(Mp), op.get(off), op.add, op.get(mv), v128Store(0));
  // v = b2 v + nb2 (g g)
  e(op.get(splats.b2), op.get(Vp), op.get(off), op.add, v128Load(0), f32x4Mul, op.get(splats.nb2), op.get(gv), op.get(gv), f32x4Mul, f32x4Mul, f32x4Add, op.set(vv));
  e(op.get(Vp), op.get(off), op.add, op.get(vv), v128Store(0));
  // w = base - stepSize (m / (sqrt(v) + epsHat))
  e(op.get(W), op.get(off), op.add);
  e(op.get(wv));
  if (mode === 'decoupled') e(op.get(splats.keep), f32x4Mul);
  e(op.get(splats.stepSize), op.get(mv), op.get(vv), f32x4Sqrt, op.get(splats.epsHat), f32x4Add, f32x4Div, f32x4Mul, f32x4Sub);
  e(v128Store(0));
  e(op.get(off), op.i32(16), op.add, op.set(off), op.br(0), op.end, op.end);
  e(op.end);
  const body = [...vec(locals), ...code];
  return [...uleb(body.length), ...body];
}

const ADAM_MODES: AdamMode[] = ['plain', 'l2', 'decoupled'];

const BLOCKS = [
  ['gemm_4x2', 4, 2],
  ['gemm_1x2', 1, 2],
  ['gemm_1x1', 1, 1],
] as const;

function moduleBytes(): Uint8Array {
  const gemmType = [0x60, ...vec(new Array(NPARAMS).fill([I32])), 0x00];
  const adamType = [0x60, ...vec([...new Array(5).fill([I32]), ...ADAM_CONSTS.map(() => [F32])]), 0x00];
  const type = section(1, vec([gemmType, adamType]));
  const imports = section(2, vec([[...uleb(3), ...Buffer.from('env'), ...uleb(6), ...Buffer.from('memory'), 0x02, 0x00, 0x01]]));
  const names = [...BLOCKS.map(([name]) => name), ...ADAM_MODES.map((m) => `adam_${m}`)];
  const funcs = section(3, vec([...BLOCKS.map(() => [0x00]), ...ADAM_MODES.map(() => [0x01])]));
  const exports = section(7, vec(names.map((name, i) => [...uleb(name.length), ...Buffer.from(name), 0x00, ...uleb(i)])));
  const code = section(10, [...uleb(names.length), ...BLOCKS.flatMap(([, rb, cb]) => gemmBody(rb, cb)), ...ADAM_MODES.flatMap(adamBody)]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

let compiled: unknown;

/** The compiled module, or null where the engine has no wasm SIMD. */
function gemmModule(): unknown {
  if (compiled === undefined) {
    try {
      const bytes = moduleBytes();
      compiled = WA && WA.validate(bytes) ? new WA.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export const WASM_GEMM_AVAILABLE = gemmModule() !== null;

type GemmFn = (a: number, b: number, c: number, bias: number, m: number, k: number, n: number, lda: number, ldb: number, ldc: number) => void;

/** A float32 matrix view in wasm memory: `data` (a view of the memory), rows x cols with leading dimension `ld`. */
export interface Gemm {
  memory: WasmMemory;
  /**
   * One Adam step on w, g, m, v (views of `memory`, each 16-byte aligned with zero padding to a multiple of 4
   * values) with the rule's float32 constants `c` (src/train/optimizers.ts).
   */
  adam(mode: AdamMode, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: Record<string, number>): void;
  /** C = A B + bias, all views of `memory`; A [M, K] (lda), B [K, N] (ldb), C [M, N] (ldc), bias [N]. */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array, m: number, k: number, n: number, lda: number, ldb: number, ldc: number): void;
}

/** An instance of the GEMM module over `memory`; null where wasm SIMD is missing. */
export function createGemm(memory: WasmMemory): Gemm | null {
  const mod = gemmModule();
  if (!mod) return null;
  const ex = new WA!.Instance(mod, { env: { memory } }).exports as Record<string, GemmFn>;
  const g42 = ex.gemm_4x2;
  const g12 = ex.gemm_1x2;
  const g11 = ex.gemm_1x1;
  const adams = Object.fromEntries(ADAM_MODES.map((m) => [m, ex[`adam_${m}`] as unknown as (...a: number[]) => void]));
  return {
    memory,
    adam(mode, w, g, m, v, c) {
      const buf = memory.buffer;
      if (w.buffer !== buf || g.buffer !== buf || m.buffer !== buf || v.buffer !== buf) throw new Error('simd adam: an operand is not a view of the kernel\'s memory');
      adams[mode](w.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, w.length, ...ADAM_CONSTS.map((k) => c[k]));
    },
    gemm(a, b, c, bias, mm, kk, nn, lda, ldb, ldc) {
      const buf = memory.buffer;
      if (a.buffer !== buf || b.buffer !== buf || c.buffer !== buf || bias.buffer !== buf) throw new Error('simd gemm: an operand is not a view of the kernel\'s memory');
      const pa = a.byteOffset;
      const pb = b.byteOffset;
      const pc = c.byteOffset;
      const pbias = bias.byteOffset;
      const n8 = nn & ~7;
      const n4 = nn & ~3;
      const m4 = mm & ~3;
      if (n8 > 0) {
        if (m4 > 0) g42(pa, pb, pc, pbias, m4, kk, n8, lda, ldb, ldc);
        if (mm > m4) g12(pa + 4 * m4 * lda, pb, pc + 4 * m4 * ldc, pbias, mm - m4, kk, n8, lda, ldb, ldc);
      }
      if (n4 > n8) g11(pa, pb + 4 * n8, pc + 4 * n8, pbias + 4 * n8, mm, kk, n4 - n8, lda, ldb, ldc);
      // The last nn mod 4 columns in JavaScript (sums in float64, stored as float32).
      for (let r = 0; r < mm; r++) {
        const ar = r * lda;
        for (let j = n4; j < nn; j++) {
          let s = bias[j];
          for (let t = 0, bt = j; t < kk; t++, bt += ldb) s += a[ar + t] * b[bt];
          c[r * ldc + j] = s;
        }
      }
    },
  };
}
