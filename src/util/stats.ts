/** Small statistics shared by the benchmarks, the cross-validation protocol and the reports. */

export function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

export function mean(xs: ArrayLike<number>): number {
  return xs.length ? sum(xs) / xs.length : NaN;
}

/** Population standard deviation (numpy's default, as the seed-000 reference reports). */
export function std(xs: ArrayLike<number>): number {
  if (!xs.length) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / xs.length);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Product of the entries (a shape's element count). */
export function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}
