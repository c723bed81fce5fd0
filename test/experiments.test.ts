/**
 * The experiment engine: job specs as data, runJob's purity, layer ids and weight inheritance, executors that
 * agree bit for bit (in-process, worker threads, BullMQ workers on a Redis the test starts), the ledger
 * (resume after SIGKILL without retraining), and faults (NaN loss, impossible architectures, dead workers,
 * Redis unreachable or lost).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { initEngine } from '../src/engine/backend.js';
import { parseJobSpec, jobKey, type JobSpecInput } from '../src/experiments/job.js';
import { runJob, deterministicPart } from '../src/experiments/run-job.js';
import { inProcessExecutor } from '../src/experiments/executor.js';
import { poolExecutor } from '../src/experiments/pool.js';
import { bullmqExecutor, connectRedis } from '../src/experiments/bullmq.js';
import { runJobs, type JobRecord } from '../src/experiments/runner.js';
import { openLedger } from '../src/experiments/ledger.js';
import { crossValidate, cvJobs } from '../src/experiments/cv.js';
import { assignLayerIds, insertLayer, type Architecture } from '../src/models/arch.js';
import { mlp } from '../src/models/zoo.js';
import { buildModel } from '../src/models/build.js';
import { inheritWeights, readModelWeights, encodeWeights, decodeWeights } from '../src/models/weights.js';
import { tmpDir } from './helpers/tmp.js';
import { TCK } from './helpers/tck.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** LeNet-5 on a 2k MNIST subset for one epoch, with the given seed and kernel quantizer. */
function lenetJob(seed: number, quant?: Record<string, unknown>): JobSpecInput {
  const base = {
    name: 'lenet5-q',
    input: [28, 28, 1],
    head: 'softmax' as const,
    layers: [
      { kind: 'conv2d', filters: 6, kernel: 5, activation: 'relu', name: 'conv1' },
      { kind: 'maxpool', size: 2, name: 'pool1' },
      { kind: 'conv2d', filters: 16, kernel: 5, activation: 'relu', name: 'conv2', ...(quant ? { kernelQuantizer: quant } : {}) },
      { kind: 'maxpool', size: 2, name: 'pool2' },
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', units: 120, activation: 'relu', name: 'fc1', ...(quant ? { kernelQuantizer: quant } : {}) },
      { kind: 'dense', units: 84, activation: 'relu', name: 'fc2' },
      { kind: 'dense', units: 10, name: 'fc3' },
    ],
  };
  return {
    model: base as never,
    data: { source: 'mnist', subset: { n: 2000, mode: 'stratified' } },
    train: { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 } },
    seed,
    backend: 'wasm',
    evaluate: [],
    output: { weights: true, history: true },
  };
}

const SIX_JOBS: JobSpecInput[] = [
  lenetJob(1),
  lenetJob(2),
  lenetJob(3, { kind: 'binary', scale: 'channel' }),
  lenetJob(4, { kind: 'ternary' }),
  lenetJob(5, { kind: 'nbits-reference', bits: 4 }),
  lenetJob(6, { kind: 'affine', bits: 8 }),
];

/** A small MLP job on separable synthetic blobs (fast). */
function blobJob(seed: number, extra: Partial<JobSpecInput> = {}): JobSpecInput {
  return {
    model: mlp(8, { hidden: [16], classes: 3 }) as never,
    data: { source: { synthetic: { kind: 'blobs', n: 300, shape: [8], classes: 3, seed: 7, test: 90 } }, split: { kind: 'holdout', valFraction: 0.2 } },
    train: { epochs: 3, batchSize: 32, optimizer: { name: 'adam', lr: 1e-2 } },
    seed,
    backend: 'wasm',
    ...extra,
  };
}

const weightBits = (r: JobRecord) => {
  assert.equal(r.outcome.status, 'ok', r.outcome.status === 'failed' ? r.outcome.error.message : '');
  const w = (r.outcome as Extract<JobRecord['outcome'], { status: 'ok' }>).result.weights!;
  return w.values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
};

test('job specs: validated with the field named; the key ignores the label and follows every other field', () => {
  assert.throws(() => parseJobSpec({ ...blobJob(1), train: { epochs: 0, batchSize: 32, optimizer: { name: 'adam', lr: 1e-2 } } }), /train\.epochs/);
  assert.throws(() => parseJobSpec({ ...blobJob(1), train: { epochs: 1, batchSize: 32, optimizer: { name: 'adam', lr: 1e-2, momentum: 0.9 } } }), /train\.optimizer\.momentum: applies to sgd only/);
  assert.throws(() => parseJobSpec({ ...blobJob(1), data: { source: 'no-such-view' } }), /data\.source/);
  assert.throws(
    () => parseJobSpec({ ...blobJob(1), data: { source: 'mnist' }, train: { epochs: 1, batchSize: 8, optimizer: { name: 'adam', lr: 1 }, earlyStopping: { patience: 2 } } }),
    /val_loss needs a validation part/,
  );
  assert.equal(jobKey({ ...blobJob(1), label: 'a' }), jobKey({ ...blobJob(1), label: 'b' }));
  assert.notEqual(jobKey(blobJob(1)), jobKey(blobJob(2)));
  // Defaults are part of the identity: writing them out gives the same key.
  assert.equal(jobKey(blobJob(1)), jobKey({ ...blobJob(1), hooks: [], evaluate: ['validation', 'heldout', 'test'] }));
});

test('runJob is a pure function of its spec: same spec, same bits; the seed changes them', async () => {
  const spec = { ...blobJob(3), output: { weights: true } };
  const a = await runJob(spec);
  const b = await runJob(spec);
  assert.deepEqual(deterministicPart(a), deterministicPart(b));
  const c = await runJob({ ...spec, seed: 4 });
  assert.notDeepEqual(c.weights!.values[0], a.weights!.values[0]);
  assert.ok(a.metrics.testAccuracy! > 0.9, `blobs are separable: ${a.metrics.testAccuracy}`);
  assert.ok(a.metrics.valAccuracy !== null && a.metrics.heldOutAccuracy === null);
});

test('layer ids are stable under insertion, and weight inheritance copies every layer whose id and shape match', () => {
  const parent: Architecture = assignLayerIds({ name: 'p', input: [6], head: 'softmax', layers: [{ kind: 'dense', units: 5 }, { kind: 'activation', fn: 'relu' }, { kind: 'dense', units: 3 }] });
  assert.deepEqual(parent.layers.map((l) => l.name), ['dense_1', 'activation_1', 'dense_2']);
  // Insert a hidden layer before the output: the output layer keeps its id.
  const child = insertLayer(parent, 2, { kind: 'dense', units: 5 });
  assert.deepEqual(child.layers.map((l) => l.name), ['dense_1', 'activation_1', 'dense_3', 'dense_2']);
  const pm = buildModel(parent, { seed: 1 });
  const cm = buildModel(child, { seed: 2 });
  const before = readModelWeights(cm);
  const r = inheritWeights(pm, cm);
  assert.deepEqual(r.copied, ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']);
  assert.deepEqual(r.initialised, ['dense_3/kernel', 'dense_3/bias']);
  const after = readModelWeights(cm);
  const pw = readModelWeights(pm);
  assert.deepEqual(after.values[0], pw.values[0]);
  assert.deepEqual(after.values[2], before.values[2], 'the new layer keeps its seeded initialisation');
  // A changed width: not copied, reported.
  const wider = buildModel({ ...parent, layers: parent.layers.map((l) => (l.name === 'dense_1' ? { ...l, units: 7 } : l)) as never }, { seed: 3 });
  const r2 = inheritWeights(pm, wider);
  assert.deepEqual(r2.shapeMismatch.map((m) => m.name), ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel']);
  assert.deepEqual(decodeWeights(encodeWeights(pw)), pw);
  [pm, cm, wider].forEach((m) => m.dispose());
});

test('faults are outcomes: a NaN loss and an impossible architecture fail their job only, with the reason', async () => {
  const nan = blobJob(1, { train: { epochs: 2, batchSize: 32, optimizer: { name: 'sgd', lr: 1e30 } } });
  const impossible = blobJob(1, {
    model: { name: 'bad', input: [8], head: 'softmax', layers: [{ kind: 'conv2d', filters: 2, kernel: 3 }, { kind: 'flatten' }, { kind: 'dense', units: 3 }] } as never,
  });
  const { records, failed } = await runJobs([blobJob(1), nan, impossible], { executor: inProcessExecutor(), quiet: true });
  assert.equal(failed, 2);
  assert.equal(records[0].outcome.status, 'ok');
  const why = (r: JobRecord) => (r.outcome.status === 'failed' ? r.outcome.error : null);
  assert.match(why(records[1])!.message, /loss became (NaN|Infinity)/);
  assert.equal(why(records[1])!.name, 'TrainingError');
  assert.match(why(records[2])!.message, /layer 0 \(conv2d_0\): needs an image input/);
  assert.equal((records[2].outcome as { retryable: boolean }).retryable, false);
});

test('cross-validation through jobs: folds of the protocol, cvBest over repeats, the same on the pool', async () => {
  const base = { ...blobJob(5), data: { source: blobJob(5).data.source }, train: { epochs: 4, batchSize: 16, optimizer: { name: 'adam' as const, lr: 1e-2 }, earlyStopping: { patience: 3 } } };
  const p = { k: 3, repeats: 2, valFraction: 0.1 };
  assert.equal(cvJobs(base, p).length, 6);
  const a = await crossValidate(base, p, { executor: inProcessExecutor(), quiet: true });
  assert.equal(a.repeatMeans.length, 2);
  assert.equal(a.cvBest, Math.max(...a.repeatMeans));
  assert.ok(a.cvMean > 0.9, `separable blobs: ${a.cvMean}`);
  const pool = poolExecutor({ threads: 2 });
  try {
    const b = await crossValidate(base, p, { executor: pool, quiet: true });
    assert.deepEqual(b.repeatMeans, a.repeatMeans);
    assert.equal(b.testAccuracy, a.testAccuracy);
  } finally {
    await pool.close();
  }
});

// --- Redis for the distributed tests: a server of Debian's redis-server on a free loopback port --------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startRedis(): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server']);
  assert.equal(which.status, 0, 'redis-server is not installed: bash scripts/setup.sh installs it (apt-get install redis-server)');
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = await connectRedis(url);
      c.disconnect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  return { url, proc, stop };
}

/** A `tck worker` process (the built CLI) on `url`, with its log lines collected. */
function startWorker(url: string, queue: string, extra: string[] = []): { proc: ChildProcess; log: string[]; exited: Promise<number | null>; ready: Promise<void> } {
  const proc = spawn(process.execPath, [TCK, 'worker', '--redis', url, '--queue', queue, '--threads', '1', ...extra], {
    env: { ...process.env, TCK_BACKEND: 'wasm' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  proc.stderr!.on('data', (d) => log.push(...String(d).split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const ready = (async () => {
    for (let i = 0; i < 600 && !log.some((l) => /waiting for jobs/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(log.some((l) => /waiting for jobs/.test(l)), `tck worker did not start: ${log.join(' | ')}`);
  })();
  return { proc, log, exited, ready };
}

/** The shared server: the one `.ci/run` started (TCK_TEST_REDIS), else one of our own. */
let redis: { url: string; stop: () => Promise<void> } | null = process.env.TCK_TEST_REDIS ? { url: process.env.TCK_TEST_REDIS, stop: async () => {} } : null;
after(async () => {
  await redis?.stop();
});

test('the same 6 LeNet-5 jobs give bit-identical weights in-process, on the thread pool and on two BullMQ workers', { timeout: 600_000 }, async () => {
  const inProc = await runJobs(SIX_JOBS, { executor: inProcessExecutor(), quiet: true });
  const pool = poolExecutor({ threads: 2 });
  const pooled = await runJobs(SIX_JOBS, { executor: pool, quiet: true }).finally(() => pool.close());
  redis ??= await startRedis();
  const queue = `equal-${process.pid}`;
  const workers = [startWorker(redis.url, queue), startWorker(redis.url, queue)];
  await Promise.all(workers.map((w) => w.ready));
  const bull = await bullmqExecutor({ url: redis.url, queue });
  try {
    const viaBull = await runJobs(SIX_JOBS, { executor: bull, quiet: true });
    for (let i = 0; i < 6; i++) {
      const a = weightBits(inProc.records[i]);
      assert.deepEqual(weightBits(pooled.records[i]), a, `job ${i}: pool differs from in-process`);
      assert.deepEqual(weightBits(viaBull.records[i]), a, `job ${i}: BullMQ differs from in-process`);
    }
    const ranOn = new Set(viaBull.records.map((r) => r.outcome.meta.worker.split('/')[0]));
    assert.equal(ranOn.size, 2, `both workers took jobs: ${[...ranOn].join(', ')}`);
  } finally {
    await bull.close();
    workers.forEach((w) => w.proc.kill('SIGKILL'));
    await Promise.all(workers.map((w) => w.exited));
  }
});

test('a BullMQ worker killed while training: its job is retried by the other worker, results identical', { timeout: 600_000 }, async () => {
  redis ??= await startRedis();
  const queue = `kill-${process.pid}`;
  const jobs = [0, 1, 2, 3].map((i) => ({ ...lenetJob(10 + i), train: { epochs: 2, batchSize: 50, optimizer: { name: 'adam' as const, lr: 1e-3 } } }));
  const reference = await runJobs(jobs, { executor: inProcessExecutor(), quiet: true });
  const victim = startWorker(redis.url, queue, ['--lock-seconds', '2']);
  const survivor = startWorker(redis.url, queue, ['--lock-seconds', '2']);
  await Promise.all([victim.ready, survivor.ready]);
  const bull = await bullmqExecutor({ url: redis.url, queue });
  try {
    const running = runJobs(jobs, { executor: bull, quiet: true });
    // Kill the victim as soon as it has started a job.
    for (let i = 0; i < 600 && !victim.log.some((l) => / started$/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(victim.log.some((l) => / started$/.test(l)), `the victim never started a job: ${victim.log.join(' | ')}`);
    victim.proc.kill('SIGKILL');
    const out = await running;
    for (let i = 0; i < jobs.length; i++) assert.deepEqual(weightBits(out.records[i]), weightBits(reference.records[i]), `job ${i}`);
    const survivorTook = survivor.log.filter((l) => / started$/.test(l)).length;
    assert.ok(survivorTook >= 1, 'the survivor ran the retried job');
  } finally {
    await bull.close();
    survivor.proc.kill('SIGKILL');
    await Promise.all([victim.exited, survivor.exited]);
  }
});

test('Redis unreachable: a clear error naming the URL; Redis lost mid-run: the run stops with its ledger intact', { timeout: 600_000 }, async (t) => {
  const port = await freePort();
  await assert.rejects(() => bullmqExecutor({ url: `redis://127.0.0.1:${port}` }), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
  const r = spawnSync(process.execPath, [TCK, 'worker', '--redis', `redis://127.0.0.1:${port}`], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');

  const own = await startRedis();
  const queue = `lost-${process.pid}`;
  const worker = startWorker(own.url, queue);
  const dir = tmpDir(t);
  const ledger = openLedger(path.join(dir, 'ledger'));
  const jobs = [1, 2, 3, 4, 5, 6].map((s) => ({ ...blobJob(s), train: { epochs: 40, batchSize: 8, optimizer: { name: 'adam' as const, lr: 1e-3 } } }));
  const bull = await bullmqExecutor({ url: own.url, queue });
  try {
    const running = runJobs(jobs, { executor: bull, ledger, quiet: true });
    for (let i = 0; i < 600 && ledger.keys().length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    await own.stop();
    await assert.rejects(running, /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+.*rerun the same command to resume/s);
    const kept = ledger.keys();
    assert.ok(kept.length >= 1 && kept.length < jobs.length, `${kept.length} jobs in the ledger`);
    for (const k of kept) assert.equal(ledger.get(k)!.outcome.status, 'ok');
    // Resume: with Redis back, only the missing jobs run.
    const again = await runJobs(jobs, { executor: inProcessExecutor(), ledger, quiet: true });
    assert.equal(again.reused, kept.length);
    assert.equal(again.ran, jobs.length - kept.length);
  } finally {
    await bull.close().catch(() => {});
    worker.proc.kill('SIGKILL');
    await worker.exited;
  }
});

test('tck jobs: SIGKILL half-way through 12 pool jobs, the rerun retrains only the unfinished ones and ends with the same ledger', { timeout: 600_000 }, async (t) => {
  const dir = tmpDir(t);
  const jobs = Array.from({ length: 12 }, (_, i) => ({ ...blobJob(100 + i), train: { epochs: 30, batchSize: 8, optimizer: { name: 'adam' as const, lr: 1e-3 } } }));
  const file = path.join(dir, 'jobs.json');
  fs.writeFileSync(file, JSON.stringify({ jobs }));
  const outA = path.join(dir, 'killed');
  const outB = path.join(dir, 'clean');
  const env = { ...process.env, TCK_BACKEND: 'wasm' };
  // Kill the main process once a few jobs are in the ledger.
  const proc = spawn(process.execPath, [TCK, 'jobs', file, '--out', outA, '--workers', '2', '--quiet'], { env, stdio: 'ignore' });
  const ledgerA = path.join(outA, 'ledger');
  const count = () => (fs.existsSync(ledgerA) ? fs.readdirSync(ledgerA).filter((f) => f.endsWith('.ckpt')).length : 0);
  for (let i = 0; i < 3000 && count() < 4; i++) await new Promise((r) => setTimeout(r, 20));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  const finished = count();
  assert.ok(finished >= 4 && finished < 12, `killed with ${finished} of 12 jobs finished`);
  const rerun = spawnSync(process.execPath, [TCK, 'jobs', file, '--out', outA, '--workers', '2', '--quiet', '--json'], { env, encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  const summary = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!);
  assert.equal(summary.reused, finished, 'finished jobs are taken from the ledger');
  assert.equal(summary.ran, 12 - finished, 'only the unfinished jobs are trained');
  const clean = spawnSync(process.execPath, [TCK, 'jobs', file, '--out', outB, '--workers', '2', '--quiet', '--json'], { env, encoding: 'utf8' });
  assert.equal(clean.status, 0, clean.stderr);
  const a = openLedger(ledgerA);
  const b = openLedger(path.join(outB, 'ledger'));
  assert.deepEqual(a.keys(), b.keys());
  for (const k of a.keys()) {
    const ea = a.get(k)!.outcome;
    const eb = b.get(k)!.outcome;
    assert.equal(ea.status, 'ok');
    assert.deepEqual(deterministicPart((ea as never as { result: never }).result), deterministicPart((eb as never as { result: never }).result), `job ${k}`);
  }
  // No temporary files are left behind by the atomic writes.
  assert.deepEqual(fs.readdirSync(ledgerA).filter((f) => f.endsWith('.tmp')), []);
});
