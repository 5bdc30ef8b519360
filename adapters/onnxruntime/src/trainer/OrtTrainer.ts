import * as ort from 'onnxruntime-node';
import { describeValue as show, GradientPipeline, GradpipeError, rejectUnknownKeys, requireInteger, requireOptionsObject } from '@gradpipe/core';
import type { PipelineJson, StepStats, TransformFactory } from '@gradpipe/core';
import { buildTraining } from '../training/buildTrainingModel.js';
import type { TrainingSignature } from '../training/buildTrainingModel.js';
import type { LossKind, LossOptions } from '../training/losses.js';
import { evaluateDim } from '../shapes/Dim.js';
import { inputSizes } from './inputSizes.js';
import { toInferenceForm } from '../training/inferenceForm.js';
import { cloneModel, decodeModel, readFloatTensor } from '../onnx/onnxProto.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import type { Optimizer, OptimizerJson } from '../optimizers/Optimizer.js';
import { optimizerFromJSON } from '../optimizers/optimizerFromJSON.js';
import { DropoutMasks } from './DropoutMasks.js';
import { parametersAsInputs, withInitializers } from './parametersAsInputs.js';
import { updateRunningStatistics } from './RunningStatistics.js';

/** Options of {@link OrtTrainer.create}. */
export interface OrtTrainerOptions {
  /**
   * `'mse'` (target shaped like the output), `'crossEntropy'` (int64 labels `[batch]`, logits `[batch, classes]`),
   * or `{ output }` for a model that computes its own scalar loss (targets are then ordinary model inputs).
   */
  loss: LossKind;
  /** The loss's options, as in PyTorch: `reduction`, `ignoreIndex`, `labelSmoothing`, `weight`, `posWeight`, `delta`. */
  lossOptions?: LossOptions;
  /** The optimizer that applies the (transformed) gradients. Required unless `state` is given. */
  optimizer?: Optimizer;
  /** The gradient pipeline run on every step. Default: an empty pipeline (stats only). Not with `state`. */
  pipeline?: GradientPipeline;
  /** Initializer names to train. Default: every float32 initializer used as a weight (not BatchNorm's running statistics). */
  trainable?: readonly string[];
  /** The model output the loss is computed on. Default: the first output. */
  output?: string;
  /** Seed (an integer) of the generator that draws training-mode Dropout masks. Default 0. */
  seed?: number;
  /** Resume from {@link OrtTrainer.toJSON}: rebuilds the optimizer and the pipeline with their state. */
  state?: OrtTrainerState;
  /** Factories of custom transforms in `state.pipeline` (see `GradientPipeline.fromJSON`). */
  transforms?: Record<string, TransformFactory>;
  /** Passed to `ort.InferenceSession.create`. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/**
 * The saved state of a trainer: optimizer, pipeline and the Dropout generator. The weights and BatchNorm's
 * running statistics travel in {@link OrtTrainer.exportModel}.
 */
export interface OrtTrainerState {
  /** Marks the object as a saved trainer; `OrtTrainer.create` refuses any other `state`. */
  format: 'gradpipe.ortTrainer';
  /** Version of this format. */
  version: 1;
  /** The optimizer's config and state (moments, step count), as {@link Optimizer.toJSON} gives them. */
  optimizer: OptimizerJson;
  /** The gradient pipeline with every transform's state, as `GradientPipeline.toJSON` gives it. */
  pipeline: PipelineJson;
  /** The state of the generator that draws Dropout masks (absent in states saved before it existed). */
  rng?: number[];
}

/** What {@link OrtTrainer.step} returns. */
export interface OrtStepResult {
  /** The batch loss before the update. */
  loss: number;
  /** True when the pipeline refused the step (nanGuard): no weight, statistic or optimizer state changed. */
  skipped: boolean;
  /** The pipeline's figures for this step (norms before and after, clipped, …). */
  stats: StepStats;
}

/** Options of {@link OrtTrainer.exportModel}. */
export interface ExportOptions {
  /**
   * `'inference'` (default): BatchNormalization with its running statistics and Dropout as the identity, as
   * `model.eval()` exports — what to deploy. `'training'`: the nodes as the model had them, to resume training.
   */
  mode?: 'inference' | 'training';
}

/** Feeds by the model's own input names. */
export type OrtFeeds = Record<string, ort.Tensor>;

const STATE_KEYS = ['format', 'version', 'optimizer', 'pipeline', 'rng'];

/**
 * Trains an ONNX model in Node with `onnxruntime-node`: the gradient graph (see {@link buildTrainingModel}) runs
 * in an ordinary `InferenceSession`, the gradients go through a gradpipe `GradientPipeline`, and an optimizer with
 * PyTorch's update rules changes the weights, which live in `Float32Array`s on the JS side.
 *
 * Models exported in training mode train as PyTorch's `model.train()`: BatchNormalization normalizes with the
 * batch's statistics and updates its running statistics (PyTorch's momentum rule); Dropout draws a fresh mask
 * every step from the `seed`. {@link OrtTrainer.predict} and {@link OrtTrainer.exportModel} use the inference form.
 *
 * @example
 * ```ts
 * import { readFileSync, writeFileSync } from 'node:fs';
 * import * as ort from 'onnxruntime-node';
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * import { OrtTrainer, sgd } from '@gradpipe/onnxruntime';
 *
 * const trainer = await OrtTrainer.create(readFileSync('mlp.onnx'), {
 *   loss: 'mse',
 *   optimizer: sgd({ lr: 0.07, momentum: 0.8 }),
 *   pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
 * });
 * const x = new ort.Tensor('float32', new Float32Array(128 * 20), [128, 20]);
 * const y = new ort.Tensor('float32', new Float32Array(128), [128, 1]);
 * const { loss, skipped, stats } = await trainer.step({ input: x }, y);
 * writeFileSync('trained.onnx', trainer.exportModel());
 * ```
 */
export class OrtTrainer {
  /** The optimizer applying the updates. */
  readonly optimizer: Optimizer;
  /** The gradient pipeline run on every step. */
  readonly pipeline: GradientPipeline;
  /** Input, target, loss and gradient names of the training graph. */
  readonly signature: TrainingSignature;

  private readonly params: Record<string, Float32Array>;
  private readonly stats: Record<string, Float32Array>;
  private readonly paramFeeds: Record<string, ort.Tensor>;
  private readonly statFeeds: Record<string, ort.Tensor>;
  private readonly source: OnnxNs.ModelProto;
  private readonly masks: DropoutMasks;
  private forward: Promise<ort.InferenceSession> | undefined;
  private busy = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly loss: LossKind,
    parts: { optimizer: Optimizer; pipeline: GradientPipeline; signature: TrainingSignature; params: Record<string, Float32Array>; source: OnnxNs.ModelProto; seed: number },
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
  ) {
    this.optimizer = parts.optimizer;
    this.pipeline = parts.pipeline;
    this.signature = parts.signature;
    this.params = parts.params;
    this.source = parts.source;
    this.masks = new DropoutMasks(this.signature.dropout, parts.seed);
    // BatchNorm's running statistics: model state the trainer updates, not trained by the optimizer.
    const initializers = new Map((this.source.graph!.initializer ?? []).map((t) => [t.name!, t]));
    this.stats = {};
    for (const s of this.signature.runningStatistics) {
      for (const name of [s.mean, s.variance]) this.stats[name] = readFloatTensor('OrtTrainer.create', initializers.get(name)!);
    }
    // ort.Tensor wraps the Float32Array without copying: the in-place updates are what the next run reads.
    this.paramFeeds = Object.fromEntries(Object.entries(this.params).map(([n, w]) => [n, new ort.Tensor('float32', w, this.signature.shapes[n])]));
    this.statFeeds = Object.fromEntries(Object.entries(this.stats).map(([n, v]) => [n, new ort.Tensor('float32', v, [v.length])]));
  }

  /** Builds the training graph of `model` and opens its session. */
  static async create(model: Uint8Array | OnnxNs.ModelProto, options: OrtTrainerOptions): Promise<OrtTrainer> {
    const fn = 'OrtTrainer.create';
    requireOptionsObject(fn, options);
    rejectUnknownKeys(fn, options, ['loss', 'lossOptions', 'optimizer', 'pipeline', 'trainable', 'output', 'seed', 'state', 'transforms', 'sessionOptions']);
    const seed = requireInteger(fn, 'seed', options.seed ?? 0, -(2 ** 31), 2 ** 31 - 1);
    let optimizer: Optimizer;
    let pipeline: GradientPipeline;
    const state = options.state;
    if (state !== undefined) {
      if (typeof state !== 'object' || state === null || state.format !== 'gradpipe.ortTrainer' || state.version !== 1) {
        throw new GradpipeError(fn, `state must be the output of OrtTrainer.toJSON(), got ${show(state)}`);
      }
      rejectUnknownKeys(fn, state, STATE_KEYS);
      if (options.optimizer || options.pipeline) throw new GradpipeError(fn, 'give either state or optimizer/pipeline, not both: state carries them');
      optimizer = optimizerFromJSON(state.optimizer);
      pipeline = GradientPipeline.fromJSON(state.pipeline, options.transforms ? { transforms: options.transforms } : {});
    } else {
      const given = options.optimizer;
      if (typeof given !== 'object' || given === null || typeof given.update !== 'function') {
        throw new GradpipeError(fn, `optimizer must be an optimizer such as sgd({ lr: 0.01 }), got ${show(given)}`);
      }
      optimizer = given;
      if (options.pipeline !== undefined && !(options.pipeline instanceof GradientPipeline)) {
        throw new GradpipeError(fn, `pipeline must be a GradientPipeline, got ${show(options.pipeline)}`);
      }
      pipeline = options.pipeline ?? new GradientPipeline([]);
    }
    const source = decodeModel(fn, model);
    const training = buildTraining(fn, source, {
      loss: options.loss,
      ...(options.lossOptions !== undefined ? { lossOptions: options.lossOptions } : {}),
      ...(options.trainable ? { trainable: options.trainable } : {}),
      ...(options.output ? { output: options.output } : {}),
    });
    const sessionOptions = options.sessionOptions ?? {};
    const session = await ort.InferenceSession.create(training.bytes, sessionOptions);
    const trainer = new OrtTrainer(session, options.loss, { optimizer, pipeline, signature: training.signature, params: training.initialParameters, source, seed }, sessionOptions);
    if (state?.rng !== undefined) trainer.masks.restore(fn, state.rng);
    return trainer;
  }

  /**
   * Runs the training graph on one batch: the loss and the gradient of every trainable parameter (fresh
   * arrays). Training-mode Dropout draws its masks here; nothing the trainer keeps changes.
   */
  async gradients(
    feeds: OrtFeeds,
    target?: ort.Tensor,
  ): Promise<{
    /** The batch loss at the current weights. */
    loss: number;
    /** The gradient of the loss by trainable initializer name: fresh flat arrays (shapes in `signature.shapes`). */
    grads: Record<string, Float32Array>;
  }> {
    const { loss, grads } = await this.run('OrtTrainer.gradients', feeds, target);
    return { loss, grads };
  }

  /**
   * One training step: gradients, the pipeline (with the parameters and their shapes, so AGC works), then the
   * optimizer and BatchNorm's running statistics — unless the pipeline skips the step, in which case nothing
   * changes.
   */
  async step(feeds: OrtFeeds, target?: ort.Tensor): Promise<OrtStepResult> {
    const fn = 'OrtTrainer.step';
    if (this.busy) throw new GradpipeError(fn, 'the previous step is still running: await it before the next');
    this.busy = true;
    try {
      const { loss, grads, outputs } = await this.run(fn, feeds, target);
      const result = this.pipeline.step(grads, { params: this.params, shapes: this.signature.shapes, loss });
      if (!result.skipped) {
        updateRunningStatistics(fn, this.signature.runningStatistics, this.stats, outputs);
        this.optimizer.update(this.params, result.grads);
      }
      return { loss, skipped: result.skipped, stats: result.stats };
    } finally {
      this.busy = false;
    }
  }

  /**
   * The model's output on a batch with the current weights, in inference form (BatchNorm with its running
   * statistics, Dropout off), from a forward-only session opened on first use.
   */
  async predict(feeds: OrtFeeds): Promise<ort.Tensor> {
    this.checkFeeds('OrtTrainer.predict', feeds);
    this.forward ??= ort.InferenceSession.create(
      parametersAsInputs(toInferenceForm(cloneModel(this.source)), [...Object.keys(this.params), ...Object.keys(this.stats)]),
      this.sessionOptions,
    );
    const session = await this.forward;
    const out = await session.run({ ...feeds, ...this.paramFeeds, ...this.statFeeds }, [this.signature.prediction]);
    return out[this.signature.prediction]!;
  }

  /** Copies of the current weights, by initializer name. */
  parameters(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.params).map(([n, w]) => [n, new Float32Array(w)]));
  }

  /** Copies of BatchNormalization's running means and variances, by initializer name. */
  buffers(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.stats).map(([n, v]) => [n, new Float32Array(v)]));
  }

  /**
   * The model with the trained weights and running statistics in its initializers, encoded as `.onnx` bytes:
   * in inference form by default (to deploy), or as it came (`mode: 'training'`, to resume training).
   */
  exportModel(options: ExportOptions = {}): Uint8Array {
    const fn = 'OrtTrainer.exportModel';
    requireOptionsObject(fn, options);
    rejectUnknownKeys(fn, options, ['mode']);
    const mode = options.mode ?? 'inference';
    if (mode !== 'inference' && mode !== 'training') throw new GradpipeError(fn, `mode must be 'inference' or 'training', got ${show(mode)}`);
    const model = mode === 'inference' ? toInferenceForm(cloneModel(this.source)) : this.source;
    return withInitializers(model, { ...this.params, ...this.stats });
  }

  /** Optimizer, pipeline and Dropout generator state; resume with `OrtTrainer.create(trainer.exportModel({ mode: 'training' }), { loss, state })`. */
  toJSON(): OrtTrainerState {
    return {
      format: 'gradpipe.ortTrainer',
      version: 1,
      optimizer: this.optimizer.toJSON(),
      pipeline: this.pipeline.toJSON(),
      ...(this.signature.dropout.length ? { rng: this.masks.state() } : {}),
    };
  }

  /** Releases the ONNX Runtime sessions. */
  async release(): Promise<void> {
    await this.session.release();
    if (this.forward) await (await this.forward).release();
  }

  /** One run of the training graph, with the weights and this step's Dropout masks fed. */
  private async run(fn: string, feeds: OrtFeeds, target: ort.Tensor | undefined) {
    this.checkFeeds(fn, feeds);
    const sizes = inputSizes(fn, this.signature.inputDims, feeds);
    this.checkTarget(fn, target, sizes);
    const masks = this.masks.draw(sizes);
    const targetFeed = this.signature.target ? { [this.signature.target]: target! } : {};
    const outputs = await this.session.run({ ...feeds, ...this.paramFeeds, ...masks, ...targetFeed });
    const grads: Record<string, Float32Array> = {};
    for (const [name, output] of Object.entries(this.signature.gradients)) grads[name] = outputs[output]!.data as Float32Array;
    return { loss: Number(outputs[this.signature.loss]!.data[0]), grads, outputs };
  }

  private checkFeeds(fn: string, feeds: OrtFeeds): void {
    if (typeof feeds !== 'object' || feeds === null || feeds instanceof ort.Tensor) {
      throw new GradpipeError(fn, `feeds must be an object of ort.Tensor by input name (${this.signature.inputs.join(', ')}), got ${show(feeds)}`);
    }
    for (const name of this.signature.inputs) {
      if (!(feeds[name] instanceof ort.Tensor)) throw new GradpipeError(fn, `feeds has no ort.Tensor for the model input ${JSON.stringify(name)}`);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.signature.inputs.includes(name)) throw new GradpipeError(fn, `feeds has ${JSON.stringify(name)}, which is not a model input (${this.signature.inputs.join(', ')})`);
    }
  }

  /** The target must be what the loss needs: type, shape (batch from the feeds), labels in range. */
  private checkTarget(fn: string, target: ort.Tensor | undefined, sizes: ReadonlyMap<string, number>): void {
    const spec = this.signature.targetSpec;
    if (!spec) {
      if (target !== undefined) throw new GradpipeError(fn, `the model computes its own loss: give the targets in feeds, not as target`);
      return;
    }
    const lossName = `loss '${String(this.loss)}'`;
    if (!(target instanceof ort.Tensor) || target.type !== spec.type) {
      throw new GradpipeError(fn, `target must be a ${spec.type} ort.Tensor for ${lossName}, got ${target instanceof ort.Tensor ? `a ${target.type} tensor` : show(target)}`);
    }
    // A target of another shape would broadcast silently ([n] against [n, 1] gives [n, n]): refuse it.
    const expected = spec.dims?.map((d) => (typeof d === 'string' ? (evaluateDim(d, sizes) ?? null) : d));
    if (expected && (target.dims.length !== expected.length || expected.some((d, i) => d !== null && d !== target.dims[i]))) {
      throw new GradpipeError(fn, `target must have shape [${expected.map((d) => d ?? '?').join(', ')}] for ${lossName} and these feeds, got [${target.dims.join(', ')}]`);
    }
    if (spec.type === 'int64') {
      const labels = target.data as BigInt64Array;
      const ignore = BigInt(spec.ignoreIndex ?? -100);
      const classes = spec.classes === undefined ? undefined : BigInt(spec.classes);
      for (let i = 0; i < labels.length; i++) {
        const v = labels[i]!;
        if (v !== ignore && (v < 0n || (classes !== undefined && v >= classes))) {
          throw new GradpipeError(fn, `target labels must be in [0, ${spec.classes ?? '∞'}) or the ignoreIndex ${ignore}, got ${v} at index ${i}`);
        }
      }
    }
  }
}
