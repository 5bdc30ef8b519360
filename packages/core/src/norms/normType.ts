import { GradpipeError, describeValue } from '../errors/GradpipeError.js';

/**
 * Which norm a clipping transform measures: `1`, `2` (Euclidean, the default), any `p > 0`, or `Infinity`
 * (max |x|). `'inf'` is accepted as an alias of `Infinity` because JSON cannot hold `Infinity`. Below 1 it is a
 * quasi-norm, as PyTorch's `clip_grad_norm_` allows: still homogeneous, so one common factor bounds it.
 */
export type NormType = number | 'inf';

/** Checks a `normType` option and returns it as a number (`Infinity` for `'inf'`). */
export function parseNormType(fn: string, value: unknown): number {
  if (value === undefined) return 2;
  if (value === 'inf' || value === Infinity) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new GradpipeError(fn, `normType must be a number > 0 or Infinity ('inf'), got ${describeValue(value)}`);
  }
  return value;
}

/** The JSON form of a parsed norm type. */
export function normTypeToJson(p: number): number | 'inf' {
  return p === Infinity ? 'inf' : p;
}
