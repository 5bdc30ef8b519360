import type { Gradients } from './GradientTransform.js';
import type { StepStats } from './StepStats.js';

/** Options of {@link GradientPipeline}. */
export interface PipelineOptions {
  /** Include every tensor's L2 norm in the events (`event.tensorNorms`). Default false. */
  tensorNorms?: boolean;
  /**
   * Measure `normAfter` on the stored gradients (in the same pass as the scaling, where the backend can) instead
   * of taking it as `normBefore × factor` after a common clip factor. The derived figure is within 2⁻²¹ of the
   * measured one; measuring costs time on large gradients. Default false.
   */
  measureNormAfter?: boolean;
  /**
   * Receives an exception thrown by an `events$` subscriber. Training goes on either way.
   * Default: `console.error`.
   */
  onSubscriberError?: (error: unknown) => void;
}

/** What a step may be told besides the gradients. */
export interface StepOptions<T, S = number> {
  /** The parameters the gradients belong to, same keys (needed by {@link agc}). */
  params?: Gradients<T>;
  /** Tensor shapes by name, for unit-wise transforms; a shape's element count must match the tensor. */
  shapes?: Record<string, readonly number[]>;
  /**
   * This step's loss, passed through to the stats and events for loggers. A backend scalar (e.g. a `tf.Scalar`
   * on a device backend) is read back together with the step's other figures, so reporting it costs no extra sync.
   */
  loss?: number | S;
  /** The learning rate this step's update will use, passed through to the stats and events for loggers. */
  lr?: number;
}

/** What a step returns. */
export interface StepResult<T> {
  /** The transformed gradients, same keys. With typed arrays these are the caller's arrays, changed in place. */
  readonly grads: Gradients<T>;
  /** True when a guard decided the step must not be applied: don't update the weights. */
  readonly skipped: boolean;
  /** The step's figures. */
  readonly stats: StepStats;
}

/**
 * What {@link GradientPipeline.stepWithDeferred} returns: the gradients at once, the figures when the device has
 * them.
 */
export interface DeferredStepResult<T, S> {
  /** The transformed gradients, same keys, as {@link GradientPipeline.stepWith} gives them. */
  readonly grads: Gradients<T>;
  /** This step's index (`stats.step`). */
  readonly step: number;
  /**
   * 1 when a guard decided that the step must not be applied, else 0, as a backend scalar: apply the update and
   * keep the previous weights where it is 1, as optax's `apply_if_finite` does, without asking the host.
   * `undefined` when no transform of the pipeline can skip a step.
   */
  readonly skip: S | undefined;
  /**
   * The step's figures, once read back — the object `events$` emits at the same moment. Steps settle in order.
   * Rejects when a transform's commit refuses the step (nanGuard's `'throw'` policy); the pipeline then refuses
   * every further step with the same error.
   */
  readonly stats: Promise<StepStats>;
}
