import {
  describeValue,
  GradientPipeline,
  GradpipeError,
  type PipelineJson,
  type Schedule,
  type ScheduleJson,
  type StepStats,
  scheduleFromJSON,
} from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs-core';
import { onGpu } from './gpuKernels.js';
import { keepingWhere } from './keepingWhere.js';
import { learningRateOf, setLearningRate } from './learningRate.js';
import { MicroBatches } from './MicroBatches.js';
import type { NamedTensor } from './namedTensor.js';
import { type GradientPipelineOptimizerOptions, optimizerOptions, type Readback } from './optimizerOptions.js';
import { tfjsOps } from './tfjsOps.js';
import { requirePipeline, stepOptions } from './transformGradients.js';

type Gradients = tf.NamedTensorMap | NamedTensor[];

/** The config a {@link GradientPipelineOptimizer} saves: the inner optimizer's, and the pipeline as JSON text. */
interface SavedConfig extends tf.serialization.ConfigDict {
  optimizer: { className: string; config: tf.serialization.ConfigDict };
  /**
   * `JSON.stringify(pipe.toJSON())` with `_` written as `\u005f`: tfjs-layers camel-cases every string with an
   * underscore when it loads a model's training config, which would rename tensors such as `dense_Dense1/kernel`.
   */
  pipeline: string;
  /** The schedule as `JSON.stringify(schedule)`, written as the pipeline is; null without one (absent in older saves). */
  schedule: string | null;
  /** Micro-batches per update (absent in older saves: 1). */
  accumulate: number;
}

/**
 * A `tf.Optimizer` that runs a {@link GradientPipeline} on the gradients before the optimizer it wraps applies
 * them. Make one with {@link withGradientPipeline} or {@link withClipping}.
 *
 * - `minimize`, `applyGradients` (a `NamedTensorMap` or a `NamedTensor[]`) go through the pipeline, and
 *   `model.fit` does too; `computeGradients` is the wrapped optimizer's (clipping happens when gradients are
 *   applied, as in Keras). `null`/`undefined` gradients are passed over.
 * - A step the pipeline skips (nanGuard) changes no weight and leaves the wrapped optimizer as it was:
 *   `iterations`, momenta and Adam moments do not move.
 * - With `schedule`, the learning rate is the schedule's at `iterations` before each update; `learningRate`
 *   reads and sets it between steps. With `accumulate: k`, k calls make one update on their mean gradient.
 * - `getWeights`/`setWeights` are the wrapped optimizer's (plus the micro-batches summed so far), and `getConfig`
 *   holds its config plus the pipeline's JSON (state included) and the schedule, so
 *   `model.save(…, { includeOptimizer: true })` and `tf.loadLayersModel` resume the same training. The loaded
 *   pipeline is a new object: subscribe to `optimizer.pipeline.events$` again.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * import { GradientPipelineOptimizer, withGradientPipeline } from '@gradpipe/tfjs';
 *
 * const optimizer = withGradientPipeline(tf.train.adam(1e-3), new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]));
 * optimizer instanceof tf.Optimizer;              // true
 * optimizer instanceof GradientPipelineOptimizer; // true
 * optimizer.pipeline.events$.subscribe((e) => console.log(e.step, e.normBefore, e.loss));
 * ```
 */
export class GradientPipelineOptimizer extends tf.Optimizer {
  /** The name under which `tf.serialization` finds this class when a model is loaded. */
  static get className(): string {
    return 'GradpipeOptimizer';
  }

  /**
   * The figures of the last step whose figures are back, or `undefined` before. With deferred read-back they lag a
   * few steps behind: `await optimizer.settled()` first.
   */
  lastStats: StepStats | undefined;

  /** How the step's figures come back to the host (see {@link Readback}). */
  readonly readback: Readback;

  /** The learning-rate schedule applied before each update, if any. */
  readonly schedule: Schedule | undefined;

  /** Micro-batches per update (1: every call is an update). */
  readonly accumulate: number;

  /** The device-side sums of the micro-batches of the update in progress (with `accumulate` > 1). */
  private readonly microBatches: MicroBatches | undefined;

  constructor(
    /** The optimizer that applies the transformed gradients. */
    readonly optimizer: tf.Optimizer,
    /** The pipeline run on every step's gradients. */
    readonly pipeline: GradientPipeline,
    options?: GradientPipelineOptimizerOptions,
  ) {
    super();
    requireOptimizer('GradientPipelineOptimizer', optimizer);
    requirePipeline('GradientPipelineOptimizer', pipeline);
    const checked = optimizerOptions('GradientPipelineOptimizer', options);
    this.readback = checked.readback;
    this.schedule = checked.schedule;
    this.accumulate = checked.accumulate;
    this.followSchedule('GradientPipelineOptimizer');
    this.microBatches = this.accumulate > 1 ? new MicroBatches(this.accumulate) : undefined;
  }

  /**
   * The wrapped optimizer's learning rate, read and set between steps (0 allowed). With a `schedule`, the schedule
   * sets it again before each update.
   */
  get learningRate(): number | undefined {
    return learningRateOf(this.optimizer);
  }

  /** Sets the wrapped optimizer's learning rate for the next update (a finite number ≥ 0). */
  set learningRate(lr: number) {
    setLearningRate('GradientPipelineOptimizer.learningRate', this.optimizer, lr);
  }

  /** Micro-batches summed towards the next update (0 … accumulate − 1). */
  get pendingMicroBatches(): number {
    return this.microBatches?.pending ?? 0;
  }

  /**
   * The wrapped optimizer's step count: skipped steps are not counted. With deferred read-back a skipped step is
   * taken off when its figures arrive (`await optimizer.settled()` for the final count).
   */
  override get iterations(): number {
    return this.optimizer.iterations;
  }

  /**
   * Resolves when the figures of every step so far are back: `lastStats`, `iterations`, `pipeline.events$` and the
   * pipeline's state are then up to date. Rejects with the error of a step the pipeline refused (nanGuard's
   * `'throw'`). Immediate with synchronous read-back.
   */
  settled(): Promise<void> {
    return this.pipeline.settled();
  }

  /** True when this step's figures are read back asynchronously (see {@link Readback}). */
  private deferred(): boolean {
    if (this.readback !== 'auto') return this.readback === 'deferred';
    // webgpu has no synchronous read at all; webgl has one, which stalls the GPU's queue.
    return tf.getBackend() === 'webgpu' || (onGpu() && this.pipeline.canDefer);
  }

  /**
   * The wrapped optimizer's `computeGradients`, untouched: the pipeline runs when gradients are applied, as
   * Keras clips in `apply_gradients`. Pass the result to {@link GradientPipelineOptimizer.applyGradients}.
   */
  override computeGradients(
    f: () => tf.Scalar,
    varList?: tf.Variable[],
  ): {
    /** The value of `f`, i.e. the loss; yours to dispose. */
    value: tf.Scalar;
    /** The gradient of `f` by variable name (raw, not yet through the pipeline); yours to dispose. */
    grads: tf.NamedTensorMap;
  } {
    return this.optimizer.computeGradients(f, varList);
  }

  /**
   * Computes the gradients of `f`, runs them through the pipeline (with `f`'s value as the step's loss) and
   * applies the result, unless the pipeline skips the step. Returns the loss when `returnCost` is true.
   */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    // Same shape of call as tf.Optimizer.minimize, so the wrapped optimizer sees what it would have seen.
    const gradients: Gradients = varList ? varList.map((v) => ({ name: v.name, tensor: grads[v.name]! })) : grads;
    try {
      this.step(gradients, value);
    } catch (error) {
      value.dispose(); // a refused step (nanGuard 'throw', bad gradients) leaks nothing
      throw error;
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /**
   * Runs `variableGradients` through the pipeline and hands the result to the wrapped optimizer, in the same form
   * (map or array, same order); a skipped step changes nothing. Your gradient tensors are left as they were.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.step(variableGradients, undefined);
  }

  /**
   * Runs the pipeline on the present gradients and, unless the step is skipped, hands the result to the wrapped
   * optimizer in the form it came in: same order, same names, `null`s where there was no gradient (optimizers
   * such as Adam keep their slots by position).
   */
  private step(variableGradients: Gradients, loss: tf.Scalar | undefined): void {
    const fn = 'GradientPipelineOptimizer.applyGradients';
    const entries = namedEntries(fn, variableGradients);
    tf.tidy(() => {
      let present: tf.NamedTensorMap = {};
      for (const [name, tensor] of entries) if (tensor != null) present[name] = tensor;
      if (entries.length > 0 && Object.keys(present).length === 0) {
        // Keras' "No gradients provided for any variable": the loss does not reach any variable, surely a bug.
        throw new GradpipeError(
          fn,
          `no gradients provided for any variable (all ${entries.length} are null or undefined: ${entries.map(([n]) => JSON.stringify(n)).join(', ')})`,
        );
      }
      if (this.microBatches) {
        const mean = this.microBatches.add(fn, present, loss);
        if (mean === undefined) return; // summed on the device; the weights move on the k-th call
        for (const name of Object.keys(mean.grads)) if (!entries.some(([n]) => n === name)) entries.push([name, mean.grads[name]]);
        ({ grads: present, loss } = mean);
      }
      this.followSchedule(fn);
      const options = stepOptions(present, undefined, loss, learningRateOf(this.optimizer));
      const apply = (grads: tf.NamedTensorMap) => {
        const pick = (name: string) => (name in present ? grads[name]! : (null as unknown as tf.Tensor));
        this.optimizer.applyGradients(
          Array.isArray(variableGradients)
            ? entries.map(([name]) => ({ name, tensor: pick(name) }))
            : Object.fromEntries(entries.map(([name]) => [name, pick(name)])),
        );
      };
      if (!this.deferred()) {
        const result = this.pipeline.stepWith(tfjsOps, present, options);
        this.lastStats = result.stats;
        if (!result.skipped) apply(result.grads);
        return;
      }
      const result = this.pipeline.stepWithDeferred(tfjsOps, present, options);
      // No guard in the pipeline: nothing to decide. Else every variable the optimizer assigns (weights, slots,
      // Adam's β powers) keeps its value where the device says skip, as optax's apply_if_finite does.
      if (result.skip === undefined) apply(result.grads);
      else keepingWhere(result.skip, () => apply(result.grads));
      void result.stats.then(
        (stats) => {
          this.lastStats = stats;
          // The wrapped optimizer counted the step on the host; a skipped one is taken back now.
          if (stats.skipped) {
            (this.optimizer as unknown as { iterations_: number }).iterations_ -= 1;
            this.followSchedule('GradientPipelineOptimizer.applyGradients');
          }
        },
        () => {},
      );
    });
    // As after PyTorch's scheduler.step(): learningRate now reads the rate of the next update.
    this.followSchedule(fn);
  }

  /** Sets the learning rate to the schedule's at the update count (a no-op without a schedule or when it is already). */
  private followSchedule(fn: string): void {
    if (this.schedule) setLearningRate(fn, this.optimizer, this.schedule(this.optimizer.iterations));
  }

  /** Disposes the wrapped optimizer (its slot variables) and the micro-batch sums; the pipeline is left open. */
  override dispose(): void {
    this.optimizer.dispose();
    this.microBatches?.dispose();
  }

  /**
   * The wrapped optimizer's weights (its iteration count and slots such as momenta), as tfjs saves them — once the
   * figures of every step are back, so that the count leaves out skipped steps. With `accumulate`, the sums of the
   * micro-batches so far follow, named `gradpipe/microBatches/…`, so a save mid-accumulation resumes there.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    await this.settled();
    const weights = await this.optimizer.getWeights();
    return this.microBatches ? [...weights, ...this.microBatches.weights()] : weights;
  }

  /** Restores the weights of {@link GradientPipelineOptimizer.getWeights}: the wrapped optimizer's, and the micro-batch sums. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const fn = 'GradientPipelineOptimizer.setWeights';
    if (!Array.isArray(weightValues))
      throw new GradpipeError(fn, `expects the NamedTensor[] of getWeights(), got ${describeValue(weightValues)}`);
    const mine = weightValues.filter((w) => w?.name?.startsWith('gradpipe/'));
    if (mine.length > 0 && !this.microBatches) {
      throw new GradpipeError(
        fn,
        `the weights hold micro-batch sums (${mine[0]!.name}), but this optimizer does not accumulate (accumulate ${this.accumulate})`,
      );
    }
    const theirs = this.microBatches ? await this.microBatches.restore(fn, weightValues) : weightValues;
    await this.optimizer.setWeights(theirs);
    this.followSchedule(fn);
  }

  /**
   * The wrapped optimizer's class name and config, and the pipeline's JSON with its state: what
   * `model.save(…, { includeOptimizer: true })` stores and {@link GradientPipelineOptimizer.fromConfig} reads.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const config: SavedConfig = {
      optimizer: { className: this.optimizer.getClassName(), config: this.optimizer.getConfig() },
      pipeline: jsonText(this.pipeline.toJSON()),
      schedule: this.schedule ? jsonText(this.schedule) : null,
      accumulate: this.accumulate,
    };
    return config;
  }

  /** Rebuilds the optimizer from {@link GradientPipelineOptimizer.getConfig}, state included. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const fn = 'GradientPipelineOptimizer.fromConfig';
    const saved = config as Partial<SavedConfig>;
    if (typeof saved.pipeline !== 'string' || typeof saved.optimizer !== 'object' || saved.optimizer === null) {
      throw new GradpipeError(fn, `expects the output of getConfig() ({ optimizer, pipeline }), got ${describeValue(config)}`);
    }
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[saved.optimizer.className];
    if (!entry) {
      throw new GradpipeError(
        fn,
        `unknown optimizer class ${JSON.stringify(saved.optimizer.className)}: register it with tf.serialization.registerClass`,
      );
    }
    const [innerClass, innerFromConfig] = entry;
    const inner = innerFromConfig(innerClass, saved.optimizer.config) as unknown as tf.Optimizer;
    const pipeline = GradientPipeline.fromJSON(JSON.parse(saved.pipeline) as PipelineJson);
    if (saved.schedule != null && typeof saved.schedule !== 'string') {
      throw new GradpipeError(fn, `schedule must be the schedule's JSON text, got ${describeValue(saved.schedule)}`);
    }
    const schedule = saved.schedule == null ? undefined : scheduleFromJSON(JSON.parse(saved.schedule) as ScheduleJson);
    const options: GradientPipelineOptimizerOptions = {
      ...(schedule ? { schedule } : {}),
      ...(saved.accumulate == null ? {} : { accumulate: saved.accumulate }),
    };
    return new (cls as unknown as new (o: tf.Optimizer, p: GradientPipeline, options: GradientPipelineOptimizerOptions) => T)(
      inner,
      pipeline,
      options,
    );
  }
}

// Registered on import so that tf.loadLayersModel finds the class in a saved training config. Declared in
// package.json's "sideEffects" (with hostKernels.ts' kernel registration) so that bundlers keep it.
tf.serialization.registerClass(GradientPipelineOptimizer);

/**
 * JSON text with `_` written as `\u005f`: tfjs-layers camel-cases every string with an underscore when it loads a
 * model's training config, which would rename tensors such as `dense_Dense1/kernel`.
 */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/_/g, '\\u005f');
}

/** The (name, gradient) pairs of either form of `applyGradients` input, checked. */
function namedEntries(fn: string, gradients: Gradients): [string, tf.Tensor | null | undefined][] {
  if (Array.isArray(gradients)) {
    return gradients.map((g, i) => {
      if (typeof g !== 'object' || g === null || typeof g.name !== 'string') {
        throw new GradpipeError(fn, `gradients[${i}] must be a { name, tensor } NamedTensor, got ${describeValue(g)}`);
      }
      return [g.name, g.tensor];
    });
  }
  if (typeof gradients !== 'object' || gradients === null) {
    throw new GradpipeError(fn, `expects a NamedTensorMap or a NamedTensor[], got ${describeValue(gradients)}`);
  }
  return Object.entries(gradients);
}

/** Throws unless `optimizer` is a `tf.Optimizer` (duck-typed by tfjs itself: minimize, computeGradients, applyGradients). */
export function requireOptimizer(fn: string, optimizer: unknown): asserts optimizer is tf.Optimizer {
  // tfjs's Optimizer[Symbol.hasInstance] reads optimizer.minimize, a TypeError for null and undefined.
  if (typeof optimizer !== 'object' || optimizer === null || !(optimizer instanceof tf.Optimizer)) {
    throw new GradpipeError(fn, `optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got ${describeValue(optimizer)}`);
  }
}

/**
 * Wraps any TensorFlow.js optimizer so that every step's gradients go through `pipe` first — the one-line
 * drop-in: `model.compile({ optimizer: withGradientPipeline(tf.train.adam(1e-3), pipe), … })`.
 * See {@link GradientPipelineOptimizer} for what the result does.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * import { withGradientPipeline } from '@gradpipe/tfjs';
 *
 * const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
 * model.compile({ optimizer: withGradientPipeline(tf.train.adam(1e-3), pipe), loss: 'meanSquaredError' });
 * pipe.events$.subscribe((e) => console.log(`step ${e.step}: ‖g‖ ${e.normBefore} → ${e.normAfter}, loss ${e.loss}`));
 * await model.fit(tf.randomNormal([64, 3]), tf.randomNormal([64, 1]), { epochs: 2, batchSize: 16 });
 * ```
 */
export function withGradientPipeline(
  optimizer: tf.Optimizer,
  pipe: GradientPipeline,
  options?: GradientPipelineOptimizerOptions,
): GradientPipelineOptimizer {
  requireOptimizer('withGradientPipeline', optimizer);
  requirePipeline('withGradientPipeline', pipe);
  return new GradientPipelineOptimizer(optimizer, pipe, optimizerOptions('withGradientPipeline', options));
}
