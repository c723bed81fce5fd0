/**
 * Seeded randomness. Every random draw of the kit comes from a named stream derived from one run seed
 * (conventions.md, "Randomness"): `init`, `shuffle`, `dropout`, `split`, `search`, `augment`, ...
 * Streams are independent (seeded with `<seed>:<name>`), so adding draws to one stream never shifts
 * another. Their state can be saved in a checkpoint and restored bit-exactly.
 */
import seedrandom from 'seedrandom';

export type StreamName = 'init' | 'shuffle' | 'dropout' | 'split' | 'search' | 'augment' | 'data' | (string & {});

export type RngState = { c: number; s0: number; s1: number; s2: number };

export interface Rng {
  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform signed 32-bit integer; used to seed tfjs initialisers and dropout. */
  int32(): number;
  /** Standard normal draw (Box-Muller). */
  normal(): number;
  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T;
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** Serialisable state (for checkpoints). */
  state(): RngState;
}

function wrap(prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>): Rng {
  let spare: number | null = null;
  const rng: Rng = {
    next: () => prng.double(),
    int: (n: number) => {
      if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
      return Math.floor(prng.double() * n);
    },
    int32: () => prng.int32(),
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = prng.double();
      const v = prng.double();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle: (a) => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(prng.double() * (i + 1));
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
      }
      return a;
    },
    permutation: (n: number) => {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      return rng.shuffle(p);
    },
    state: () => {
      if (spare !== null) throw new Error('Rng.state: cannot snapshot between the two halves of a normal() pair');
      return { ...prng.state() };
    },
  };
  return rng;
}

/** The stream `name` of run seed `seed`. */
export function rngStream(seed: number | string, name: StreamName): Rng {
  return wrap(seedrandom.alea(`${seed}:${name}`, { state: true }));
}

/** Restores a stream from a state saved with `rng.state()`. */
export function rngFromState(state: RngState): Rng {
  return wrap(seedrandom.alea('', { state: { ...state } }));
}

/**
 * Runs `fn` with `Math.random` replaced by a seeded stream, for dependencies that draw from it
 * (for example tfjs's unseeded initialisers). The original is restored afterwards, also on error.
 */
export function withSeededMathRandom<T>(rng: Rng, fn: () => T): T {
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    const out = fn();
    if (out instanceof Promise) {
      throw new Error('withSeededMathRandom: fn must be synchronous (an await would leak the seeded Math.random)');
    }
    return out;
  } finally {
    Math.random = original;
  }
}
