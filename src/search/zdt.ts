/**
 * The ZDT test problems 1-3 (Zitzler, Deb & Thiele 2000), the benchmark of Deb et al. 2002: n variables in
 * [0, 1], f1 = x1, g = 1 + 9 / (n - 1) sum_{i>=2} x_i, f2 = g h(f1, g) with
 *   ZDT1: h = 1 - sqrt(f1 / g)          (convex front f2 = 1 - sqrt(f1))
 *   ZDT2: h = 1 - (f1 / g)^2            (concave front f2 = 1 - f1^2)
 *   ZDT3: h = 1 - sqrt(f1 / g) - (f1 / g) sin(10 pi f1)   (five disconnected pieces)
 * The true fronts lie at g = 1 (x_2..x_n = 0).
 */
import type { Objectives, Problem } from './problem.js';
import { nonDominated } from './ranking.js';
import { hypervolume } from './hypervolume.js';

export type ZdtKind = 'zdt1' | 'zdt2' | 'zdt3';

function h(kind: ZdtKind, f1: number, g: number): number {
  const r = f1 / g;
  if (kind === 'zdt1') return 1 - Math.sqrt(r);
  if (kind === 'zdt2') return 1 - r * r;
  return 1 - Math.sqrt(r) - r * Math.sin(10 * Math.PI * f1);
}

export interface ZdtProblem extends Problem {
  evaluate(x: readonly number[]): Objectives;
}

export function zdt(kind: ZdtKind, nVar = 30): ZdtProblem {
  return {
    name: kind,
    nVar,
    nObj: 2,
    nConstr: 0,
    xl: new Array(nVar).fill(0),
    xu: new Array(nVar).fill(1),
    evaluate(x) {
      let s = 0;
      for (let i = 1; i < x.length; i++) s += x[i];
      const g = 1 + (9 * s) / (x.length - 1);
      const f1 = x[0];
      return { f: [f1, g * h(kind, f1, g)] };
    },
  };
}

/** `n` points of the true front (f1 evenly spaced in [0, 1], g = 1), only the non-dominated ones (ZDT3). */
export function zdtFront(kind: ZdtKind, n = 10000): number[][] {
  const pts = Array.from({ length: n }, (_, i) => {
    const f1 = i / (n - 1);
    return [f1, h(kind, f1, 1)];
  });
  return nonDominated(pts).map((i) => pts[i]).sort((a, b) => a[0] - b[0]);
}

/**
 * Hypervolume of the true front for reference point `ref`: ZDT1 and ZDT2 in closed form (the area under the
 * front is an integral), ZDT3 from a dense sample of its front (100,001 points; the sample's staircase lies
 * inside the front, so the value is a lower bound within about 1e-5).
 */
export function zdtTrueHypervolume(kind: ZdtKind, ref: readonly [number, number] = [1.1, 1.1]): number {
  const [r1, r2] = ref;
  if (kind === 'zdt1' && r1 >= 1 && r2 >= 1) return (r2 - 1) + 2 / 3 + (r1 - 1) * r2; // int_0^1 (r2 - 1 + sqrt f) df + strip f1 in [1, r1]
  if (kind === 'zdt2' && r1 >= 1 && r2 >= 1) return (r2 - 1) + 1 / 3 + (r1 - 1) * r2;
  return hypervolume(zdtFront(kind, 100001), ref);
}
