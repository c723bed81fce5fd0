/**
 * Bit packing of ±1 vectors (seed 002 §4.1.2, Fig. 4.2): bit 1 stands for +1 and bit 0 for -1, 32 values per
 * `Uint32Array` word (bit b of word w is element 32 w + b). A row of `bits` values takes `rowWords(bits)`
 * words: whole 128-bit chunks (so the SIMD kernel can load them), with the padding bits zero. XOR of two rows
 * is then zero in the padding, and popcount(a XOR w) counts exactly the disagreeing elements.
 */

/** 128-bit chunks of a row of `bits` values. */
export function rowChunks(bits: number): number {
  return (bits + 127) >>> 7;
}

/** 32-bit words of a row of `bits` values (whole chunks). */
export function rowWords(bits: number): number {
  return rowChunks(bits) * 4;
}

/** Number of 1 bits of a uint32 (SWAR, integer operations only). */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Mask of the valid bits of word `w` of a row of `bits` values (0 for padding words). */
export function wordMask(bits: number, w: number): number {
  const lo = w * 32;
  if (lo + 32 <= bits) return -1 >>> 0;
  if (lo >= bits) return 0;
  return ((1 << (bits - lo)) - 1) >>> 0;
}

/** Bit `i` of row `row` (row length `words` words). */
export function getBit(a: Uint32Array, row: number, words: number, i: number): number {
  return (a[row * words + (i >>> 5)] >>> (i & 31)) & 1;
}

export function setBit(a: Uint32Array, row: number, words: number, i: number, bit: number): void {
  const k = row * words + (i >>> 5);
  if (bit) a[k] |= 1 << (i & 31);
  else a[k] &= ~(1 << (i & 31));
}

/**
 * Binarises n rows of d values by sign (seed 002 eq. 1.4: sign(x) = +1 for x >= 0, else -1) and packs them.
 * The dataset views are normalised (MNIST: (x - 0.1307) / 0.3081), so a pixel becomes +1 when it is brighter
 * than the mean: the black background is -1, the strokes +1 (§4.1.3, Fig. 4.3). `extraRows` zero rows are
 * added at the end (the SIMD kernel reads samples in pairs).
 */
export function packSigns(x: ArrayLike<number>, n: number, d: number, extraRows = 0): Uint32Array {
  const words = rowWords(d);
  const out = new Uint32Array((n + extraRows) * words);
  for (let r = 0; r < n; r++) {
    const base = r * d;
    const o = r * words;
    for (let i = 0; i < d; i++) if (x[base + i] >= 0) out[o + (i >>> 5)] |= 1 << (i & 31);
  }
  return out;
}

/** Packs rows given as ±1 (or 0/1 bits) integers: value > 0 is bit 1. */
export function packBits(v: ArrayLike<number>, n: number, d: number): Uint32Array {
  const words = rowWords(d);
  const out = new Uint32Array(n * words);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) if (v[r * d + i] > 0) out[r * words + (i >>> 5)] |= 1 << (i & 31);
  return out;
}

/** Unpacks n rows of d values to ±1 integers (Int8Array). */
export function unpackSigns(a: Uint32Array, n: number, d: number): Int8Array {
  const words = rowWords(d);
  const out = new Int8Array(n * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) out[r * d + i] = (a[r * words + (i >>> 5)] >>> (i & 31)) & 1 ? 1 : -1;
  return out;
}

/** Copies selected rows (by index) of a packed matrix into a new one, with `extraRows` zero rows at the end. */
export function gatherRows(a: Uint32Array, words: number, rows: ArrayLike<number>, extraRows = 0): Uint32Array {
  const out = new Uint32Array((rows.length + extraRows) * words);
  for (let r = 0; r < rows.length; r++) out.set(a.subarray(rows[r] * words, rows[r] * words + words), r * words);
  return out;
}
