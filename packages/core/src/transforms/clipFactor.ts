import type { Gradients } from '../GradientTransform.js';
import type { TensorOps } from '../TensorOps.js';

/**
 * The factor that brings `norm` down to `threshold`: `threshold / norm · boundSafety` when `norm` is finite and
 * above the threshold, else exactly 1 — so gradients within the bound stay bit-identical, and non-finite
 * gradients are never multiplied into more NaN. `clipped` is 1 when the factor is below 1.
 */
export function clipFactor<T, S>(ops: TensorOps<T, S>, norm: S, threshold: S): { factor: S; clipped: S } {
  const clipped = ops.mul(ops.greater(norm, threshold), ops.isFinite(norm));
  const factor = ops.select(clipped, ops.mul(ops.div(threshold, norm), ops.scalar(ops.boundSafety)), ops.scalar(1));
  return { factor, clipped };
}

/** Every tensor of `grads` multiplied by the same `factor`. */
export function scaleAll<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, factor: S): Gradients<T> {
  const out: Gradients<T> = {};
  for (const name of Object.keys(grads)) out[name] = ops.scale(grads[name]!, factor);
  return out;
}

/** 1 when any flag is 1. */
export function anyOf<T, S>(ops: TensorOps<T, S>, flags: readonly S[]): S {
  let any = ops.scalar(0);
  for (const f of flags) any = ops.max(any, f);
  return any;
}
