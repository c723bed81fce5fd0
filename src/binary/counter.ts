/**
 * Bit-sliced counters: one integer count per bit position of a packed row, kept as `planes` words per row word
 * (plane p holds bit p of every count), so adding a row of bits costs a few word operations per 32 positions.
 * The counting-error trainer counts, per weight or node, in how many batch samples it voted for a wrong bit.
 */
export class SlicedCounter {
  readonly planes: number;
  readonly words: number;
  readonly data: Uint32Array;

  /** Counters for `words` words of positions, able to count up to `maxCount`. */
  constructor(words: number, maxCount: number) {
    let p = 1;
    while (2 ** p <= maxCount) p++;
    this.planes = p;
    this.words = words;
    this.data = new Uint32Array(p * words);
  }

  reset(): void {
    this.data.fill(0);
  }

  /** Adds 1 at every set bit of word `k`. */
  addWord(k: number, bits: number): void {
    let carry = bits >>> 0;
    for (let p = 0; p < this.planes && carry !== 0; p++) {
      const i = p * this.words + k;
      const t = this.data[i] & carry;
      this.data[i] ^= carry;
      carry = t;
    }
  }

  /** Bits of word `k` whose count is at least `t` (bit-sliced comparison, most significant plane first). */
  atLeastWord(k: number, t: number): number {
    if (t <= 0) return -1 >>> 0;
    if (t >= 2 ** this.planes) return 0;
    let gt = 0;
    let eq = -1;
    for (let p = this.planes - 1; p >= 0; p--) {
      const x = this.data[p * this.words + k];
      if ((t >>> p) & 1) eq &= x;
      else {
        gt |= eq & x;
        eq &= ~x;
      }
    }
    return (gt | eq) >>> 0;
  }

  /** The count at position i (for tests and inspection). */
  count(i: number): number {
    const k = i >>> 5;
    const b = i & 31;
    let c = 0;
    for (let p = 0; p < this.planes; p++) c |= ((this.data[p * this.words + k] >>> b) & 1) << p;
    return c;
  }
}
