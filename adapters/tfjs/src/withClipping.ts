import { clipByGlobalNorm, clipByNorm, clipByValue, describeValue, GradientPipeline, GradpipeError } from '@gradpipe/core';
import { requirePositiveFinite } from '@gradpipe/core/internal';
import type * as tf from '@tensorflow/tfjs-core';
import { type GradientPipelineOptimizer, requireOptimizer, withGradientPipeline } from './GradientPipelineOptimizer.js';
import { optimizerOptions, type Readback } from './optimizerOptions.js';

/** Options of {@link withClipping}: exactly one of them, as with a Keras 3 optimizer. */
export interface ClippingOptions {
  /** Keras `clipnorm`: each variable's gradient is clipped to this L2 norm on its own. */
  clipnorm?: number;
  /** Keras `clipvalue`: every gradient element is clipped into `[-clipvalue, clipvalue]`. */
  clipvalue?: number;
  /** Keras `global_clipnorm`: all gradients together are scaled down to this global L2 norm. */
  globalClipnorm?: number;
  /** How the step's figures come back to the host (see {@link Readback}); not a clipping option. Default `'auto'`. */
  readback?: Readback;
}

const KEYS = ['clipnorm', 'clipvalue', 'globalClipnorm'] as const;
const ALIASES: Record<string, string> = {
  global_clipnorm: 'globalClipnorm',
  clipNorm: 'clipnorm',
  clipValue: 'clipvalue',
  globalClipNorm: 'globalClipnorm',
};

/**
 * Keras 3's `clipnorm`, `clipvalue` and `global_clipnorm` for any TensorFlow.js optimizer, which has none of
 * them. As in Keras, give exactly one. The pipeline behind it is `optimizer.pipeline` (its `events$` report every
 * step's norms).
 *
 * | Keras 3 (Python)                               | gradpipe                                                   |
 * |------------------------------------------------|------------------------------------------------------------|
 * | `keras.optimizers.SGD(0.01, clipnorm=1)`        | `withClipping(tf.train.sgd(0.01), { clipnorm: 1 })`         |
 * | `keras.optimizers.Adam(1e-3, clipvalue=0.5)`    | `withClipping(tf.train.adam(1e-3), { clipvalue: 0.5 })`     |
 * | `keras.optimizers.Adam(global_clipnorm=1)`      | `withClipping(tf.train.adam(), { globalClipnorm: 1 })`      |
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { withClipping } from '@gradpipe/tfjs';
 *
 * const optimizer = withClipping(tf.train.adam(1e-3), { clipnorm: 2 });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * optimizer.pipeline.events$.subscribe((e) => e.clipped && console.log(`step ${e.step} clipped`));
 *
 * withClipping(tf.train.sgd(0.1), { clipnorm: 1, clipvalue: 1 });
 * // GradpipeError: withClipping: only one of clipnorm, clipvalue and globalClipnorm can be set, and one must be;
 * //   got clipnorm=1, clipvalue=1
 * ```
 */
export function withClipping(optimizer: tf.Optimizer, options: ClippingOptions): GradientPipelineOptimizer {
  const fn = 'withClipping';
  requireOptimizer(fn, optimizer);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new GradpipeError(fn, `options must be an object with one of clipnorm, clipvalue, globalClipnorm, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'readback' && !(KEYS as readonly string[]).includes(key)) {
      const hint = ALIASES[key] ? ` (did you mean ${ALIASES[key]}?)` : '';
      throw new GradpipeError(fn, `unknown option ${JSON.stringify(key)}${hint}; known: ${KEYS.join(', ')}`);
    }
  }
  const given = KEYS.filter((k) => options[k] !== undefined);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'none was given' : `got ${given.map((k) => `${k}=${describeValue(options[k])}`).join(', ')}`;
    throw new GradpipeError(fn, `only one of clipnorm, clipvalue and globalClipnorm can be set, and one must be; ${what}`);
  }
  const key = given[0]!;
  const value = requirePositiveFinite(fn, key, options[key]);
  const transform =
    key === 'clipnorm' ? clipByNorm({ maxNorm: value }) : key === 'clipvalue' ? clipByValue(value) : clipByGlobalNorm({ maxNorm: value });
  const readback = optimizerOptions(fn, options.readback === undefined ? undefined : { readback: options.readback });
  return withGradientPipeline(optimizer, new GradientPipeline([transform]), readback);
}
