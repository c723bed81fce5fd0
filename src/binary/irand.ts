/**
 * Integer randomness for the float-free genetic trainers. The kit's seeded streams (src/engine/random.ts) give
 * the seed material: four draws `int32() >>> 0` of the named stream seed a xoshiro128** generator (Blackman and
 * Vigna 2018), whose state is a `Uint32Array(4)` and whose every operation is a 32-bit integer one (xor,
 * shifts, rotations, Math.imul). Nothing after seeding touches a float.
 *
 * - `below(m)`: a uniform integer in [0, m), unbiased by rejection (draws u >= 2^32 - (2^32 mod m) are
 *   rejected), so no division of floats is involved.
 * - `bernoulliWord(p)`: 32 independent bits, each 1 with probability num / 2^k (a dyadic rational, `Ratio`
 *   with a power-of-two denominator). The k-bit uniform U of each bit position is drawn bit-sliced, most
 *   significant bit first, and compared with num as it is drawn: a position is decided (U < num or U > num)
 *   at the first bit where they differ, and drawing stops once all 32 positions are decided (for small p after
 *   about 6 words instead of one draw per weight).
 */
import { rngStream } from '../engine/random.js';
import { KitError } from '../util/errors.js';

/** A probability as an integer ratio num / den with den a power of two (2 .. 2^31). */
export interface Ratio {
  num: number;
  den: number;
}

export function checkRatio(p: Ratio, where: string): void {
  const ok = Number.isInteger(p.num) && Number.isInteger(p.den) && p.den >= 2 && p.den <= 2 ** 31 && (p.den & (p.den - 1)) === 0 && p.num >= 0 && p.num <= p.den;
  if (!ok) throw new KitError(`${where}: expected an integer ratio num/den with den a power of two in 2..2^31 and 0 <= num <= den, got ${JSON.stringify(p)}`, 'ConfigError');
}

/** xoshiro128** state seeded from stream `name` of `seed` (four uint32 draws; an all-zero state is avoided). */
export function seedState(seed: number | string, name: string): Uint32Array {
  const r = rngStream(seed, name);
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) s[i] = r.int32() >>> 0;
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** The next uint32 of a xoshiro128** state (advances the state in place). */
export function nextU32(s: Uint32Array): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** A uniform integer in [0, m) for 1 <= m <= 2^32 (rejection sampling; integer arithmetic only). */
export function below(s: Uint32Array, m: number): number {
  if (!(Number.isInteger(m) && m >= 1 && m <= 2 ** 32)) throw new KitError(`below: m must be an integer in 1..2^32, got ${m}`);
  if ((m & (m - 1)) === 0 && m <= 2 ** 31) return nextU32(s) & (m - 1);
  // 2^32 mod m, computed without floats: (2^32 - m) mod m = (2^32 mod m) for m <= 2^32.
  const limit = 2 ** 32 - ((2 ** 32 - m) % m); // integers below 2^53: exact
  for (;;) {
    const u = nextU32(s);
    if (u < limit) return u % m;
  }
}

/** In-place Fisher-Yates shuffle of an integer array with `below`. */
export function shuffleInts(s: Uint32Array, a: Int32Array): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = below(s, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** log2 of a power of two up to 2^31 (count of leading zeros). */
const log2 = (den: number) => 31 - Math.clz32(den);

/**
 * 32 independent Bernoulli(num/den) bits (den = 2^k): bit-sliced comparison of k-bit uniforms with num, most
 * significant bit first, stopping when every position is decided.
 */
export function bernoulliWord(s: Uint32Array, p: Ratio): number {
  if (p.num === 0) return 0;
  if (p.num === p.den) return -1 >>> 0;
  const k = log2(p.den);
  let lt = 0;
  let eq = -1;
  for (let b = k - 1; b >= 0 && eq !== 0; b--) {
    const r = nextU32(s);
    if ((p.num >>> b) & 1) {
      // num has a 1 here: positions still equal whose U bit is 0 are now below num
      lt |= eq & ~r;
      eq &= r;
    } else {
      eq &= ~r;
    }
  }
  return lt >>> 0;
}
