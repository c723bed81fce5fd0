/**
 * Issue 12 (performance, measuring part): the `nas-candidate` and `vgg7s-train` workloads of `npm run bench`
 * run through the kit's own paths and report what they measured, and bench/torch_peer.py has a PyTorch
 * counterpart of every workload the CLI compares (run when /usr/bin/python3 can import torch).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initEngine, tf } from '../src/engine/backend.js';
import { runBench, prepareRoundBenches, BENCH_WORKLOADS, TORCH_PEER_WORKLOADS, type BenchResult } from '../src/bench/workloads.js';
import { isPresent, getEntry } from '../src/data/registry.js';
import { median } from '../src/util/stats.js';
import { perfTableRows, perfTableMarkdown, perfTableCaption, replaceMarked, updatePerfTable, PERF_TARGETS, PERF_TABLE_START, PERF_TABLE_END, type BenchJson } from '../src/report/perf-table.js';
import { ROOT, tck } from './helpers/tck.js';

const PYTHON = '/usr/bin/python3';
const PEER = path.join(ROOT, 'bench', 'torch_peer.py');
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

let backend = 'wasm';
before(async () => {
  backend = (await initEngine({ backend: 'wasm' })).backend;
});

test('the issue-12 workloads are registered and all have a PyTorch peer', () => {
  for (const n of ['nas-candidate', 'vgg7s-train']) {
    assert.ok((BENCH_WORKLOADS as readonly string[]).includes(n), n);
    assert.ok(TORCH_PEER_WORKLOADS.includes(n), n);
  }
  for (const n of TORCH_PEER_WORKLOADS) assert.ok((BENCH_WORKLOADS as readonly string[]).includes(n), `${n} is a bench workload`);
});

test('vgg7s-train: trains VGG7 at quarter width through runJob and reports a positive rate', async () => {
  const got: BenchResult[] = [];
  const out = await runBench({ only: ['vgg7s-train'], repeats: 1, minSeconds: 0.05, backend, onResult: (r) => got.push(r) });
  assert.equal(out.length, 1);
  assert.deepEqual(got, out);
  const [r] = out;
  assert.equal(r.name, 'vgg7s-train');
  assert.equal(r.batch, 50);
  assert.equal(r.repeats.length, 1);
  assert.ok(r.samplesPerSec > 0 && Number.isFinite(r.samplesPerSec), String(r.samplesPerSec));
});

test('nas-candidate: 15 fold trainings of the seed-000 protocol, with the epochs they ran', async (t) => {
  if (!isPresent(getEntry('cardio'))) {
    const skipped: string[] = [];
    await runBench({ only: ['nas-candidate'], repeats: 1, backend, onSkip: (n, why) => skipped.push(`${n}: ${why}`) });
    assert.match(skipped.join('\n'), /nas-candidate: .*tck data fetch cardio/);
    t.skip('the Cardiotocography dataset is missing');
    return;
  }
  const [r] = await runBench({ only: ['nas-candidate'], repeats: 1, backend });
  assert.equal(r.name, 'nas-candidate');
  assert.equal(r.repeats.length, 1);
  assert.equal(r.details?.trainings, 15);
  const epochs = r.details?.meanEpochs as number;
  assert.ok(epochs >= 1 && epochs <= 30, `mean epochs ${epochs}`);
  // Samples per second over the candidate's wall time: trained samples (about 1530 per epoch) / seconds.
  const seconds = r.details?.secondsPerCandidate as number;
  const samples = r.samplesPerSec * seconds;
  assert.ok(Math.abs(samples / (15 * epochs) - 1531) < 40, `samples per training epoch ${samples / (15 * epochs)}`);
});

test('torch_peer.py measures nas-candidate and vgg7s-train (skipped without torch)', { skip: !torchAvailable && `${PYTHON} cannot import torch` }, () => {
  const r = spawnSync(PYTHON, [PEER, '--threads', '1', '--repeats', '1', '--min-seconds', '0.05', '--candidate-max-seconds', '0.01', '--only', 'nas-candidate,vgg7s-train'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(j.results.map((x: BenchResult) => x.name), ['nas-candidate', 'vgg7s-train']);
  for (const x of j.results) assert.ok(x.samplesPerSec > 0, `${x.name} ${x.samplesPerSec}`);
  const nas = j.results[0];
  assert.equal(nas.details.trainings, 15);
  // The time cap stops the candidate after its first training, and says so.
  assert.equal(nas.details.trainingsDone, 1);
  const bad = spawnSync(PYTHON, [PEER, '--only', 'vgg7s-trian'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown workload\(s\): vgg7s-trian; known: .*nas-candidate.*vgg7s-train|unknown workload\(s\): vgg7s-trian; known: .*vgg7s-train.*nas-candidate/);
});

// ---- Interleaved rounds and the README's performance table ----

test('round benches: sized once, one measurement per round, the median of the rounds reported', async () => {
  const before = tf.memory().numTensors;
  const benches = await prepareRoundBenches({ only: ['mlp-train', 'lenet5-infer', 'jobs-throughput'], minSeconds: 0.05, backend });
  // Only workloads with a PyTorch peer run in rounds, in runBench's order.
  assert.deepEqual(benches.map((b) => b.name), ['lenet5-infer', 'mlp-train']);
  try {
    for (const b of benches) {
      const units = b.units;
      assert.ok(Number.isInteger(units) && units >= 2, `${b.name} units ${units}`);
      const got = [await b.measureRound(0), await b.measureRound(1), await b.measureRound(2)];
      assert.equal(b.units, units, 'the size does not change between rounds');
      const r = b.result();
      assert.deepEqual(r.repeats, got);
      assert.equal(r.samplesPerSec, median(got));
      assert.ok(got.every((x) => x > 0 && Number.isFinite(x)), got.join(' '));
    }
  } finally {
    for (const b of benches) b.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('torch_peer.py --round and --warmup-seconds (skipped without torch)', { skip: !torchAvailable && `${PYTHON} cannot import torch` }, () => {
  const r = spawnSync(PYTHON, [PEER, '--threads', '1', '--repeats', '1', '--round', '3', '--warmup-seconds', '0.01', '--min-seconds', '0.05', '--only', 'mlp-train'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(j.results[0].repeats.length, 1);
  const bad = spawnSync(PYTHON, [PEER, '--round', '-1'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});

test('tck bench measures the kit and PyTorch in interleaved rounds and records samples, ratios and loads', { timeout: 180_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tck-bench-rounds-'));
  try {
    const r = tck(['bench', '--only', 'mlp-train', '--repeats', '2', '--min-seconds', '0.05', '--json', '--out', path.join(out, 'run')]);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json as Record<string, any>;
    // The old shape stays.
    assert.equal(j.backend, 'wasm');
    assert.equal(j.results[0].name, 'mlp-train');
    assert.ok(j.results[0].samplesPerSec > 0);
    assert.ok(Array.isArray(j.torch));
    // Two rounds, each with the load average at its start and end.
    assert.equal(j.rounds.length, 2);
    for (const x of j.rounds) {
      assert.equal(x.loadStart.length, 3);
      assert.equal(x.loadEnd.length, 3);
      assert.ok(x.seconds > 0);
    }
    const [c] = j.comparison;
    assert.equal(c.name, 'mlp-train');
    assert.equal(c.kit.samples.length, 2);
    assert.equal(c.kit.samplesPerSec, median(c.kit.samples));
    if (torchAvailable) {
      assert.deepEqual(c.torch.map((t: any) => t.threads), [1, 2]);
      for (const t of c.torch) {
        assert.equal(t.samples.length, 2, 'one PyTorch measurement per round and thread count');
        assert.equal(t.samplesPerSec, median(t.samples));
      }
      const best = Math.max(...c.torch.map((t: any) => t.samplesPerSec));
      assert.ok(Math.abs(c.ratio - c.kit.samplesPerSec / best) < 1e-9 * c.ratio);
      assert.equal(j.torch[0].samplesPerSec, best);
      assert.deepEqual(c.roundRatios, [0, 1].map((k) => c.kit.samples[k] / Math.max(c.torch[0].samples[k], c.torch[1].samples[k])));
      // Round by round: the kit, then PyTorch with 1 and 2 threads, in each round's progress line.
      assert.match(r.stderr, /round 1\/2 .*mlp-train \d+ \(torch 1t \d+, 2t \d+\)[\s\S]*round 2\/2 .*mlp-train \d+ \(torch 1t \d+, 2t \d+\)/);
    } else {
      assert.equal(c.ratio, null);
    }
    // bench.json in the run directory holds the same and feeds the table.
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'run', 'bench.json'), 'utf8'));
    assert.deepEqual(saved.comparison, j.comparison);
    assert.deepEqual(saved.rounds, j.rounds);
    assert.match(perfTableMarkdown(saved), /\| `mlp-train` \| [\d,]+ \|/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

/** A bench JSON as tck bench writes it, with chosen medians. */
function fakeBench(): BenchJson {
  const side = (threads: number, samplesPerSec: number) => ({ threads, samplesPerSec, samples: [samplesPerSec] });
  return {
    backend: 'wasm',
    results: [],
    torch: [],
    torchVersion: '1.13.0a0',
    comparison: [
      // 1200 / max(1000, 800) = 1.2: the done target (1.0) met, not the goal (1.5).
      { name: 'lenet5-train', kit: { samplesPerSec: 1200 }, torch: [side(1, 1000), side(2, 800)] },
      // 30000 / max(2000, 3000) = 10: the goal met exactly.
      { name: 'mlp-train', kit: { samplesPerSec: 30000 }, torch: [side(1, 2000), side(2, 3000)] },
      // 50 / 100 = 0.5 < 0.6.
      { name: 'vgg7s-train', kit: { samplesPerSec: 50 }, torch: [side(1, 100), side(2, 40)] },
      // 1495 / 1000 = 1.495: shown as 1.50 it would look met; it is not.
      { name: 'lenet5-infer', kit: { samplesPerSec: 1495 }, torch: [side(1, 1000), side(2, 900)] },
      { name: 'binary-infer', kit: { samplesPerSec: 9 }, torch: [] },
    ],
    rounds: [
      { round: 1, loadStart: [1.5, 1.2, 0.8], loadEnd: [2.25, 1.3, 0.8] },
      { round: 2, loadStart: [2.25, 1.3, 0.8], loadEnd: [3.1, 1.5, 0.9] },
    ],
    machine: { cpu: 'AMD EPYC', cores: 2 },
    startedAt: '2026-12-02T10:00:00.000Z',
    endedAt: '2026-12-02T10:05:00.000Z',
    runDir: 'results/bench-wasm-custom',
    commit: '0123456789abcdef',
    dirty: true,
  };
}

test('perf table: ratios against the better PyTorch median, and the done / goal flags of issue 12', () => {
  assert.deepEqual(Object.keys(PERF_TARGETS), ['lenet5-train', 'mlp-train', 'nas-candidate', 'vgg7s-train', 'lenet5-infer']);
  assert.deepEqual(PERF_TARGETS['mlp-train'], { done: 3, goal: 10 });
  assert.deepEqual(PERF_TARGETS['vgg7s-train'], { done: 0.6, goal: 1 });
  const rows = Object.fromEntries(perfTableRows(fakeBench()).map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(rows), Object.keys(PERF_TARGETS));
  assert.equal(rows['lenet5-train'].ratio, 1.2);
  assert.equal(rows['lenet5-train'].bestThreads, 1);
  assert.equal(rows['lenet5-train'].met, 'done');
  assert.equal(rows['mlp-train'].ratio, 10);
  assert.equal(rows['mlp-train'].bestThreads, 2);
  assert.equal(rows['mlp-train'].met, 'goal');
  assert.equal(rows['vgg7s-train'].ratio, 0.5);
  assert.equal(rows['vgg7s-train'].met, 'no');
  assert.equal(rows['lenet5-infer'].met, 'no');
  assert.equal(rows['nas-candidate'].ratio, null);
  assert.equal(rows['nas-candidate'].met, null);

  const md = perfTableMarkdown(fakeBench()).split('\n');
  assert.equal(md[0], '| benchmark | kit samples/s | PyTorch samples/s (1 / 2 threads) | ratio | "done at" target | goal | met? |');
  assert.equal(md.length, 2 + 5);
  assert.equal(md[2], '| `lenet5-train` | 1,200 | 1,000 / 800 | 1.20 | ≥ 1.0 | ≥ 1.5 | yes |');
  assert.equal(md[3], '| `mlp-train` | 30,000 | 2,000 / 3,000 | 10.00 | ≥ 3.0 | ≥ 10 | yes, goal too |');
  assert.equal(md[4], '| `nas-candidate` | not measured | - | - | ≥ 5.0 | ≥ 20 | - |');
  assert.equal(md[5], '| `vgg7s-train` | 50 | 100 / 40 | 0.50 | ≥ 0.6 | ≥ 1.0 | no |');
  assert.equal(md[6], '| `lenet5-infer` | 1,495 | 1,000 / 900 | 1.495 | ≥ 1.5 | ≥ 3.0 | no |');
  // Custom targets choose the rows.
  assert.equal(perfTableMarkdown(fakeBench(), { 'vgg7s-train': { done: 0.4, goal: 0.5 } }).split('\n')[2].split('|').at(-2)!.trim(), 'yes, goal too');
  // An older bench.json (no comparison, only the better PyTorch figure) still gives a ratio.
  const old: BenchJson = { backend: 'wasm', results: [{ name: 'lenet5-train', samplesPerSec: 900 }], torch: [{ name: 'lenet5-train', samplesPerSec: 1000, threads: 2 }] };
  const [r] = perfTableRows(old, { 'lenet5-train': PERF_TARGETS['lenet5-train'] });
  assert.equal(r.ratio, 0.9);
  assert.equal(r.met, 'no');
  assert.match(perfTableMarkdown(old), /\| `lenet5-train` \| 900 \| 1,000 \(2 threads, the better\) \| 0\.90 \|/);

  const caption = perfTableCaption(fakeBench());
  assert.match(caption, /2026-12-02/);
  assert.match(caption, /AMD EPYC, 2 cores/);
  assert.match(caption, /1\.50 \/ 1\.20 \/ 0\.80 at the start, 3\.10 \/ 1\.50 \/ 0\.90 at the end/);
  assert.match(caption, /1-minute load 1\.50-3\.10 over the rounds/);
  assert.match(caption, /medians of 2 rounds, kit and PyTorch 1\.13\.0a0 interleaved/);
  assert.match(perfTableCaption({ ...fakeBench(), torchVersion: null, comparison: [], rounds: [fakeBench().rounds![0]] }), /medians of 1 round, kit only/);
  assert.match(caption, /`results\/bench-wasm-custom` \(commit 0123456 with uncommitted changes\)/);
});

test('perf table: only the marked part of the README is rewritten; missing markers fail clearly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tck-perf-table-'));
  try {
    const head = '# Kit\n\nSome text | with a pipe.\n\n### Measured throughput\n\n';
    const tail = '\n\nThis machine is shared.\n\n## Next section\n';
    const file = path.join(dir, 'README.md');
    fs.writeFileSync(file, `${head}${PERF_TABLE_START}\nold table\nold caption\n${PERF_TABLE_END}${tail}`);
    assert.equal(updatePerfTable(file, fakeBench(), { runDir: 'results/x', partial: true }), true);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith(`${head}${PERF_TABLE_START}\n| benchmark |`), text);
    assert.ok(text.endsWith(`run directory \`results/x\` (commit 0123456 with uncommitted changes). Ratio = kit / the better of PyTorch's 1- and 2-thread medians.\n${PERF_TABLE_END}${tail}`), text);
    assert.doesNotMatch(text, /old table|old caption/);
    assert.match(text, /\| `mlp-train` \| 30,000 \|/);
    // Idempotent: the same input leaves the file as it is.
    assert.equal(updatePerfTable(file, fakeBench(), { runDir: 'results/x', partial: true }), false);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    // A run without every row's ratio (here nas-candidate) is refused unless partial, and the file is untouched.
    assert.throws(() => updatePerfTable(file, fakeBench(), { runDir: 'results/y' }), /no kit\/PyTorch ratio for nas-candidate.*--partial/);
    assert.equal(fs.readFileSync(file, 'utf8'), text);

    // No markers, one missing, repeated, or out of order: a clear error, and the file untouched.
    const bad = [
      ['# Kit\nno markers here\n', /has no <!-- perf-table:start --> marker/],
      [`# Kit\n${PERF_TABLE_START}\ntable\n`, /has no <!-- perf-table:end --> marker/],
      [`${PERF_TABLE_START}\n${PERF_TABLE_END}\n${PERF_TABLE_START}\n${PERF_TABLE_END}\n`, /has 2 <!-- perf-table:start --> markers/],
      [`${PERF_TABLE_END}\nx\n${PERF_TABLE_START}\n`, /<!-- perf-table:end --> comes before <!-- perf-table:start -->/],
    ] as const;
    for (const [content, message] of bad) {
      fs.writeFileSync(file, content);
      assert.throws(() => updatePerfTable(file, fakeBench(), { partial: true }), message);
      assert.equal(fs.readFileSync(file, 'utf8'), content);
    }
    assert.equal(replaceMarked(`a${PERF_TABLE_START}${PERF_TABLE_END}b`, 'T\n\n'), `a${PERF_TABLE_START}\nT\n${PERF_TABLE_END}b`);

    // The npm script: rewrites the given README from a run's bench.json, and fails with the reason.
    const benchFile = path.join(dir, 'bench.json');
    fs.writeFileSync(benchFile, JSON.stringify(fakeBench()));
    fs.writeFileSync(file, `x\n${PERF_TABLE_START}\n${PERF_TABLE_END}\ny\n`);
    const script = path.join(ROOT, 'scripts', 'perf-table.mjs');
    const partial = spawnSync(process.execPath, ['--import', 'tsx', script, benchFile, '--readme', file], { encoding: 'utf8', cwd: ROOT });
    assert.equal(partial.status, 1, 'a run without every ratio is refused');
    assert.match(partial.stderr, /no kit\/PyTorch ratio for nas-candidate/);
    const ok = spawnSync(process.execPath, ['--import', 'tsx', script, benchFile, '--readme', file, '--partial'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`^x\\n${PERF_TABLE_START}\\n\\| benchmark [^]*run directory \`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\`[^]*${PERF_TABLE_END}\\ny\\n$`));
    fs.writeFileSync(file, 'no markers\n');
    const fail = spawnSync(process.execPath, ['--import', 'tsx', script, benchFile, '--readme', file, '--partial'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(fail.status, 1);
    assert.match(fail.stderr, /perf-table: .*README\.md has no <!-- perf-table:start --> marker/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'no markers\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
