/**
 * When a search stops, in steps (never wall-clock time, conventions.md "Randomness"). `generations` follows
 * pymoo's `("n_gen", n)` that the seed-000 reference uses: the initial population is generation 1, so n
 * generations are the initial population plus n - 1 rounds of offspring (seed 000 Table 2.3's 5 generations of
 * population 40 with 8 offspring are 40 + 4 x 8 = 72 evaluations).
 */
import { z } from 'zod';

export const TerminationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('generations'), n: z.number().int().min(1) }),
  z.strictObject({ kind: z.literal('evaluations'), n: z.number().int().min(1) }),
]);

export type Termination = z.infer<typeof TerminationSchema>;

/** Whether a search with `generation` generations done (1 after the initial population) and `evaluations` has finished. */
export function terminated(t: Termination, s: { generation: number; evaluations: number }): boolean {
  return t.kind === 'generations' ? s.generation >= t.n : s.evaluations >= t.n;
}

/** The evaluation budget of NSGA-II with this termination: population + (n - 1) x offspring. */
export function evaluationBudget(t: Termination, popSize: number, nOffspring: number): number {
  return t.kind === 'generations' ? popSize + (t.n - 1) * nOffspring : t.n;
}
