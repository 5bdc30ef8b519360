import { rejectUnknownKeys, requireOptionsObject, requirePositiveFinite } from '../errors/validation.js';
import type { GradientTransform, Gradients } from '../pipeline/GradientTransform.js';
import { type NormType, normTypeToJson, parseNormType } from '../norms/normType.js';
import { anyOf } from './support/anyOf.js';
import { clipFactor } from './support/clipFactor.js';

/** Options of {@link clipByNorm}. */
export interface ClipByNormOptions {
  /** The largest norm each tensor may have. Positive and finite. */
  maxNorm: number;
  /** Which norm: 2 (default), 1, any p ≥ 1, or `Infinity` / `'inf'`. */
  normType?: NormType;
}

/**
 * Scales each gradient tensor separately so that its own norm is at most `maxNorm` (Keras `clipnorm`,
 * TensorFlow `tf.clip_by_norm`). Tensors within the bound are left bit-identical.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByNorm } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByNorm({ maxNorm: 1 })]);
 * const { grads } = pipe.step({ a: new Float32Array([3, 4]), b: new Float32Array([0.5]) });
 * // grads.a ≈ [0.6, 0.8] (was norm 5), grads.b is [0.5] unchanged
 * ```
 */
export function clipByNorm(options: ClipByNormOptions): GradientTransform<null> {
  const fn = 'clipByNorm';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['maxNorm', 'normType']);
  const maxNorm = requirePositiveFinite(fn, 'maxNorm', options.maxNorm);
  const p = parseNormType(fn, options.normType);
  return {
    kind: fn,
    config: { maxNorm, normType: normTypeToJson(p) },
    init: () => null,
    update(grads, _state, { ops }) {
      const threshold = ops.scalar(maxNorm);
      const out: Gradients<(typeof grads)[string]> = {};
      const flags = [];
      for (const name of Object.keys(grads)) {
        const g = grads[name]!;
        const { factor, clipped } = clipFactor(ops, ops.norm(g, p), threshold, { elements: ops.size(g), p });
        out[name] = ops.scale(g, factor);
        flags.push(clipped);
      }
      return { grads: out, decisions: { threshold, clipped: anyOf(ops, flags) } };
    },
  };
}
