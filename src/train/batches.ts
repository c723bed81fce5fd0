/** Mini-batches from a `Dataset`: gathered in JavaScript (no tfjs shuffling), turned into tensors. */
import { tf } from '../engine/backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/types.js';
import type { Head } from '../models/arch.js';

export interface Batch {
  x: Tensor;
  /** Targets in the loss's format: one-hot [B, k] for softmax, [B, 1] of 0/1 for sigmoid. */
  target: Tensor;
  /** Class indices [B] (int32), for accuracy. */
  labels: Tensor;
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
  return tf.tidy(() => {
    const labels = tf.tensor1d(ys, 'int32');
    const target = head === 'sigmoid' ? tf.tensor2d(Float32Array.from(ys), [b, 1]) : tf.oneHot(labels, classes).toFloat();
    return { x: tf.tensor(xs, [b, ...ds.shape]), target, labels };
  });
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.target.dispose();
  b.labels.dispose();
}

/** Mean loss of logits against targets for the head's link (softmax or sigmoid cross-entropy). */
export function lossOf(head: Head, target: Tensor, logits: Tensor): Tensor {
  return head === 'sigmoid'
    ? tf.losses.sigmoidCrossEntropy(target, logits)
    : tf.losses.softmaxCrossEntropy(target, logits);
}

/** Predicted class per row of logits. */
export function predictedClass(head: Head, logits: Tensor): Tensor {
  return head === 'sigmoid' ? tf.cast(tf.greater(tf.reshape(logits, [-1]), 0), 'int32') : tf.argMax(logits, 1);
}
