import type { TensorOps } from '../backends/TensorOps.js';
import { globalNormOfNorms } from './exactGlobalNorm.js';

/**
 * Combines per-tensor p-norms into the norm of all tensors together: ‖·‖∞ is their max; otherwise
 * m·(Σ (nᵢ/m)^p)^(1/p) with m = max nᵢ, so no power can overflow even when the norms are ~1e38.
 * Non-finite iff some nᵢ is.
 *
 * With host numbers (eager backends) the sum is exact and independent of the order and grouping of the tensors,
 * so that shards combining their parts with `clipByGlobalNorm({ reduce })` get the very same float64. Other
 * backends use their {@link TensorOps.combineNorms} when they have one, else the scalar operations below.
 *
 * @example
 * ```ts
 * import { combineNorms, typedArrayOps } from '@gradpipe/core';
 * combineNorms(typedArrayOps, [3, 4], 2);        // 5
 * combineNorms(typedArrayOps, [3e38, 4e38], 2);  // 5e38, no overflow
 * combineNorms(typedArrayOps, [3, 4], Infinity); // 4
 * ```
 */
export function combineNorms<T, S>(ops: TensorOps<T, S>, norms: readonly S[], p: number): S {
  if (ops.eager) return globalNormOfNorms(norms as readonly unknown[] as readonly number[], p) as unknown as S;
  if (norms.length === 0) return ops.scalar(0);
  if (norms.length === 1) return norms[0] as S;
  if (ops.combineNorms) return ops.combineNorms(norms, p);
  let m = norms[0] as S;
  for (let i = 1; i < norms.length; i++) m = ops.max(m, norms[i] as S);
  if (p === Infinity) return m;
  // When every norm is 0, divide by 1 instead of 0 (0/0 would be NaN); a NaN m also divides by 1 and stays NaN.
  const divisor = ops.select(ops.greater(m, ops.scalar(0)), m, ops.scalar(1));
  let sum = ops.scalar(0);
  for (const n of norms) sum = ops.add(sum, ops.pow(ops.div(n, divisor), p));
  // An infinite norm among finite ones makes Inf/Inf = NaN above: report +Infinity, as the eager path does.
  return ops.select(ops.isFinite(m), ops.mul(m, ops.pow(sum, 1 / p)), m);
}
