import type * as tf from '@tensorflow/tfjs-core';

/**
 * A tensor by variable name: the array form of `applyGradients` input, and what `getWeights` returns (tfjs does
 * not export its type).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { withClipping, type NamedTensor } from '@gradpipe/tfjs';
 *
 * const w = tf.variable(tf.tensor1d([1, 2]), true, 'w');
 * const grads: NamedTensor[] = [{ name: 'w', tensor: tf.tensor1d([30, 40]) }];
 * withClipping(tf.train.sgd(0.1), { clipnorm: 1 }).applyGradients(grads); // w ← w − 0.1 · [0.6, 0.8]
 * ```
 */
export interface NamedTensor {
  /** The variable's name (`tf.Variable.name`), e.g. `'dense_Dense1/kernel'`, or an optimizer weight's name. */
  name: string;
  /** In `applyGradients`, the variable's gradient (shaped like it); in `getWeights`, a saved optimizer weight. */
  tensor: tf.Tensor;
}
