/**
 * The majority loss of seed 002 §4.1.4 (Fig. 4.4): the last layer's output bits form one group of k bits per
 * label; the predicted class is the group with the most 1s. Ties (two groups with the same count, which more
 * bits per label make rarer, §4.1.4) are broken by a rule:
 *
 * - `seeded` (default): among the tied groups, the one at position h mod m, where m is the number of tied
 *   groups and h = fmix32(tieSeed XOR fmix32(sample id)) (MurmurHash3's integer finaliser). A pure function of
 *   the seed and the sample, so the parent and the children of a step see the same tie decisions;
 * - `lowest`: the tied group with the lowest label;
 * - `wrong`: a tie is a wrong prediction (-1).
 *
 * Integer arithmetic only: counts are popcounts, the training target of label c is the row with the bits of
 * group c set.
 */
import { z } from 'zod';
import { popcount32, rowWords } from './pack.js';

export const TIE_RULES = ['seeded', 'lowest', 'wrong'] as const;
export type TieRule = (typeof TIE_RULES)[number];
export const TieRuleSchema = z.enum(TIE_RULES);

export interface MajorityHead {
  classes: number;
  /** Output bits per label (k). */
  bitsPerLabel: number;
  tie: TieRule;
}

/** MurmurHash3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Number of 1 bits of `a` in bit positions [lo, hi) of the row starting at word `base`. */
export function countRange(a: Uint32Array, base: number, lo: number, hi: number): number {
  let c = 0;
  let i = lo;
  while (i < hi) {
    const w = i >>> 5;
    const b = i & 31;
    const take = Math.min(32 - b, hi - i);
    const mask = take === 32 ? -1 >>> 0 : ((1 << take) - 1) << b;
    c += popcount32(a[base + w] & mask);
    i += take;
  }
  return c;
}

/** The 1 counts of each label's group in row `row` of the output (rowWords(classes * k) words per row). */
export function groupCounts(out: Uint32Array, row: number, head: Pick<MajorityHead, 'classes' | 'bitsPerLabel'>, counts = new Int32Array(head.classes)): Int32Array {
  const words = rowWords(head.classes * head.bitsPerLabel);
  for (let c = 0; c < head.classes; c++) counts[c] = countRange(out, row * words, c * head.bitsPerLabel, (c + 1) * head.bitsPerLabel);
  return counts;
}

/** The predicted class of each of n rows (-1: a tie under the `wrong` rule). `ids` identify the samples for `seeded`. */
export function predictMajority(out: Uint32Array, n: number, head: MajorityHead, tieSeed: number, ids?: ArrayLike<number>): Int32Array {
  const pred = new Int32Array(n);
  const counts = new Int32Array(head.classes);
  const tied = new Int32Array(head.classes);
  for (let r = 0; r < n; r++) {
    groupCounts(out, r, head, counts);
    let best = -1;
    let m = 0;
    for (let c = 0; c < head.classes; c++) {
      if (counts[c] > best) {
        best = counts[c];
        m = 0;
      }
      if (counts[c] === best) tied[m++] = c;
    }
    if (m === 1 || head.tie === 'lowest') pred[r] = tied[0];
    else if (head.tie === 'wrong') pred[r] = -1;
    else pred[r] = tied[fmix32((tieSeed ^ fmix32((ids ? ids[r] : r) >>> 0)) >>> 0) % m];
  }
  return pred;
}

/** Number of rows whose prediction is the label. */
export function countCorrect(pred: Int32Array, labels: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) c++;
  return c;
}

/** The target output row of each label: the bits of its group set (§4.1.4). */
export function targetRows(head: Pick<MajorityHead, 'classes' | 'bitsPerLabel'>): Uint32Array[] {
  const bits = head.classes * head.bitsPerLabel;
  const words = rowWords(bits);
  return Array.from({ length: head.classes }, (_, c) => {
    const t = new Uint32Array(words);
    for (let i = c * head.bitsPerLabel; i < (c + 1) * head.bitsPerLabel; i++) t[i >>> 5] |= 1 << (i & 31);
    return t;
  });
}
