import type { TensorOps } from '../../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../../errors/GradpipeError.js';
import type { StepOutcome } from '../../pipeline/GradientTransform.js';

/**
 * Reads a `maxNorm` option: a positive number, or `Infinity` (`'inf'` in JSON) to measure the norm without ever
 * clipping — what optax and PyTorch users pass to log the norm.
 */
export function parseMaxNorm(fn: string, value: unknown): number {
  if (value === 'inf' || value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new GradpipeError(fn, `maxNorm must be a positive number or Infinity ('inf'), got ${describeValue(value)}`);
  }
  return value;
}

/** The JSON form of a parsed `maxNorm`. */
export function maxNormToJson(maxNorm: number): number | 'inf' {
  return maxNorm === Infinity ? 'inf' : maxNorm;
}

/** Reads the `errorIfNonfinite` option (PyTorch's `error_if_nonfinite`). */
export function parseErrorIfNonfinite(fn: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new GradpipeError(fn, `errorIfNonfinite must be true or false, got ${describeValue(value)}`);
  return value;
}

/**
 * The refusal of `errorIfNonfinite`. With host numbers it is thrown in `update`, before anything is changed;
 * on device backends the finiteness flag comes back with the figures and `commit` throws, refusing the step.
 */
export function nonFiniteRefusal(fn: string, what: string, where: string): GradpipeError {
  return new GradpipeError(fn, `${what} is not finite ${where}, so the gradients cannot be clipped (errorIfNonfinite: true)`);
}

/** A commit that refuses the step when the figure `finite` came back 0. */
export function refuseNonFinite(fn: string, what: string): (figures: Readonly<Record<string, number>>, outcome: StepOutcome) => null {
  return (figures, outcome) => {
    if (figures.finite !== 1) {
      const where = `at step ${outcome.step}${outcome.nonFinite.length ? ` (in ${outcome.nonFinite.map((n) => JSON.stringify(n)).join(', ')})` : ''}`;
      throw nonFiniteRefusal(fn, what, where);
    }
    return null;
  };
}

/** 1 when every scalar is finite, else 0. */
export function allFinite<T, S>(ops: TensorOps<T, S>, norms: readonly S[]): S {
  return norms.map((n) => ops.isFinite(n)).reduce((a, b) => ops.min(a, b), ops.scalar(1));
}
