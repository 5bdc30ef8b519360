import * as tf from '@tensorflow/tfjs';

/**
 * The article's Keras model: an LSTM reading the 28 rows of a digit (28 features each), then Dense(10) with a
 * softmax.
 *
 * @example
 * ```ts
 * const model = buildLstm({ units: 64 });
 * model.predict(tf.zeros([1, 28, 28])); // [1, 10] class probabilities
 * ```
 */
export function buildLstm({ units = 64, seed = 1 }: { units?: number; seed?: number } = {}): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.lstm({ units, inputShape: [28, 28], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}
