import { maxAbs, sumOfAbs, sumOfScaledPowers } from '../backends/typedArray/kernels.js';
import { normSquared } from '../backends/wasmSimd/stagedKernels.js';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { MIN_P } from './normType.js';

/**
 * The p-norm of a float array, computed in float64 without overflow or underflow for any finite input.
 *
 * @example
 * ```ts
 * import { normOf } from '@gradpipe/core';
 * normOf(new Float32Array([3, 4]));            // 5
 * normOf(new Float32Array([3, -4]), 1);        // 7
 * normOf(new Float32Array([1e30, 1e30]), 2);  // 1.414…e30, no overflow
 * ```
 */
export function normOf(x: Float32Array, p = 2): number {
  if (!(x instanceof Float32Array)) throw new GradpipeError('normOf', `x must be a Float32Array, got ${describeValue(x)}`);
  if (typeof p !== 'number' || !(p >= MIN_P))
    throw new GradpipeError('normOf', `p must be a number >= ${MIN_P} or Infinity, got ${describeValue(p)}`);
  if (p === 2) return Math.sqrt(normSquared(x));
  if (p === 1) return sumOfAbs(x);
  const m = maxAbs(x);
  if (p === Infinity || m === 0 || !Number.isFinite(m)) return m;
  return m * sumOfScaledPowers(x, p, m) ** (1 / p);
}
