/**
 * The fast trainer's WebAssembly SIMD kernels around a convolution's products (channels last, NHWC), assembled
 * here (src/engine/wasm-writer.ts) as a small module of its own over the same `env.memory` as the GEMM module
 * (src/fast/simd.ts). Each is the JavaScript loop of src/fast/kernels.ts with the same results, bit for bit
 * (copies, max and single float32 additions in the same order are exact; tested in
 * test/fast-conv-kernels.test.ts):
 *
 *   im2col        rows of KH x KW x C input values per output position, zeros outside the image
 *   col2im        its adjoint: dx zeroed, then every col value added back at its input position
 *   relu          y = max(y, 0) in place (f32x4.max: -0 -> +0 as Math.max; NaN -> wasm's canonical NaN, where
 *                 JavaScript keeps the NaN it read: a NaN either way, the bits may differ)
 *   reluGrad      dy = y > 0 ? dy : 0 (a NaN y gives 0, as in JavaScript)
 *   maxPool2x2    2x2 window, stride 2, every window inside the image, with or without argmax: the first
 *                 maximum in window order, a later value winning only when strictly greater than the running
 *                 maximum from -Infinity (-1 and -Infinity when no value is: NaN or -Infinity everywhere)
 *   maxPoolGrad   dx zeroed over the input, then dx[argmax[i]] += dy[i] in i order (negative indices skipped)
 *
 * Copies move whole segments of KW C floats (one image row of a window): 4..8 floats by two overlapping v128
 * loads and stores, more by a v128 loop and one overlapping last vector, fewer than 4 by scalar i32 copies;
 * the zero fill at the borders likewise. A window wholly inside the image (and segments of 4 floats or more)
 * takes an interior path: its KH segments in one tight loop, no per-row bounds or padding tests. col2im adds
 * with f32x4 over each segment and scalar for its last len mod 4 values (an overlapping vector would add twice;
 * one with the lanes already added replaced by -0 was slower: the load overlaps the store just before it).
 * relu and reluGrad (idempotent) end with one overlapping vector when n >= 4, scalar below. Max pooling
 * compares four f32x4 of channels per window with f32x4.gt and v128.bitselect for the value and its index, the
 * last group of a pixel overlapping the one before when C mod 4 != 0 (C >= 4); C < 4 runs scalar wasm.
 * maxPoolGrad is a scalar wasm loop (its order of additions is the caller's argmax order). Nothing is written
 * outside the destination's elements; nothing is read outside the sources' (no padding after arrays needed).
 *
 * Measured per call, medians, LeNet5 batch 50 (2 shared cores, load 1 to 2.5; ranges over 3 runs), JavaScript
 * (the JavaScript loops) vs here: im2col conv1 (32x32x1, K 5) 1.7-2.8 / 0.28-0.36 ms; conv2 (14x14x6, K 5) 1.6-1.8 /
 * 0.12-0.14; col2im conv2 1.8-1.9 / 0.19; relu on 50x28x28x6 1.6 / 0.07; max pooling with argmax 50x28x28x6
 * 1.1 / 0.09 (scalar wasm: 0.73-0.79), 50x10x10x16 0.3 / 0.02; its backward 0.16 / 0.07; VGG conv2 im2col
 * (32x32x32, K 3 'same', a 59 MB col) 28-31 / 4.5-4.8 (memory-bound).
 */
import { isPool2x2, type ConvKernels, type ConvWindow } from './kernels.js';
import { checkView, F32, FunctionBody, I32, instantiate, lazyModule, memoryModuleBytes, op, V128, vop, type WasmMemory } from '../engine/wasm-writer.js';

const v128Load = vop.load(0x00);
const v128Store = vop.store(0x00);
const { const: v128Const, i32x4Splat, f32x4Splat, and: vAnd, bitselect, f32x4Gt, f32x4Max, f32x4Add, i32x4Add } = vop;
const { f32Load, f32Store, i32Load, i32Store, f32Const, f32Gt, f32Add, f32Max, select, ltS, geS, leS, gtS, gtU, leU, else_: opElse, i32: i32c } = op;
const bytes32 = (xs: number[]) => xs.flatMap((x) => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, (x >>> 24) & 255]);

const g = op.get;
const s = op.set;

/** while (get(i) <u get(end)) { body } — body does not branch outwards. */
function whileLtU(f: FunctionBody, i: number, end: number, body: () => void): void {
  f.e(op.block, op.loop, g(i), g(end), op.geU, op.brIf(1));
  body();
  f.e(op.br(0), op.end, op.end);
}

/** Copies len bytes (a multiple of 4) from src to dst (locals; p: a scratch i32). */
function emitCopy(f: FunctionBody, src: number, dst: number, len: number, p: number): void {
  f.e(g(len), i32c(16), op.geU, op.if_);
  {
    f.e(g(len), i32c(32), gtU, op.if_);
    // v128 loop over [0, len - 16), then the last 16 bytes (overlapping)
    f.e(i32c(0), s(p), op.loop);
    f.e(g(dst), g(p), op.add, g(src), g(p), op.add, v128Load, v128Store);
    f.e(g(p), i32c(16), op.add, op.tee(p), i32c(16), op.add, g(len), op.ltU, op.brIf(0), op.end);
    f.e(op.end);
    // first and last 16 bytes (16 <= len <= 32: two overlapping vectors; after the loop: the last one)
    f.e(g(len), i32c(32), leU, op.if_, g(dst), g(src), v128Load, v128Store, op.end);
    f.e(g(dst), g(len), op.add, i32c(-16), op.add, g(src), g(len), op.add, i32c(-16), op.add, v128Load, v128Store);
  }
  f.e(opElse);
  f.e(i32c(0), s(p));
  whileLtU(f, p, len, () => f.e(g(dst), g(p), op.add, g(src), g(p), op.add, i32Load, i32Store, g(p), i32c(4), op.add, s(p)));
  f.e(op.end);
}

/** Zeroes len bytes (a multiple of 4) at dst; zero: a v128 local holding zeros. */
function emitZero(f: FunctionBody, dst: number, len: number, p: number, zero: number): void {
  f.e(g(len), i32c(16), op.geU, op.if_);
  f.e(i32c(0), s(p), op.loop);
  f.e(g(dst), g(p), op.add, g(zero), v128Store);
  f.e(g(p), i32c(16), op.add, op.tee(p), i32c(16), op.add, g(len), op.ltU, op.brIf(0), op.end);
  f.e(g(dst), g(len), op.add, i32c(-16), op.add, g(zero), v128Store);
  f.e(opElse);
  f.e(i32c(0), s(p));
  whileLtU(f, p, len, () => f.e(g(dst), g(p), op.add, i32c(0), i32Store, g(p), i32c(4), op.add, s(p)));
  f.e(op.end);
}

/** Parameters shared by im2col and col2im after their two pointers (and s0 for im2col). */
interface ConvLoops {
  f: FunctionBody;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  ST: number;
  PT: number;
  PL: number;
  OH: number;
  OW: number;
}

/**
 * The window loops of im2col / col2im, in the JavaScript loops' order: for each sample (xb: its first byte in x or dx, up to
 * xEnd), output row, output column and window row (o: the col segment's first byte, advanced by segB after
 * each), `inside(src, j0, j1, segB)` when the window row is inside the image, `outside(segB)` otherwise. src:
 * the byte of x at the window's first column (possibly left of the row), [j0, j1) (0 <= j0 <= j1 <= segB): the
 * segment's bytes inside the image. A window with all KH rows and KW columns inside the image (segments of at
 * least 16 bytes) goes to `interior` instead, which handles its KH segments and leaves o at the next window.
 */
function windowLoops(
  L: ConvLoops,
  xb: number,
  xEnd: number,
  o: number,
  inside: (src: number, j0: number, j1: number, segB: number) => void,
  outside: (segB: number) => void,
  interior: (w: Interior) => void,
): void {
  const { f, H, W, C, KH, KW, ST, PT, PL, OH, OW } = L;
  const segB = f.local(), rowB = f.local(), imgB = f.local(), cB = f.local();
  const oh = f.local(), ow = f.local(), kh = f.local(), ih0 = f.local(), iw0 = f.local(), ih = f.local();
  const j0 = f.local(), j1 = f.local(), colOff = f.local(), src = f.local();
  const rowIn = f.local(), winEnd = f.local(), winB = f.local(), segM16 = f.local();
  f.e(g(C), i32c(2), op.shl, s(cB));
  f.e(g(KW), g(cB), op.mul, s(segB));
  f.e(g(W), g(cB), op.mul, s(rowB));
  f.e(g(H), g(rowB), op.mul, s(imgB));
  f.e(g(KH), g(segB), op.mul, s(winB), g(segB), i32c(16), op.sub, s(segM16));
  // nothing to do without samples, output positions or window rows
  f.e(op.block);
  f.e(g(xb), g(xEnd), op.geU, g(OH), op.eqz, op.or, g(OW), op.eqz, op.or, g(KH), op.eqz, op.or, op.brIf(0));
  f.e(op.loop); // samples
  {
    f.e(i32c(0), s(oh), i32c(0), g(PT), op.sub, s(ih0));
    f.e(op.loop); // output rows
    {
      // rowIn: the window's rows all inside the image and segments of at least 4 floats (the interior path)
      f.e(g(ih0), i32c(0), geS, g(ih0), g(KH), op.add, g(H), leS, op.and, g(segB), i32c(16), op.geU, op.and, s(rowIn));
      f.e(i32c(0), s(ow), i32c(0), g(PL), op.sub, s(iw0));
      f.e(op.loop); // output columns
      {
        // j0 = min(max(-iw0, 0) C, KW C), j1 = max(min(KW, W - iw0) C, j0) (bytes); colOff = iw0 C (bytes)
        f.e(i32c(0), g(iw0), op.sub, g(cB), op.mul, i32c(0), g(iw0), i32c(0), ltS, select, s(j0));
        f.e(g(j0), g(segB), g(j0), g(segB), op.ltU, select, s(j0));
        f.e(g(KW), g(W), g(iw0), op.sub, tee(j1), g(KW), g(j1), ltS, select, g(cB), op.mul, s(j1));
        f.e(g(j1), g(j0), g(j1), g(j0), gtS, select, s(j1));
        f.e(g(iw0), g(cB), op.mul, s(colOff));
        // the whole window inside the image: the interior path over its KH rows
        f.e(g(rowIn), g(j0), op.eqz, op.and, g(j1), g(segB), op.eq, op.and, op.if_);
        f.e(g(xb), g(ih0), g(rowB), op.mul, op.add, g(colOff), op.add, s(src), g(o), g(winB), op.add, s(winEnd));
        interior({ src, rowB, segB, segM16, winEnd });
        f.e(opElse);
        f.e(i32c(0), s(kh), g(ih0), s(ih));
        f.e(op.loop); // window rows
        {
          f.e(g(ih), g(H), op.ltU, op.if_);
          f.e(g(xb), g(ih), g(rowB), op.mul, op.add, g(colOff), op.add, s(src));
          inside(src, j0, j1, segB);
          f.e(opElse);
          outside(segB);
          f.e(op.end);
          f.e(g(o), g(segB), op.add, s(o), g(ih), i32c(1), op.add, s(ih));
          f.e(g(kh), i32c(1), op.add, tee(kh), g(KH), op.ltU, op.brIf(0));
        }
        f.e(op.end, op.end);
        f.e(g(iw0), g(ST), op.add, s(iw0), g(ow), i32c(1), op.add, tee(ow), g(OW), op.ltU, op.brIf(0));
      }
      f.e(op.end);
      f.e(g(ih0), g(ST), op.add, s(ih0), g(oh), i32c(1), op.add, tee(oh), g(OH), op.ltU, op.brIf(0));
    }
    f.e(op.end);
    f.e(g(xb), g(imgB), op.add, tee(xb), g(xEnd), op.ltU, op.brIf(0));
  }
  f.e(op.end, op.end);
}
const tee = op.tee;

/**
 * What the interior path of windowLoops gets (locals): src, x's byte at the window's first row and column;
 * rowB, bytes per image row; segB (>= 16) and segM16 = segB - 16; winEnd = o + KH segB, where it must leave o.
 */
interface Interior {
  src: number;
  rowB: number;
  segB: number;
  segM16: number;
  winEnd: number;
}

/** im2col(x, col, s0, ns, H, W, C, KH, KW, stride, padTop, padLeft, OH, OW): pointers in bytes. */
function im2colBody(): number[] {
  const X = 0, COL = 1, S0 = 2, NS = 3;
  const f = new FunctionBody(14);
  const L: ConvLoops = { f, H: 4, W: 5, C: 6, KH: 7, KW: 8, ST: 9, PT: 10, PL: 11, OH: 12, OW: 13 };
  const xb = f.local(), xEnd = f.local(), o = f.local(), imgB = f.local();
  const cs = f.local(), cd = f.local(), cl = f.local(), p = f.local();
  const zero = f.local(V128);
  f.e(v128Const(new Array(16).fill(0)), s(zero));
  f.e(g(L.H), g(L.W), op.mul, g(L.C), op.mul, i32c(2), op.shl, s(imgB));
  f.e(g(X), g(S0), g(imgB), op.mul, op.add, tee(xb), g(NS), g(imgB), op.mul, op.add, s(xEnd));
  f.e(g(COL), s(o));
  windowLoops(
    L, xb, xEnd, o,
    (src, j0, j1, segB) => {
      // zeros [0, j0), the image [j0, j1), zeros [j1, segB)
      f.e(g(j0), op.if_, g(o), s(cd), g(j0), s(cl));
      emitZero(f, cd, cl, p, zero);
      f.e(op.end);
      f.e(g(src), g(j0), op.add, s(cs), g(o), g(j0), op.add, s(cd), g(j1), g(j0), op.sub, s(cl));
      emitCopy(f, cs, cd, cl, p);
      f.e(g(segB), g(j1), op.ne, op.if_, g(o), g(j1), op.add, s(cd), g(segB), g(j1), op.sub, s(cl));
      emitZero(f, cd, cl, p, zero);
      f.e(op.end);
    },
    (segB) => {
      f.e(g(o), s(cd), g(segB), s(cl));
      emitZero(f, cd, cl, p, zero);
    },
    ({ src, rowB, segB, segM16, winEnd }) => {
      // KH segments of segB >= 16 bytes: the first and last vector (16..32 bytes), or a v128 loop and the last
      f.e(g(segB), i32c(32), leU, op.if_);
      f.e(op.loop);
      f.e(g(o), g(src), v128Load, v128Store, g(o), g(segM16), op.add, g(src), g(segM16), op.add, v128Load, v128Store);
      f.e(g(src), g(rowB), op.add, s(src), g(o), g(segB), op.add, tee(o), g(winEnd), op.ltU, op.brIf(0), op.end);
      f.e(opElse);
      f.e(op.loop, i32c(0), s(p), op.loop);
      f.e(g(o), g(p), op.add, g(src), g(p), op.add, v128Load, v128Store);
      f.e(g(p), i32c(16), op.add, tee(p), g(segM16), op.ltU, op.brIf(0), op.end);
      f.e(g(o), g(segM16), op.add, g(src), g(segM16), op.add, v128Load, v128Store);
      f.e(g(src), g(rowB), op.add, s(src), g(o), g(segB), op.add, tee(o), g(winEnd), op.ltU, op.brIf(0), op.end);
      f.e(op.end);
    },
  );
  return f.finish();
}

/** col2im(col, dx, ns, H, W, C, KH, KW, stride, padTop, padLeft, OH, OW): dx zeroed over ns H W C, then the sums. */
function col2imBody(): number[] {
  const COL = 0, DX = 1, NS = 2;
  const f = new FunctionBody(13);
  const L: ConvLoops = { f, H: 3, W: 4, C: 5, KH: 6, KW: 7, ST: 8, PT: 9, PL: 10, OH: 11, OW: 12 };
  const xb = f.local(), xEnd = f.local(), o = f.local(), n = f.local(), p = f.local(), d = f.local(), c = f.local(), len = f.local(), last = f.local();
  const zero = f.local(V128);
  f.e(v128Const(new Array(16).fill(0)), s(zero));
  f.e(g(NS), g(L.H), op.mul, g(L.W), op.mul, g(L.C), op.mul, i32c(2), op.shl, s(n));
  emitZero(f, DX, n, p, zero);
  f.e(g(DX), tee(xb), g(n), op.add, s(xEnd), g(COL), s(o));
  windowLoops(
    L, xb, xEnd, o,
    (src, j0, j1) => {
      // dx[src + j] += col[o + j] for j in [j0, j1): f32x4 while 16 bytes remain, then scalar
      f.e(g(src), g(j0), op.add, s(d), g(o), g(j0), op.add, s(c), g(j1), g(j0), op.sub, tee(len), i32c(-16), op.and, s(last));
      f.e(i32c(0), s(p));
      whileLtU(f, p, last, () =>
        f.e(g(d), g(p), op.add, g(d), g(p), op.add, v128Load, g(c), g(p), op.add, v128Load, f32x4Add, v128Store, g(p), i32c(16), op.add, s(p)),
      );
      whileLtU(f, p, len, () =>
        f.e(g(d), g(p), op.add, g(d), g(p), op.add, f32Load, g(c), g(p), op.add, f32Load, f32Add, f32Store, g(p), i32c(4), op.add, s(p)),
      );
    },
    () => {},
    ({ src, rowB, segB, winEnd }) => {
      // KH segments: f32x4 adds over segB & -16 bytes, then scalar
      f.e(g(segB), i32c(-16), op.and, s(last), g(src), s(d));
      f.e(op.loop, i32c(0), s(p));
      whileLtU(f, p, last, () =>
        f.e(g(d), g(p), op.add, g(d), g(p), op.add, v128Load, g(o), g(p), op.add, v128Load, f32x4Add, v128Store, g(p), i32c(16), op.add, s(p)),
      );
      whileLtU(f, p, segB, () =>
        f.e(g(d), g(p), op.add, g(d), g(p), op.add, f32Load, g(o), g(p), op.add, f32Load, f32Add, f32Store, g(p), i32c(4), op.add, s(p)),
      );
      f.e(g(d), g(rowB), op.add, s(d), g(o), g(segB), op.add, tee(o), g(winEnd), op.ltU, op.brIf(0), op.end);
    },
  );
  return f.finish();
}

/** relu(y, n) / relu_grad(y, dy, n): vectors, the last one overlapping (both are idempotent), scalar for n < 4. */
function reluBody(grad: boolean): number[] {
  const Y = 0, DY = 1, N = grad ? 2 : 1;
  const f = new FunctionBody(grad ? 3 : 2);
  const nb = f.local(), p = f.local(), at = f.local();
  const zero = f.local(V128);
  f.e(v128Const(new Array(16).fill(0)), s(zero));
  const vec4 = (off: number[]) => {
    f.e(off, s(at));
    if (grad) f.e(g(DY), g(at), op.add, g(DY), g(at), op.add, v128Load, g(Y), g(at), op.add, v128Load, g(zero), f32x4Gt, vAnd, v128Store);
    else f.e(g(Y), g(at), op.add, g(Y), g(at), op.add, v128Load, g(zero), f32x4Max, v128Store);
  };
  f.e(g(N), i32c(2), op.shl, s(nb));
  f.e(g(nb), i32c(16), op.geU, op.if_);
  f.e(i32c(0), s(p), op.loop);
  vec4(g(p));
  f.e(g(p), i32c(16), op.add, tee(p), i32c(16), op.add, g(nb), leU, op.brIf(0), op.end);
  f.e(g(p), g(nb), op.ne, op.if_);
  vec4([...g(nb), ...i32c(-16), ...op.add]);
  f.e(op.end);
  f.e(opElse, i32c(0), s(p));
  whileLtU(f, p, nb, () => {
    if (grad) f.e(g(DY), g(p), op.add, g(DY), g(p), op.add, f32Load, f32Const(0), g(Y), g(p), op.add, f32Load, f32Const(0), f32Gt, select, f32Store);
    else f.e(g(Y), g(p), op.add, g(Y), g(p), op.add, f32Load, f32Const(0), f32Max, f32Store);
    f.e(g(p), i32c(4), op.add, s(p));
  });
  f.e(op.end);
  return f.finish();
}

/**
 * maxpool2x2(x, y, argmax, rows, H, W, C, OH, OW) (pointers in bytes; argmax unused without `withArg`):
 * y [rows, OH, OW, C] from x [rows, H, W, C], argmax the element index into x.
 */
function maxPoolBody(withArg: boolean): number[] {
  const X = 0, Y = 1, ARG = 2, ROWS = 3, H = 4, W = 5, C = 6, OH = 7, OW = 8;
  const f = new FunctionBody(9);
  const b = f.local(), oh = f.local(), ow = f.local(), a = f.local(), cB = f.local(), rowB = f.local(), rowE = f.local();
  const o = f.local(), ao = f.local(), cb = f.local(), cLast = f.local(), cE = f.local(), pa = f.local(), i0 = f.local();
  const kS = f.local(), c = f.local();
  const mS = f.local(F32), v = f.local(F32);
  const negInf = f.local(V128), minus1 = f.local(V128), iota = f.local(V128), splC = f.local(V128), splRow = f.local(V128);
  const m = f.local(V128), k = f.local(V128), vv = f.local(V128), gt = f.local(V128), idx = f.local(V128);
  f.e(g(C), i32c(2), op.shl, s(cB), g(W), g(C), op.mul, tee(rowE), i32c(2), op.shl, s(rowB));
  f.e(f32Const(-Infinity), f32x4Splat, s(negInf), i32c(-1), i32x4Splat, s(minus1), v128Const(bytes32([0, 1, 2, 3])), s(iota));
  f.e(g(C), i32x4Splat, s(splC), g(rowE), g(C), op.sub, i32x4Splat, s(splRow));
  f.e(g(cB), i32c(16), op.sub, s(cLast));
  f.e(g(Y), s(o), g(ARG), s(ao));
  // for b, oh (a: the element index of the window row pair's first value), ow (a += 2 C)
  f.e(op.block, g(ROWS), op.eqz, g(OH), op.eqz, op.or, g(OW), op.eqz, op.or, g(C), op.eqz, op.or, op.brIf(0));
  f.e(i32c(0), s(b), op.loop);
  f.e(i32c(0), s(oh), op.loop);
  f.e(g(b), g(H), op.mul, g(oh), i32c(1), op.shl, op.add, g(rowE), op.mul, s(a));
  f.e(i32c(0), s(ow), op.loop);
  f.e(g(C), i32c(4), op.geU, op.if_);
  {
    // channels in groups of 4, the last group at C - 4 (overlapping the one before when C mod 4 != 0)
    f.e(i32c(0), s(cb), op.loop);
    f.e(g(cb), g(cLast), g(cb), g(cLast), op.ltU, select, s(cE));
    f.e(g(X), g(a), i32c(2), op.shl, op.add, g(cE), op.add, s(pa));
    f.e(g(negInf), s(m));
    if (withArg) f.e(g(minus1), s(k), g(a), g(cE), i32c(2), op.shrU, op.add, i32x4Splat, g(iota), i32x4Add, s(idx));
    const step = (off: number[], idxStep: number | null) => {
      f.e(g(pa), off, op.add, v128Load, tee(vv), g(m), f32x4Gt, s(gt));
      f.e(g(vv), g(m), g(gt), bitselect, s(m));
      if (withArg) {
        if (idxStep !== null) f.e(g(idx), g(idxStep), i32x4Add, s(idx));
        f.e(g(idx), g(k), g(gt), bitselect, s(k));
      }
    };
    step(i32c(0), null);
    step(g(cB), splC);
    f.e(g(pa), g(rowB), op.add, s(pa));
    step(i32c(0), splRow); // i2 = i1 + W C - C
    step(g(cB), splC);
    f.e(g(o), g(cE), op.add, g(m), v128Store);
    if (withArg) f.e(g(ao), g(cE), op.add, g(k), v128Store);
    f.e(g(cb), i32c(16), op.add, tee(cb), g(cB), op.ltU, op.brIf(0), op.end);
  }
  f.e(opElse);
  {
    f.e(i32c(0), s(c), op.loop);
    f.e(g(a), g(c), op.add, s(i0), f32Const(-Infinity), s(mS), i32c(-1), s(kS));
    const step = (idxOff: number[]) => {
      f.e(g(X), g(i0), idxOff, op.add, i32c(2), op.shl, op.add, f32Load, s(v));
      f.e(g(v), g(mS), f32Gt, op.if_, g(v), s(mS), g(i0), idxOff, op.add, s(kS), op.end);
    };
    step(i32c(0));
    step(g(C));
    step(g(rowE));
    step([...g(rowE), ...g(C), ...op.add]);
    f.e(g(o), g(c), i32c(2), op.shl, op.add, g(mS), f32Store);
    if (withArg) f.e(g(ao), g(c), i32c(2), op.shl, op.add, g(kS), i32Store);
    f.e(g(c), i32c(1), op.add, tee(c), g(C), op.ltU, op.brIf(0), op.end);
  }
  f.e(op.end);
  f.e(g(o), g(cB), op.add, s(o), g(ao), g(cB), op.add, s(ao), g(a), g(C), i32c(1), op.shl, op.add, s(a));
  f.e(g(ow), i32c(1), op.add, tee(ow), g(OW), op.ltU, op.brIf(0), op.end);
  f.e(g(oh), i32c(1), op.add, tee(oh), g(OH), op.ltU, op.brIf(0), op.end);
  f.e(g(b), i32c(1), op.add, tee(b), g(ROWS), op.ltU, op.brIf(0), op.end);
  f.e(op.end);
  return f.finish();
}

/** maxpool_grad(dy, argmax, dx, n, nIn): dx zeroed over nIn floats, then dx[argmax[i]] += dy[i] for argmax[i] in [0, nIn). */
function maxPoolGradBody(): number[] {
  const DY = 0, ARG = 1, DX = 2, N = 3, NIN = 4;
  const f = new FunctionBody(5);
  const nb = f.local(), p = f.local(), i = f.local(), end = f.local(), kk = f.local(), addr = f.local();
  const zero = f.local(V128);
  f.e(v128Const(new Array(16).fill(0)), s(zero));
  f.e(g(NIN), i32c(2), op.shl, s(nb));
  emitZero(f, DX, nb, p, zero);
  f.e(i32c(0), s(i), g(N), i32c(2), op.shl, s(end));
  whileLtU(f, i, end, () => {
    f.e(g(ARG), g(i), op.add, i32Load, tee(kk), g(NIN), op.ltU, op.if_);
    f.e(g(DX), g(kk), i32c(2), op.shl, op.add, tee(addr), g(addr), f32Load, g(DY), g(i), op.add, f32Load, f32Add, f32Store);
    f.e(op.end, g(i), i32c(4), op.add, s(i));
  });
  return f.finish();
}

const FUNCS: { name: string; params: number; body: () => number[] }[] = [
  { name: 'im2col', params: 14, body: im2colBody },
  { name: 'col2im', params: 13, body: col2imBody },
  { name: 'relu', params: 2, body: () => reluBody(false) },
  { name: 'relu_grad', params: 3, body: () => reluBody(true) },
  { name: 'maxpool2x2', params: 9, body: () => maxPoolBody(false) },
  { name: 'maxpool2x2_arg', params: 9, body: () => maxPoolBody(true) },
  { name: 'maxpool_grad', params: 5, body: maxPoolGradBody },
];

/** The module: the functions of FUNCS (all parameters i32), each exported under its name. */
const convModule = lazyModule(() =>
  memoryModuleBytes(FUNCS.map((fn) => ({ params: new Array(fn.params).fill(I32), body: fn.body(), export: fn.name }))),
);

export const WASM_CONV_AVAILABLE = convModule() !== null;


/**
 * The kernels over one wasm memory. Every array argument is a Float32Array (argmax: Int32Array) view of
 * `memory` (any 4-byte aligned offset; no padding after it is needed: nothing is read or written outside the
 * elements named below). Sources and destinations must not overlap (checked).
 */

/** An Int32Array over the same bytes as `a` (for argmax buffers allocated as Float32Array views of the memory). */
export function int32View(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

type View = Float32Array | Int32Array;

/** Throws unless `v` is a view of `buf` with at least n elements. */
const check = (what: string, v: View, buf: ArrayBuffer, n: number) => checkView('simd conv', what, v, buf, n);

/** Throws when the first na elements of a and nb of b share bytes. */
function disjoint(what: string, a: View, na: number, b: View, nb: number): void {
  if (na > 0 && nb > 0 && a.byteOffset < b.byteOffset + 4 * nb && b.byteOffset < a.byteOffset + 4 * na) throw new Error(`simd conv: ${what} overlap`);
}

function nonNegInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`simd conv: ${what} = ${v} is not a non-negative integer`);
}

function checkGeometry(gm: ConvWindow): void {
  for (const key of ['H', 'W', 'C', 'KH', 'KW', 'stride', 'padTop', 'padLeft', 'OH', 'OW', 'K'] as const) nonNegInt(key, gm[key]);
  if (gm.K !== gm.KH * gm.KW * gm.C) throw new Error(`simd conv: K = ${gm.K} is not KH KW C = ${gm.KH * gm.KW * gm.C}`);
  // every window overlaps the image horizontally (kernels.ts's im2col and col2im would write outside a segment otherwise)
  if (gm.OW > 0 && (gm.padLeft >= gm.KW || (gm.OW - 1) * gm.stride - gm.padLeft >= gm.W)) {
    throw new Error(`simd conv: a window lies wholly left or right of the image (W ${gm.W}, KW ${gm.KW}, padLeft ${gm.padLeft}, OW ${gm.OW}, stride ${gm.stride})`);
  }
}

type I32Fn = (...a: number[]) => void;

/** An instance of the convolution kernels over `memory`; null where wasm SIMD is missing. */
export function createConvKernels(memory: WasmMemory): ConvKernels | null {
  const mod = convModule();
  if (!mod) return null;
  const ex = instantiate(mod, memory) as Record<string, I32Fn>;
  return {
    im2col(x, gm, s0, ns, col) {
      checkGeometry(gm);
      nonNegInt('s0', s0);
      nonNegInt('ns', ns);
      const buf = memory.buffer;
      const nx = (s0 + ns) * gm.H * gm.W * gm.C, nCol = ns * gm.OH * gm.OW * gm.K;
      check('x', x, buf, nx);
      check('col', col, buf, nCol);
      disjoint('x and col', x, nx, col, nCol);
      ex.im2col(x.byteOffset, col.byteOffset, s0, ns, gm.H, gm.W, gm.C, gm.KH, gm.KW, gm.stride, gm.padTop, gm.padLeft, gm.OH, gm.OW);
    },
    col2im(col, gm, ns, dx) {
      checkGeometry(gm);
      nonNegInt('ns', ns);
      const buf = memory.buffer;
      const nx = ns * gm.H * gm.W * gm.C, nCol = ns * gm.OH * gm.OW * gm.K;
      check('col', col, buf, nCol);
      check('dx', dx, buf, nx);
      disjoint('col and dx', col, nCol, dx, nx);
      ex.col2im(col.byteOffset, dx.byteOffset, ns, gm.H, gm.W, gm.C, gm.KH, gm.KW, gm.stride, gm.padTop, gm.padLeft, gm.OH, gm.OW);
    },
    relu(y, n) {
      nonNegInt('n', n);
      check('y', y, memory.buffer, n);
      ex.relu(y.byteOffset, n);
    },
    reluGrad(y, dy, n) {
      nonNegInt('n', n);
      check('y', y, memory.buffer, n);
      check('dy', dy, memory.buffer, n);
      disjoint('y and dy', y, n, dy, n);
      ex.relu_grad(y.byteOffset, dy.byteOffset, n);
    },
    maxPool2x2(x, gm, rows, y, argmax) {
      checkGeometry(gm);
      nonNegInt('rows', rows);
      const { H, W, C, OH, OW } = gm;
      if (!isPool2x2(gm)) {
        throw new Error('simd conv: maxPool2x2 needs a 2x2 window, stride 2, no padding, every window inside the image');
      }
      const buf = memory.buffer;
      const nx = rows * H * W * C, ny = rows * OH * OW * C;
      check('x', x, buf, nx);
      check('y', y, buf, ny);
      disjoint('x and y', x, nx, y, ny);
      if (argmax) {
        check('argmax', argmax, buf, ny);
        disjoint('x and argmax', x, nx, argmax, ny);
        disjoint('y and argmax', y, ny, argmax, ny);
        ex.maxpool2x2_arg(x.byteOffset, y.byteOffset, argmax.byteOffset, rows, H, W, C, OH, OW);
      } else ex.maxpool2x2(x.byteOffset, y.byteOffset, 0, rows, H, W, C, OH, OW);
    },
    maxPoolGrad(dy, argmax, n, dx, nIn) {
      nonNegInt('n', n);
      nonNegInt('nIn', nIn);
      const buf = memory.buffer;
      check('dy', dy, buf, n);
      check('argmax', argmax, buf, n);
      check('dx', dx, buf, nIn);
      disjoint('dy and dx', dy, n, dx, nIn);
      disjoint('argmax and dx', argmax, n, dx, nIn);
      ex.maxpool_grad(dy.byteOffset, argmax.byteOffset, dx.byteOffset, n, nIn);
    },
  };
}
