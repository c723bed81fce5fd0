/**
 * The fast path's JavaScript kernels. First the dense layer's three products as loops over float32 arrays, blocked 2 rows x 4 columns so
 * that the inner loop keeps eight sums in registers (measured on MLP 21-32-16-10: 0.27 GMAC/s for the plain
 * triple loop, 1.1-1.3 GMAC/s blocked). Sums accumulate in float64 and are stored (rounded to float32) once.
 *
 * Layouts are row-major as in tfjs: x [rows, nIn], w [nIn, nOut], y and dy [rows, nOut].
 */

/** y = x w + b (b null: no bias). */
export function matmulBias(x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array, rows: number, nIn: number, nOut: number): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const xa = r * nIn;
    const xb = xa + nIn;
    const ya = r * nOut;
    const yb = ya + nOut;
    let o = 0;
    for (; o + 3 < nOut; o += 4) {
      let a0 = b ? b[o] : 0;
      let a1 = b ? b[o + 1] : 0;
      let a2 = b ? b[o + 2] : 0;
      let a3 = b ? b[o + 3] : 0;
      let b0 = a0;
      let b1 = a1;
      let b2 = a2;
      let b3 = a3;
      for (let i = 0, wi = o; i < nIn; i++, wi += nOut) {
        const u = x[xa + i];
        const v = x[xb + i];
        const w0 = w[wi];
        const w1 = w[wi + 1];
        const w2 = w[wi + 2];
        const w3 = w[wi + 3];
        a0 += u * w0;
        a1 += u * w1;
        a2 += u * w2;
        a3 += u * w3;
        b0 += v * w0;
        b1 += v * w1;
        b2 += v * w2;
        b3 += v * w3;
      }
      y[ya + o] = a0;
      y[ya + o + 1] = a1;
      y[ya + o + 2] = a2;
      y[ya + o + 3] = a3;
      y[yb + o] = b0;
      y[yb + o + 1] = b1;
      y[yb + o + 2] = b2;
      y[yb + o + 3] = b3;
    }
    for (; o < nOut; o++) {
      let a = b ? b[o] : 0;
      let c = a;
      for (let i = 0, wi = o; i < nIn; i++, wi += nOut) {
        a += x[xa + i] * w[wi];
        c += x[xb + i] * w[wi];
      }
      y[ya + o] = a;
      y[yb + o] = c;
    }
  }
  for (; r < rows; r++) {
    const xa = r * nIn;
    const ya = r * nOut;
    for (let o = 0; o < nOut; o++) {
      let a = b ? b[o] : 0;
      for (let i = 0, wi = o; i < nIn; i++, wi += nOut) a += x[xa + i] * w[wi];
      y[ya + o] = a;
    }
  }
}

/**
 * dw = x^T dy (overwritten): dw[i, o] = sum_r x[r, i] dy[r, o]; any shape, contiguous. The fallback of the SIMD
 * gemmTN (src/fast/simd.ts): gemmTN(a, b, c, m, k, n) = matmulTN(a, b, c, k, m, n) (tested to agree).
 */
export function matmulTN(x: Float32Array, dy: Float32Array, dw: Float32Array, rows: number, nIn: number, nOut: number): void {
  let i = 0;
  for (; i + 1 < nIn; i += 2) {
    const wa = i * nOut;
    const wb = wa + nOut;
    let o = 0;
    for (; o + 3 < nOut; o += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let r = 0, xr = i, yr = o; r < rows; r++, xr += nIn, yr += nOut) {
        const u = x[xr];
        const v = x[xr + 1];
        const d0 = dy[yr];
        const d1 = dy[yr + 1];
        const d2 = dy[yr + 2];
        const d3 = dy[yr + 3];
        a0 += u * d0;
        a1 += u * d1;
        a2 += u * d2;
        a3 += u * d3;
        b0 += v * d0;
        b1 += v * d1;
        b2 += v * d2;
        b3 += v * d3;
      }
      dw[wa + o] = a0;
      dw[wa + o + 1] = a1;
      dw[wa + o + 2] = a2;
      dw[wa + o + 3] = a3;
      dw[wb + o] = b0;
      dw[wb + o + 1] = b1;
      dw[wb + o + 2] = b2;
      dw[wb + o + 3] = b3;
    }
    for (; o < nOut; o++) {
      let a = 0;
      let c = 0;
      for (let r = 0, xr = i, yr = o; r < rows; r++, xr += nIn, yr += nOut) {
        a += x[xr] * dy[yr];
        c += x[xr + 1] * dy[yr];
      }
      dw[wa + o] = a;
      dw[wb + o] = c;
    }
  }
  for (; i < nIn; i++) {
    const wa = i * nOut;
    for (let o = 0; o < nOut; o++) {
      let a = 0;
      for (let r = 0, xr = i, yr = o; r < rows; r++, xr += nIn, yr += nOut) a += x[xr] * dy[yr];
      dw[wa + o] = a;
    }
  }
}

/** dx = dy w^T: dx[r, i] = sum_o dy[r, o] w[i, o]. */
export function matmulNT(dy: Float32Array, w: Float32Array, dx: Float32Array, rows: number, nIn: number, nOut: number): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const ya = r * nOut;
    const yb = ya + nOut;
    const xa = r * nIn;
    const xb = xa + nIn;
    let i = 0;
    for (; i + 1 < nIn; i += 2) {
      const wa = i * nOut;
      const wb = wa + nOut;
      let aa = 0, ab = 0, ba = 0, bb = 0;
      for (let o = 0; o < nOut; o++) {
        const p = dy[ya + o];
        const q = dy[yb + o];
        const s = w[wa + o];
        const t = w[wb + o];
        aa += p * s;
        ab += p * t;
        ba += q * s;
        bb += q * t;
      }
      dx[xa + i] = aa;
      dx[xa + i + 1] = ab;
      dx[xb + i] = ba;
      dx[xb + i + 1] = bb;
    }
    for (; i < nIn; i++) {
      const wa = i * nOut;
      let a = 0;
      let c = 0;
      for (let o = 0; o < nOut; o++) {
        a += dy[ya + o] * w[wa + o];
        c += dy[yb + o] * w[wa + o];
      }
      dx[xa + i] = a;
      dx[xb + i] = c;
    }
  }
  for (; r < rows; r++) {
    const ya = r * nOut;
    const xa = r * nIn;
    for (let i = 0; i < nIn; i++) {
      const wa = i * nOut;
      let a = 0;
      for (let o = 0; o < nOut; o++) a += dy[ya + o] * w[wa + o];
      dx[xa + i] = a;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The convolution layers' loops (channels last, as tfjs), the reference for src/fast/simd-conv.ts's kernels and
// what runs where the engine has no wasm SIMD.
// ---------------------------------------------------------------------------------------------------------------

/** A convolution's or pooling window's geometry: input H x W x C, window KH x KW, stride, padding before, output OH x OW. */
export interface ConvWindow {
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  stride: number;
  padTop: number;
  padLeft: number;
  OH: number;
  OW: number;
  /** Values per im2col row: KH KW C. */
  K: number;
}
/**
 * The window of a KH x KW convolution or pooling of stride `stride` on H x W x C images with tfjs's output size and
 * padding: 'valid' ceil((n - k + 1) / stride); 'same' ceil(n / stride), the padding total split with the smaller
 * half first.
 */
export function convWindow(H: number, W: number, C: number, KH: number, KW: number, stride: number, padding: 'valid' | 'same' | undefined): ConvWindow {
  const same = padding === 'same';
  const out = (n: number, k: number) => (same ? Math.ceil(n / stride) : Math.ceil((n - k + 1) / stride));
  const OH = out(H, KH);
  const OW = out(W, KW);
  const before = (n: number, o: number, k: number) => (same ? Math.floor(Math.max((o - 1) * stride + k - n, 0) / 2) : 0);
  return { H, W, C, KH, KW, stride, padTop: before(H, OH, KH), padLeft: before(W, OW, KW), OH, OW, K: KH * KW * C };
}

/** A convolution layer's: its window and output channels (CO; C for pooling). */
export interface ConvGeometry extends ConvWindow {
  CO: number;
}
/**
 * Rows of im2col for samples s0 .. s0 + ns of x [samples, H, W, C] into col [ns OH OW, K]: row (b, oh, ow)
 * holds the KH x KW window at (oh stride - padTop, ow stride - padLeft), zeros outside the image.
 */
export function im2col(x: Float32Array, g: ConvWindow, s0: number, ns: number, col: Float32Array): void {
  const { H, W, C, KH, KW, stride, padTop, padLeft, OH, OW } = g;
  const seg = KW * C;
  let o = 0;
  for (let b = s0; b < s0 + ns; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * stride - padTop;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * stride - padLeft;
        const j0 = iw0 < 0 ? -iw0 * C : 0;
        const j1 = Math.min(KW, W - iw0) * C;
        for (let kh = 0; kh < KH; kh++, o += seg) {
          const ih = ih0 + kh;
          if (ih < 0 || ih >= H) {
            for (let j = 0; j < seg; j++) col[o + j] = 0;
            continue;
          }
          const src = ((b * H + ih) * W + iw0) * C;
          let j = 0;
          for (; j < j0; j++) col[o + j] = 0;
          for (; j < j1; j++) col[o + j] = x[src + j];
          for (; j < seg; j++) col[o + j] = 0;
        }
      }
    }
  }
}

/** The adjoint of im2col: dx [ns, H, W, C] = the sum of every col row's values at the input positions they came from. */
export function col2im(col: Float32Array, g: ConvWindow, ns: number, dx: Float32Array): void {
  const { H, W, C, KH, KW, stride, padTop, padLeft, OH, OW } = g;
  const seg = KW * C;
  dx.fill(0, 0, ns * H * W * C);
  let o = 0;
  for (let b = 0; b < ns; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * stride - padTop;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * stride - padLeft;
        const j0 = iw0 < 0 ? -iw0 * C : 0;
        const j1 = Math.min(KW, W - iw0) * C;
        for (let kh = 0; kh < KH; kh++, o += seg) {
          const ih = ih0 + kh;
          if (ih < 0 || ih >= H) continue;
          const dst = ((b * H + ih) * W + iw0) * C;
          for (let j = j0; j < j1; j++) dx[dst + j] += col[o + j];
        }
      }
    }
  }
}

/**
 * Max pooling of x [rows, H, W, C]; with `argmax`, each output's input index. Ties and NaN as the kit's
 * MaxPoolGrad (src/engine/wasm-kernels.ts): the first maximum in window order, a later value winning only when
 * strictly greater than the running maximum from -Infinity (-1: no value was, and the gradient goes nowhere).
 */
export function maxPool(x: Float32Array, g: ConvWindow, rows: number, y: Float32Array, argmax: Int32Array | null): void {
  const { H, W, C, KH, KW, stride, padTop, padLeft, OH, OW } = g;
  if (isPool2x2(g)) {
    maxPool2x2(x, g, rows, y, argmax);
    return;
  }
  let o = 0;
  for (let b = 0; b < rows; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * stride - padTop;
      const kh0 = Math.max(0, -ih0);
      const kh1 = Math.min(KH, H - ih0);
      for (let ow = 0; ow < OW; ow++, o += C) {
        const iw0 = ow * stride - padLeft;
        const kw0 = Math.max(0, -iw0);
        const kw1 = Math.min(KW, W - iw0);
        for (let c = 0; c < C; c++) {
          let m = -Infinity;
          let k = -1;
          for (let kh = kh0; kh < kh1; kh++) {
            for (let kw = kw0, i = ((b * H + ih0 + kh) * W + iw0 + kw0) * C + c; kw < kw1; kw++, i += C) {
              if (x[i] > m) {
                m = x[i];
                k = i;
              }
            }
          }
          y[o + c] = m;
          if (argmax) argmax[o + c] = k;
        }
      }
    }
  }
}

/** Whether a pooling window is 2x2 with stride 2 and inside the image everywhere (the common case, with its own loops). */
export function isPool2x2(g: ConvWindow): boolean {
  return g.KH === 2 && g.KW === 2 && g.stride === 2 && g.padTop === 0 && g.padLeft === 0 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
}

/** maxPool for the common 2x2 window of stride 2 with every window inside the image (same results). */
export function maxPool2x2(x: Float32Array, g: ConvWindow, rows: number, y: Float32Array, argmax: Int32Array | null): void {
  const { H, W, C, OH, OW } = g;
  const rowStride = W * C;
  let o = 0;
  for (let b = 0; b < rows; b++) {
    for (let oh = 0; oh < OH; oh++) {
      let a = (b * H + 2 * oh) * rowStride;
      for (let ow = 0; ow < OW; ow++, a += 2 * C) {
        for (let c = 0; c < C; c++, o++) {
          const i0 = a + c;
          const i1 = i0 + C;
          const i2 = i0 + rowStride;
          const i3 = i2 + C;
          let k = -1;
          let m = -Infinity;
          if (x[i0] > m) { m = x[i0]; k = i0; }
          if (x[i1] > m) { m = x[i1]; k = i1; }
          if (x[i2] > m) { m = x[i2]; k = i2; }
          if (x[i3] > m) { m = x[i3]; k = i3; }
          y[o] = m;
          if (argmax) argmax[o] = k;
        }
      }
    }
  }
}

/** db [n] = the column sums of dy [P, n], summed in float64 (acc: scratch of n values). */
export function biasGrad(dy: Float32Array, P: number, n: number, db: Float32Array, acc: Float64Array): void {
  acc.fill(0, 0, n);
  for (let i = 0, o = 0, end = P * n; i < end; i++) {
    acc[o] += dy[i];
    if (++o === n) o = 0;
  }
  for (let o = 0; o < n; o++) db[o] = acc[o];
}

/** The max-pool gradient: dx [nIn] = 0, then dx[argmax[i]] += dy[i] for the n outputs (argmax -1: nowhere). */
export function maxPoolGrad(dy: Float32Array, argmax: Int32Array, n: number, dx: Float32Array, nIn: number): void {
  dx.fill(0, 0, nIn);
  for (let i = 0; i < n; i++) {
    const k = argmax[i];
    if (k >= 0) dx[k] += dy[i];
  }
}

/**
 * The convolution layers' elementwise and data-movement kernels: the JavaScript loops of this file
 * (`jsConvKernels`), or their wasm SIMD forms (src/fast/simd-conv.ts `createConvKernels`), bit for bit the same.
 * Windows must overlap the image horizontally (-KW < ow stride - padLeft < W for every ow), as for tfjs's
 * 'valid' and 'same' padding.
 */
export interface ConvKernels {
  /** Rows of im2col for samples s0 .. s0 + ns of x [samples, H, W, C] into col [ns OH OW, K] (kernels.ts's im2col). */
  im2col(x: Float32Array, g: ConvWindow, s0: number, ns: number, col: Float32Array): void;
  /** dx [ns, H, W, C] = zeros, plus every col [ns OH OW, K] value at the input position it came from (kernels.ts's col2im). */
  col2im(col: Float32Array, g: ConvWindow, ns: number, dx: Float32Array): void;
  /** y[i] = max(y[i], 0) for i < n (f32x4.max: -0 gives +0; NaN gives a NaN, wasm's canonical one). */
  relu(y: Float32Array, n: number): void;
  /** dy[i] = y[i] > 0 ? dy[i] : 0 for i < n. */
  reluGrad(y: Float32Array, dy: Float32Array, n: number): void;
  /**
   * y [rows, OH, OW, C] = 2x2 max pooling of x [rows, H, W, C], stride 2, no padding, 2 OH <= H, 2 OW <= W
   * (kernels.ts's maxPool2x2); argmax (null: none) [rows OH OW C] gets each output's index into x, -1 for none.
   * For the wasm form, argmax must be an Int32Array view of its memory: e.g. `int32View(alloc(n))`.
   */
  maxPool2x2(x: Float32Array, g: ConvWindow, rows: number, y: Float32Array, argmax: Int32Array | null): void;
  /** dx[0 .. nIn) = 0, then dx[argmax[i]] += dy[i] for i < n in order (indices outside [0, nIn) skipped: -1). */
  maxPoolGrad(dy: Float32Array, argmax: Int32Array, n: number, dx: Float32Array, nIn: number): void;
}

/** The kernels as JavaScript loops (where the engine has no wasm SIMD). */
export const jsConvKernels: ConvKernels = {
  im2col,
  col2im,
  relu(y, n) {
    for (let i = 0; i < n; i++) y[i] = Math.max(y[i], 0);
  },
  reluGrad(y, dy, n) {
    for (let i = 0; i < n; i++) dy[i] = y[i] > 0 ? dy[i] : 0;
  },
  maxPool2x2,
  maxPoolGrad,
};
