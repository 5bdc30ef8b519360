import { Subject } from 'rxjs';
import { GradpipeError, describeValue } from '../errors/GradpipeError.js';
import type { AnyGradientTransform, GradientTransform, Gradients, JsonObject, JsonValue, TransformContext, TransformUpdate } from './GradientTransform.js';
import { GuardedObservable } from '../events/GuardedObservable.js';
import { NormMemo } from '../norms/NormMemo.js';
import type { StepEvent, StepStats, TransformStats } from './StepStats.js';
import type { TensorOps } from '../backends/TensorOps.js';
import { adaptiveClip } from '../transforms/adaptiveClip.js';
import { agc } from '../transforms/agc.js';
import { clipByGlobalNorm } from '../transforms/clipByGlobalNorm.js';
import { clipByNorm } from '../transforms/clipByNorm.js';
import { clipByValue } from '../transforms/clipByValue.js';
import { nanGuard } from '../transforms/nanGuard.js';
import { typedArrayOps } from '../backends/typedArray/typedArrayOps.js';

/** Options of {@link GradientPipeline}. */
export interface PipelineOptions {
  /** Include every tensor's L2 norm in the events (`event.tensorNorms`). Default false. */
  tensorNorms?: boolean;
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

/** The JSON form of a pipeline: every transform's kind, config and state, and the step counter. */
export interface PipelineJson {
  /** Marks the object as a saved pipeline. */
  format: 'gradpipe.pipeline';
  /** Version of this format. */
  version: 1;
  /** How many steps the pipeline had processed: the resumed one goes on counting from here. */
  step: number;
  /** The `tensorNorms` option of the pipeline. */
  tensorNorms: boolean;
  /** Every transform, in order. */
  transforms: {
    /** The transform's kind, which names its factory for `fromJSON`. */
    kind: string;
    /** The options it was made with. */
    config: JsonObject;
    /** Its state after the last step. */
    state: JsonValue;
  }[];
}

/** Rebuilds a transform from its JSON config, for {@link GradientPipeline.fromJSON}. */
export type TransformFactory = (config: JsonObject) => AnyGradientTransform;

const BUILT_IN: Record<string, TransformFactory> = {
  clipByValue: (c) => clipByValue(c as never),
  clipByNorm: (c) => clipByNorm(c as never),
  clipByGlobalNorm: (c) => clipByGlobalNorm(c as never),
  nanGuard: (c) => nanGuard(c as never),
  adaptiveClip: (c) => adaptiveClip(c as never),
  agc: (c) => agc(c as never),
};

/** A step between {@link GradientPipeline.beginStep} and {@link GradientPipeline.finishStep}. */
interface StepRun<T, S> {
  readonly ops: TensorOps<T, S>;
  readonly memo: NormMemo<T, S>;
  readonly names: readonly string[];
  readonly inputNorms: readonly S[];
  readonly normBefore: S;
  readonly ctx: TransformContext<T, S>;
  current: Gradients<T>;
  readonly updates: TransformUpdate<T, S, unknown>[];
}

/** The scalars a step reads back, and where each transform's figures are among them. */
interface ReadPlan<S> {
  readonly scalars: S[];
  readonly figureNames: string[][];
  readonly lossOnBackend: boolean;
}

const ignore = (): void => {};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

const defaultSubscriberError = (error: unknown): void => {
  console.error('gradpipe: an events$ subscriber threw; training goes on.', error);
};

/**
 * A chain of gradient transforms applied at every training step, in order — optax's `chain` with state kept
 * for you, events for your loggers, and JSON to save and resume.
 *
 * @example
 * ```ts
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 *
 * const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.events$.subscribe((e) => console.log(e.step, e.normBefore, e.clipped));
 *
 * const grads = { w: new Float32Array([3, 4]), b: new Float32Array([0]) };
 * const result = pipe.step(grads);
 * if (!result.skipped) {
 *   // apply result.grads with your optimizer
 * }
 * const saved = JSON.stringify(pipe.toJSON());
 * const resumed = GradientPipeline.fromJSON(JSON.parse(saved));
 * ```
 */
export class GradientPipeline {
  /** The transforms, in the order they run. */
  readonly transforms: readonly AnyGradientTransform[];
  /**
   * One event per step, emitted synchronously at the end of `step` (a hot Observable: subscribe before
   * training). A subscriber that throws cannot break training: its error goes to `onSubscriberError`.
   */
  readonly events$: GuardedObservable<StepEvent>;

  private readonly options: Required<Pick<PipelineOptions, 'tensorNorms'>>;
  private readonly subject = new Subject<StepEvent>();
  private states: unknown[];
  private stepIndex = 0;
  /** True while a stepAsync awaits its transforms: no other step may start meanwhile. */
  private inFlight = false;
  /** Deferred steps whose figures are not committed yet. */
  private pending = 0;
  /** Settles after the last deferred step issued: the next one settles after it, so events keep step order. */
  private tail: Promise<void> = Promise.resolve();
  /** Why a deferred step was refused (a commit threw): every later step is refused with it. */
  private failure: { error: unknown } | undefined;
  /** The first transform that keeps a step from beginning before the figures of the one before are in, if any. */
  private readonly needsPreviousFigures: number;

  constructor(transforms: readonly AnyGradientTransform[], options: PipelineOptions = {}) {
    const fn = 'GradientPipeline';
    if (!Array.isArray(transforms)) {
      throw new GradpipeError(fn, `transforms must be an array, got ${describeValue(transforms)}`);
    }
    transforms.forEach((t, i) => {
      if (typeof t !== 'object' || t === null || typeof t.update !== 'function' || typeof t.init !== 'function' || typeof t.kind !== 'string') {
        throw new GradpipeError(fn, `transforms[${i}] is not a gradient transform (needs kind, init, update), got ${describeValue(t)}`);
      }
    });
    this.transforms = [...transforms];
    this.options = { tensorNorms: options.tensorNorms ?? false };
    this.states = this.transforms.map((t) => t.init());
    this.needsPreviousFigures = this.transforms.findIndex(
      (t, i) => ('async' in t && t.async === true) || ((t as GradientTransform).updateUsesState ?? this.states[i] !== null),
    );
    const onError = options.onSubscriberError ?? defaultSubscriberError;
    const subject = this.subject;
    this.events$ = new GuardedObservable<StepEvent>(onError, (subscriber) => {
      const subscription = subject.subscribe(subscriber);
      return () => subscription.unsubscribe();
    });
  }

  /** How many steps this pipeline has processed (applied and skipped). */
  get stepCount(): number {
    return this.stepIndex;
  }

  /**
   * True when a step may begin before the figures of the step before are read back: no transform's `update`
   * reads state that a commit changes (see `updateUsesState`) and none is asynchronous. Then
   * {@link GradientPipeline.stepWithDeferred} can run step after step without waiting for the device.
   */
  get canDefer(): boolean {
    return this.needsPreviousFigures < 0;
  }

  /** The current state of every transform, in order (a copy). */
  get state(): readonly unknown[] {
    return structuredClone(this.states);
  }

  /**
   * Runs one step on `Float32Array` gradients (the typed-array backend). The arrays are changed in place;
   * `result.grads` holds them. On bad input nothing is changed and a {@link GradpipeError} says why.
   * Asynchronous transforms (a sharded {@link clipByGlobalNorm}) need {@link GradientPipeline.stepAsync}.
   */
  step(grads: Gradients<Float32Array>, options: StepOptions<Float32Array> = {}): StepResult<Float32Array> {
    return this.stepWith(typedArrayOps as TensorOps<Float32Array, number>, grads, options);
  }

  /**
   * Runs one step on any backend's tensors: `ops` is the backend (e.g. `@gradpipe/tfjs`'s tensor ops).
   * Adapters call this; with typed arrays use {@link GradientPipeline.step}.
   */
  stepWith<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S> = {}): StepResult<T> {
    const fn = 'GradientPipeline.step';
    const asyncAt = this.transforms.findIndex((t) => 'async' in t && t.async === true);
    if (asyncAt >= 0) {
      throw new GradpipeError(fn, `transforms[${asyncAt}] (${this.transforms[asyncAt]!.kind}) is asynchronous: use stepAsync or stepWithAsync`);
    }
    const run = this.beginStep(fn, ops, grads, options);
    for (let i = 0; i < this.transforms.length; i++) {
      const update = this.transforms[i]!.update(run.current, this.states[i], run.ctx);
      if (isPromiseLike(update)) {
        update.then(ignore, ignore); // nobody will await it: don't let its failure surface as an unhandled rejection
        throw new GradpipeError(fn, `transforms[${i}] (${this.transforms[i]!.kind}) returned a promise: use stepAsync or stepWithAsync`);
      }
      if (this.record(run, update)) break;
    }
    return this.finishStep(run, options);
  }

  /**
   * {@link GradientPipeline.stepWith} without a host read-back in the step, for device backends (webgl, webgpu):
   * the gradients come back at once; the figures are read with `ops.readAsync` and reach `stats`, `events$` and the
   * transforms' commits later, in step order, with the same content as `stepWith` gives. A guard's decision comes
   * back as the backend scalar `skip`, for the caller to select with. A pipeline that is not
   * {@link GradientPipeline.canDefer | canDefer} (AutoClip, ZClip: the threshold depends on the last step's norm)
   * refuses a step while figures are pending: await {@link GradientPipeline.settled} between steps.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
   * import { tfjsOps } from '@gradpipe/tfjs';
   *
   * const pipe = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]);
   * const result = tf.tidy(() => {
   *   const { grads, skip, stats } = pipe.stepWithDeferred(tfjsOps, { w: tf.tensor1d([3, 4]) });
   *   return { w: grads.w!, skip: skip!, stats }; // skip: a tf.Scalar, 1 when the step must not be applied
   * });
   * const stats = await result.stats;            // { step: 0, normBefore: 5, clipped: true, … }
   * tf.dispose([result.w, result.skip]);
   * ```
   */
  stepWithDeferred<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S> = {}): DeferredStepResult<T, S> {
    const fn = 'GradientPipeline.stepWithDeferred';
    if (typeof ops?.readAsync !== 'function') {
      throw new GradpipeError(fn, `the ${describeValue(ops?.name)} backend cannot read asynchronously (it has no readAsync): use stepWith`);
    }
    const blocker = this.needsPreviousFigures;
    if (blocker >= 0) {
      const t = this.transforms[blocker]!;
      if ('async' in t && t.async === true) throw new GradpipeError(fn, `transforms[${blocker}] (${t.kind}) is asynchronous: use stepWithAsync`);
      if (this.pending > 0) {
        throw new GradpipeError(fn, `transforms[${blocker}] (${t.kind}) needs the figures of the step before, still being read back: await pipe.settled() between steps`);
      }
    }
    const run = this.beginStep(fn, ops, grads, options, true);
    for (let i = 0; i < this.transforms.length; i++) {
      const update = (this.transforms[i] as GradientTransform).update(run.current, this.states[i], run.ctx);
      if (isPromiseLike(update)) {
        update.then(ignore, ignore);
        throw new GradpipeError(fn, `transforms[${i}] (${this.transforms[i]!.kind}) returned a promise: use stepWithAsync`);
      }
      if (this.record(run, update)) break;
    }
    const plan = this.readPlan(run, options);
    const skips: S[] = [];
    for (const u of run.updates) if (u.figures?.skip !== undefined) skips.push(u.figures.skip);
    const skip = skips.length === 0 ? undefined : skips.reduce((a, b) => ops.max(a, b));
    const step = this.stepIndex++;
    // Taken now, inside the caller's scope (e.g. tf.tidy): the scalars may be freed once the read has begun.
    const values = ops.readAsync(plan.scalars);
    this.pending++;
    const stats = this.tail
      .then(async () => {
        const read = await values;
        if (this.failure) throw this.failure.error;
        return this.settle(run, options, plan, read, step);
      })
      .catch((error: unknown) => {
        this.failure ??= { error };
        throw error;
      })
      .finally(() => {
        this.pending--;
      });
    this.tail = stats.then(ignore, ignore);
    // The failure also reaches the next step and settled(): a caller who ignores `stats` gets no unhandled rejection.
    stats.catch(ignore);
    return { grads: run.current, step, skip, stats };
  }

  /**
   * Resolves once the figures of every deferred step issued so far are committed and emitted; rejects with the
   * error of a refused step. Await it before `toJSON` or between steps of a pipeline that is not `canDefer`.
   */
  settled(): Promise<void> {
    return this.tail.then(() => {
      if (this.failure) throw this.failure.error;
    });
  }

  /** How many deferred steps still wait for their figures. */
  get pendingSteps(): number {
    return this.pending;
  }

  /**
   * {@link GradientPipeline.step} for pipelines with asynchronous transforms, such as a sharded
   * {@link clipByGlobalNorm} that waits for the other shards. One step at a time: await it before the next.
   * If it rejects, the pipeline's state and step counter are as before the step (gradients already changed in
   * place by earlier transforms stay changed).
   *
   * @example
   * ```ts
   * import { GradientPipeline, clipByGlobalNorm, inProcessAllReduce } from '@gradpipe/core';
   * const [reduce] = inProcessAllReduce(1); // a world of one shard: same result as pipe.step
   * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: reduce! })]);
   * const { grads, stats } = await pipe.stepAsync({ w: new Float32Array([3, 4]) });
   * // grads.w ≈ [0.6, 0.8], stats.clipped === true
   * ```
   */
  stepAsync(grads: Gradients<Float32Array>, options: StepOptions<Float32Array> = {}): Promise<StepResult<Float32Array>> {
    return this.stepWithAsync(typedArrayOps as TensorOps<Float32Array, number>, grads, options);
  }

  /** {@link GradientPipeline.stepWith} for pipelines with asynchronous transforms: any backend, awaited. */
  async stepWithAsync<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S> = {}): Promise<StepResult<T>> {
    const run = this.beginStep('GradientPipeline.stepAsync', ops, grads, options);
    this.inFlight = true;
    try {
      for (let i = 0; i < this.transforms.length; i++) {
        const update = await this.transforms[i]!.update(run.current, this.states[i], run.ctx);
        if (this.record(run, update)) break;
      }
      return this.finishStep(run, options);
    } finally {
      this.inFlight = false;
    }
  }

  /** Checks the input and measures the incoming norms: everything a step does before its transforms run. */
  private beginStep<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S>, deferred = false): StepRun<T, S> {
    if (this.inFlight) throw new GradpipeError(fn, 'a stepAsync of this pipeline is still running: await it before the next step');
    if (this.failure) throw this.failure.error;
    if (!deferred && this.pending > 0) {
      throw new GradpipeError(fn, `${this.pending} deferred step(s) still wait for their figures: await pipe.settled() before a synchronous step`);
    }
    const names = validateStep(fn, ops, grads, options);
    // Refuse here, not inside the transform: by then earlier transforms may have changed the caller's arrays.
    const needsParams = this.transforms.find((t) => 'needsParams' in t && t.needsParams === true);
    if (needsParams && options.params === undefined) {
      throw new GradpipeError(fn, `${needsParams.kind} needs the parameters: call step(grads, { params, shapes })`);
    }
    const memo = new NormMemo(ops);
    const tensors = names.map((n) => grads[n]!);
    memo.listed(grads, tensors);
    const inputNorms = tensors.map((t) => memo.norm(t, 2));
    // Through the memo: a transform asking for the same global norm (clipByGlobalNorm) gets this one.
    const normBefore = memo.globalNorm(grads, 2);
    const ctx: TransformContext<T, S> = {
      ops: memo.ops,
      step: this.stepIndex,
      params: options.params,
      shapes: options.shapes,
      globalNorm: (g: Gradients<T>, p: number) => memo.globalNorm(g, p),
    };
    return { ops, memo, names, inputNorms, normBefore, ctx, current: grads, updates: [] };
  }

  /** Takes one transform's update into the step. True when the rest of the transforms need not run. */
  private record<T, S>(run: StepRun<T, S>, update: TransformUpdate<T, S, unknown>): boolean {
    run.updates.push(update);
    run.current = update.grads;
    // With host scalars the skip decision is already known: later transforms need not touch the data.
    return run.ops.eager && (update.figures?.skip as unknown) === 1;
  }

  /** Reads the step's scalars back, commits the transforms' states, emits the event. */
  private finishStep<T, S>(run: StepRun<T, S>, options: StepOptions<T, S>): StepResult<T> {
    const plan = this.readPlan(run, options);
    // The one read-back of the step: every scalar anyone needs, in one call.
    const stats = this.settle(run, options, plan, run.ops.read(plan.scalars), this.stepIndex);
    this.stepIndex++;
    return { grads: run.current, skipped: stats.skipped, stats };
  }

  /** Every scalar the step's figures need, in the order {@link GradientPipeline.settle} reads them. */
  private readPlan<T, S>(run: StepRun<T, S>, options: StepOptions<T, S>): ReadPlan<S> {
    const { memo, inputNorms, normBefore, updates, current } = run;
    // Reported, not decided on: after a common clip factor this is normBefore × factor, one operation.
    const normAfter = memo.globalNorm(current, 2, true);
    const figureNames = updates.map((u) => Object.keys(u.figures ?? {}));
    const scalars: S[] = [normBefore, normAfter, ...inputNorms];
    updates.forEach((u, i) => figureNames[i]!.forEach((k) => scalars.push(u.figures![k]!)));
    const lossOnBackend = options.loss !== undefined && typeof options.loss !== 'number';
    if (lossOnBackend) scalars.push(options.loss as S);
    return { scalars, figureNames, lossOnBackend };
  }

  /**
   * Turns the read-back values of step `step` into its stats: commits the transforms' states (all or none) and
   * emits the event.
   */
  private settle<T, S>(run: StepRun<T, S>, options: StepOptions<T, S>, plan: ReadPlan<S>, values: readonly number[], step: number): StepStats {
    const { names, updates } = run;
    const { scalars, figureNames, lossOnBackend } = plan;
    const loss = lossOnBackend ? values[scalars.length - 1]! : (options.loss as number | undefined);
    let at = 2 + names.length;
    const transformStats: TransformStats[] = updates.map((_, i) => {
      const figures: Record<string, number> = {};
      for (const k of figureNames[i]!) figures[k] = values[at++]!;
      return { kind: this.transforms[i]!.kind, figures };
    });

    const nonFinite = names.filter((_, i) => !Number.isFinite(values[2 + i]!));
    const skipped = transformStats.some((t) => t.figures.skip === 1);
    const outcome = { step, skipped, nonFinite };
    // Commit every transform before touching this.states, so a throwing commit leaves the pipeline as it was.
    const next = this.states.slice();
    updates.forEach((u, i) => {
      if (u.commit) next[i] = u.commit(transformStats[i]!.figures, outcome);
    });
    this.states = next;

    let threshold: number | undefined;
    for (const t of transformStats) if (Number.isFinite(t.figures.threshold)) threshold = t.figures.threshold;
    const stats: StepStats = {
      step,
      normBefore: values[0]!,
      normAfter: values[1]!,
      clipped: transformStats.some((t) => t.figures.clipped === 1),
      skipped,
      ...(threshold === undefined ? {} : { threshold }),
      nonFinite,
      ...(loss === undefined ? {} : { loss }),
      ...(options.lr === undefined ? {} : { lr: options.lr }),
      transforms: transformStats,
    };
    if (this.subject.observed) {
      const event: StepEvent = this.options.tensorNorms
        ? { ...stats, tensorNorms: Object.fromEntries(names.map((n, i) => [n, values[2 + i]!])) }
        : stats;
      this.subject.next(event);
    }
    return stats;
  }

  /** Completes `events$`: loggers flush and close. The pipeline can still step, but emits nothing more. */
  close(): void {
    this.subject.complete();
  }

  /** Config and state of every transform, and the step counter, as plain JSON. */
  toJSON(): PipelineJson {
    if (this.pending > 0) {
      throw new GradpipeError('GradientPipeline.toJSON', `${this.pending} deferred step(s) still wait for their figures, so the state is not final: await pipe.settled() first`);
    }
    return {
      format: 'gradpipe.pipeline',
      version: 1,
      step: this.stepIndex,
      tensorNorms: this.options.tensorNorms,
      transforms: this.transforms.map((t, i) => ({
        kind: t.kind,
        config: structuredClone(t.config),
        state: structuredClone(this.states[i]) as JsonValue,
      })),
    };
  }

  /**
   * Rebuilds a pipeline from {@link GradientPipeline.toJSON} output: same transforms, same state, same step
   * counter, so the resumed run is bit-identical to an uninterrupted one. Custom transforms need a factory.
   *
   * @example
   * ```ts
   * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
   * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
   * const copy = GradientPipeline.fromJSON(JSON.parse(JSON.stringify(pipe)));
   * ```
   */
  static fromJSON(
    json: PipelineJson,
    options: PipelineOptions & { transforms?: Record<string, TransformFactory> } = {},
  ): GradientPipeline {
    const fn = 'GradientPipeline.fromJSON';
    if (typeof json !== 'object' || json === null || json.format !== 'gradpipe.pipeline' || !Array.isArray(json.transforms)) {
      throw new GradpipeError(fn, `expects the output of GradientPipeline.toJSON(), got ${describeValue(json)}`);
    }
    if (json.version !== 1) throw new GradpipeError(fn, `unsupported version ${describeValue(json.version)}`);
    const factories = { ...BUILT_IN, ...options.transforms };
    const transforms = json.transforms.map((t, i) => {
      const factory = factories[t.kind];
      if (!factory) {
        throw new GradpipeError(fn, `transforms[${i}] has unknown kind ${JSON.stringify(t.kind)}: pass its factory in options.transforms`);
      }
      return factory(structuredClone(t.config));
    });
    const { transforms: _factories, ...pipelineOptions } = options;
    const pipe = new GradientPipeline(transforms, { tensorNorms: json.tensorNorms, ...pipelineOptions });
    pipe.states = json.transforms.map((t) => structuredClone(t.state));
    pipe.stepIndex = json.step;
    return pipe;
  }
}

function validateStep<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S>): string[] {
  if (typeof grads !== 'object' || grads === null || Array.isArray(grads) || ArrayBuffer.isView(grads)) {
    throw new GradpipeError(fn, `grads must be an object of named tensors, got ${describeValue(grads)}`);
  }
  const names = Object.keys(grads);
  for (const name of names) {
    const reason = ops.invalidReason(grads[name]);
    if (reason) throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} ${reason}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new GradpipeError(fn, `options must be an object, got ${describeValue(options)}`);
  }
  const { params, shapes, loss, lr } = options;
  if (lr !== undefined && (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)) {
    throw new GradpipeError(fn, `lr must be a finite number >= 0, got ${describeValue(lr)}`);
  }
  if (params !== undefined) {
    const gradKeys = [...names].sort();
    const paramKeys = Object.keys(params).sort();
    const missing = gradKeys.filter((k) => !(k in params));
    const extra = paramKeys.filter((k) => !(k in grads));
    if (missing.length || extra.length) {
      throw new GradpipeError(
        fn,
        `params must have the same keys as grads; ${[
          missing.length ? `missing params for ${missing.map((k) => JSON.stringify(k)).join(', ')}` : '',
          extra.length ? `params without gradients: ${extra.map((k) => JSON.stringify(k)).join(', ')}` : '',
        ].filter(Boolean).join('; ')}`,
      );
    }
    for (const k of gradKeys) {
      const reason = ops.invalidReason(params[k]);
      if (reason) throw new GradpipeError(fn, `param ${JSON.stringify(k)} ${reason}`);
      if (ops.size(params[k]!) !== ops.size(grads[k]!)) {
        throw new GradpipeError(fn, `param ${JSON.stringify(k)} has ${ops.size(params[k]!)} elements but its gradient has ${ops.size(grads[k]!)}`);
      }
    }
  }
  if (shapes !== undefined) {
    for (const [k, shape] of Object.entries(shapes)) {
      if (!(k in grads)) throw new GradpipeError(fn, `shapes has ${JSON.stringify(k)}, which is not a gradient`);
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new GradpipeError(fn, `shape of ${JSON.stringify(k)} must be an array of non-negative integers, got ${describeValue(shape)}`);
      }
      const count = shape.reduce((a, b) => a * b, 1);
      if (count !== ops.size(grads[k]!)) {
        throw new GradpipeError(fn, `shape [${shape.join(', ')}] of ${JSON.stringify(k)} has ${count} elements but the gradient has ${ops.size(grads[k]!)}`);
      }
    }
  }
  // Host-number backends take a number; device backends also take one of their scalars (a tensor of theirs).
  if (loss !== undefined && typeof loss !== 'number' && (ops.eager || ops.invalidReason(loss) !== undefined)) {
    throw new GradpipeError(fn, `loss must be a number${ops.eager ? '' : ` or a ${ops.name} scalar`}, got ${describeValue(loss)}`);
  }
  return names;
}
