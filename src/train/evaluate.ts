/** Inference-mode evaluation: loss, accuracy, predictions, confusion matrix. */
import { tf } from '../engine/backend.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Dataset } from '../data/types.js';
import type { Head } from '../models/arch.js';
import { makeBatch, disposeBatch, lossOf, countCorrect, predictedClasses } from './batches.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  n: number;
}

function classesOf(model: LayersModel, head: Head): number {
  const shape = model.outputs[0].shape;
  return head === 'sigmoid' ? 2 : (shape[shape.length - 1] as number);
}

/** Loss and accuracy of `model` on `ds` (training = false: dropout off, batchnorm uses moving statistics). */
export function evaluate(model: LayersModel, ds: Dataset, head: Head, batchSize = 1000): Evaluation {
  const n = ds.y.length;
  if (n === 0) throw new Error(`evaluate: dataset ${ds.id} is empty`);
  const k = classesOf(model, head);
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const b = makeBatch(ds, null, s, e, head, k);
    const [l, logits] = tf.tidy(() => {
      const logits = model.apply(b.x, { training: false }) as Tensor;
      return [lossOf(head, b.target, logits), logits];
    });
    lossSum += (l.dataSync()[0] as number) * (e - s);
    correct += countCorrect(head, logits.dataSync(), b.labels);
    l.dispose();
    logits.dispose();
    disposeBatch(b);
  }
  return { loss: lossSum / n, accuracy: correct / n, n };
}

/** Predicted class of every sample. */
export function predictClasses(model: LayersModel, ds: Dataset, head: Head, batchSize = 1000): Int32Array {
  const n = ds.y.length;
  const k = classesOf(model, head);
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const b = makeBatch(ds, null, s, e, head, k);
    const logits = tf.tidy(() => model.apply(b.x, { training: false }) as Tensor);
    out.set(predictedClasses(head, logits.dataSync(), e - s), s);
    logits.dispose();
    disposeBatch(b);
  }
  return out;
}

/** Confusion matrix: rows are true classes, columns predicted. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}
