import { rejectNullOptions, rejectUnknownKeys, requireOptionsObject } from '../errors/validation.js';
import { type NormType, normTypeToJson, parseNormType } from '../norms/normType.js';
import type { Gradients, GradientTransform, JsonObject } from '../pipeline/GradientTransform.js';
import { anyOf } from './support/anyOf.js';
import { clipFactor } from './support/clipFactor.js';
import { allFinite, maxNormToJson, nonFiniteRefusal, parseErrorIfNonfinite, parseMaxNorm, refuseNonFinite } from './support/normBound.js';
import { requireNullState } from './support/stateChecks.js';

/** Options of {@link clipByNorm}. */
export interface ClipByNormOptions {
  /** The largest norm each tensor may have: a positive number, or `Infinity` (`'inf'`) never to clip. */
  maxNorm: number | 'inf';
  /** Which norm: 2 (default), 1, any p > 0 (below 1 a quasi-norm), or `Infinity` / `'inf'`. */
  normType?: NormType;
  /**
   * Refuse a step where some tensor's norm is NaN or ±Infinity with a {@link GradpipeError} (PyTorch's
   * `error_if_nonfinite`). With typed arrays nothing is changed before the refusal. Default false.
   */
  errorIfNonfinite?: boolean;
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
  rejectUnknownKeys(fn, options, ['maxNorm', 'normType', 'errorIfNonfinite']);
  rejectNullOptions(fn, options, ['maxNorm']);
  const maxNorm = parseMaxNorm(fn, options.maxNorm);
  const p = parseNormType(fn, options.normType);
  const errorIfNonfinite = parseErrorIfNonfinite(fn, options.errorIfNonfinite);
  const what = `the ${p === Infinity ? 'inf' : p}-norm of a gradient`;
  const config: JsonObject = {
    maxNorm: maxNormToJson(maxNorm),
    normType: normTypeToJson(p),
    ...(errorIfNonfinite ? { errorIfNonfinite } : {}),
  };
  return {
    kind: fn,
    config,
    mayRefuse: errorIfNonfinite,
    init: () => null,
    restoreState: requireNullState,
    update(grads, _state, { ops, step }) {
      const names = Object.keys(grads);
      const norms = names.map((name) => ops.norm(grads[name]!, p));
      if (errorIfNonfinite && ops.eager) {
        const bad = names.filter((_, i) => !Number.isFinite(norms[i] as unknown as number));
        if (bad.length) throw nonFiniteRefusal(fn, what, `at step ${step} in ${bad.map((n) => JSON.stringify(n)).join(', ')}`);
      }
      const refusal =
        errorIfNonfinite && !ops.eager ? { figures: { finite: allFinite(ops, norms) }, commit: refuseNonFinite(fn, what) } : {};
      const threshold = ops.scalar(maxNorm);
      if (maxNorm === Infinity) return { grads, decisions: { threshold, clipped: ops.scalar(0) }, ...refusal };
      const out: Gradients<(typeof grads)[string]> = {};
      const flags = names.map((name, i) => {
        const g = grads[name]!;
        const { factor, clipped } = clipFactor(ops, norms[i]!, threshold, { elements: ops.size(g), p, bound: maxNorm });
        out[name] = ops.scale(g, factor);
        return clipped;
      });
      return { grads: out, decisions: { threshold, clipped: anyOf(ops, flags) }, ...refusal };
    },
  };
}
