import type { TensorOps } from '../../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../../errors/GradpipeError.js';
import { isPlainObject, rejectNullOptions, rejectUnknownKeys } from '../../errors/validation.js';
import { MIN_P } from '../../norms/normType.js';
import type { Gradients } from '../../pipeline/GradientTransform.js';

/**
 * Half the spacing of the float32 values below 2⁻¹²⁶ (the subnormals). Storing a product there can round it up by
 * this much in absolute terms, which no relative safety factor covers. Gradients are float32 on every backend.
 */
const SUBNORMAL_HALF_GAP = 2 ** -150;

/** What {@link clipFactor} needs to know about the gradients beyond their norm. */
export interface ClipFactorOptions {
  /** How many values the factor will scale (all tensors together). Default 1. */
  elements?: number;
  /** The norm type `norm` was measured with. Default 2. */
  p?: number;
  /**
   * The threshold as a host number. Needed for `p < 1` (unless the backend is eager), where the rounding
   * allowance depends on it: see {@link clipFactor}.
   */
  bound?: number;
}

/**
 * The factor that brings `norm` down to `threshold`: `threshold / norm · boundSafety` when `norm` is finite and
 * above the threshold, else exactly 1 — so gradients within the bound stay bit-identical, and non-finite
 * gradients are never multiplied into more NaN. `clipped` is 1 when the factor is below 1.
 *
 * The target is lowered by 2·n^(1/p)·2⁻¹⁵⁰ for `n = elements`: rounding n stored float32 subnormals up can add
 * that much to their p-norm, so even a bound of 1e-44 is kept. Above ~1e-25 this changes nothing visible.
 * For a quasi-norm (`p < 1`) the allowance is taken in the p-th power, where those roundings add up:
 * target = (bound^p − 2n·2^(−150p))^(1/p). It is negligible for p ≥ 0.5 and any realistic n; for much smaller p
 * and millions of values it can reach the bound itself, and the factor becomes 0 (the only safe one).
 *
 * @example A transform that clips the global L2 norm to 1
 * ```ts
 * import { clipFactor, scaleAll, type GradientTransform } from '@gradpipe/core';
 * const clipToOne: GradientTransform<null> = {
 *   kind: 'clipToOne',
 *   config: {},
 *   init: () => null,
 *   update(grads, _state, ctx) {
 *     const { ops } = ctx;
 *     const elements = Object.values(grads).reduce((n, g) => n + ops.size(g), 0);
 *     const { factor, clipped } = clipFactor(ops, ctx.globalNorm(grads, 2), ops.scalar(1), { elements, p: 2 });
 *     return { grads: scaleAll(ops, grads, factor), decisions: { clipped } };
 *   },
 * };
 * ```
 */
export function clipFactor<T, S>(
  ops: TensorOps<T, S>,
  norm: S,
  threshold: S,
  options: ClipFactorOptions = {},
): {
  /** The factor to scale by: below 1 when clipping, exactly 1 otherwise. */
  factor: S;
  /** 1 when the factor is below 1, else 0. */
  clipped: S;
} {
  checkClipFactorOptions(options);
  const { elements = 1, p = 2 } = options;
  const slack =
    p >= 1 ? 2 * Math.max(elements, 1) ** (p === Infinity ? 0 : 1 / p) * SUBNORMAL_HALF_GAP : quasiNormSlack(ops, threshold, options);
  // A backend may compute it in one operation, and split a factor too small for its float32 (see TensorOps).
  if (ops.clipFactor) return ops.clipFactor(norm, threshold, slack);
  const clipped = ops.mul(ops.greater(norm, threshold), ops.isFinite(norm));
  const target = ops.max(ops.sub(threshold, ops.scalar(slack)), ops.scalar(0));
  const factor = ops.select(clipped, ops.mul(ops.div(target, norm), ops.scalar(ops.boundSafety)), ops.scalar(1));
  return { factor, clipped };
}

/** The allowance of a quasi-norm (p < 1), in the norm's own units: bound − (bound^p − 2n·2^(−150p))^(1/p). */
function quasiNormSlack<T, S>(ops: TensorOps<T, S>, threshold: S, options: ClipFactorOptions): number {
  const bound = options.bound ?? (ops.eager ? (threshold as unknown as number) : undefined);
  if (bound === undefined)
    throw new GradpipeError(
      'clipFactor',
      `p = ${options.p} < 1 needs options.bound, the threshold as a number, on the ${ops.name} backend`,
    );
  if (!Number.isFinite(bound)) return 0;
  const p = options.p!;
  const room = bound ** p - 2 * Math.max(options.elements ?? 1, 1) * 2 ** (-150 * p);
  return room <= 0 ? bound : bound - room ** (1 / p);
}

/** Refuses what is not {@link ClipFactorOptions}: a custom transform's misspelt key must not pass silently. */
function checkClipFactorOptions(options: unknown): asserts options is ClipFactorOptions {
  const fn = 'clipFactor';
  if (!isPlainObject(options)) throw new GradpipeError(fn, `options must be a plain object, got ${describeValue(options)}`);
  rejectUnknownKeys(fn, options, ['elements', 'p', 'bound']);
  rejectNullOptions(fn, options);
  const { elements, p, bound } = options;
  if (elements !== undefined && (typeof elements !== 'number' || !Number.isSafeInteger(elements) || elements < 0)) {
    throw new GradpipeError(fn, `elements must be an integer >= 0, got ${describeValue(elements)}`);
  }
  if (p !== undefined && (typeof p !== 'number' || !(p >= MIN_P)))
    throw new GradpipeError(fn, `p must be a number >= ${MIN_P} or Infinity, got ${describeValue(p)}`);
  if (bound !== undefined && (typeof bound !== 'number' || !(bound > 0)))
    throw new GradpipeError(fn, `bound must be a positive number, got ${describeValue(bound)}`);
}

/** How many values `grads` holds, all tensors together: the `elements` of {@link clipFactor}. */
export function countElements<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>): number {
  let n = 0;
  for (const g of Object.values(grads)) n += ops.size(g);
  return n;
}
