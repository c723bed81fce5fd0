/**
 * src/search: non-dominated sorting, crowding distance and the hypervolume on hand-made sets; NSGA-II on ZDT1-3
 * at the textbook budget (30 variables, population 100, 250 generations, reference point (1.1, 1.1)) against the
 * true front's hypervolume for 3 seeds each; the operators' bounds and probabilities; resuming an ask/tell
 * search from a JSON checkpoint; the random-search baseline; the seed-000 search spaces and their complexity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nonDominatedSort,
  crowdingDistance,
  nonDominated,
  constrainedRelation,
  survive,
  hypervolume,
  zdt,
  zdtFront,
  zdtTrueHypervolume,
  runNsga2,
  nsga2Ask,
  nsga2Tell,
  parseNsga2Config,
  SEED000_OPERATORS,
  sbx,
  polynomialMutation,
  floorRepair,
  integerSample,
  binaryTournament,
  runRandomSearch,
  evaluationBudget,
  searchSpace,
  spaceBounds,
  extremeGenes,
  genomeArchitecture,
  genomeComplexity,
  genomeLayerBits,
  type Individual,
  type Nsga2State,
  type ZdtKind,
} from '../src/search/index.js';
import { rngStream } from '../src/engine/random.js';
import { encodeCheckpoint, decodeCheckpoint } from '../src/run/checkpoint.js';
import { describeLayers } from '../src/models/arch.js';
import { peComplexityReference } from '../src/hw/pe-complexity.js';

const ind = (f: number[], cv = 0, rank = 0, crowding = 0): Individual => ({ x: [], f, g: [], cv, rank, crowding });

test('fast non-dominated sorting puts a hand-made set into its fronts, with constraint domination', () => {
  //            0       1       2       3       4       5       6       7 (copy of 1)
  const F = [[1, 5], [2, 3], [3, 1], [2, 4], [4, 4], [5, 5], [3, 3], [2, 3]];
  assert.deepEqual(nonDominatedSort(F), [[0, 1, 2, 7], [3, 6], [4], [5]]);
  assert.deepEqual(nonDominated(F), [0, 1, 2, 7], 'the O(N log N) sweep agrees with the sort; copies stay in the front');
  assert.deepEqual(nonDominated([[1, 1, 1], [0, 2, 2], [2, 2, 2], [1, 1, 0]]), [1, 3], 'three objectives');
  // Deb 2002 §5: feasible before infeasible, smaller violation first, whatever the objectives say.
  const cv = [0, 0, 2, 0, 1, 0, 0, 0];
  assert.deepEqual(nonDominatedSort(F, cv), [[0, 1, 7], [3, 6], [5], [4], [2]]);
  assert.equal(constrainedRelation({ f: [9, 9], cv: 0 }, { f: [0, 0], cv: 0.1 }), -1);
  assert.equal(constrainedRelation({ f: [0, 0], cv: 0.3 }, { f: [9, 9], cv: 0.1 }), 1);
  assert.equal(constrainedRelation({ f: [0, 1], cv: 0 }, { f: [1, 0], cv: 0 }), 0);
});

test('crowding distance on a hand-made front: boundary points infinite, interior by normalised neighbour gaps', () => {
  // f1 span 5, f2 span 5. Point 1: f1 neighbours 0 and 3, f2 neighbours 2 and 5 -> 3/5 + 3/5.
  // Point 2: f1 neighbours 1 and 5, f2 neighbours 0 and 3 -> 4/5 + 3/5.
  const d = crowdingDistance([[0, 5], [1, 3], [3, 2], [5, 0]]);
  assert.equal(d[0], Infinity);
  assert.equal(d[3], Infinity);
  assert.ok(Math.abs(d[1] - 1.2) < 1e-12, `${d[1]}`);
  assert.ok(Math.abs(d[2] - 1.4) < 1e-12, `${d[2]}`);
  assert.deepEqual(crowdingDistance([[0, 1], [1, 0]]), [Infinity, Infinity], 'two members are both boundaries');
  // An exact copy never looks isolated: it gets 0, the first of the two keeps its distance.
  const c = crowdingDistance([[0, 5], [1, 3], [3, 2], [5, 0], [1, 3]]);
  assert.ok(Math.abs(c[1] - 1.2) < 1e-12);
  assert.equal(c[4], 0);
  // Survival (Deb 2002 §3.C) cuts the front that does not fit by crowding distance: the most crowded goes.
  const pop = [[0, 5], [1, 3], [1.2, 2.9], [3, 2], [5, 0], [6, 6]].map((f) => ind(f));
  const kept = survive(pop, 4).map((i) => i.f);
  assert.equal(kept.length, 4);
  assert.ok(!kept.some((f) => f[0] === 6), 'the dominated point goes first');
  assert.ok(kept.some((f) => f[0] === 0) && kept.some((f) => f[0] === 5), 'boundary points survive');
  assert.equal(kept.filter((f) => f[0] === 1 || f[0] === 1.2).length, 1, 'of the two close points one survives');
});

test('hypervolume of hand-made sets in two and three objectives', () => {
  // Staircase (1,3), (2,2), (3,1) under (4,4): strips 1x1 + 1x2 + 1x3.
  assert.equal(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]), 6);
  assert.equal(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]], [4, 4]), 6, 'dominated points and points outside the box add nothing');
  // Two boxes 2x1x1 and 1x2x2 overlapping in a unit cube: 2 + 4 - 1.
  assert.equal(hypervolume([[0, 1, 1], [1, 0, 0]], [2, 2, 2]), 5);
  assert.throws(() => hypervolume([[1, 2, 3]], [4, 4]), /3 objectives but the reference point 2/);
  // The closed forms of the ZDT1/ZDT2 fronts agree with the dense sample of the front.
  for (const kind of ['zdt1', 'zdt2'] as const) {
    const sampled = hypervolume(zdtFront(kind, 20001), [1.1, 1.1]);
    assert.ok(Math.abs(sampled - zdtTrueHypervolume(kind)) < 1e-4, `${kind}: sample ${sampled} vs closed form ${zdtTrueHypervolume(kind)}`);
  }
});

/** NSGA-II as Deb et al. 2002 ran it on ZDT: SBX 0.9 / 15, PM with eta 20 and 1/n per variable. */
const ZDT_CONFIG = { popSize: 100, crossover: SEED000_OPERATORS.crossover, mutation: { prob: 1, eta: 20, varProb: null } };
const ZDT_TARGET: Record<ZdtKind, number> = { zdt1: 0.985, zdt2: 0.98, zdt3: 0.99 };

for (const kind of ['zdt1', 'zdt2', 'zdt3'] as const) {
  test(`NSGA-II on ${kind.toUpperCase()} (30 variables, population 100, 250 generations) reaches ${100 * ZDT_TARGET[kind]}% of the true front's hypervolume for seeds 1-3`, async () => {
    const p = zdt(kind, 30);
    const truth = zdtTrueHypervolume(kind, [1.1, 1.1]);
    for (const seed of [1, 2, 3]) {
      const s = await runNsga2(p, (x) => x.map((xi) => p.evaluate(xi)), { config: ZDT_CONFIG, termination: { kind: 'generations', n: 250 }, seed });
      assert.equal(s.generation, 250);
      assert.equal(s.evaluations, 100 * 250);
      assert.equal(s.population.length, 100);
      const F = s.population.map((i) => i.f);
      const ratio = hypervolume(nonDominated(F).map((i) => F[i]), [1.1, 1.1]) / truth;
      assert.ok(ratio >= ZDT_TARGET[kind], `${kind}, seed ${seed}: ${(100 * ratio).toFixed(3)}% of the true hypervolume ${truth.toFixed(5)}`);
      assert.ok(ratio <= 1 + 1e-9, `${kind}, seed ${seed}: above the true front (${ratio})`);
    }
  });
}

test('an ask/tell search resumed from a checkpoint ends exactly where an uninterrupted one does', async () => {
  const p = zdt('zdt1', 10);
  const cfg = parseNsga2Config({ popSize: 20, nOffspring: 6, crossover: SEED000_OPERATORS.crossover, mutation: SEED000_OPERATORS.mutation });
  const step = (s: Nsga2State | null) => {
    const { x, rng } = nsga2Ask(p, cfg, s, 7);
    return nsga2Tell(p, cfg, s, x, x.map((xi) => p.evaluate(xi)), rng);
  };
  let a: Nsga2State | null = null;
  for (let g = 0; g < 12; g++) a = step(a);
  let b: Nsga2State | null = null;
  for (let g = 0; g < 5; g++) b = step(b);
  b = decodeCheckpoint<Nsga2State>(encodeCheckpoint(b), 'test'); // a checkpoint written and read back (crowding may be Infinity)
  for (let g = 5; g < 12; g++) b = step(b);
  assert.deepEqual(b, a);
  assert.equal(a!.evaluations, 20 + 11 * 6);
  assert.equal(evaluationBudget({ kind: 'generations', n: 12 }, 20, 6), a!.evaluations);
  // A different seed searches differently.
  const other = nsga2Ask(p, cfg, null, 8).x;
  assert.notDeepEqual(other, nsga2Ask(p, cfg, null, 7).x);
});

test('operators: SBX and polynomial mutation stay in bounds; mutation touches 1/n of the variables; floor repair gives uniform options', () => {
  const rng = rngStream(3, 'search');
  const p = { xl: [0, 0, -1, 0], xu: [1, 3.99, 1, 7.99] };
  let mutated = 0;
  const n = 4000;
  for (let t = 0; t < n; t++) {
    const a = p.xl.map((l, i) => l + rng.next() * (p.xu[i] - l));
    const b = p.xl.map((l, i) => l + rng.next() * (p.xu[i] - l));
    const [c1, c2] = sbx(a, b, p, SEED000_OPERATORS.crossover, rng);
    const m = polynomialMutation(c1, p, SEED000_OPERATORS.mutation, rng);
    for (const v of [c1, c2, m]) v.forEach((x, i) => assert.ok(x >= p.xl[i] && x <= p.xu[i], `variable ${i} = ${x} out of bounds`));
    mutated += m.filter((x, i) => x !== c1[i]).length;
  }
  // Individual probability 0.9 (Table 2.3) x per-variable probability min(0.5, 1/4) x 4 variables = 0.9.
  const perIndividual = mutated / n;
  assert.ok(Math.abs(perIndividual - 0.9) < 0.06, `mutated variables per individual: ${perIndividual}`);
  // Genes encoded as reals in [0, n - 1 + 0.99] and floored: every option about equally likely.
  const q = { xl: [0], xu: [3.99] };
  const counts = [0, 0, 0, 0];
  for (let t = 0; t < 8000; t++) counts[floorRepair([rng.next() * 3.99], q)[0]]++;
  for (const c of counts) assert.ok(Math.abs(c / 8000 - 0.25) < 0.02, `option frequencies ${counts}`);
  const ints = new Set(Array.from({ length: 200 }, () => integerSample(q, rng)[0]));
  assert.deepEqual([...ints].sort(), [0, 1, 2, 3]);
  assert.deepEqual(floorRepair([3.999, -0.5, 2.7], { xl: [0, 0, 0], xu: [3.99, 3.99, 3.99] }), [3, 0, 2]);
});

test('binary tournament: constraint violation, then rank, then crowding decide', () => {
  const rng = rngStream(1, 'search');
  // Four members: the concatenated permutations then never pair a member with itself.
  const pop = [ind([0, 0], 0.5, 0, 9), ind([1, 1], 0, 1, 0), ind([2, 2], 0, 1, 3), ind([3, 3], 0, 2, 50)];
  const wins = [0, 0, 0, 0];
  for (const w of binaryTournament(pop, 3000, rng)) wins[w]++;
  // The infeasible one loses every tournament, the worst rank wins only against it, and between the two of
  // equal rank the larger crowding distance wins.
  assert.equal(wins[0], 0);
  assert.ok(wins[3] > 0 && wins[3] < wins[1] && wins[1] < wins[2], `${wins}`);
  const byRank = [ind([0, 0], 0, 2, 9), ind([1, 1], 0, 0, 0)];
  const w2 = binaryTournament(byRank, 500, rng);
  assert.ok(w2.every((w) => w === 1), 'the lower rank wins whenever the two meet, whatever the crowding');
});

test('random-search baseline: the same budget and batches as NSGA-II, unique candidates, and NSGA-II beats it on ZDT1', async () => {
  const p = zdt('zdt1', 30);
  const evaluate = (x: number[][]) => x.map((xi) => p.evaluate(xi));
  const termination = { kind: 'generations' as const, n: 40 };
  const budget = evaluationBudget(termination, 50, 50);
  const batches: number[] = [];
  const rs = await runRandomSearch(p, evaluate, { config: { sampling: 'float', repair: 'none', batchSizes: [50, 50], budget }, seed: 1, onBatch: (_s, info) => void batches.push(info.evaluated.length) });
  assert.equal(rs.evaluations, budget);
  assert.equal(batches.length, 40);
  assert.ok(batches.every((b) => b === 50));
  assert.equal(new Set(rs.archive.map((i) => i.x.join(','))).size, budget, 'no candidate twice');
  const ga = await runNsga2(p, evaluate, { config: { ...ZDT_CONFIG, popSize: 50 }, termination, seed: 1 });
  assert.equal(ga.evaluations, budget);
  const hv = (F: number[][]) => hypervolume(nonDominated(F).map((i) => F[i]), [1.1, 1.1]);
  const hvRandom = hv(rs.archive.map((i) => i.f));
  const hvGa = hv(ga.population.map((i) => i.f));
  assert.ok(hvGa > hvRandom + 0.1, `NSGA-II ${hvGa} vs random search ${hvRandom} at ${budget} evaluations`);
  // Integer genes: random candidates are floored options, unique over the whole search.
  const space = searchSpace('mlp');
  const q = { name: 'mlp', nObj: 1, nConstr: 0, ...spaceBounds(space) };
  const ri = await runRandomSearch(q, (x) => x.map((xi) => ({ f: [xi.reduce((a, b) => a + b, 0)] })), { config: { sampling: 'integer', repair: 'floor', batchSizes: [30, 10], budget: 60 }, seed: 2 });
  assert.equal(ri.archive.length, 60);
  assert.ok(ri.archive.every((i) => i.x.every((v, k) => Number.isInteger(v) && v >= 0 && v < space.genes[k].options.length)));
});

test('seed-000 spaces: the reference gene counts, decoding, and the complexity heuristic without building the network', () => {
  const mlp = searchSpace('mlp');
  const cnn = searchSpace('cnn');
  const cnnRef = searchSpace('cnn', 'reference');
  assert.equal(mlp.genes.length, 17);
  assert.equal(cnn.genes.length, 35);
  assert.deepEqual(cnn.genes.find((g) => g.name === 'fc_layers')!.options, [0, 1, 2, 3], 'Table 2.2: 0-3 hidden FC layers');
  assert.deepEqual(cnnRef.genes.find((g) => g.name === 'fc_layers')!.options, [1, 2, 3], 'the reference code: 1-3');
  assert.deepEqual(cnnRef.genes.find((g) => g.name === 'fc_height1')!.options, [8, 16, 32, 64, 128]);
  assert.deepEqual(spaceBounds(mlp).xu.slice(0, 3), [7.99, 3.99, 6.99], 'bounds [0, n - 1 + 0.99]');
  assert.throws(() => mlp.decode(mlp.genes.map(() => 0).map((v, i) => (i === 1 ? 4 : v))), /gene 1 \(hidden_layers\) = 4 is not an index of its 4 options/);
  assert.throws(() => searchSpace('cnn', 'table', { conv_channels1: [17] }), /geneOptions\.conv_channels1: \[17\] not among/);

  // MLP on 21 features, 10 classes: all-lowest is 21 -> 10 binary, no activation: 21 x 10 x 1 = 210.
  const ctx = { input: [21], classes: 10 };
  assert.equal(genomeComplexity(mlp.decode(extremeGenes(mlp, 'lowest')), ctx).total, 210);
  // All-highest: 21-32-32-32-10 float (coefficient 32), ReLU (10 per unit), output costed with the activation too.
  const hi = (21 * 32 + 32 * 32 + 32 * 32 + 32 * 10) * 32 + (32 + 32 + 32 + 10) * 10;
  assert.equal(genomeComplexity(mlp.decode(extremeGenes(mlp, 'highest')), ctx).total, hi);

  // On every buildable genome the arithmetic equals the heuristic of the built architecture (src/hw).
  const rng = rngStream(5, 'search');
  const img = { input: [28, 28, 1], classes: 10 };
  let checked = 0;
  for (let t = 0; t < 60; t++) {
    for (const [space, c] of [[mlp, ctx], [cnn, img]] as const) {
      const genome = space.decode(floorRepair(integerSample(spaceBounds(space), rng), spaceBounds(space)));
      const arch = genomeArchitecture(genome, { ...c, quirks: true });
      try {
        describeLayers(arch);
      } catch {
        continue;
      }
      const ref = peComplexityReference(arch, { layers: genomeLayerBits(genome, { ...c, quirks: true }), inputBits: genome.inBits, otherBits: 32 }, { quirks: false });
      assert.equal(genomeComplexity(genome, { ...c, quirks: true }).total, ref.total, `${arch.layers.map((l) => l.kind).join(',')}`);
      checked++;
    }
  }
  assert.ok(checked > 60, `${checked} genomes compared`);

  // The all-highest CNN on 28x28 (four stride-2 convolutions) cannot be built, but its heuristic is computed by the
  // reference's arithmetic (the map shrinks 28 -> 13 -> 6 -> 2 -> 0), so the normalisation bound exists.
  const top = cnn.decode(extremeGenes(cnn, 'highest'));
  assert.throws(() => describeLayers(genomeArchitecture(top, img)));
  const c = genomeComplexity(top, img);
  assert.ok(Number.isFinite(c.total) && c.total > genomeComplexity(cnn.decode(extremeGenes(cnn, 'lowest')), img).total);
  // The repair option keeps it buildable by dropping what does not fit.
  const repaired = genomeArchitecture(top, { ...img, repair: true });
  assert.doesNotThrow(() => describeLayers(repaired));
  assert.ok(repaired.layers.filter((l) => l.kind === 'conv2d').length < 4);
});
