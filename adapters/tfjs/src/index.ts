/**
 * Gradient clipping for any TensorFlow.js optimizer: Keras's `clipnorm`, `clipvalue` and `global_clipnorm`, and
 * the full `@gradpipe/core` GradientPipeline (NaN guard, AutoClip, ZClip, AGC…), running as tfjs ops.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * import { withGradientPipeline, withClipping } from '@gradpipe/tfjs';
 *
 * const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
 * model.compile({ optimizer: withGradientPipeline(tf.train.adam(1e-3), pipe), loss: 'meanSquaredError' });
 * const keras = withClipping(tf.train.sgd(0.01), { clipnorm: 1 });
 * ```
 * @module
 */
export { GradientPipelineOptimizer, withGradientPipeline } from './GradientPipelineOptimizer.js';
export type { NamedTensor } from './namedTensor.js';
export type { GradientPipelineOptimizerOptions, Readback } from './optimizerOptions.js';
export { tfjsOps } from './tfjsOps.js';
export type { TransformedGradients, TransformGradientsOptions } from './transformGradients.js';
export { transformGradients } from './transformGradients.js';
export type { ClippingOptions } from './withClipping.js';
export { withClipping } from './withClipping.js';
