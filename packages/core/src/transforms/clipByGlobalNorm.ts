import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { rejectNullOptions, rejectUnknownKeys, requireOptionsObject } from '../errors/validation.js';
import { shardedGlobalNormOfNorms } from '../norms/exactGlobalNorm.js';
import { type NormType, normTypeToJson, parseNormType } from '../norms/normType.js';
import type {
  AsyncGradientTransform,
  Gradients,
  GradientTransform,
  JsonObject,
  TransformContext,
  TransformUpdate,
} from '../pipeline/GradientTransform.js';
import type { ShardReduce } from '../sharding/ShardReduce.js';
import { clipFactor, countElements } from './support/clipFactor.js';
import { maxNormToJson, nonFiniteRefusal, parseErrorIfNonfinite, parseMaxNorm, refuseNonFinite } from './support/normBound.js';
import { scaleAll } from './support/scaleAll.js';
import { requireNullState } from './support/stateChecks.js';

/** Options of {@link clipByGlobalNorm}. */
export interface ClipByGlobalNormOptions {
  /**
   * The largest norm the gradients may have together: a positive number, or `Infinity` (`'inf'`) to measure the
   * norm (in the stats) without clipping.
   */
  maxNorm: number | 'inf';
  /** Which norm: 2 (default), 1, any p > 0 (below 1 a quasi-norm, as PyTorch allows), or `Infinity` / `'inf'`. */
  normType?: NormType;
  /**
   * Refuse a step whose norm is NaN or ±Infinity with a {@link GradpipeError} (PyTorch's `error_if_nonfinite`),
   * instead of leaving its gradients unclipped. With typed arrays nothing is changed before the refusal. Default false.
   */
  errorIfNonfinite?: boolean;
  /**
   * When the gradients are split across shards (workers, processes, machines), each holding whole tensors: the
   * all-reduce that combines the shards' partial norms (see {@link ShardReduce} and docs/sharding.md). Every
   * shard then applies the same factor, bit-identical to clipping all tensors in one process. The transform
   * becomes asynchronous: step with `pipe.stepAsync`.
   */
  reduce?: ShardReduce;
  /**
   * Set in the JSON config of a sharded transform, so that `GradientPipeline.fromJSON` cannot silently rebuild it
   * without its `reduce`. You never need to pass it.
   */
  sharded?: boolean;
}

/** Options of a sharded {@link clipByGlobalNorm}. */
export type ShardedClipByGlobalNormOptions = ClipByGlobalNormOptions & {
  /** The all-reduce across shards: required here. */
  reduce: ShardReduce;
};

/**
 * Scales all gradients by one common factor so that their norm taken together is at most `maxNorm`
 * (PyTorch `clip_grad_norm_`, Keras `global_clipnorm`, optax `clip_by_global_norm`).
 *
 * Better than those: the norm is accumulated in float64 without overflow or underflow for any finite float32
 * input (PyTorch returns an infinite norm for 1e20 gradients and zeroes them); the stored output's norm is
 * ≤ `maxNorm` exactly, with no epsilon above it; and gradients already within the bound are left bit-identical.
 *
 * With `reduce`, the gradients may be split across shards (DeepSpeed / Megatron style): each shard measures
 * its own tensors, `reduce` combines the partial norms across shards, and every shard clips with the factor of
 * the whole set — exactly the factor one process holding everything would use. With `normType: Infinity` the
 * shards combine by max.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * const { grads, stats } = pipe.step({ a: new Float32Array([3]), b: new Float32Array([4]) });
 * // grads.a ≈ [0.6], grads.b ≈ [0.8]; stats.normBefore === 5, stats.clipped === true
 * ```
 *
 * @example Two shards in one process (in real use, each shard is a worker or a machine)
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm, inProcessAllReduce } from '@gradpipe/core';
 * const [reduceA, reduceB] = inProcessAllReduce(2);
 * const shardA = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: reduceA! })]);
 * const shardB = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: reduceB! })]);
 * const [a, b] = await Promise.all([
 *   shardA.stepAsync({ a: new Float32Array([3]) }),
 *   shardB.stepAsync({ b: new Float32Array([4]) }),
 * ]);
 * // both shards saw the global norm 5: a.grads.a ≈ [0.6], b.grads.b ≈ [0.8]
 * ```
 */
export function clipByGlobalNorm(options: ShardedClipByGlobalNormOptions): AsyncGradientTransform<null>;
export function clipByGlobalNorm(options: ClipByGlobalNormOptions): GradientTransform<null>;
export function clipByGlobalNorm(options: ClipByGlobalNormOptions): GradientTransform<null> | AsyncGradientTransform<null> {
  const fn = 'clipByGlobalNorm';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['maxNorm', 'normType', 'errorIfNonfinite', 'reduce', 'sharded']);
  rejectNullOptions(fn, options, ['maxNorm']);
  const maxNorm = parseMaxNorm(fn, options.maxNorm);
  const p = parseNormType(fn, options.normType);
  const errorIfNonfinite = parseErrorIfNonfinite(fn, options.errorIfNonfinite);
  const { reduce, sharded } = options;
  if (reduce !== undefined && typeof reduce !== 'function') {
    throw new GradpipeError(fn, `reduce must be an async function (partial, op) => combined, got ${describeValue(reduce)}`);
  }
  if (sharded !== undefined && sharded !== true) {
    throw new GradpipeError(fn, `sharded must be true when given, got ${describeValue(sharded)}`);
  }
  if (sharded && !reduce) {
    throw new GradpipeError(
      fn,
      'this transform was saved as sharded and needs its reduce: pass { transforms: { clipByGlobalNorm: (config) => clipByGlobalNorm({ ...config, reduce }) } } to GradientPipeline.fromJSON',
    );
  }
  const config: JsonObject = {
    maxNorm: maxNormToJson(maxNorm),
    normType: normTypeToJson(p),
    ...(errorIfNonfinite ? { errorIfNonfinite } : {}),
  };
  const what = `the global ${p === Infinity ? 'inf' : p}-norm of the gradients`;

  /** Scales `grads` so that their `norm` (over `elements` values in all) comes down to maxNorm. */
  function clip<T, S>(grads: Gradients<T>, ctx: TransformContext<T, S>, norm: S, elements: number): TransformUpdate<T, S, null> {
    const { ops } = ctx;
    if (errorIfNonfinite && ops.eager && !Number.isFinite(norm as unknown as number))
      throw nonFiniteRefusal(fn, what, `at step ${ctx.step}`);
    const refusal: { figures: Record<string, S>; commit?: ReturnType<typeof refuseNonFinite> } =
      errorIfNonfinite && !ops.eager ? { figures: { finite: ops.isFinite(norm) }, commit: refuseNonFinite(fn, what) } : { figures: {} };
    const threshold = ops.scalar(maxNorm);
    // maxNorm Infinity only measures: the gradients pass untouched, as they do within any bound.
    if (maxNorm === Infinity) {
      return {
        grads,
        decisions: { threshold, clipped: ops.scalar(0) },
        ...refusal,
        figures: { norm, factor: ops.scalar(1), ...refusal.figures },
      };
    }
    const { factor, clipped } = clipFactor(ops, norm, threshold, { elements, p, bound: maxNorm });
    return {
      grads: scaleAll(ops, grads, factor),
      decisions: { threshold, clipped },
      ...refusal,
      figures: { norm, factor, ...refusal.figures },
    };
  }

  if (!reduce) {
    return {
      kind: fn,
      config,
      mayRefuse: errorIfNonfinite,
      init: () => null,
      restoreState: requireNullState,
      update: (grads, _state, ctx) => clip(grads, ctx, ctx.globalNorm(grads, p), countElements(ctx.ops, grads)),
    };
  }
  return {
    kind: fn,
    config: { ...config, sharded: true },
    async: true,
    // The all-reduce may fail (a shard lost): that refuses the step too.
    mayRefuse: true,
    init: () => null,
    restoreState: requireNullState,
    async update(grads, _state, ctx) {
      const { ops } = ctx;
      // This shard's per-tensor norms (shared with the pipeline's own figures), read to the host for the
      // collective: one extra read-back per step on device backends.
      const local = Object.values(grads).map((g) => ops.norm(g, p));
      const norms = ops.eager ? (local as unknown[] as number[]) : ops.read(local);
      // The element count of all shards matters too: clipFactor's subnormal margin depends on it.
      const { norm, elements } = await shardedGlobalNormOfNorms(norms, countElements(ops, grads), p, reduce, fn);
      return clip(grads, ctx, ops.scalar(norm), elements);
    },
  };
}
