import type { Schedule, StepStats, TransformFactory } from '@gradpipe/core';
import { GradientAccumulator, GradientPipeline, GradpipeError, describeValue as show } from '@gradpipe/core';
import { rejectUnknownKeys, requireOptionsObject } from '@gradpipe/core/internal';
import * as ort from 'onnxruntime-node';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { cloneModel, decodeModel, elementCount, readFloatTensor } from '../onnx/onnxProto.js';
import type { Optimizer } from '../optimizers/Optimizer.js';
import { orDefault } from '../support/options.js';
import type { TrainingSignature } from '../training/buildTrainingModel.js';
import { buildTraining } from '../training/buildTrainingModel.js';
import { toInferenceForm } from '../training/inferenceForm.js';
import type { LossKind, LossOptions } from '../training/losses.js';
import { checkFeeds, inputTypes } from './checkFeeds.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { checkTarget } from './checkTarget.js';
import { CREATE_KEYS, checkCreateOptions } from './createOptions.js';
import { DropoutMasks } from './DropoutMasks.js';
import { modelFingerprint } from './fingerprint.js';
import { inputSizes } from './inputSizes.js';
import { parametersAsInputs, withInitializers } from './parametersAsInputs.js';
import { PendingStatistics, updateRunningStatistics } from './RunningStatistics.js';
import { restoreAgainstModel, restoreParts } from './restoreState.js';
import { openSession, runtimeError } from './runtimeError.js';
import type { OrtTrainerState } from './TrainerState.js';
import { parseState } from './TrainerState.js';

export type { OrtTrainerState } from './TrainerState.js';

/** Options of {@link OrtTrainer.create}. */
export interface OrtTrainerOptions {
  /**
   * `'mse'`, `'crossEntropy'`, `'nll'`, `'bceWithLogits'`, `'l1'`, `'huber'` (PyTorch's definitions), or
   * `{ output }` for a model that computes its own scalar loss (targets are then ordinary model inputs).
   */
  loss: LossKind;
  /** The loss's options, as in PyTorch: `reduction`, `ignoreIndex`, `labelSmoothing`, `weight`, `posWeight`, `delta`. */
  lossOptions?: LossOptions;
  /** The optimizer that applies the (transformed) gradients. Required unless `state` is given. */
  optimizer?: Optimizer;
  /** The gradient pipeline run on every update. Default: an empty pipeline (stats only). Not with `state`. */
  pipeline?: GradientPipeline;
  /** A learning-rate schedule (e.g. `cosineDecay(…)` from `@gradpipe/core`), applied before every update. */
  schedule?: Schedule;
  /** Micro-batches per update: their mean gradient goes through the pipeline once. Default 1. */
  accumulate?: number;
  /** Initializer names to train. Default: every float32 initializer used as a weight (not BatchNorm's running statistics). */
  trainable?: readonly string[];
  /** The model output the loss is computed on. Default: the first output. */
  output?: string;
  /** Seed (an integer) of the generator that draws training-mode Dropout masks. Default 0. */
  seed?: number;
  /** Resume from {@link OrtTrainer.toJSON}: rebuilds the optimizer, pipeline, schedule position and accumulation. */
  state?: OrtTrainerState;
  /** Factories of custom transforms in `state.pipeline` (see `GradientPipeline.fromJSON`). */
  transforms?: Record<string, TransformFactory>;
  /** Passed to `ort.InferenceSession.create`. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/** Options of {@link OrtTrainer.load}: those of `create`, but the optimizer, pipeline and state come from the checkpoint. */
export type OrtTrainerLoadOptions = Omit<OrtTrainerOptions, 'optimizer' | 'pipeline' | 'state'>;

/** What {@link OrtTrainer.step} returns. */
export interface OrtStepResult {
  /** This (micro-)batch's loss before the update. */
  loss: number;
  /** True when the pipeline refused the update (nanGuard): no weight, statistic or optimizer state changed. */
  skipped: boolean;
  /** True when the weights moved: not skipped, and (with `accumulate`) the last micro-batch of the set. */
  applied: boolean;
  /** The pipeline's figures for the update (norms before and after, clipped, lr…); undefined for a micro-batch that only accumulated. */
  stats: StepStats | undefined;
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

/** What the constructor is given (built by `create`). */
interface Parts {
  session: ort.InferenceSession;
  options: OrtTrainerOptions;
  masks: DropoutMasks;
  pendingStats: PendingStatistics;
  optimizer: Optimizer;
  pipeline: GradientPipeline;
  signature: TrainingSignature;
  params: Record<string, Float32Array>;
  source: OnnxNs.ModelProto;
  fingerprint: string;
  schedule: Schedule | undefined;
  accumulator: GradientAccumulator | undefined;
  updates: number;
}

/**
 * Trains an ONNX model in Node with `onnxruntime-node`: the gradient graph (see {@link buildTrainingModel}) runs
 * in an ordinary `InferenceSession`, the gradients go through a gradpipe `GradientPipeline`, and an optimizer with
 * PyTorch's update rules changes the weights, which live in `Float32Array`s on the JS side.
 *
 * Models exported in training mode train as PyTorch's `model.train()`: BatchNormalization normalizes with the
 * batch's statistics and updates its running statistics (PyTorch's momentum rule); Dropout draws a fresh mask
 * every step from the `seed`. {@link OrtTrainer.predict}, {@link OrtTrainer.evaluate} and
 * {@link OrtTrainer.exportModel} use the inference form.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import * as ort from 'onnxruntime-node';
 * import { GradientPipeline, clipByGlobalNorm, cosineDecay } from '@gradpipe/core';
 * import { OrtTrainer, adamw } from '@gradpipe/onnxruntime';
 *
 * const trainer = await OrtTrainer.create(readFileSync('model.onnx'), {
 *   loss: 'crossEntropy',
 *   optimizer: adamw({ lr: 1e-3, groups: [{ params: /bias$|norm/, weightDecay: 0 }] }),
 *   pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
 *   schedule: cosineDecay({ peak: 1e-3, warmupSteps: 100, decaySteps: 10_000 }),
 *   accumulate: 4,
 * });
 * const x = new ort.Tensor('float32', new Float32Array(32 * 20), [32, 20]);
 * const y = new ort.Tensor('int64', new BigInt64Array(32), [32]);
 * const { loss, applied } = await trainer.step({ input: x }, y);
 * await trainer.save('checkpoints/latest');   // later: await OrtTrainer.load('checkpoints/latest', { loss: 'crossEntropy' })
 * ```
 */
export class OrtTrainer {
  /** The optimizer applying the updates. */
  readonly optimizer: Optimizer;
  /** The gradient pipeline run on every update. */
  readonly pipeline: GradientPipeline;
  /** Input, target, loss and gradient names of the training graph. */
  readonly signature: TrainingSignature;
  /** The learning-rate schedule, if any. */
  readonly schedule: Schedule | undefined;

  private readonly session: ort.InferenceSession;
  private readonly options: OrtTrainerOptions;
  private readonly params: Record<string, Float32Array>;
  private readonly stats: Record<string, Float32Array>;
  private readonly paramFeeds: Record<string, ort.Tensor>;
  /** The gradients' buffers, which ONNX Runtime writes into at every step (no allocation per step). */
  private readonly gradBuffers: Record<string, Float32Array>;
  private readonly fetches: Record<string, ort.Tensor | null>;
  private readonly statFeeds: Record<string, ort.Tensor>;
  private readonly source: OnnxNs.ModelProto;
  private readonly fingerprint: string;
  private readonly masks: DropoutMasks;
  private readonly accumulator: GradientAccumulator | undefined;
  private readonly pendingStats: PendingStatistics;
  private readonly microLosses: number[] = [];
  private updates: number;
  /** The element type of each model input, as `ort.Tensor#type` names it. */
  private readonly inputTypes: Record<string, string>;
  private forward: Promise<ort.InferenceSession> | undefined;
  private evaluation: Promise<{ session: ort.InferenceSession; signature: TrainingSignature }> | undefined;
  /** The last save: the next one waits for it (two saves into one directory must not interleave their files). */
  private saving: Promise<void> = Promise.resolve();
  /** The call that is running ONNX Runtime, if any: runs share the weight and gradient buffers, so one at a time. */
  private busy: string | undefined;

  private constructor(parts: Parts) {
    this.session = parts.session;
    this.options = parts.options;
    this.optimizer = parts.optimizer;
    this.pipeline = parts.pipeline;
    this.signature = parts.signature;
    this.params = parts.params;
    this.source = parts.source;
    this.fingerprint = parts.fingerprint;
    this.schedule = parts.schedule;
    this.accumulator = parts.accumulator;
    this.updates = parts.updates;
    this.masks = parts.masks;
    this.pendingStats = parts.pendingStats;
    this.inputTypes = inputTypes(this.source, this.signature);
    // BatchNorm's running statistics: model state the trainer updates, not trained by the optimizer.
    const initializers = new Map((this.source.graph!.initializer ?? []).map((t) => [t.name!, t]));
    this.stats = {};
    for (const s of this.signature.runningStatistics) {
      for (const name of [s.mean, s.variance]) this.stats[name] = readFloatTensor('OrtTrainer.create', initializers.get(name)!);
    }
    // ort.Tensor wraps the Float32Array without copying: the in-place updates are what the next run reads.
    this.paramFeeds = Object.fromEntries(
      Object.entries(this.params).map(([n, w]) => [n, new ort.Tensor('float32', w, this.signature.shapes[n])]),
    );
    this.statFeeds = Object.fromEntries(Object.entries(this.stats).map(([n, v]) => [n, new ort.Tensor('float32', v, [v.length])]));
    this.gradBuffers = Object.fromEntries(Object.entries(this.params).map(([n, w]) => [n, new Float32Array(w.length)]));
    this.fetches = { [this.signature.loss]: null };
    for (const [name, output] of Object.entries(this.signature.gradients))
      this.fetches[output] = new ort.Tensor('float32', this.gradBuffers[name]!, this.signature.shapes[name]);
    for (const s of this.signature.runningStatistics) Object.assign(this.fetches, { [s.batchMean]: null, [s.batchVariance]: null });
    if (this.signature.predictionShape) this.fetches[this.signature.predictionShape] = null;
  }

  /** Builds the training graph of `model` and opens its session. */
  static async create(model: Uint8Array | OnnxNs.ModelProto, options: OrtTrainerOptions): Promise<OrtTrainer> {
    return OrtTrainer.open('OrtTrainer.create', model, options);
  }

  /** `create`, its errors under the name of the public function called (`create` or `load`). */
  private static async open(fn: string, model: Uint8Array | OnnxNs.ModelProto, options: OrtTrainerOptions): Promise<OrtTrainer> {
    const { seed, every } = checkCreateOptions(fn, options);
    const source = decodeModel(fn, model);
    const fingerprint = modelFingerprint(source);
    const state = options.state === undefined ? undefined : parseState(fn, options.state);
    if (state?.fingerprint !== undefined && state.fingerprint !== fingerprint) {
      throw new GradpipeError(
        fn,
        'state was saved for another model (its fingerprint differs): resume it with the model it was trained on',
      );
    }
    if (state && (options.optimizer !== undefined || options.pipeline !== undefined))
      throw new GradpipeError(fn, 'give either state or optimizer/pipeline, not both: state carries them');
    const restored = state ? restoreParts(fn, state, options.transforms) : undefined;
    let optimizer: Optimizer;
    let pipeline: GradientPipeline;
    if (restored) {
      ({ optimizer, pipeline } = restored);
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
    const schedule = options.schedule ?? restored?.schedule;
    let accumulator = restored?.accumulator;
    if (accumulator) {
      if (options.accumulate !== undefined && accumulator.every !== every)
        throw new GradpipeError(fn, `accumulate ${every} differs from the state's ${accumulator.every}`);
    } else if (every > 1) {
      accumulator = new GradientAccumulator({ every });
    }

    const training = buildTraining(fn, source, {
      loss: options.loss,
      ...(options.lossOptions !== undefined ? { lossOptions: options.lossOptions } : {}),
      ...(options.trainable !== undefined ? { trainable: options.trainable } : {}),
      ...(options.output !== undefined ? { output: options.output } : {}),
    });
    const { signature } = training;
    // A state from another training (other parameters, other sizes, torn buffers) is refused here, before a
    // session opens or any weight changes.
    let masks: DropoutMasks;
    let pendingStats: PendingStatistics;
    if (state) {
      ({ masks, pendingStats } = restoreAgainstModel(
        fn,
        state,
        { optimizer, accumulator },
        training,
        statisticLengths(source, signature),
        seed,
      ));
    } else {
      optimizer.bind?.(training.initialParameters);
      masks = new DropoutMasks(signature.dropout, seed);
      pendingStats = new PendingStatistics(signature.runningStatistics);
    }
    const session = await openSession(fn, () => ort.InferenceSession.create(training.bytes, options.sessionOptions ?? {}));
    return new OrtTrainer({
      session,
      options,
      masks,
      pendingStats,
      optimizer,
      pipeline,
      signature,
      params: training.initialParameters,
      source,
      fingerprint,
      schedule,
      accumulator,
      updates: state?.updates ?? 0,
    });
  }

  /**
   * Reads a checkpoint written by {@link OrtTrainer.save} — the model with its weights and running statistics,
   * and the trainer's state — and resumes exactly where it was saved. Files that are not the ones saved together
   * (truncated, changed, from another save) are refused, as is every corrupt field of the state.
   *
   * @example
   * ```ts
   * import { OrtTrainer } from '@gradpipe/onnxruntime';
   * const trainer = await OrtTrainer.load('checkpoints/latest', { loss: 'crossEntropy' });
   * ```
   */
  static async load(dir: string, options: OrtTrainerLoadOptions): Promise<OrtTrainer> {
    const fn = 'OrtTrainer.load';
    requireOptionsObject(fn, options);
    rejectUnknownKeys(
      fn,
      options,
      CREATE_KEYS.filter((k) => !['optimizer', 'pipeline', 'state'].includes(k)),
    );
    const { model, state } = await readCheckpoint(fn, dir);
    return OrtTrainer.open(fn, model, { ...options, state });
  }

  /**
   * Writes a checkpoint into `dir` (created if needed): `model.onnx`, the model in training form with the
   * current weights and running statistics, `trainer.json`, the state ({@link OrtTrainer.toJSON}), and
   * `checkpoint.json`, their sizes and SHA-256, written last to commit them. The trainer is saved as it is when
   * `save` is called. An interrupted save (a crash, kill -9, a full disk) leaves the previous checkpoint or the
   * new one, never a mix; saves of one trainer run one after the other.
   */
  async save(dir: string): Promise<void> {
    const model = this.exportModel({ mode: 'training' });
    const state = this.toJSON();
    const write = () => writeCheckpoint('OrtTrainer.save', dir, model, state);
    const run = this.saving.then(write, write);
    this.saving = run.catch(() => undefined);
    return run;
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
    return this.exclusive('OrtTrainer.gradients', async (fn) => {
      const { loss, grads } = await this.run(fn, feeds, target);
      return { loss, grads: Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, new Float32Array(g)])) };
    });
  }

  /**
   * One training step: gradients, then (with `accumulate`, once every k micro-batches, on their mean) the
   * schedule's learning rate, the pipeline (with the parameters and their shapes, so AGC works), the optimizer
   * and BatchNorm's running statistics — unless the pipeline skips the update, in which case nothing changes.
   */
  async step(feeds: OrtFeeds, target?: ort.Tensor): Promise<OrtStepResult> {
    return this.exclusive('OrtTrainer.step', async (fn) => {
      const { loss, grads, outputs } = await this.run(fn, feeds, target, (o) => this.pendingStats.check(fn, o));
      let update = grads;
      if (this.accumulator) {
        const released = this.accumulator.add(grads);
        this.pendingStats.add(outputs);
        this.microLosses.push(loss);
        if (!released) return { loss, skipped: false, applied: false, stats: undefined };
        update = released;
      } else {
        this.pendingStats.add(outputs);
      }
      const updateLoss = this.microLosses.length ? this.microLosses.reduce((a, b) => a + b, 0) / this.microLosses.length : loss;
      this.microLosses.length = 0;
      const batches = this.pendingStats.take();
      // The schedule's lr is set (and checked by the setter) before the pipeline sees it; a skipped or refused
      // update puts the previous lr back, so that it changes no optimizer state.
      const previousLr = this.optimizer.lr;
      if (this.schedule) this.optimizer.lr = this.schedule(this.updates);
      let result: ReturnType<GradientPipeline['step']>;
      try {
        result = this.pipeline.step(update, {
          params: this.params,
          shapes: this.signature.shapes,
          loss: updateLoss,
          lr: this.optimizer.lr,
        });
      } catch (e) {
        this.optimizer.lr = previousLr;
        throw e;
      }
      if (result.skipped) {
        this.optimizer.lr = previousLr;
      } else {
        for (const batch of batches) updateRunningStatistics(this.signature.runningStatistics, this.stats, batch);
        this.optimizer.update(this.params, result.grads);
        this.updates++;
      }
      return { loss, skipped: result.skipped, applied: !result.skipped, stats: result.stats };
    });
  }

  /**
   * The loss on a batch with no update, as `model.eval()` computes it: BatchNorm with its running statistics,
   * Dropout off (a forward-only graph of the inference form, opened on first use).
   *
   * @example
   * ```ts
   * const validation = await trainer.evaluate({ input: x }, y); // a number; nothing changes
   * ```
   */
  async evaluate(feeds: OrtFeeds, target?: ort.Tensor): Promise<number> {
    return this.exclusive('OrtTrainer.evaluate', (fn) => this.evaluateExclusive(fn, feeds, target));
  }

  private async evaluateExclusive(fn: string, feeds: OrtFeeds, target: ort.Tensor | undefined): Promise<number> {
    checkFeeds(fn, this.signature, this.inputTypes, feeds);
    const sizes = inputSizes(fn, this.signature.inputDims, feeds);
    checkTarget(fn, this.lossName, this.signature.targetSpec, target, sizes);
    this.evaluation ??= (async () => {
      const inference = toInferenceForm(cloneModel(this.source));
      const { bytes, signature } = buildTraining(
        fn,
        inference,
        {
          loss: this.options.loss,
          ...(this.options.lossOptions !== undefined ? { lossOptions: this.options.lossOptions } : {}),
          ...(this.options.output !== undefined ? { output: this.options.output } : {}),
          trainable: [],
        },
        [...Object.keys(this.params), ...Object.keys(this.stats)],
      );
      return { session: await openSession(fn, () => ort.InferenceSession.create(bytes, this.options.sessionOptions ?? {})), signature };
    })();
    const { session, signature } = await this.evaluation;
    const targetFeed = signature.target ? { [signature.target]: target! } : {};
    const fetches = [signature.loss, ...(signature.predictionShape ? [signature.predictionShape] : [])];
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ ...feeds, ...this.paramFeeds, ...this.statFeeds, ...targetFeed }, fetches);
    } catch (e) {
      throw await this.explainFailedRun(fn, feeds, target, sizes, e);
    }
    if (signature.predictionShape)
      checkTarget(fn, this.lossName, signature.targetSpec, target, sizes, dimsOf(out[signature.predictionShape]!));
    return Number(out[signature.loss]!.data[0]);
  }

  /**
   * The model's output on a batch with the current weights, in inference form (BatchNorm with its running
   * statistics, Dropout off), from a forward-only session opened on first use.
   */
  async predict(feeds: OrtFeeds): Promise<ort.Tensor> {
    return this.exclusive('OrtTrainer.predict', (fn) => this.forwardRun(fn, feeds));
  }

  /** The output the loss is computed on, from the forward-only session (opened on first use). */
  private async forwardRun(fn: string, feeds: OrtFeeds): Promise<ort.Tensor> {
    checkFeeds(fn, this.signature, this.inputTypes, feeds);
    const model = () =>
      parametersAsInputs(toInferenceForm(cloneModel(this.source)), [...Object.keys(this.params), ...Object.keys(this.stats)]);
    this.forward ??= openSession(fn, () => ort.InferenceSession.create(model(), this.options.sessionOptions ?? {}));
    const session = await this.forward;
    try {
      const out = await session.run({ ...feeds, ...this.paramFeeds, ...this.statFeeds }, [this.signature.prediction]);
      return out[this.signature.prediction]!;
    } catch (e) {
      throw runtimeError(fn, 'could not run the model on these feeds', e);
    }
  }

  /** Copies of the current weights, by initializer name. */
  parameters(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.params).map(([n, w]) => [n, new Float32Array(w)]));
  }

  /** Copies of BatchNormalization's running means and variances, by initializer name. */
  buffers(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.stats).map(([n, v]) => [n, new Float32Array(v)]));
  }

  /** How many updates the optimizer has applied: the learning-rate schedule's position. */
  get updateCount(): number {
    return this.updates;
  }

  /**
   * The model with the trained weights and running statistics in its initializers, encoded as `.onnx` bytes:
   * in inference form by default (to deploy), or as it came (`mode: 'training'`, to resume training).
   */
  exportModel(options: ExportOptions = {}): Uint8Array {
    const fn = 'OrtTrainer.exportModel';
    requireOptionsObject(fn, options);
    rejectUnknownKeys(fn, options, ['mode']);
    const mode = orDefault(options.mode, 'inference');
    if (mode !== 'inference' && mode !== 'training')
      throw new GradpipeError(fn, `mode must be 'inference' or 'training', got ${show(mode)}`);
    const model = mode === 'inference' ? toInferenceForm(cloneModel(this.source)) : this.source;
    return withInitializers(model, { ...this.params, ...this.stats });
  }

  /**
   * Everything to resume but the weights and statistics: optimizer, pipeline, schedule and its position,
   * accumulation in progress, the Dropout generator. Resume with
   * `OrtTrainer.create(trainer.exportModel({ mode: 'training' }), { loss, state })`, or use `save`/`load`.
   */
  toJSON(): OrtTrainerState {
    return {
      format: 'gradpipe.ortTrainer',
      version: 2,
      fingerprint: this.fingerprint,
      optimizer: this.optimizer.toJSON(),
      pipeline: this.pipeline.toJSON(),
      updates: this.updates,
      ...(this.schedule ? { schedule: { kind: this.schedule.kind, config: this.schedule.config } } : {}),
      ...(this.accumulator ? { accumulator: this.accumulator.toJSON() } : {}),
      ...(this.pendingStats.size ? { pendingStatistics: this.pendingStats.toJSON() } : {}),
      ...(this.signature.dropout.length ? { rng: this.masks.state() } : {}),
    };
  }

  /** Releases the ONNX Runtime sessions. */
  async release(): Promise<void> {
    await this.session.release();
    if (this.forward) await (await this.forward).release();
    if (this.evaluation) await (await this.evaluation).session.release();
  }

  /**
   * One run of the training graph, with the weights and this step's Dropout masks fed; the gradients land in
   * the trainer's own buffers (valid until the next run).
   */
  private async run(
    fn: string,
    feeds: OrtFeeds,
    target: ort.Tensor | undefined,
    checkOutputs?: (outputs: ort.InferenceSession.OnnxValueMapType) => void,
  ) {
    checkFeeds(fn, this.signature, this.inputTypes, feeds);
    const sizes = inputSizes(fn, this.signature.inputDims, feeds);
    checkTarget(fn, this.lossName, this.signature.targetSpec, target, sizes);
    // The generator is rewound when the run is refused, so that a refused step draws no masks either.
    const generator = this.signature.dropout.length ? this.masks.state() : undefined;
    try {
      const masks = this.masks.draw(sizes);
      const targetFeed = this.signature.target ? { [this.signature.target]: target! } : {};
      let outputs: ort.InferenceSession.OnnxValueMapType;
      try {
        outputs = await this.session.run({ ...feeds, ...this.paramFeeds, ...masks, ...targetFeed }, this.fetches);
      } catch (e) {
        throw await this.explainFailedRun(fn, feeds, target, sizes, e);
      }
      const shape = this.signature.predictionShape;
      if (shape) checkTarget(fn, this.lossName, this.signature.targetSpec, target, sizes, dimsOf(outputs[shape]!));
      checkOutputs?.(outputs);
      return { loss: Number(outputs[this.signature.loss]!.data[0]), grads: this.gradBuffers, outputs };
    } catch (e) {
      if (generator) this.masks.restore(fn, generator);
      throw e;
    }
  }

  /**
   * The error for a run ONNX Runtime refused. When the model leaves the target's shape or classes open, a
   * wrong target fails inside the loss (a broadcast, a gather out of bounds): the forward pass tells the
   * prediction's shape, and the target is checked against it for a clear message.
   */
  private async explainFailedRun(
    fn: string,
    feeds: OrtFeeds,
    target: ort.Tensor | undefined,
    sizes: ReadonlyMap<string, number>,
    error: unknown,
  ): Promise<Error> {
    if (this.signature.predictionShape) {
      const prediction = await this.forwardRun(fn, feeds).catch(() => undefined);
      if (prediction) {
        try {
          checkTarget(fn, this.lossName, this.signature.targetSpec, target, sizes, prediction.dims);
        } catch (refusal) {
          return refusal as Error;
        }
      }
    }
    return runtimeError(fn, 'could not run the training graph on these feeds', error);
  }

  /** Runs `body` unless another call is running ONNX Runtime on this trainer (they share its buffers). */
  private async exclusive<T>(fn: string, body: (fn: string) => Promise<T>): Promise<T> {
    if (this.busy !== undefined) {
      const previous = this.busy === 'OrtTrainer.step' ? 'step' : `${this.busy}()`;
      throw new GradpipeError(fn, `the previous ${previous} is still running: await it before calling ${fn}`);
    }
    this.busy = fn;
    try {
      return await body(fn);
    } finally {
      this.busy = undefined;
    }
  }

  private get lossName(): string {
    return typeof this.options.loss === 'string' ? this.options.loss : `{ output: ${JSON.stringify(this.options.loss.output)} }`;
  }
}

/** How many values each running statistic (BatchNorm's mean and variance initializers) has. */
function statisticLengths(source: OnnxNs.ModelProto, signature: TrainingSignature): Map<string, number> {
  const initializers = new Map((source.graph!.initializer ?? []).map((t) => [t.name!, t]));
  return new Map(
    signature.runningStatistics.flatMap((s) => [s.mean, s.variance]).map((name) => [name, elementCount(initializers.get(name)!)]),
  );
}

/** The dims in an int64 shape tensor. */
function dimsOf(shape: ort.Tensor): number[] {
  return Array.from(shape.data as BigInt64Array, Number);
}
