/**
 * The wasm training kernels against the stock `cpu` backend: conv2d input and filter gradients (stride 1 and
 * 2, same and valid padding, several channels), max-pool gradients (with ties; the 2x2 stride-2 path and the
 * general one), transposed matmuls, and the fused batchnorm training kernels (the kit's batchnorm layer on
 * wasm against the stock tfjs-layers code on cpu). Training with them is bit-for-bit repeatable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../src/engine/backend.js';
import { rngStream, rngFromState, withSeededMathRandom } from '../src/engine/random.js';
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import { batchNormalization } from '../src/models/batchnorm.js';
import { buildModel } from '../src/models/build.js';
import { fit } from '../src/train/fit.js';
import { vgg7 } from '../src/models/zoo.js';
import type { Dataset } from '../src/data/types.js';

function randomArray(n: number, seed: string, round = false): Float32Array {
  const rng = rngStream(seed, 'test');
  return Float32Array.from({ length: n }, () => (round ? Math.round(rng.normal() * 2) / 2 : rng.normal()));
}

/** Runs `f` on both backends with the same input arrays; returns the outputs as arrays. */
async function onBoth(f: () => Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const out: Record<string, Float32Array[]> = {};
  for (const b of ['wasm', 'cpu']) {
    await initEngine({ backend: b });
    out[b] = tf.tidy(f).map((t) => {
      const a = t.dataSync() as Float32Array;
      t.dispose();
      return Float32Array.from(a);
    });
  }
  await initEngine({ backend: 'wasm' });
  return { wasm: out.wasm, cpu: out.cpu };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES = [
  { x: [2, 9, 9, 3], k: 3, outC: 4, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 3], k: 3, outC: 4, stride: 1, pad: 'valid' },
  { x: [2, 9, 9, 3], k: 3, outC: 4, stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], k: 3, outC: 4, stride: 2, pad: 'valid' },
  { x: [3, 10, 8, 2], k: 5, outC: 6, stride: 1, pad: 'valid' },
  { x: [2, 10, 10, 5], k: 2, outC: 3, stride: 2, pad: 'valid' },
  { x: [1, 7, 7, 6], k: 3, outC: 8, stride: 2, pad: 'same' },
  { x: [4, 12, 12, 1], k: 5, outC: 6, stride: 1, pad: 'same' },
  { x: [2, 6, 6, 2], k: 2, outC: 3, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 3], k: 4, outC: 2, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 3], k: 4, outC: 2, stride: 2, pad: 'same' },
] as const;

for (const c of CASES) {
  test(`conv2d gradients on wasm match cpu: x [${c.x}] k${c.k} out${c.outC} stride ${c.stride} ${c.pad}`, async () => {
    const xs = randomArray((c.x as readonly number[]).reduce((a, b) => a * b, 1), `x${JSON.stringify(c)}`);
    const ws = randomArray(c.k * c.k * c.x[3] * c.outC, `w${JSON.stringify(c)}`);
    const { wasm, cpu } = await onBoth(() => {
      const x = tf.tensor4d(xs, c.x as unknown as [number, number, number, number]);
      const w = tf.tensor4d(ws, [c.k, c.k, c.x[3], c.outC]);
      // A non-uniform upstream gradient: weight each output by its position.
      const loss = (a: Tensor, b: Tensor) => {
        const y = tf.conv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad);
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
      };
      const [dx, dw] = tf.grads(loss)([x, w]);
      return [dx, dw];
    });
    assert.ok(wasm[0].some((v) => v !== 0), 'dx is all zeros');
    assert.ok(maxAbsDiff(wasm[0], cpu[0]) < 1e-4, `dx differs by ${maxAbsDiff(wasm[0], cpu[0])}`);
    assert.ok(maxAbsDiff(wasm[1], cpu[1]) < 1e-4, `dW differs by ${maxAbsDiff(wasm[1], cpu[1])}`);
  });
}

for (const pool of [
  { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
  { x: [2, 9, 7, 3], size: 2, stride: 2, pad: 'valid' }, // 2x2 path, last row and column uncovered
  { x: [2, 9, 7, 3], size: 2, stride: 2, pad: 'same' }, // windows past the edge: the general loop
  { x: [3, 6, 10, 1], size: 2, stride: 2, pad: 'same' },
  { x: [2, 7, 7, 4], size: 3, stride: 2, pad: 'same' },
  { x: [1, 9, 9, 2], size: 3, stride: 1, pad: 'valid' },
] as const) {
  test(`max-pool gradient on wasm matches cpu, ties included: x [${pool.x}] size ${pool.size} stride ${pool.stride} ${pool.pad}`, async () => {
    // Values rounded to halves give many ties inside windows; the first maximum must get the gradient.
    const xs = randomArray((pool.x as readonly number[]).reduce((a, b) => a * b, 1), `p${JSON.stringify(pool)}`, true);
    const { wasm, cpu } = await onBoth(() => {
      const x = tf.tensor4d(xs, pool.x as unknown as [number, number, number, number]);
      const f = (a: Tensor) => {
        const y = tf.maxPool(a as Tensor4D, pool.size, pool.stride, pool.pad);
        return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))));
      };
      return [tf.grad(f)(x)];
    });
    assert.ok(maxAbsDiff(wasm[0], cpu[0]) < 1e-5, `max-pool gradient differs by ${maxAbsDiff(wasm[0], cpu[0])}`);
  });
}

/** max |a - b| / (1 + |b|) over the arrays. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

for (const shape of [
  [4, 6, 6, 5],
  [50, 8, 8, 16],
  [9, 7],
  [3, 4, 2, 1],
]) {
  test(`batchnorm layer in training on wasm (fused kernels) matches the stock layer on cpu: x [${shape}]`, async () => {
    const C = shape[shape.length - 1];
    const n = shape.reduce((a, b) => a * b, 1);
    // Not centred, not unit variance: an offset and a per-channel scale.
    const xs = randomArray(n, `bn-x${shape}`).map((v, i) => 3 + v * (0.5 + (i % C)));
    const r = randomArray(n, `bn-r${shape}`);
    const init = [randomArray(C, 'g').map((v) => 1 + 0.3 * v), randomArray(C, 'b'), randomArray(C, 'mm'), randomArray(C, 'mv').map((v) => 1 + Math.abs(v))];
    const kernels: Record<string, string[]> = {};
    const out: Record<string, Float32Array[]> = {};
    for (const b of ['wasm', 'cpu']) {
      await initEngine({ backend: b });
      const layer = batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `bn_test_${b}` });
      layer.build([null, ...shape.slice(1)]);
      layer.setWeights(init.map((a) => tf.tensor1d(a)));
      const x = tf.variable(tf.tensor(xs, shape), true, `bn_x_${b}_${shape.join('x')}`);
      const gamma = layer.trainableWeights[0].read() as Variable;
      const beta = layer.trainableWeights[1].read() as Variable;
      let y: Tensor | null = null;
      const profile = await tf.profile(() => {
        const { grads, value } = tf.variableGrads(() => {
          y = tf.keep(layer.apply(x, { training: true }) as Tensor);
          return tf.sum(tf.mul(y, tf.tensor(r, shape))) as never;
        }, [x, gamma, beta]);
        out[b] = [y!, grads[x.name], grads[gamma.name], grads[beta.name], ...layer.getWeights().slice(2)].map((t) => Float32Array.from(t.dataSync() as Float32Array));
        tf.dispose([y!, value, ...Object.values(grads)]);
      });
      kernels[b] = profile.kernelNames;
      x.dispose();
      layer.weights.forEach((w) => w.dispose());
    }
    await initEngine({ backend: 'wasm' });
    assert.ok(kernels.wasm.includes('TckBatchNormTrain'), `wasm ran ${kernels.wasm.join(', ')}`);
    assert.ok(!kernels.wasm.includes('Tile') && !kernels.wasm.includes('FusedBatchNorm'), 'the stock batchnorm ops ran on wasm');
    assert.ok(kernels.cpu.includes('FusedBatchNorm'), 'the cpu reference is not the stock layer');
    const names = ['y', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance'];
    names.forEach((name, i) => {
      assert.ok(out.wasm[i].some((v) => v !== 0), `${name} is all zeros`);
      const d = maxRelDiff(out.wasm[i], out.cpu[i]);

      assert.ok(d < 5e-5, `${name} differs by ${d} (relative)`);
    });
  });
}

test('batchnorm layer outside training, and on cpu, is the stock layer', async () => {
  await initEngine({ backend: 'wasm' });
  const layer = batchNormalization({ name: 'bn_infer' });
  layer.build([null, 3]);
  const profile = await tf.profile(() => tf.dispose(layer.apply(tf.ones([2, 3]), { training: false }) as Tensor));
  assert.ok(!profile.kernelNames.includes('TckBatchNormTrain'));
  assert.equal(layer.getClassName(), 'BatchNormalization');
  layer.weights.forEach((w) => w.dispose());
});

/** Noise images of `shape` with labels 0..classes-1, seeded. */
function noise(n: number, shape: number[], classes: number, seed: string): Dataset {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = randomArray(n * size, `noise-${seed}`);
  const rng = rngStream(seed, 'labels');
  const y = Int32Array.from({ length: n }, () => Math.floor(rng.next() * classes));
  return { id: `noise-${seed}`, x, y, shape, classNames: Array.from({ length: classes }, (_, i) => String(i)) };
}

test('training a VGG7 (convs, batchnorm, 2x2 max-pools) on wasm twice with one seed gives the same bits', async () => {
  await initEngine({ backend: 'wasm' });
  const data = noise(60, [16, 16, 3], 4, 'vgg');
  const arch = vgg7([16, 16, 3], { width: 1 / 16, classes: 4 });
  const run = async (seed: number) => {
    const m = buildModel(arch, { seed });
    await fit(m, data, { epochs: 2, batchSize: 20, optimizer: { name: 'adam', lr: 1e-2 }, seed, head: 'softmax' });
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };
  const before = tf.memory().numTensors;
  const profile = await tf.profile(async () => {
    const a = await run(1);
    assert.deepEqual(a, await run(1));
    assert.notDeepEqual(a, await run(2));
  });
  assert.ok(profile.kernelNames.includes('TckBatchNormTrain') && profile.kernelNames.includes('MaxPoolGrad'), 'the replaced kernels did not run');
  assert.equal(tf.memory().numTensors, before, 'training leaked tensors');
});

test('Identity on wasm shares the buffer: a clone keeps its values when the original goes, and frees nothing early', async () => {
  await initEngine({ backend: 'wasm' });
  const backend = tf.engine().backend as unknown as { numDataIds(): number };
  const ids = backend.numDataIds();
  const values = randomArray(24, 'identity');
  const x = tf.tensor(values, [2, 3, 4]);
  const y = tf.clone(x);
  assert.equal(backend.numDataIds(), ids + 1, 'the clone copied the data');
  x.dispose();
  assert.deepEqual(y.dataSync(), values);
  // A variable's saved clone (what a gradient keeps) is unchanged by a later assign.
  const init = tf.tensor(values, [24]);
  const zeros = tf.zeros([24]);
  const v = tf.variable(init, true, 'identity_v');
  const saved = tf.clone(v);
  v.assign(zeros);
  assert.deepEqual(saved.dataSync(), values);
  assert.ok((v.dataSync() as Float32Array).every((u) => u === 0));
  tf.dispose([y, v, saved, init, zeros]);
  assert.equal(backend.numDataIds(), ids, 'buffers leaked');
});

test('transposed matmuls on wasm match cpu', async () => {
  const a = randomArray(6 * 5, 'a');
  const b = randomArray(6 * 4, 'b');
  const { wasm, cpu } = await onBoth(() => [
    tf.matMul(tf.tensor2d(a, [6, 5]), tf.tensor2d(b, [6, 4]), true, false),
    tf.matMul(tf.tensor2d(b, [4, 6]), tf.tensor2d(a, [5, 6]), false, true),
    tf.matMul(tf.tensor2d(a, [6, 5]), tf.tensor2d(b, [4, 6]), true, true),
    tf.matMul(tf.tensor3d(a, [2, 3, 5]), tf.tensor3d(b.slice(0, 24), [2, 3, 4]), true, false),
  ]);
  for (let i = 0; i < wasm.length; i++) assert.ok(maxAbsDiff(wasm[i], cpu[i]) < 1e-5, `product ${i} differs`);
});

test('the engine reports its backend and the kernels it replaced', async () => {
  const info = await initEngine({ backend: 'wasm' });
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(info.wasm?.trainingKernels.includes('Conv2DBackpropFilter'));
  await assert.rejects(initEngine({ backend: 'gpu' as never }), /unknown backend "gpu"/);
});

test('random streams: same seed same draws, streams independent, state restores exactly', () => {
  const a = rngStream(7, 'shuffle');
  const b = rngStream(7, 'shuffle');
  const c = rngStream(7, 'init');
  const xa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xa, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xa, Array.from({ length: 5 }, () => c.next()));
  const s = a.state();
  const restored = rngFromState(s);
  assert.deepEqual(Array.from({ length: 5 }, () => restored.next()), Array.from({ length: 5 }, () => a.next()));
  const p = rngStream(1, 'x').permutation(50);
  assert.deepEqual([...p].sort((u, v) => u - v), Array.from({ length: 50 }, (_, i) => i));
});

test('withSeededMathRandom makes Math.random reproducible and restores it', () => {
  const original = Math.random;
  const r1 = withSeededMathRandom(rngStream(3, 'dropout'), () => [Math.random(), Math.random()]);
  const r2 = withSeededMathRandom(rngStream(3, 'dropout'), () => [Math.random(), Math.random()]);
  assert.deepEqual(r1, r2);
  assert.equal(Math.random, original);
  assert.throws(() => withSeededMathRandom(rngStream(3, 'dropout'), () => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(Math.random, original);
});
