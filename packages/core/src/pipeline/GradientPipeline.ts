import { Subject } from 'rxjs';
import type { TensorOps } from '../backends/TensorOps.js';
import { typedArrayOps } from '../backends/typedArray/typedArrayOps.js';
import { GradpipeError } from '../errors/GradpipeError.js';
import { GuardedObservable, warnSubscriberError } from '../events/GuardedObservable.js';
import { DeferredSteps, isAsync } from './DeferredSteps.js';
import type { AnyGradientTransform, Gradients, GradientTransform } from './GradientTransform.js';
import { checkPipelineJson, type PipelineJson, restoreTransforms, toPipelineJson } from './pipelineJson.js';
import { refusesLate, restoreOnRefusal } from './restoreOnRefusal.js';
import type { DeferredStepResult, PipelineOptions, StepOptions, StepResult } from './StepOptions.js';
import { type StepReads, StepRun } from './StepRun.js';
import type { StepEvent, StepStats } from './StepStats.js';
import { deepFreeze } from './snapshot.js';
import { refuseAsync, runTransforms, runTransformsAsync } from './stepLoop.js';
import type { TransformFactory } from './transformRegistry.js';
import { checkFromJsonOptions, checkPipelineOptions, validateStep } from './validateStep.js';

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
   * training): a frozen snapshot. A subscriber that throws or rejects cannot break training: its error goes to
   * `onSubscriberError`.
   */
  readonly events$: GuardedObservable<StepEvent>;

  /** The options, and whether a refusing transform runs after another (a step then keeps a copy: restoreOnRefusal). */
  private readonly options: { readonly tensorNorms: boolean; readonly measureNormAfter: boolean; readonly refusesLate: boolean };
  private readonly subject = new Subject<StepEvent>();
  private states: unknown[];
  private stepIndex = 0;
  private inFlight = false; // a stepAsync awaits its transforms: no other step may start meanwhile
  private readonly deferred = new DeferredSteps();
  /** The first transform that keeps a step from beginning before the figures of the one before are in, if any. */
  private readonly needsPreviousFigures: number;

  constructor(transforms: readonly AnyGradientTransform[], options: PipelineOptions = {}) {
    const { tensorNorms, measureNormAfter, onSubscriberError } = checkPipelineOptions('GradientPipeline', transforms, options);
    this.transforms = Object.freeze([...transforms]);
    this.options = {
      tensorNorms: tensorNorms ?? false,
      measureNormAfter: measureNormAfter ?? false,
      refusesLate: refusesLate(this.transforms),
    };
    this.states = this.transforms.map((t) => t.init());
    this.needsPreviousFigures = this.transforms.findIndex(
      (t, i) => isAsync(t) || ((t as GradientTransform).updateUsesState ?? this.states[i] !== null),
    );
    this.events$ = new GuardedObservable<StepEvent>(onSubscriberError ?? warnSubscriberError, (s) => this.subject.subscribe(s));
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

  /** How many deferred steps still wait for their figures. */
  get pendingSteps(): number {
    return this.deferred.pending;
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
    refuseAsync(fn, this.transforms);
    const run = this.begin(fn, ops, grads, options);
    return restoreOnRefusal(this.options.refusesLate && ops.eager, grads, () => {
      runTransforms(fn, this.transforms, this.states, run, 'stepAsync or stepWithAsync');
      return this.finish(run, options);
    });
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
    this.deferred.checkCanIssue(fn, ops, this.transforms, this.needsPreviousFigures);
    const run = this.begin(fn, ops, grads, options, true);
    runTransforms(fn, this.transforms, this.states, run, 'stepWithAsync');
    const reads = run.reads(options.loss);
    this.stepIndex++;
    // Taken now, inside the caller's scope (e.g. tf.tidy): the scalars may be freed once the read has begun.
    const values = ops.readAsync!(reads.read.scalars); // checkCanIssue made sure it exists
    const stats = this.deferred.issue(values, (read) => this.settle(run, options, reads, read));
    return { grads: run.current, step: run.step, skip: run.skipScalar(), stats };
  }

  /**
   * Resolves once the figures of every deferred step issued so far are committed and emitted; rejects with the
   * error of a refused step. Await it before `toJSON` or between steps of a pipeline that is not `canDefer`.
   */
  settled(): Promise<void> {
    return this.deferred.settled();
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
    const run = this.begin('GradientPipeline.stepAsync', ops, grads, options);
    this.inFlight = true;
    return restoreOnRefusal(this.options.refusesLate && ops.eager, grads, async () => {
      await runTransformsAsync(this.transforms, this.states, run).finally(() => (this.inFlight = false));
      return this.finish(run, options);
    });
  }

  /** Checks the input and measures the incoming norms: everything a step does before its transforms run. */
  private begin<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T, S>, deferred = false): StepRun<T, S> {
    this.deferred.checkCanBegin(fn, deferred, this.inFlight);
    const names = validateStep(fn, ops, grads, options, this.transforms);
    const run = new StepRun(ops, grads, names, this.stepIndex, options, this.options.measureNormAfter);
    for (const t of this.transforms) t.validate?.(grads, run.ctx);
    return run;
  }

  /** Reads the step's scalars back (the one read-back of the step), commits, emits. */
  private finish<T, S>(run: StepRun<T, S>, options: StepOptions<T, S>): StepResult<T> {
    const reads = run.reads(options.loss);
    const stats = this.settle(run, options, reads, run.ops.read(reads.read.scalars));
    this.stepIndex++;
    return { grads: run.current, skipped: stats.skipped, stats };
  }

  /** Turns a step's read-back values into its stats, commits every transform's state (all or none), emits. */
  private settle<T, S>(run: StepRun<T, S>, options: StepOptions<T, S>, reads: StepReads<S>, values: readonly number[]): StepStats {
    const { states, stats, tensorNorms } = run.settle(reads, values, this.transforms, this.states, options);
    this.states = states;
    if (this.subject.observed) this.subject.next(this.options.tensorNorms ? deepFreeze({ ...stats, tensorNorms }) : stats);
    return stats;
  }

  /** Completes `events$`: loggers flush and close. The pipeline can still step, but emits nothing more. */
  close(): void {
    this.subject.complete();
  }

  /** Config and state of every transform, and the step counter, as plain JSON. */
  toJSON(): PipelineJson {
    this.deferred.checkSettled('GradientPipeline.toJSON');
    return toPipelineJson(this.stepIndex, this.options.tensorNorms, this.transforms, this.states);
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
  static fromJSON(json: PipelineJson, options: PipelineOptions & { transforms?: Record<string, TransformFactory> } = {}): GradientPipeline {
    const fn = 'GradientPipeline.fromJSON';
    const saved = checkPipelineJson(fn, json);
    const { factories, pipelineOptions } = checkFromJsonOptions(fn, options);
    const { transforms, states } = restoreTransforms(fn, saved, factories);
    const pipe = new GradientPipeline(transforms, { tensorNorms: saved.tensorNorms, ...pipelineOptions });
    pipe.states = states;
    pipe.stepIndex = saved.step;
    return pipe;
  }
}
