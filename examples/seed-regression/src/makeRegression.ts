import * as tf from '@tensorflow/tfjs';

/** Options of {@link makeRegression}, named as scikit-learn's `make_regression`. */
export interface MakeRegressionOptions {
  nSamples?: number;
  nFeatures?: number;
  /** How many features the target depends on. Default 10 (scikit-learn's default). */
  nInformative?: number;
  /** Standard deviation of the Gaussian noise added to the target. */
  noise?: number;
  /** Seed (an integer ≥ 0) of tfjs's random generators: the same seed gives the same data. */
  seed?: number;
}

/** A regression data set: inputs `[nSamples, nFeatures]`, targets `[nSamples, 1]` (shaped like the model output). */
export interface RegressionData {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  /** The true coefficients: 100·U(0, 1) for the informative features, 0 for the others. */
  coef: number[];
}

/**
 * scikit-learn's `make_regression` with tfjs's seeded generators: standard normal inputs, a target that is a linear
 * combination of the first `nInformative` features with coefficients 100·U(0, 1), plus N(0, noise²) noise.
 * (scikit-learn also shuffles the feature columns; with i.i.d. columns that does not change the problem.)
 *
 * @example
 * ```ts
 * const { x, y } = makeRegression({ nSamples: 1000, nFeatures: 20, noise: 0.1, seed: 0 });
 * x.shape; // [1000, 20]
 * y.shape; // [1000, 1]
 * ```
 */
export function makeRegression(options: MakeRegressionOptions = {}): RegressionData {
  const { nSamples = 100, nFeatures = 100, nInformative = 10, noise = 0, seed = 0 } = options;
  const informative = Math.min(nInformative, nFeatures);
  // Offsets keep every seed ≥ 1: tfjs treats a seed of 0 as "no seed" and draws from Math.random.
  const [x, y, coef] = tf.tidy((): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] => {
    const inputs = tf.randomNormal([nSamples, nFeatures], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
    const weights = tf.mul(tf.randomUniform([informative, 1], 0, 1, 'float32', seed + 2), 100);
    const coefficients = tf.concat([weights, tf.zeros([nFeatures - informative, 1])]) as tf.Tensor2D;
    const noiseless = tf.matMul(inputs, coefficients);
    const targets = tf.add(noiseless, tf.randomNormal([nSamples, 1], 0, noise, 'float32', seed + 3)) as tf.Tensor2D;
    return [inputs, targets, coefficients];
  });
  const values = Array.from(coef.dataSync());
  coef.dispose();
  return { x, y, coef: values };
}
