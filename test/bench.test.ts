/**
 * Issue 12 (performance, measuring part): the `nas-candidate` and `vgg7s-train` workloads of `npm run bench`
 * run through the kit's own paths and report what they measured, and bench/torch_peer.py has a PyTorch
 * counterpart of every workload the CLI compares (run when /usr/bin/python3 can import torch).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initEngine } from '../src/engine/backend.js';
import { runBench, BENCH_WORKLOADS, TORCH_PEER_WORKLOADS, type BenchResult } from '../src/bench/workloads.js';
import { isPresent, getEntry } from '../src/data/registry.js';
import { ROOT } from './helpers/tck.js';

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
