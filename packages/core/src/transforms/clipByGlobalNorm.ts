import { rejectUnknownKeys, requireOptionsObject, requirePositiveFinite } from '../errors.js';
import type { GradientTransform } from '../GradientTransform.js';
import { type NormType, normTypeToJson, parseNormType } from '../normType.js';
import { clipFactor, scaleAll } from './clipFactor.js';

/** Options of {@link clipByGlobalNorm}. */
export interface ClipByGlobalNormOptions {
  /** The largest norm the gradients may have together. Positive and finite. */
  maxNorm: number;
  /** Which norm: 2 (default), 1, any p ≥ 1, or `Infinity` / `'inf'`. */
  normType?: NormType;
}

/**
 * Scales all gradients by one common factor so that their norm taken together is at most `maxNorm`
 * (PyTorch `clip_grad_norm_`, Keras `global_clipnorm`, optax `clip_by_global_norm`).
 *
 * Better than those: the norm is accumulated in float64 without overflow or underflow for any finite float32
 * input (PyTorch returns an infinite norm for 1e20 gradients and zeroes them); the stored output's norm is
 * ≤ `maxNorm` exactly, with no epsilon above it; and gradients already within the bound are left bit-identical.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * const { grads, stats } = pipe.step({ a: new Float32Array([3]), b: new Float32Array([4]) });
 * // grads.a ≈ [0.6], grads.b ≈ [0.8]; stats.normBefore === 5, stats.clipped === true
 * ```
 */
export function clipByGlobalNorm(options: ClipByGlobalNormOptions): GradientTransform<null> {
  const fn = 'clipByGlobalNorm';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['maxNorm', 'normType']);
  const maxNorm = requirePositiveFinite(fn, 'maxNorm', options.maxNorm);
  const p = parseNormType(fn, options.normType);
  return {
    kind: fn,
    config: { maxNorm, normType: normTypeToJson(p) },
    init: () => null,
    update(grads, _state, ctx) {
      const { ops } = ctx;
      const norm = ctx.globalNorm(grads, p);
      const threshold = ops.scalar(maxNorm);
      const { factor, clipped } = clipFactor(ops, norm, threshold);
      return { grads: scaleAll(ops, grads, factor), figures: { norm, threshold, clipped, factor } };
    },
  };
}
