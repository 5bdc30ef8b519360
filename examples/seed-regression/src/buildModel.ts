import * as tf from '@tensorflow/tfjs';

/**
 * The seed's MLP: 20 → 25 (ReLU) → 1, Glorot-uniform weights (seeded) and biases of 0.01, as in the PyTorch
 * experiment (`nn.init.xavier_uniform_`, `bias.data.fill_(0.01)`).
 *
 * @example
 * ```ts
 * const model = buildModel({ inputs: 20, hidden: 25, seed: 1 });
 * model.predict(tf.zeros([1, 20]));
 * ```
 */
export function buildModel({
  inputs = 20,
  hidden = 25,
  seed = 1,
}: {
  inputs?: number;
  hidden?: number;
  seed?: number;
} = {}): tf.Sequential {
  const bias = () => tf.initializers.constant({ value: 0.01 });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [inputs],
        units: hidden,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        biasInitializer: bias(),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: bias() }),
    ],
  });
}
