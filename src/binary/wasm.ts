/**
 * The XNOR-popcount kernel as a small WebAssembly module with 128-bit SIMD, assembled here byte by byte (no
 * toolchain: the kit has no wasm compiler, and the module is a few hundred bytes). One exported function runs
 * one binary fully connected layer over a batch:
 *
 *   xnor_layer(a, n, inChunks, w, outPad4, out, outStride, thr, lastWordIndex, lastMask)
 *
 * `a`: n rows of `inChunks` 128-bit chunks (the packed input signs); `w`: `outPad4` rows of `inChunks` chunks
 * (packed weights, padding bits zero in both, so XOR of the padding is 0); `out`: n rows of `outStride` 32-bit
 * words, zero-filled by the caller. Output bit j of row i is 1 when popcount(a_i XOR w_j) <= thr, i.e. when at
 * least half of the n_in XNORs are 1 (thr = floor(n_in / 2)): the majority vote of Fig. 4.2 with a tie giving
 * 1, which is sign(dot) with sign(0) = +1 (eq. 1.4). Four output neurons are computed at once (four
 * accumulators over one loaded input chunk); popcounts accumulate per byte for up to 31 chunks (8 * 31 < 256),
 * then in 16-bit lanes. The word that holds output bit `lastWordIndex * 32 + ...` is and-ed with `lastMask` so
 * that bits beyond n_out stay zero (rows padded to a multiple of 4 would otherwise set them).
 *
 * Everything is integer arithmetic. `XNOR_WASM_AVAILABLE` is false where the engine has no SIMD; the
 * JavaScript kernel (xnor.ts) gives the same bits (tested).
 */

import { FunctionBody, I32, memoryModuleBytes, op, V128, vop } from '../engine/wasm-writer.js';

const v = {
  load: (offset = 0) => vop.load(0x04, offset),
  const0: vop.zero,
  splat32: vop.i32x4Splat,
  xor: vop.xor,
  popcnt8: vop.i8x16Popcnt,
  add8: vop.i8x16Add,
  add16: vop.i16x8Add,
  add32: vop.i32x4Add,
  ext8to16u: vop.i16x8ExtaddPairwiseI8x16U,
  ext16to32u: vop.i32x4ExtaddPairwiseI16x8U,
  leU32: vop.i32x4LeU,
  bitmask32: vop.i32x4Bitmask,
  shuffle: vop.shuffle,
};

/** i32x4 lanes as byte indices for i8x16.shuffle of (a, b): lane k of a is 4k..4k+3, of b 16+4k.. */
const lanes32 = (...ls: number[]) => ls.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/**
 * The function body for blocks of `S` samples x 4 neurons: per 128-bit chunk, S input loads and 4 weight loads
 * feed 4S XOR-popcount accumulators.
 */
function kernelBody(S: number): number[] {
  // params
  const A = 0, N = 1, IN = 2, W = 3, OUT4 = 4, O = 5, OSTRIDE = 6, THR = 7, LASTW = 8, LASTMASK = 9;
  const f = new FunctionBody(10);
  const local = () => f.local(I32);
  const vlocal = () => f.local(V128);
  // i32 locals
  const i = local(), j = local(), c = local(), aRow = local(), oRow = local(), w0 = local(), rowBytes = local();
  const ap = local(), wp = local(), apEnd = local(), cEnd = local(), bits = local(), r2 = local(), r3 = local(), oStrideB = local();
  const words = Array.from({ length: S }, local);
  // v128 locals
  const xs = Array.from({ length: S }, vlocal);
  const accs = Array.from({ length: 4 * S }, vlocal); // acc[s * 4 + k]
  const sums = Array.from({ length: 4 * S }, vlocal);
  const q0 = vlocal(), q1 = vlocal(), t = vlocal();
  const { e } = f;
  // rowBytes = IN * 16; r2, r3: 2 and 3 rows; oStrideB = OSTRIDE * 4
  e(op.get(IN), op.i32(4), op.shl, op.set(rowBytes));
  e(op.get(rowBytes), op.i32(1), op.shl, op.set(r2));
  e(op.get(rowBytes), op.get(r2), op.add, op.set(r3));
  e(op.get(OSTRIDE), op.i32(2), op.shl, op.set(oStrideB));
  // for i in 0..N step S
  e(op.i32(0), op.set(i));
  e(op.block, op.loop);
  e(op.get(i), op.get(N), op.geU, op.brIf(1));
  e(op.get(A), op.get(i), op.get(rowBytes), op.mul, op.add, op.set(aRow));
  e(op.get(O), op.get(i), op.get(oStrideB), op.mul, op.add, op.set(oRow));
  for (const w of words) e(op.i32(0), op.set(w));
  //   for j in 0..OUT4 step 4
  e(op.i32(0), op.set(j));
  e(op.block, op.loop);
  e(op.get(j), op.get(OUT4), op.geU, op.brIf(1));
  e(op.get(W), op.get(j), op.get(rowBytes), op.mul, op.add, op.set(w0));
  for (const s of sums) e(v.const0, op.set(s));
  //     chunks in blocks of at most 31 (byte counters hold 8 * 31 = 248)
  e(op.i32(0), op.set(c));
  e(op.block, op.loop);
  e(op.get(c), op.get(IN), op.geU, op.brIf(1));
  //       cEnd = min(c + 31, IN)
  e(op.get(c), op.i32(31), op.add, op.tee(cEnd), op.get(IN), op.get(cEnd), op.get(IN), op.ltU, [0x1b], op.set(cEnd));
  for (const a of accs) e(v.const0, op.set(a));
  e(op.get(aRow), op.get(c), op.i32(4), op.shl, op.add, op.set(ap));
  e(op.get(w0), op.get(c), op.i32(4), op.shl, op.add, op.set(wp));
  e(op.get(aRow), op.get(cEnd), op.i32(4), op.shl, op.add, op.set(apEnd));
  e(op.get(cEnd), op.set(c));
  e(op.block, op.loop);
  e(op.get(ap), op.get(apEnd), op.geU, op.brIf(1));
  //         x_s = load(ap + s * rowBytes); acc[s][k] += popcnt(x_s ^ load(wp + k * rowBytes))
  xs.forEach((x, si) => {
    e(op.get(ap));
    if (si > 0) e(op.get([0, rowBytes, r2, r3][si]), op.add);
    e(v.load(), op.set(x));
  });
  for (let k = 0; k < 4; k++) {
    e(op.get(wp));
    if (k > 0) e(op.get([0, rowBytes, r2, r3][k]), op.add);
    e(v.load(), op.set(t));
    xs.forEach((x, si) => e(op.get(accs[si * 4 + k]), op.get(x), op.get(t), v.xor, v.popcnt8, v.add8, op.set(accs[si * 4 + k])));
  }
  e(op.get(ap), op.i32(16), op.add, op.set(ap));
  e(op.get(wp), op.i32(16), op.add, op.set(wp));
  e(op.br(0), op.end, op.end);
  accs.forEach((a, q) => e(op.get(sums[q]), op.get(a), v.ext8to16u, v.add16, op.set(sums[q])));
  e(op.br(0), op.end, op.end);
  //     per sample: totals of its 4 neurons in one vector, compared with thr, 4 bits into the sample's word
  for (let si = 0; si < S; si++) {
    const [p0, p1, p2, p3] = sums.slice(si * 4, si * 4 + 4);
    for (const p of [p0, p1, p2, p3]) e(op.get(p), v.ext16to32u, op.set(p));
    e(op.get(p0), op.get(p1), v.shuffle(lanes32(0, 2, 4, 6)), op.get(p0), op.get(p1), v.shuffle(lanes32(1, 3, 5, 7)), v.add32, op.set(q0));
    e(op.get(p2), op.get(p3), v.shuffle(lanes32(0, 2, 4, 6)), op.get(p2), op.get(p3), v.shuffle(lanes32(1, 3, 5, 7)), v.add32, op.set(q1));
    e(op.get(q0), op.get(q1), v.shuffle(lanes32(0, 2, 4, 6)), op.get(q0), op.get(q1), v.shuffle(lanes32(1, 3, 5, 7)), v.add32, op.set(t));
    e(op.get(t), op.get(THR), v.splat32, v.leU32, v.bitmask32, op.set(bits));
    e(op.get(words[si]), op.get(bits), op.get(j), op.i32(31), op.and, op.shl, op.or, op.set(words[si]));
  }
  //     j += 4; after every 32 outputs (or the last), store each sample's word (the last one masked)
  e(op.get(j), op.i32(4), op.add, op.set(j));
  e(op.get(j), op.i32(31), op.and, op.eqz, op.get(j), op.get(OUT4), op.geU, op.or, op.if_);
  e(op.get(j), op.i32(1), op.sub, op.i32(5), op.shrU, op.set(bits));
  words.forEach((w, si) => {
    e(op.get(oRow), op.get(bits), op.i32(2), op.shl, op.add);
    if (si > 0) e(op.get(oStrideB), op.i32(si), op.mul, op.add);
    e(op.get(w), op.get(bits), op.get(LASTW), op.eq, [0x04, 0x7f], op.get(LASTMASK), [0x05], op.i32(-1), op.end, op.and);
    e(op.i32Store);
    e(op.i32(0), op.set(w));
  });
  e(op.end);
  e(op.br(0), op.end, op.end);
  e(op.get(i), op.i32(S), op.add, op.set(i));
  e(op.br(0), op.end, op.end);
  return f.finish();
}

/** Rows of the input and output buffers the kernel touches for n samples (a multiple of the sample block). */
export const XNOR_SAMPLE_BLOCK = 2;

/** The module's bytes: imports memory `env.memory`, exports `xnor_layer`. */
export function xnorModuleBytes(): Uint8Array {
  return memoryModuleBytes([{ params: new Array(10).fill(I32), body: kernelBody(XNOR_SAMPLE_BLOCK), export: 'xnor_layer' }]);
}
