import type { TensorOps } from '../backends/TensorOps.js';

/** Named gradient tensors, keyed like the parameters they belong to. */
export type Gradients<T> = Record<string, T>;

/** A JSON value: what configs and states are made of, so a pipeline can be saved and resumed exactly. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** What a step became, told to every transform when its figures are committed. */
export interface StepOutcome {
  /** 0-based index of the step. */
  readonly step: number;
  /** True when some transform decided the step must not be applied. */
  readonly skipped: boolean;
  /** Names of the incoming tensors that hold a NaN or ±Infinity. */
  readonly nonFinite: readonly string[];
}

/**
 * What a transform sees besides the gradients: the backend's operations, the step index, and optional
 * parameters and shapes.
 */
export interface TransformContext<T, S> {
  /** The backend operations. Norms asked for here are memoised for the step while a tensor is unchanged. */
  readonly ops: TensorOps<T, S>;
  /** 0-based index of the step. */
  readonly step: number;
  /** The parameters the gradients belong to, when the caller passed them (needed by {@link agc}). */
  readonly params: Readonly<Gradients<T>> | undefined;
  /** Tensor shapes, when the caller passed them (needed for unit-wise layouts). */
  readonly shapes: Readonly<Record<string, readonly number[]>> | undefined;
  /**
   * The global `p`-norm over all tensors of `grads`: per-tensor norms (memoised) combined without overflow.
   * Non-finite iff some tensor has a non-finite entry.
   */
  globalNorm(grads: Gradients<T>, p: number): S;
}

/**
 * What a transform decided for a step, as backend scalars: the pipeline reads them back with the figures and acts
 * on them. Typed fields, not figure names, so a transform's own figure called `skip` is only a figure.
 */
export interface TransformDecisions<S> {
  /** 1 when the step must not be applied (a guard's verdict), else 0. */
  readonly skip?: S;
  /** 1 when the transform changed the gradients by clipping, else 0. */
  readonly clipped?: S;
  /** The bound the transform clipped to (a norm, or an adaptive threshold). */
  readonly threshold?: S;
}

/**
 * What one transform's `update` returns.
 *
 * Scalars in `decisions` and `figures` stay on the backend until the pipeline reads every transform's scalars
 * back at once; then `commit` receives the figures as numbers and returns the transform's next state.
 */
export interface TransformUpdate<T, S, State> {
  /** The transformed gradients, same keys as the input. */
  readonly grads: Gradients<T>;
  /** What the pipeline acts on: skip the step, count it as clipped, report the threshold. */
  readonly decisions?: TransformDecisions<S>;
  /** Scalars to read back after the step for the stats and `commit`: this transform's measurements. */
  readonly figures?: Record<string, S>;
  /**
   * Turns the read-back figures into the next state. Not given: the state stays as it is.
   * On a skipped step a transform should keep its state unless it is counting skips; a commit may throw a
   * {@link GradpipeError} to refuse the step (nanGuard's `'throw'` policy does).
   */
  readonly commit?: (figures: Readonly<Record<string, number>>, outcome: StepOutcome) => State;
}

/**
 * A gradient transform in the style of optax: explicit state from `init`, a pure-ish `update` that maps
 * gradients (and state) to new gradients, and a JSON `config` from which the same transform can be rebuilt.
 *
 * Write it once against {@link TensorOps} and it runs on every backend (typed arrays, tfjs tensors, …).
 *
 * @example A transform that multiplies every gradient by a constant
 * ```ts
 * import { GradientPipeline, type GradientTransform } from '@gradpipe/core';
 *
 * function scaleBy(factor: number): GradientTransform<null> {
 *   return {
 *     kind: 'scaleBy',
 *     config: { factor },
 *     init: () => null,
 *     update(grads, _state, { ops }) {
 *       const f = ops.scalar(factor);
 *       const out: typeof grads = {};
 *       for (const [name, g] of Object.entries(grads)) out[name] = ops.scale(g, f);
 *       return { grads: out };
 *     },
 *   };
 * }
 * const pipe = new GradientPipeline([scaleBy(0.5)]);
 * pipe.step({ w: new Float32Array([2, 4]) }).grads.w; // Float32Array [1, 2]
 * // To restore it with GradientPipeline.fromJSON, pass { transforms: { scaleBy: (c) => scaleBy(c.factor) } }.
 * ```
 */
export interface GradientTransform<State = unknown> {
  /** Name under which `fromJSON` finds the factory, e.g. `'clipByGlobalNorm'`. */
  readonly kind: string;
  /** The options the transform was made with, as JSON. */
  readonly config: JsonObject;
  /** The state before the first step. Must be JSON data. */
  init(): State;
  /**
   * Checks a saved state before `GradientPipeline.fromJSON` resumes from it, and returns it (or a normalised
   * copy); throws a {@link GradpipeError} saying what is wrong. Without it a saved state is taken as it is.
   */
  restoreState?(state: JsonValue): State;
  /**
   * True when the transform may throw to refuse a step (in `update` or `commit`). Placed after another transform,
   * it makes the typed-array pipeline keep a copy of the gradients during a step, so that a refusal leaves the
   * caller's arrays as they were (put refusing transforms first to save that copy).
   */
  readonly mayRefuse?: boolean;
  /**
   * True when `update` needs `ctx.params` (like {@link agc}): a step without params is then refused before any
   * transform has changed the gradients.
   */
  readonly needsParams?: boolean;
  /**
   * Whether `update` reads the state that `commit` returns. Default: true unless `init()` returns `null`. A
   * transform whose update never reads it (nanGuard: only its commit counts) lets a device backend begin a step
   * before the figures of the one before are read back ({@link GradientPipeline.stepWithDeferred}).
   */
  readonly updateUsesState?: boolean;
  /**
   * Checks a step's input before any transform of the pipeline runs, and throws a {@link GradpipeError} to refuse
   * it while the gradients are still untouched (e.g. shapes a unit-wise transform cannot use).
   */
  validate?<T, S>(grads: Gradients<T>, ctx: TransformContext<T, S>): void;
  /** Transforms one step's gradients. */
  update<T, S>(grads: Gradients<T>, state: State, ctx: TransformContext<T, S>): TransformUpdate<T, S, State>;
}

/**
 * A gradient transform whose `update` must wait for something outside the process — typically other shards'
 * partial norms (see {@link clipByGlobalNorm}'s `reduce`). Run it with `pipe.stepAsync` / `pipe.stepWithAsync`;
 * the synchronous `pipe.step` refuses it.
 *
 * @example A transform that waits for a remote decision before scaling
 * ```ts
 * import { GradientPipeline, type AsyncGradientTransform } from '@gradpipe/core';
 *
 * function scaleByRemote(fetchFactor: () => Promise<number>): AsyncGradientTransform<null> {
 *   return {
 *     kind: 'scaleByRemote',
 *     config: {},
 *     async: true,
 *     init: () => null,
 *     async update(grads, _state, { ops }) {
 *       const f = ops.scalar(await fetchFactor());
 *       const out: typeof grads = {};
 *       for (const [name, g] of Object.entries(grads)) out[name] = ops.scale(g, f);
 *       return { grads: out };
 *     },
 *   };
 * }
 * const pipe = new GradientPipeline([scaleByRemote(async () => 0.5)]);
 * (await pipe.stepAsync({ w: new Float32Array([2, 4]) })).grads.w; // Float32Array [1, 2]
 * ```
 */
export interface AsyncGradientTransform<State = unknown> {
  /** Name under which `fromJSON` finds the factory. */
  readonly kind: string;
  /** The options the transform was made with, as JSON. */
  readonly config: JsonObject;
  /** Marks the transform as asynchronous, so that `pipe.step` can refuse it before touching any gradient. */
  readonly async: true;
  /** True when the transform may throw to refuse a step (see {@link GradientTransform.mayRefuse}). */
  readonly mayRefuse?: boolean;
  /** The state before the first step. Must be JSON data. */
  init(): State;
  /** Checks a saved state before `GradientPipeline.fromJSON` resumes from it (see {@link GradientTransform.restoreState}). */
  restoreState?(state: JsonValue): State;
  /** Checks a step's input before any transform runs (see {@link GradientTransform.validate}). */
  validate?<T, S>(grads: Gradients<T>, ctx: TransformContext<T, S>): void;
  /** Transforms one step's gradients; the pipeline awaits the result. */
  update<T, S>(grads: Gradients<T>, state: State, ctx: TransformContext<T, S>): Promise<TransformUpdate<T, S, State>>;
}

/** Either kind of transform: what a {@link GradientPipeline} is made of. */
export type AnyGradientTransform<State = unknown> = GradientTransform<State> | AsyncGradientTransform<State>;
