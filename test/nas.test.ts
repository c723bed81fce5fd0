/**
 * tck nas (seed 000 §2.3): a smoke search killed with SIGKILL during a generation and rerun ends with the same
 * final population, front and tables as an uninterrupted run; its outputs (decoded CSVs, front weights,
 * log.jsonl with the hypervolume per generation, figures, comparison.csv) and the random-search baseline with
 * the same budget; presets without their data fail with the command that gets it, before a run directory
 * exists; a genome whose network cannot be built keeps its complexity and scores accuracy 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tck, TCK } from './helpers/tck.js';
import { tmpDir } from './helpers/tmp.js';
import { readCsvRows } from '../src/report/tables.js';
import { getEntry, isPresent } from '../src/data/registry.js';
import { nasPresetConfig, nasSetup, prepareCandidate, scoreCandidate, NasConfigSchema, NAS_DEFAULTS } from '../src/experiments/nas.js';
import { extremeGenes, spaceBounds } from '../src/search/index.js';
import { describeLayers } from '../src/models/arch.js';

const cardioMissing = isPresent(getEntry('cardio')) ? false : 'the cardio dataset is missing: tck data fetch cardio (offline, from the Debian package)';

/** The deterministic part of a CSV: every row without its timing columns. */
const stableCsv = (file: string) => readCsvRows(file).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !/seconds/i.test(k))));

const readLog = (dir: string) =>
  fs.existsSync(path.join(dir, 'log.jsonl'))
    ? fs
        .readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return []; // a line half written when the process was killed
          }
        })
    : [];

test('a smoke search killed with SIGKILL during a generation resumes to the same final population as an uninterrupted run', { skip: cardioMissing }, async (t) => {
  const root = tmpDir(t);
  const whole = path.join(root, 'whole');
  const killed = path.join(root, 'killed');
  const args = ['nas', '--preset', 'mlp-cardio', '--profile', 'smoke', '--quiet', '--json'];

  const a = tck([...args, '--out', whole]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.json?.evaluations, 10, 'smoke: population 6 + 2 generations x 2 offspring');

  // Kill the second run once generation 2 has finished some of its trainings but not all (one worker thread, so
  // the jobs finish one at a time).
  const child = spawn(process.execPath, [TCK, ...args, '--out', killed, '--workers', '1'], { env: { ...process.env, TCK_BACKEND: 'wasm' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
  let sawJob = false;
  for (let i = 0; i < 6000 && child.exitCode === null; i++) {
    const log = readLog(killed);
    if (log.some((e) => e.type === 'job-done' && String(e.label).startsWith('g2-'))) {
      child.kill('SIGKILL');
      sawJob = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await exited, -9, 'the run was killed, not finished');
  assert.ok(sawJob);
  const before = readLog(killed);
  assert.deepEqual(before.filter((e) => e.type === 'generation').map((e) => e.generation), [1], 'killed during generation 2');
  assert.ok(!fs.existsSync(path.join(killed, 'population.csv')));

  const b = tck([...args.filter((x) => x !== '--quiet'), '--out', killed, '--workers', '1']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /resuming NSGA-II after generation 1 \(6 evaluations\)/);
  assert.match(b.stderr, /finished before, taken from the ledger/, 'generation 2 reuses its finished trainings');

  for (const f of ['population.csv', 'front.csv', 'evaluations.csv', 'random-search.csv']) {
    assert.deepEqual(stableCsv(path.join(killed, f)), stableCsv(path.join(whole, f)), `${f} differs after the resume`);
  }
  const ra = JSON.parse(fs.readFileSync(path.join(whole, 'result.json'), 'utf8'));
  const rb = JSON.parse(fs.readFileSync(path.join(killed, 'result.json'), 'utf8'));
  assert.deepEqual(rb.population, ra.population);
  assert.equal(rb.hypervolume, ra.hypervolume);
  assert.equal(ra.population.length, 6);

  // What a run writes: decoded architectures, the front's trained weights, hypervolume per generation, figures.
  const pop = fs.readFileSync(path.join(whole, 'population.csv'), 'utf8').split('\n');
  assert.match(pop[0], /architecture,weights,activation,compression/);
  assert.match(pop[0], /gene_hidden_layers/);
  assert.match(pop[1], /mlp 21-(\d+-)*10/, 'architectures decoded for 21 features and 10 classes');
  const front = ra.front as { id: string }[];
  assert.ok(front.length >= 1);
  for (const m of front) {
    const w = JSON.parse(fs.readFileSync(path.join(whole, 'front', `${m.id}.json`), 'utf8'));
    assert.ok(w.weights && w.architecture && Array.isArray(w.genes), `front/${m.id}.json holds genes, architecture and weights`);
    assert.equal(typeof w.fold.heldOutAccuracy, 'number');
    assert.equal(w.provenance.seed, 1, 'with the run\'s provenance');
  }
  const gens = readLog(whole).filter((e) => e.type === 'generation');
  assert.deepEqual(gens.map((e) => e.evaluations), [6, 8, 10]);
  for (const g of gens) {
    assert.equal(typeof g.hypervolume, 'number');
    assert.ok((g.population as unknown[]).length === 6 && Array.isArray(g.front));
  }
  assert.ok(gens.every((g, i) => i === 0 || (g.hypervolume as number) >= (gens[i - 1].hypervolume as number) - 1e-12), 'elitism: the population hypervolume never drops');
  for (const f of ['population', 'front', 'hypervolume']) {
    assert.ok(fs.statSync(path.join(whole, 'figures', `${f}.svg`)).size > 1000);
    assert.equal(fs.readFileSync(path.join(whole, 'figures', `${f}.png`)).subarray(1, 4).toString(), 'PNG');
  }
  const comparison = fs.readFileSync(path.join(whole, 'comparison.csv'), 'utf8');
  assert.match(comparison, /000,Table 2\.3,population size,40,6,smoke/);
  assert.match(comparison, /000,Table 2\.4,NAS wall time on cardio \(hours\),9,/);

  // The random-search baseline: the same budget in the same batches (population, then offspring).
  const rs = readLog(whole).filter((e) => e.type === 'random-search');
  assert.deepEqual(rs.map((e) => e.evaluations), [6, 8, 10]);
  const random = readCsvRows(path.join(whole, 'random-search.csv'));
  assert.equal(random.length, 10);
  assert.equal(new Set(random.map((r) => r.genes)).size, 10, 'ten distinct random genomes');
  assert.ok(random.every((r) => String(r.genes).split(' ').length === 17));
  assert.equal(typeof ra.randomSearchHypervolume, 'number');

  // Run again: already finished, nothing recomputed.
  const c = tck([...args, '--out', whole]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.json?.alreadyFinished, true);
});

test('mlp-vertebral and cnn-mini-cifar10 without their data fail with the command that gets it, before a run directory exists', (t) => {
  const data = tmpDir(t);
  const out = tmpDir(t);
  for (const [preset, id] of [['mlp-vertebral', 'vertebral'], ['cnn-mini-cifar10', 'cifar10']]) {
    const dir = path.join(out, preset);
    const r = tck(['nas', '--preset', preset, '--profile', 'smoke', '--out', dir], { TCK_DATA_DIR: data });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`dataset ${id}: file .* is missing\\. Get it with: tck data fetch ${id} \\(downloads https://`));
    assert.match(r.stderr, new RegExp(`tck data import ${id} <file>`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!fs.existsSync(dir), 'no run directory');
  }
});

test('config errors name the field; an unbuildable genome keeps its complexity and scores accuracy 0', () => {
  assert.throws(() => nasPresetConfig('mlp-cardio', 'smoke', { offspring: 9 }), /offspring: must not exceed the population \(6\)/);
  assert.throws(() => nasPresetConfig('mlp-nothing', 'smoke'), /unknown nas preset "mlp-nothing"; known: mlp-vertebral/);
  const r = tck(['nas', '--preset', 'mlp-cardio', '--profile', 'smoke', '--seed', 'x']);
  assert.equal(r.code, 2);
  // The all-highest CNN on 28x28: four stride-2 convolutions shrink the map to nothing (seed 000's reference
  // scores such a network 0). Its complexity is the normalisation's upper bound, so it scores (0, 1).
  const config = NasConfigSchema.parse({ ...NAS_DEFAULTS, space: 'cnn', dataset: 'mini-mnist', backend: 'cpu' });
  const s = nasSetup(config, { shape: [28, 28, 1], classes: 10 }, 'cpu');
  const top = prepareCandidate(s, extremeGenes(s.space, 'highest').map((v, i) => Math.min(v + 0.5, spaceBounds(s.space).xu[i])), 'top');
  assert.match(top.buildError ?? '', /./, 'cannot be built');
  assert.throws(() => describeLayers(top.arch));
  assert.equal(top.jobs.length, 0, 'nothing is trained');
  const scored = scoreCandidate(s, top, [], 1);
  assert.equal(scored.f[1], 1);
  assert.equal(-scored.f[0], 0);
  assert.equal(scored.data.accuracy, 0);
  assert.equal(scored.data.complexity, s.bounds.max);
  assert.match(scored.data.error ?? '', /./);
  // With the repair option the same genome becomes a network that trains (fewer convolutions, a cheaper cost).
  const repaired = nasSetup({ ...config, repair: true }, { shape: [28, 28, 1], classes: 10 }, 'cpu');
  const fixed = prepareCandidate(repaired, extremeGenes(repaired.space, 'highest'), 'top');
  assert.equal(fixed.buildError, null);
  assert.equal(fixed.jobs.length, 5 * 3, '5 folds x 3 repeats (Table 2.3)');
});
