import { Subject } from 'rxjs';
import { GradpipeError, describeValue } from './errors.js';
import type { GradientTransform, Gradients, JsonObject, JsonValue, TransformUpdate } from './GradientTransform.js';
import { GuardedObservable } from './GuardedObservable.js';
import { NormMemo, combineNorms } from './NormMemo.js';
import type { StepEvent, StepStats, TransformStats } from './StepStats.js';
import type { TensorOps } from './TensorOps.js';
import { adaptiveClip } from './transforms/adaptiveClip.js';
import { agc } from './transforms/agc.js';
import { clipByGlobalNorm } from './transforms/clipByGlobalNorm.js';
import { clipByNorm } from './transforms/clipByNorm.js';
import { clipByValue } from './transforms/clipByValue.js';
import { nanGuard } from './transforms/nanGuard.js';
import { typedArrayOps } from './typedArrayOps.js';

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
export interface StepOptions<T> {
  /** The parameters the gradients belong to, same keys (needed by {@link agc}). */
  params?: Gradients<T>;
  /** Tensor shapes by name, for unit-wise transforms; a shape's element count must match the tensor. */
  shapes?: Record<string, readonly number[]>;
  /** This step's loss, passed through to the stats and events for loggers. */
  loss?: number;
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

/** The JSON form of a pipeline: every transform's kind, config and state, and the step counter. */
export interface PipelineJson {
  format: 'gradpipe.pipeline';
  version: 1;
  step: number;
  tensorNorms: boolean;
  transforms: { kind: string; config: JsonObject; state: JsonValue }[];
}

/** Rebuilds a transform from its JSON config, for {@link GradientPipeline.fromJSON}. */
export type TransformFactory = (config: JsonObject) => GradientTransform;

const BUILT_IN: Record<string, TransformFactory> = {
  clipByValue: (c) => clipByValue(c as never),
  clipByNorm: (c) => clipByNorm(c as never),
  clipByGlobalNorm: (c) => clipByGlobalNorm(c as never),
  nanGuard: (c) => nanGuard(c as never),
  adaptiveClip: (c) => adaptiveClip(c as never),
  agc: (c) => agc(c as never),
};

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
  readonly transforms: readonly GradientTransform[];
  /**
   * One event per step, emitted synchronously at the end of `step` (a hot Observable: subscribe before
   * training). A subscriber that throws cannot break training: its error goes to `onSubscriberError`.
   */
  readonly events$: GuardedObservable<StepEvent>;

  private readonly options: Required<Pick<PipelineOptions, 'tensorNorms'>>;
  private readonly subject = new Subject<StepEvent>();
  private states: unknown[];
  private stepIndex = 0;

  constructor(transforms: readonly GradientTransform[], options: PipelineOptions = {}) {
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

  /** The current state of every transform, in order (a copy). */
  get state(): readonly unknown[] {
    return structuredClone(this.states);
  }

  /**
   * Runs one step on `Float32Array` gradients (the typed-array backend). The arrays are changed in place;
   * `result.grads` holds them. On bad input nothing is changed and a {@link GradpipeError} says why.
   */
  step(grads: Gradients<Float32Array>, options: StepOptions<Float32Array> = {}): StepResult<Float32Array> {
    return this.stepWith(typedArrayOps as TensorOps<Float32Array, number>, grads, options);
  }

  /**
   * Runs one step on any backend's tensors: `ops` is the backend (e.g. `@gradpipe/tfjs`'s tensor ops).
   * Adapters call this; with typed arrays use {@link GradientPipeline.step}.
   */
  stepWith<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T> = {}): StepResult<T> {
    validateStep('GradientPipeline.step', ops, grads, options);
    const memo = new NormMemo(ops);
    const names = Object.keys(grads);
    const inputNorms = names.map((n) => memo.norm(grads[n]!, 2));
    const normBefore = combineNorms(ops, inputNorms, 2);
    const ctx = {
      ops: memo.ops,
      step: this.stepIndex,
      params: options.params,
      shapes: options.shapes,
      globalNorm: (g: Gradients<T>, p: number) => memo.globalNorm(g, p),
    };

    let current = grads;
    const updates: TransformUpdate<T, S, unknown>[] = [];
    for (let i = 0; i < this.transforms.length; i++) {
      const update = this.transforms[i]!.update(current, this.states[i], ctx);
      updates.push(update);
      current = update.grads;
      // With host scalars the skip decision is already known: later transforms need not touch the data.
      if (ops.eager && (update.figures?.skip as unknown) === 1) break;
    }
    const normAfter = memo.globalNorm(current, 2, true);

    // The one read-back of the step: every scalar anyone needs, in one call.
    const figureNames = updates.map((u) => Object.keys(u.figures ?? {}));
    const scalars: S[] = [normBefore, normAfter, ...inputNorms];
    updates.forEach((u, i) => figureNames[i]!.forEach((k) => scalars.push(u.figures![k]!)));
    const values = ops.read(scalars);
    let at = 2 + names.length;
    const transformStats: TransformStats[] = updates.map((_, i) => {
      const figures: Record<string, number> = {};
      for (const k of figureNames[i]!) figures[k] = values[at++]!;
      return { kind: this.transforms[i]!.kind, figures };
    });

    const nonFinite = names.filter((_, i) => !Number.isFinite(values[2 + i]!));
    const skipped = transformStats.some((t) => t.figures.skip === 1);
    const outcome = { step: this.stepIndex, skipped, nonFinite };
    // Commit every transform before touching this.states, so a throwing commit leaves the pipeline as it was.
    const next = this.states.slice();
    updates.forEach((u, i) => {
      if (u.commit) next[i] = u.commit(transformStats[i]!.figures, outcome);
    });
    this.states = next;

    let threshold: number | undefined;
    for (const t of transformStats) if (Number.isFinite(t.figures.threshold)) threshold = t.figures.threshold;
    const stats: StepStats = {
      step: this.stepIndex,
      normBefore: values[0]!,
      normAfter: values[1]!,
      clipped: transformStats.some((t) => t.figures.clipped === 1),
      skipped,
      ...(threshold === undefined ? {} : { threshold }),
      nonFinite,
      ...(options.loss === undefined ? {} : { loss: options.loss }),
      transforms: transformStats,
    };
    this.stepIndex++;
    if (this.subject.observed) {
      const event: StepEvent = this.options.tensorNorms
        ? { ...stats, tensorNorms: Object.fromEntries(names.map((n, i) => [n, values[2 + i]!])) }
        : stats;
      this.subject.next(event);
    }
    return { grads: current, skipped, stats };
  }

  /** Completes `events$`: loggers flush and close. The pipeline can still step, but emits nothing more. */
  close(): void {
    this.subject.complete();
  }

  /** Config and state of every transform, and the step counter, as plain JSON. */
  toJSON(): PipelineJson {
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

function validateStep<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, options: StepOptions<T>): void {
  if (typeof grads !== 'object' || grads === null || Array.isArray(grads) || ArrayBuffer.isView(grads)) {
    throw new GradpipeError(fn, `grads must be an object of named tensors, got ${describeValue(grads)}`);
  }
  for (const [name, g] of Object.entries(grads)) {
    const reason = ops.invalidReason(g);
    if (reason) throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} ${reason}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new GradpipeError(fn, `options must be an object, got ${describeValue(options)}`);
  }
  const { params, shapes, loss } = options;
  if (params !== undefined) {
    const gradKeys = Object.keys(grads).sort();
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
  if (loss !== undefined && typeof loss !== 'number') {
    throw new GradpipeError(fn, `loss must be a number, got ${describeValue(loss)}`);
  }
}
