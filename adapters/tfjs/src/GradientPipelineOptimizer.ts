import * as tf from '@tensorflow/tfjs-core';
import { GradientPipeline, GradpipeError, describeValue, type PipelineJson, type StepStats } from '@gradpipe/core';
import { onGpu } from './gpuKernels.js';
import { keepingWhere } from './keepingWhere.js';
import { requirePipeline, stepOptions } from './transformGradients.js';
import { tfjsOps } from './tfjsOps.js';

/**
 * A tensor by variable name: the array form of `applyGradients` input, and what `getWeights` returns (tfjs does
 * not export its type).
 */
export interface NamedTensor {
  /** The variable's name (`tf.Variable.name`), e.g. `'dense_Dense1/kernel'`, or an optimizer weight's name. */
  name: string;
  /** In `applyGradients`, the variable's gradient (shaped like it); in `getWeights`, a saved optimizer weight. */
  tensor: tf.Tensor;
}

type Gradients = tf.NamedTensorMap | NamedTensor[];

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
 * import { GradientPipeline, adaptiveClip } from '@gradpipe/core';
 * import { withGradientPipeline } from '@gradpipe/tfjs';
 *
 * // One dataSync per step on webgl: the figures are there when the step returns.
 * const optimizer = withGradientPipeline(tf.train.sgd(0.1), new GradientPipeline([adaptiveClip({ method: 'zscore' })]), { readback: 'sync' });
 * ```
 */
export interface GradientPipelineOptimizerOptions {
  /** How the figures come back to the host; see {@link Readback}. Default `'auto'`. */
  readback?: Readback;
}

const READBACKS: readonly Readback[] = ['auto', 'sync', 'deferred'];

/** Checks the options object of the optimizer's constructor and factories. */
export function optimizerOptions(fn: string, options: unknown): Required<GradientPipelineOptimizerOptions> {
  if (options === undefined) return { readback: 'auto' };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new GradpipeError(fn, `options must be an object such as { readback: 'auto' }, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'readback') throw new GradpipeError(fn, `unknown option ${JSON.stringify(key)}; known: readback`);
  }
  const readback = (options as GradientPipelineOptimizerOptions).readback ?? 'auto';
  if (!READBACKS.includes(readback)) {
    throw new GradpipeError(fn, `readback must be 'auto', 'sync' or 'deferred', got ${describeValue(readback)}`);
  }
  return { readback };
}

/** The config a {@link GradientPipelineOptimizer} saves: the inner optimizer's, and the pipeline as JSON text. */
interface SavedConfig extends tf.serialization.ConfigDict {
  optimizer: { className: string; config: tf.serialization.ConfigDict };
  /**
   * `JSON.stringify(pipe.toJSON())` with `_` written as `\u005f`: tfjs-layers camel-cases every string with an
   * underscore when it loads a model's training config, which would rename tensors such as `dense_Dense1/kernel`.
   */
  pipeline: string;
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
 * - `getWeights`/`setWeights` are the wrapped optimizer's, and `getConfig` holds its config plus the pipeline's
 *   JSON (state included), so `model.save(…, { includeOptimizer: true })` and `tf.loadLayersModel` resume the
 *   same training. The loaded pipeline is a new object: subscribe to `optimizer.pipeline.events$` again.
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
    this.readback = optimizerOptions('GradientPipelineOptimizer', options).readback;
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
    this.step(gradients, value);
    tf.dispose(grads);
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
      const present: tf.NamedTensorMap = {};
      for (const [name, tensor] of entries) if (tensor != null) present[name] = tensor;
      const options = stepOptions(present, undefined, loss);
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
      void result.stats.then((stats) => {
        this.lastStats = stats;
        // The wrapped optimizer counted the step on the host; a skipped one is taken back now.
        if (stats.skipped) (this.optimizer as unknown as { iterations_: number }).iterations_ -= 1;
      }, () => {});
    });
  }

  /** Disposes the wrapped optimizer (its slot variables); the pipeline is left open. */
  override dispose(): void {
    this.optimizer.dispose();
  }

  /**
   * The wrapped optimizer's weights (its iteration count and slots such as momenta), as tfjs saves them — once the
   * figures of every step are back, so that the count leaves out skipped steps.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    await this.settled();
    return this.optimizer.getWeights();
  }

  /** Restores the wrapped optimizer's weights from {@link GradientPipelineOptimizer.getWeights}. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.optimizer.setWeights(weightValues);
  }

  /**
   * The wrapped optimizer's class name and config, and the pipeline's JSON with its state: what
   * `model.save(…, { includeOptimizer: true })` stores and {@link GradientPipelineOptimizer.fromConfig} reads.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const config: SavedConfig = {
      optimizer: { className: this.optimizer.getClassName(), config: this.optimizer.getConfig() },
      pipeline: JSON.stringify(this.pipeline.toJSON()).replace(/_/g, '\\u005f'),
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
      throw new GradpipeError(fn, `unknown optimizer class ${JSON.stringify(saved.optimizer.className)}: register it with tf.serialization.registerClass`);
    }
    const [innerClass, innerFromConfig] = entry;
    const inner = innerFromConfig(innerClass, saved.optimizer.config) as unknown as tf.Optimizer;
    const pipeline = GradientPipeline.fromJSON(JSON.parse(saved.pipeline) as PipelineJson);
    return new (cls as unknown as new (o: tf.Optimizer, p: GradientPipeline) => T)(inner, pipeline);
  }
}

// Registered on import so that tf.loadLayersModel finds the class in a saved training config. Declared in
// package.json's "sideEffects" (with hostKernels.ts' kernel registration) so that bundlers keep it.
tf.serialization.registerClass(GradientPipelineOptimizer);

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
  if (!(optimizer instanceof tf.Optimizer)) {
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
export function withGradientPipeline(optimizer: tf.Optimizer, pipe: GradientPipeline, options?: GradientPipelineOptimizerOptions): GradientPipelineOptimizer {
  requireOptimizer('withGradientPipeline', optimizer);
  requirePipeline('withGradientPipeline', pipe);
  return new GradientPipelineOptimizer(optimizer, pipe, optimizerOptions('withGradientPipeline', options));
}
