import type { RegressionData } from '@gradpipe/example-seed-data';
import * as tf from '@tensorflow/tfjs';

/** A regression data set as tfjs tensors: inputs `[samples, features]`, targets `[samples, 1]` (shaped like the model output). */
export interface RegressionTensors {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/**
 * The seed experiment's data (`@gradpipe/example-seed-data`, plain Float32Arrays) as tensors for `model.fit`. The
 * targets get shape `[samples, 1]`, like the model's output: MSE between `[n]` and `[n, 1]` would broadcast to
 * `[n, n]`. The caller disposes both tensors.
 *
 * @example
 * ```ts
 * const { x, y } = regressionTensors(makeRegression({ samples: 1000, features: 20, noise: 0.1, seed: 1 }));
 * x.shape; // [1000, 20]
 * y.shape; // [1000, 1]
 * ```
 */
export function regressionTensors(data: RegressionData): RegressionTensors {
  return {
    x: tf.tensor2d(data.x, [data.samples, data.features]),
    y: tf.tensor2d(data.y, [data.samples, 1]),
  };
}
