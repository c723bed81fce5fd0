/**
 * Multi-objective search: problems (`problem.ts`), NSGA-II (`nsga2.ts`) with its operators (`operators.ts`),
 * ranking (`ranking.ts`) and termination (`termination.ts`), the random-search baseline, the hypervolume, the
 * ZDT test problems, and the seed-000 search spaces (`spaces.ts`) with their networks and complexity
 * (`seed000.ts`). Problem, algorithm, operators and termination are separate, so any objectives can be searched.
 */
export * from './problem.js';
export * from './ranking.js';
export * from './operators.js';
export * from './termination.js';
export * from './nsga2.js';
export * from './random-search.js';
export * from './hypervolume.js';
export * from './zdt.js';
export * from './spaces.js';
export * from './seed000.js';
