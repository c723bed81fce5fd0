/**
 * tfjs-layers' BatchNormalization with a faster training step on the `wasm` backend.
 *
 * The stock layer trains as `moments` + `batchNorm` and its gradient goes through a full-size `tile` and
 * several full-size reductions (src/engine/wasm-batchnorm.ts says why that is slow on wasm). This subclass
 * runs the training-mode forward and backward as the two fused kernels of src/engine/wasm-batchnorm.ts when
 * the backend is `wasm` and the layer normalises over the last axis with both gamma and beta (every batchnorm
 * the kit builds); everything else (inference, other backends, other axes) is the stock layer's code.
 * The moving averages are updated with the stock layer's arithmetic: moving -= (moving - batch) (1 - momentum),
 * with the biased batch variance, as tfjs does.
 *
 * The class name stays `BatchNormalization`, so saved topologies and weights are the stock layer's; a model
 * loaded from disk gets the stock class, which computes the same function.
 */
import { tf } from '../engine/backend.js';
import type { Tensor, LayerVariable } from '@tensorflow/tfjs';
import { batchNormTrainAvailable, batchNormTrainOp } from '../engine/wasm-batchnorm.js';

type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type StockBatchNorm = ReturnType<typeof tf.layers.batchNormalization>;
type Kwargs = Record<string, unknown>;

/** The stock class (tfjs does not export it by name; its factory returns an instance). */
const StockBatchNormalization = Object.getPrototypeOf(tf.layers.batchNormalization({ name: 'tck_stock_batchnorm_probe' })).constructor as new (
  args?: BatchNormArgs,
) => StockBatchNorm;

/** The stock layer's private fields this class reads (same names at run time). */
interface Fields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

export class KitBatchNormalization extends StockBatchNormalization {
  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const training = kwargs['training'] == null ? false : Boolean(kwargs['training']);
    const f = this as unknown as Fields;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const rank = input.shape.length;
    const lastAxis = f.axis === -1 || f.axis === rank - 1;
    if (!training || !lastAxis || !f.center || !f.scale || input.dtype !== 'float32' || !batchNormTrainAvailable()) {
      return super.call(inputs, kwargs as never);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrainOp(input, f.gamma.read(), f.beta.read(), f.epsilon);
      // The stock layer's doMovingAverage, op for op.
      const update = (variable: LayerVariable, value: Tensor) => {
        tf.tidy(() => {
          const decay = 1 - f.momentum;
          const orig = variable.read();
          const delta = tf.mul(tf.sub(orig, value), decay);
          variable.write(tf.sub(orig, delta));
        });
      };
      update(f.movingMean, mean);
      update(f.movingVariance, variance);
      return y;
    });
  }
}

/** Drop-in for `tf.layers.batchNormalization(args)`. */
export function batchNormalization(args: BatchNormArgs): StockBatchNorm {
  return new KitBatchNormalization(args);
}
