/**
 * The fast trainer's WebAssembly kernels with 128-bit SIMD, assembled here (src/engine/wasm-writer.ts): float32
 * matrix products and the Adam update. Two products serve a dense layer and a convolution (via im2col):
 *
 *   gemm:    C[M, N] = A[M, K] B[K, N] + bias[N]    (row-major, leading dimensions lda, ldb, ldc in floats)
 *   gemmTN:  C[M, N] = A^T B for A [K, M], B [K, N] (contiguous; overwrites C)
 *
 * forward y = x W + b (gemm); dW = x^T dy (gemmTN); dx = dy W^T (gemm, B = W transposed). Each is one call of
 * an exported driver, which runs K in chunks and calls block functions computing RB rows x 4 CB columns with
 * RB x CB f32x4 accumulators over a chunk's k loop (one splat of A and CB vector loads of B feed RB x CB
 * multiply-adds), so sums are held in registers and stored once per chunk. Blocks are 4x2 groups with 1-row
 * blocks for the last M mod 4 rows; the last N mod 8 columns take one partial-width block (one or two groups,
 * the last storing only its first N mod 4 lanes), so every column is computed in wasm. Sums are float32 (mul,
 * then add: wasm SIMD has no fused multiply-add), accumulated in k order (a later chunk starts from C as
 * stored, which is the same float32 value).
 *
 * `adam_*` is src/train/optimizers.ts's Adam rule four values at a time with the same float32 operations in the
 * same order (wasm f32x4 mul, add, div and sqrt round like Math.fround of the double operation), so it gives the
 * bits of the JavaScript loop (tested); one function per weight-decay mode (none, L2, decoupled).
 *
 * Measured on MLP 21-32-16-10, batch 32, and on the convolutions' shapes: docs/fast-path.md. On im2col shapes, 4x3, 2x4, 3x3,
 * 6x2, 8x1 and 5x2 blocks were not faster than 4x2 (most slower), nor A by f32.load + splat or by one v128.load
 * + shuffles than by v128.load32_splat; K chunks doubled the transposed product's speed at K = 51200.
 */
import { checkView, F32, FunctionBody, I32, instantiate, lazyModule, memoryModuleBytes, op, V128, vop, type WasmMemory } from '../engine/wasm-writer.js';

const v128Load = (offset: number) => vop.load(0x02, offset);
const v128Store = (offset: number) => vop.store(0x02, offset);
const { load32Splat: v128Load32Splat, store32Lane: v128Store32Lane, store64Lane: v128Store64Lane, zero: v128Zero, f32x4Splat, f32x4Sqrt, f32x4Add, f32x4Sub, f32x4Mul, f32x4Div } = vop;
const { else_: opElse, call, select, gtU, divU, remU } = op;

/**
 * A block function computes RB rows x 4 CB columns per block over a region of C: M a multiple of RB; N (in
 * floats) a multiple of 4 CB, or, where the last group stores only its first `t` lanes (t = 1..3), one block.
 * Its parameters (all i32; pointers and strides in bytes):
 *   a, b, c     the region's A (row 0, step k = 0), B (step 0, column 0) and C (row 0, column 0)
 *   init, ild   where the accumulators start: row r of the block from init + r ild (ild 0: the bias row;
 *               ild = ldc: C itself, a later K chunk); zero != 0: they start at 0 instead
 *   m, k, n     rows, steps, columns
 *   lda         A: bytes between rows (A [M, K]) or between steps k (transposed A [K, M])
 *   ldb, ldc    bytes between the rows of B and of C
 * Each step k loads CB f32x4 of B's row k and splats the RB values of A (v128.load32_splat), then RB x CB
 * multiply-adds. Vector loads of a partial group read up to 3 floats past B's row and the init row (allowed:
 * every operand is followed by at least 16 readable bytes); only C's elements are written.
 */
interface BlockShape {
  tn: boolean;
  rb: number;
  cb: number;
  t: number;
}

const P_A = 0, P_B = 1, P_C = 2, P_INIT = 3, P_ILD = 4, P_ZERO = 5, P_M = 6, P_K = 7, P_N = 8, P_LDA = 9, P_LDB = 10, P_LDC = 11;
const BLOCK_PARAMS = 12;

function blockBody({ tn, rb, cb, t }: BlockShape): number[] {
  const f = new FunctionBody(BLOCK_PARAMS);
  const local = () => f.local(I32);
  const vlocal = () => f.local(V128);
  const m = local(), nb = local(), nEnd = local(), kBytes = local(), pb = local(), paEnd = local();
  const aRow = local(), aStep = local(), cRow = local(), cStep = local(), iRow = local(), iStep = local(), cp = local(), ip = local();
  const pa = Array.from({ length: tn ? 1 : rb }, local); // A's pointers: one per row, or one (rows at +4 r) transposed
  const rowOff = Array.from({ length: tn ? 0 : rb }, local); // r lda (A [M, K])
  const acc = Array.from({ length: rb * cb }, vlocal); // acc[r * cb + c]
  const bv = Array.from({ length: cb }, vlocal);
  const s = vlocal();
  const { e } = f;
  e(op.get(P_N), op.i32(2), op.shl, op.set(nEnd));
  // bytes A's first pointer advances over the K steps (the k loop's end test: A's step is never 0)
  e(op.get(P_K), ...(tn ? [op.get(P_LDA), op.mul] : [op.i32(2), op.shl]), op.set(kBytes));
  if (tn) e(op.i32(4 * rb), op.set(aStep));
  else {
    for (let r = 1; r < rb; r++) e(op.get(P_LDA), op.i32(r), op.mul, op.set(rowOff[r]));
    e(op.get(P_LDA), op.i32(rb), op.mul, op.set(aStep));
  }
  e(op.get(P_LDC), op.i32(rb), op.mul, op.set(cStep));
  e(op.get(P_ILD), op.i32(rb), op.mul, op.set(iStep));
  e(op.get(P_A), op.set(aRow), op.get(P_C), op.set(cRow), op.get(P_INIT), op.set(iRow));
  // for m in 0..M step RB
  e(op.i32(0), op.set(m), op.block, op.loop);
  e(op.get(m), op.get(P_M), op.geU, op.brIf(1));
  //   for each column block (nb in bytes)
  e(op.i32(0), op.set(nb), op.block, op.loop);
  e(op.get(nb), op.get(nEnd), op.geU, op.brIf(1));
  //     accumulators from zero or from the init rows
  e(op.get(P_ZERO), op.if_);
  for (const a of acc) e(v128Zero, op.set(a));
  e(opElse, op.get(iRow), op.get(nb), op.add, op.set(ip));
  for (let r = 0; r < rb; r++) {
    for (let c = 0; c < cb; c++) e(op.get(ip), v128Load(16 * c), op.set(acc[r * cb + c]));
    if (r + 1 < rb) e(op.get(ip), op.get(P_ILD), op.add, op.set(ip));
  }
  e(op.end);
  if (tn) e(op.get(aRow), op.set(pa[0]));
  else pa.forEach((p, r) => e(op.get(aRow), ...(r > 0 ? [op.get(rowOff[r]), op.add] : []), op.set(p)));
  e(op.get(P_B), op.get(nb), op.add, op.set(pb), op.get(pa[0]), op.get(kBytes), op.add, op.set(paEnd));
  //     for k in 0..K (tested at the bottom)
  e(op.block, op.get(pa[0]), op.get(paEnd), op.eq, op.brIf(0), op.loop);
  bv.forEach((b, c) => e(op.get(pb), v128Load(16 * c), op.set(b)));
  for (let r = 0; r < rb; r++) {
    e(tn ? op.get(pa[0]) : op.get(pa[r]), v128Load32Splat(tn ? 4 * r : 0), op.set(s));
    for (let c = 0; c < cb; c++) e(op.get(acc[r * cb + c]), op.get(s), op.get(bv[c]), f32x4Mul, f32x4Add, op.set(acc[r * cb + c]));
  }
  if (tn) e(op.get(pa[0]), op.get(P_LDA), op.add, op.set(pa[0]));
  else pa.forEach((p) => e(op.get(p), op.i32(4), op.add, op.set(p)));
  e(op.get(pb), op.get(P_LDB), op.add, op.set(pb), op.get(pa[0]), op.get(paEnd), op.ne, op.brIf(0), op.end, op.end);
  //     store the block (the last group's first t lanes only)
  e(op.get(cRow), op.get(nb), op.add, op.set(cp));
  for (let r = 0; r < rb; r++) {
    for (let c = 0; c < cb; c++) {
      const a = acc[r * cb + c];
      if (c < cb - 1 || t === 0) e(op.get(cp), op.get(a), v128Store(16 * c));
      else if (t === 1) e(op.get(cp), op.get(a), v128Store32Lane(16 * c, 0));
      else e(op.get(cp), op.get(a), v128Store64Lane(16 * c, 0));
      if (c === cb - 1 && t === 3) e(op.get(cp), op.get(a), v128Store32Lane(16 * c + 8, 2));
    }
    if (r + 1 < rb) e(op.get(cp), op.get(P_LDC), op.add, op.set(cp));
  }
  e(op.get(nb), op.i32(16 * cb), op.add, op.set(nb), op.br(0), op.end, op.end);
  e(op.get(aRow), op.get(aStep), op.add, op.set(aRow));
  e(op.get(cRow), op.get(cStep), op.add, op.set(cRow));
  e(op.get(iRow), op.get(iStep), op.add, op.set(iRow));
  e(op.get(m), op.i32(rb), op.add, op.set(m), op.br(0), op.end, op.end);
  return f.finish();
}

/**
 * Block shapes: ROWS rows (largest first; the last must be 1) x CB column groups. The driver runs, per row
 * band, the full blocks over the first N - N mod 4 CB columns and one partial-width block over the rest.
 */
const ROWS = [4, 1];
const CB = 2;
/**
 * K runs in chunks of CHUNK_FLOATS / N steps (at least MIN_CHUNK, at most MAX_CHUNK plain or MAX_CHUNK_TN
 * transposed), so that what a chunk's blocks re-read stays in cache: B's chunk across the row blocks (L2) and
 * A's rows (or, transposed, the cache lines of A's RB columns) across the column blocks (L1).
 */
const CHUNK_FLOATS = 1 << 15;
const MIN_CHUNK = 16;
const MAX_CHUNK = 1024;
const MAX_CHUNK_TN = 256;

/** Every block function: per product (plain, transposed A), per row count, per number of groups and lanes. */
const BLOCKS: BlockShape[] = [false, true].flatMap((tn) =>
  ROWS.flatMap((rb) => Array.from({ length: 4 * CB }, (_, i) => ({ tn, rb, cb: Math.floor(i / 4) + 1, t: i % 4 }))),
);
const blockIndex = (b: BlockShape) => BLOCKS.findIndex((x) => x.tn === b.tn && x.rb === b.rb && x.cb === b.cb && x.t === b.t);

/**
 * The driver: one call per product. Plain: gemm(a, b, c, bias, m, k, n, lda, ldb, ldc) in floats, C = A B + bias;
 * transposed: gemm_tn(a, b, c, m, k, n), C = A^T B with A [K, M], B [K, N], C [M, N] contiguous. K runs in
 * chunks (the first starts from the bias or zero, later ones from C), each over the row bands and blocks.
 */
function driverBody(tn: boolean): number[] {
  const a = 0, b = 1, c = 2, bias = 3;
  const [pm, pk, pn] = tn ? [3, 4, 5] : [4, 5, 6];
  const nParams = tn ? 6 : 10;
  const f = new FunctionBody(nParams);
  const local = () => f.local(I32);
  const lda = local(), ldb = local(), ldc = local(), chunk = local(), kc = local(), kn = local(), ap = local(), bp = local();
  const init = local(), ild = local(), zero = local(), nMain = local(), rest = local(), mDone = local(), cnt = local();
  const aRow = local(), cRow = local(), iRow = local();
  const { e } = f;
  e(tn ? op.get(pm) : op.get(7), op.i32(2), op.shl, op.set(lda));
  e(tn ? op.get(pn) : op.get(8), op.i32(2), op.shl, op.set(ldb));
  e(tn ? op.get(pn) : op.get(9), op.i32(2), op.shl, op.set(ldc));
  // chunk = min(max(CHUNK_FLOATS / (N + 1), MIN_CHUNK), MAX_CHUNK)
  const maxChunk = tn ? MAX_CHUNK_TN : MAX_CHUNK;
  e(op.i32(CHUNK_FLOATS), op.get(pn), op.i32(1), op.add, divU, op.set(chunk));
  e(op.get(chunk), op.i32(MIN_CHUNK), op.get(chunk), op.i32(MIN_CHUNK), gtU, select, op.set(chunk));
  e(op.get(chunk), op.i32(maxChunk), op.get(chunk), op.i32(maxChunk), op.ltU, select, op.set(chunk));
  e(op.get(pn), op.get(pn), op.i32(4 * CB), remU, op.sub, op.set(nMain));
  e(op.get(pn), op.get(nMain), op.sub, op.set(rest));
  // for kc in 0..K step chunk (at least once: K = 0 still stores the bias)
  e(op.i32(0), op.set(kc), op.loop);
  e(op.get(pk), op.get(kc), op.sub, op.tee(kn), op.get(chunk), op.get(kn), op.get(chunk), op.ltU, select, op.set(kn));
  e(op.get(kc), op.eqz, op.if_);
  if (tn) e(op.i32(0), op.set(init), op.i32(0), op.set(ild), op.i32(1), op.set(zero));
  else e(op.get(bias), op.set(init), op.i32(0), op.set(ild), op.i32(0), op.set(zero));
  e(opElse, op.get(c), op.set(init), op.get(ldc), op.set(ild), op.i32(0), op.set(zero), op.end);
  e(op.get(a), op.get(kc), ...(tn ? [op.get(lda), op.mul] : [op.i32(2), op.shl]), op.add, op.set(ap));
  e(op.get(b), op.get(kc), op.get(ldb), op.mul, op.add, op.set(bp));
  e(op.i32(0), op.set(mDone));
  for (const rb of ROWS) {
    e(op.get(pm), op.get(mDone), op.sub);
    if (rb > 1) e(op.i32(rb), divU, op.i32(rb), op.mul);
    e(op.tee(cnt), op.if_);
    e(op.get(ap), op.get(mDone), ...(tn ? [op.i32(2), op.shl] : [op.get(lda), op.mul]), op.add, op.set(aRow));
    e(op.get(c), op.get(mDone), op.get(ldc), op.mul, op.add, op.set(cRow));
    e(op.get(init), op.get(mDone), op.get(ild), op.mul, op.add, op.set(iRow));
    // arguments of a block call; `shifted`: B, C and init moved to column nMain (the partial block)
    const col = (shifted: boolean) => (shifted ? [op.get(nMain), op.i32(2), op.shl, op.add] : []);
    const args = (shifted: boolean, n: number[]) =>
      [op.get(aRow), op.get(bp), ...col(shifted), op.get(cRow), ...col(shifted), op.get(iRow), ...col(shifted), op.get(ild), op.get(zero), op.get(cnt), op.get(kn), n, op.get(lda), op.get(ldb), op.get(ldc)].flat();
    e(op.get(nMain), op.if_, args(false, op.get(nMain)), call(blockIndex({ tn, rb, cb: CB, t: 0 })), op.end);
    for (let r = 1; r < 4 * CB; r++) {
      e(op.get(rest), op.i32(r), op.eq, op.if_, args(true, op.i32(1)), call(blockIndex({ tn, rb, cb: Math.ceil(r / 4), t: r % 4 })), op.end);
    }
    e(op.get(mDone), op.get(cnt), op.add, op.set(mDone), op.end);
  }
  e(op.get(kc), op.get(kn), op.add, op.tee(kc), op.get(pk), op.ltU, op.brIf(0), op.end);
  return f.finish();
}

/** Adam constants in the order of the `adam_*` parameters after the pointers and the count. */
const ADAM_CONSTS = ['b1', 'nb1', 'b2', 'nb2', 'wd', 'stepSize', 'epsHat', 'keep'] as const;
export type AdamMode = 'plain' | 'l2' | 'decoupled';

/**
 * adam(w, g, m, v, n, b1, nb1, b2, nb2, wd, stepSize, epsHat, keep) over ceil(n / 4) * 4 values (the arrays'
 * 16-byte padding, which stays zero, takes the rest):
 *   g' = g + wd w (l2); m = b1 m + nb1 g'; v = b2 v + nb2 g'^2; w = (w keep, decoupled) - stepSize m / (sqrt(v) + epsHat)
 */
function adamBody(mode: AdamMode): number[] {
  const W = 0, G = 1, Mp = 2, Vp = 3, Nn = 4;
  const cst = (name: (typeof ADAM_CONSTS)[number]) => 5 + ADAM_CONSTS.indexOf(name);
  const f = new FunctionBody(5 + ADAM_CONSTS.length);
  const off = f.local(I32), end = f.local(I32);
  const splats = Object.fromEntries(ADAM_CONSTS.map((c) => [c, f.local(V128)])) as Record<(typeof ADAM_CONSTS)[number], number>;
  const wv = f.local(V128), gv = f.local(V128), mv = f.local(V128), vv = f.local(V128);
  const { e } = f;
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
  return f.finish();
}

const ADAM_MODES: AdamMode[] = ['plain', 'l2', 'decoupled'];

/** The module: the block functions (not exported), the two drivers, the Adam updates. */
const gemmModule = lazyModule(() => {
  const i32s = (n: number) => new Array(n).fill(I32);
  return memoryModuleBytes([
    ...BLOCKS.map((b) => ({ params: i32s(BLOCK_PARAMS), body: blockBody(b) })),
    { params: i32s(10), body: driverBody(false), export: 'gemm' },
    { params: i32s(6), body: driverBody(true), export: 'gemm_tn' },
    ...ADAM_MODES.map((m) => ({ params: [...i32s(5), ...ADAM_CONSTS.map(() => F32)], body: adamBody(m), export: `adam_${m}` })),
  ]);
});

export const WASM_GEMM_AVAILABLE = gemmModule() !== null;

type GemmFn = (a: number, b: number, c: number, bias: number, m: number, k: number, n: number, lda: number, ldb: number, ldc: number) => void;
type GemmTNFn = (a: number, b: number, c: number, m: number, k: number, n: number) => void;

/**
 * The SIMD kernels over one wasm memory. Every operand is a view of `memory` followed by at least 16 readable
 * bytes inside it (vector loads of the last columns read up to 3 floats past B's rows and the bias); only C's
 * M x N elements are written.
 */
export interface Gemm {
  memory: WasmMemory;
  /**
   * One Adam step on w, g, m, v (views of `memory`, each 16-byte aligned with zero padding to a multiple of 4
   * values) with the rule's float32 constants `c` (src/train/optimizers.ts).
   */
  adam(mode: AdamMode, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: Record<string, number>): void;
  /** C = A B + bias, all views of `memory`; A [M, K] (lda), B [K, N] (ldb), C [M, N] (ldc), bias [N]. */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array, m: number, k: number, n: number, lda: number, ldb: number, ldc: number): void;
  /**
   * C = A^T B (overwritten), all contiguous views of `memory`: A [K, M], B [K, N], C [M, N]. dW = x^T dy with
   * x [rows, nIn]: gemmTN(x, dy, dw, nIn, rows, nOut), the JavaScript fallback matmulTN(x, dy, dw, rows, nIn, nOut).
   */
  gemmTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void;
}

/** Throws unless `v` is a view of `buf` holding a rows x cols matrix with leading dimension ld. */
function checkMatrix(what: string, v: Float32Array, buf: ArrayBuffer, rows: number, cols: number, ld: number): void {
  checkView('simd gemm', what, v, buf, rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0, `${rows} x ${cols}, ld ${ld}`);
}

/** An instance of the GEMM module over `memory`; null where wasm SIMD is missing. */
export function createGemm(memory: WasmMemory): Gemm | null {
  const mod = gemmModule();
  if (!mod) return null;
  const ex = instantiate(mod, memory);
  const gemm = ex.gemm as GemmFn;
  const gemmTN = ex.gemm_tn as GemmTNFn;
  const adams = Object.fromEntries(ADAM_MODES.map((m) => [m, ex[`adam_${m}`] as (...a: number[]) => void]));
  return {
    memory,
    adam(mode, w, g, m, v, c) {
      const buf = memory.buffer;
      for (const [what, a] of [['w', w], ['g', g], ['m', m], ['v', v]] as const) checkView('simd adam', what, a, buf, w.length);
      adams[mode](w.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, w.length, ...ADAM_CONSTS.map((k) => c[k]));
    },
    gemm(a, b, c, bias, mm, kk, nn, lda, ldb, ldc) {
      const buf = memory.buffer;
      checkMatrix('A', a, buf, mm, kk, lda);
      checkMatrix('B', b, buf, kk, nn, ldb);
      checkMatrix('C', c, buf, mm, nn, ldc);
      checkMatrix('bias', bias, buf, 1, nn, nn);
      gemm(a.byteOffset, b.byteOffset, c.byteOffset, bias.byteOffset, mm, kk, nn, lda, ldb, ldc);
    },
    gemmTN(a, b, c, mm, kk, nn) {
      const buf = memory.buffer;
      checkMatrix('A', a, buf, kk, mm, mm);
      checkMatrix('B', b, buf, kk, nn, nn);
      checkMatrix('C', c, buf, mm, nn, nn);
      gemmTN(a.byteOffset, b.byteOffset, c.byteOffset, mm, kk, nn);
    },
  };
}
