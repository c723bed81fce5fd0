/** Mini-batches from a `Dataset`: gathered in JavaScript (no tfjs shuffling), turned into tensors. */
import { tf } from '../engine/backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/types.js';
import type { Head } from '../models/arch.js';

export interface Batch {
  x: Tensor;
  /** Targets in the loss's format: one-hot [B, k] for softmax, [B, 1] of 0/1 for sigmoid. */
  target: Tensor;
  /** Class indices of the rows, for accuracy (counted in JavaScript: no kernel calls). */
  labels: Int32Array;
}

/** Rows start..end of `ds` as one input tensor (no labels). */
export function inputBatch(ds: Dataset, start: number, end: number): Tensor {
  const d = sampleSize(ds);
  return tf.tensor(ds.x.slice(start * d, end * d), [end - start, ...ds.shape]);
}

/** Rows `order[start..end)` of `ds` as tensors. `classes` is the number of logits for a softmax head. */
export function makeBatch(ds: Dataset, order: ArrayLike<number> | null, start: number, end: number, head: Head, classes: number): Batch {
  const d = sampleSize(ds);
  const b = end - start;
  const xs = new Float32Array(b * d);
  const ys = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const r = order ? order[start + i] : start + i;
    xs.set(ds.x.subarray(r * d, (r + 1) * d), i * d);
    ys[i] = ds.y[r];
  }
  const k = head === 'sigmoid' ? 1 : classes;
  const target = new Float32Array(b * k);
  for (let i = 0; i < b; i++) {
    if (head === 'sigmoid') target[i] = ys[i];
    else if (ys[i] >= 0 && ys[i] < k) target[i * k + ys[i]] = 1; // out-of-range labels get an all-zero row, as tf.oneHot
  }
  return { x: tf.tensor(xs, [b, ...ds.shape]), target: tf.tensor2d(target, [b, k]), labels: ys };
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.target.dispose();
}

/**
 * Mean loss of logits against targets for the head's link (softmax or sigmoid cross-entropy over the batch).
 * Softmax: the ops of `tf.losses.softmaxCrossEntropy` in the same order (its values and gradients bit for bit,
 * tested), without its op-by-op differentiation of the mean: the gradient (softmax(x) - t) / B is written
 * out, which halves the loss's kernel calls (a small network's step is bound by those). Sigmoid: TensorFlow's
 * stable form max(x, 0) - x t + log(1 + exp(-|x|)), gradient (sigmoid(x) - t) / B.
 */
export function lossOf(head: Head, target: Tensor, logits: Tensor): Tensor {
  const impl = (x: Tensor, save: (ts: Tensor[]) => void) => {
    const n = x.shape[0] as number;
    if (head === 'sigmoid') {
      save([x]);
      const l = tf.add(tf.sub(tf.relu(x), tf.mul(x, target)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      return { value: tf.div(tf.sum(l), n), gradFunc: (dy: Tensor, [xs]: Tensor[]) => tf.mul(tf.div(dy, n), tf.sub(tf.sigmoid(xs), target)) };
    }
    const logp = tf.sub(x, tf.logSumExp(x, [1], true));
    save([logp]);
    const value = tf.div(tf.sum(tf.sum(tf.neg(tf.mul(logp, target)), [1])), n);
    return { value, gradFunc: (dy: Tensor, [lp]: Tensor[]) => tf.mul(tf.div(dy, n), tf.sub(tf.exp(lp), target)) };
  };
  return tf.customGrad(impl as never)(logits) as Tensor;
}

/**
 * Predicted class of each row of `logits` (the values of a [rows, k] tensor): the first largest logit, as
 * tf.argMax, or logit > 0 for a sigmoid head.
 */
export function predictedClasses(head: Head, logits: ArrayLike<number>, rows: number): Int32Array {
  const out = new Int32Array(rows);
  const k = logits.length / rows;
  for (let i = 0; i < rows; i++) {
    if (head === 'sigmoid') {
      out[i] = logits[i] > 0 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** How many rows of `logits` predict their label. */
export function countCorrect(head: Head, logits: ArrayLike<number>, labels: Int32Array): number {
  const pred = predictedClasses(head, logits, labels.length);
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) c++;
  return c;
}
