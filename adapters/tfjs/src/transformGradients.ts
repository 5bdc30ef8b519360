import { describeValue, type GradientPipeline, GradpipeError, type StepOptions, type StepStats } from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs-core';
import { tfjsOps } from './tfjsOps.js';

/** Options of {@link transformGradients}. */
export interface TransformGradientsOptions {
  /** This step's loss: a number, or a `tf.Scalar` read back with the step's figures (no extra sync). */
  loss?: number | tf.Scalar;
  /**
   * The variables the gradients belong to, by the same names (for unit-wise transforms such as `agc`).
   * Default: the registered `tf.Variable`s of those names, when every name has one.
   */
  params?: tf.NamedTensorMap;
}

/** What {@link transformGradients} returns. */
export interface TransformedGradients {
  /**
   * The transformed gradients, same names. Every tensor is new and yours to dispose
   * (`tf.dispose(result.grads)`); the gradients you passed in are left as they were.
   */
  readonly grads: tf.NamedTensorMap;
  /** True when a guard (nanGuard) decided this step must not be applied. */
  readonly skipped: boolean;
  /** The step's figures, as `pipe.events$` emits them. */
  readonly stats: StepStats;
}

/**
 * Runs one pipeline step on a `NamedTensorMap` — for custom training loops (`tf.variableGrads` → clip →
 * `optimizer.applyGradients`), the TensorFlow.js form of a GradientTape loop. The work runs as tfjs ops inside
 * `tf.tidy`, with one small read-back for the figures; nothing leaks.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * import { transformGradients } from '@gradpipe/tfjs';
 *
 * const w = tf.variable(tf.tensor1d([1, 2]), true, 'w');
 * const optimizer = tf.train.sgd(0.1);
 * const pipe = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]);
 *
 * const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar);
 * const result = transformGradients(pipe, grads, { loss: value });
 * if (!result.skipped) optimizer.applyGradients(result.grads);
 * tf.dispose([value, grads, result.grads]);
 * ```
 */
export function transformGradients(
  pipe: GradientPipeline,
  grads: tf.NamedTensorMap,
  options: TransformGradientsOptions = {},
): TransformedGradients {
  const fn = 'transformGradients';
  requirePipeline(fn, pipe);
  if (typeof grads !== 'object' || grads === null || Array.isArray(grads)) {
    throw new GradpipeError(fn, `grads must be a NamedTensorMap (an object of named tf.Tensors), got ${describeValue(grads)}`);
  }
  let skipped = false;
  let stats: StepStats | undefined;
  const out = tf.tidy(() => {
    const result = pipe.stepWith(tfjsOps, grads, stepOptions(grads, options.params, options.loss));
    ({ skipped, stats } = result);
    // A transform may hand a caller's tensor through unchanged: clone it (shared data, no copy) so every output is new.
    const transformed: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(result.grads)) transformed[name] = g === grads[name] ? tf.clone(g) : g;
    return transformed;
  });
  return { grads: out, skipped, stats: stats! };
}

/** Throws unless `pipe` looks like a `GradientPipeline` (duck-typed, so two copies of core still work together). */
export function requirePipeline(fn: string, pipe: unknown): asserts pipe is GradientPipeline {
  if (typeof pipe !== 'object' || pipe === null || typeof (pipe as GradientPipeline).stepWith !== 'function') {
    throw new GradpipeError(fn, `pipe must be a GradientPipeline from @gradpipe/core, got ${describeValue(pipe)}`);
  }
}

/**
 * The step options both entry points pass to the pipeline: the gradients' shapes, the parameters (given ones, or
 * the registered variables of the same names when all exist, so unit-wise transforms such as `agc` work) and
 * the loss when there is one.
 */
export function stepOptions(
  grads: tf.NamedTensorMap,
  params: tf.NamedTensorMap | undefined,
  loss: number | tf.Scalar | undefined,
  lr?: number,
): StepOptions<tf.Tensor, tf.Scalar> {
  const found = params ?? registeredVariables(Object.keys(grads));
  return {
    shapes: Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, g?.shape ?? []])),
    ...(found === undefined ? {} : { params: found }),
    ...(loss === undefined ? {} : { loss }),
    ...(lr === undefined ? {} : { lr }),
  };
}

/** The registered `tf.Variable`s of these names, or undefined unless every name has one. */
function registeredVariables(names: readonly string[]): tf.NamedTensorMap | undefined {
  const registered = tf.engine().registeredVariables;
  const found: tf.NamedTensorMap = {};
  for (const name of names) {
    const v = registered[name];
    if (!v) return undefined;
    found[name] = v;
  }
  return found;
}
