import { describeValue, GradpipeError } from '../errors/GradpipeError.js';

/**
 * Which norm a clipping transform measures: `1`, `2` (Euclidean, the default), any `p >= 0.1`, or `Infinity`
 * (max |x|). `'inf'` is accepted as an alias of `Infinity` because JSON cannot hold `Infinity`. Below 1 it is a
 * quasi-norm, as PyTorch's `clip_grad_norm_` allows: still homogeneous, so one common factor bounds it. Below 0.1
 * it would exceed float64 for finite gradients (it grows like n^(1/p)), so it is refused.
 */
export type NormType = number | 'inf';

/**
 * The smallest p accepted: a p-quasi-norm of up to 2⁵³ float32 values is below 2¹²⁸ · 2^(53/p), within float64
 * for p ≥ 0.1 (2⁶⁵⁸).
 */
export const MIN_P = 0.1;

/** Checks a `normType` option and returns it as a number (`Infinity` for `'inf'`). */
export function parseNormType(fn: string, value: unknown): number {
  if (value === undefined) return 2;
  if (value === 'inf' || value === Infinity) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value < MIN_P) {
    throw new GradpipeError(fn, `normType must be a number >= ${MIN_P} or Infinity ('inf'), got ${describeValue(value)}`);
  }
  return value;
}

/** The JSON form of a parsed norm type. */
export function normTypeToJson(p: number): number | 'inf' {
  return p === Infinity ? 'inf' : p;
}
