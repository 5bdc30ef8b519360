import { describeValue, GradpipeError, requireSchedule, type Schedule } from '@gradpipe/core';
import { rejectNullOptions, rejectUnknownKeys, requireInteger, requireOptionsObject } from '@gradpipe/core/internal';

/**
 * How a step's figures come back to the host:
 * - `'deferred'`: no read-back in the step. The figures are read asynchronously (`data()`) and reach `lastStats`,
 *   `pipeline.events$` and the pipeline's state later, in step order; a guard's skip is decided on the device.
 * - `'sync'`: one `dataSync` per step, the figures at once (webgpu has no synchronous read).
 * - `'auto'` (default): `'deferred'` on webgl and webgpu, `'sync'` on cpu and wasm (where a read costs nothing and
 *   the synchronous step is the faster), and `'sync'` on webgl for a pipeline that needs the figures of the step
 *   before (AutoClip, ZClip).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { withClipping } from '@gradpipe/tfjs';
 *
 * await tf.setBackend('webgl');
 * const optimizer = withClipping(tf.train.adam(1e-3), { globalClipnorm: 1 }); // readback 'auto': deferred here
 * optimizer.pipeline.events$.subscribe((e) => console.log(e.step, e.normBefore)); // a little after each step
 * await model.fit(xs, ys, { epochs: 5 });
 * await optimizer.settled(); // every step's figures are in; now model.save(…, { includeOptimizer: true })
 * ```
 */
export type Readback = 'auto' | 'sync' | 'deferred';

/**
 * Options of {@link GradientPipelineOptimizer} and {@link withGradientPipeline}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, clipByGlobalNorm, cosineDecay } from '@gradpipe/core';
 * import { withGradientPipeline } from '@gradpipe/tfjs';
 *
 * // Warm-up and cosine decay, four micro-batches per update, clipped once on their mean.
 * const optimizer = withGradientPipeline(tf.train.adam(), new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]), {
 *   schedule: cosineDecay({ peak: 1e-3, warmupSteps: 100, decaySteps: 10_000 }),
 *   accumulate: 4,
 * });
 * ```
 */
export interface GradientPipelineOptimizerOptions {
  /** How the figures come back to the host; see {@link Readback}. Default `'auto'`. */
  readback?: Readback;
  /**
   * The learning rate as a function of the update count (`optimizer.iterations`: updates applied, skipped ones not
   * counted), set on the wrapped optimizer before each update — e.g. `cosineDecay({ peak: 1e-3, warmupSteps: 100,
   * decaySteps: 10_000 })` from `@gradpipe/core`. It is saved with the optimizer's config; its position is the
   * iteration count, which the optimizer's weights save.
   */
  schedule?: Schedule;
  /**
   * Micro-batches per update (optax's `MultiSteps`, Lightning's `accumulate_grad_batches`): the gradients of `k`
   * calls are averaged on the device, the pipeline runs once on the mean and the wrapped optimizer steps once.
   * Default 1 (every call is an update).
   */
  accumulate?: number;
}

/** The checked options, defaults filled in. */
export interface CheckedOptimizerOptions {
  readback: Readback;
  schedule: Schedule | undefined;
  accumulate: number;
}

const READBACKS: readonly Readback[] = ['auto', 'sync', 'deferred'];
const KEYS = ['readback', 'schedule', 'accumulate'];

/** Checks the options object of the optimizer's constructor and factories. */
export function optimizerOptions(fn: string, options: unknown): CheckedOptimizerOptions {
  if (options === undefined) return { readback: 'auto', schedule: undefined, accumulate: 1 };
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, KEYS);
  rejectNullOptions(fn, options);
  const { readback = 'auto', schedule, accumulate = 1 } = options as GradientPipelineOptimizerOptions;
  if (!READBACKS.includes(readback)) {
    throw new GradpipeError(fn, `readback must be 'auto', 'sync' or 'deferred', got ${describeValue(readback)}`);
  }
  return {
    readback,
    schedule: schedule === undefined ? undefined : requireSchedule(fn, 'schedule', schedule),
    accumulate: requireInteger(fn, 'accumulate', accumulate, 1),
  };
}
