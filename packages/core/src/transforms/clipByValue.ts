import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { rejectNullOptions, rejectUnknownKeys, requirePositiveFinite } from '../errors/validation.js';
import type { Gradients, GradientTransform } from '../pipeline/GradientTransform.js';
import { anyOf } from './support/anyOf.js';
import { requireNullState } from './support/stateChecks.js';

/** Options of {@link clipByValue}: the interval every gradient element is clamped into. */
export interface ClipByValueOptions {
  /** Lower bound. */
  min: number;
  /** Upper bound, ≥ `min`. */
  max: number;
}

/**
 * Clamps every gradient element into `[min, max]` (Keras `clipvalue`, PyTorch `clip_grad_value_`).
 * `clipByValue(c)` is `[-c, c]`. NaN entries stay NaN — put {@link nanGuard} first to deal with them.
 *
 * Note that this changes the direction of the gradient; {@link clipByGlobalNorm} does not. A bound that is not a
 * float32 value is stored as the nearest float32 (as PyTorch's `clamp_` does), e.g. `0.1` as 0.10000000149; one
 * beyond float32's range as the largest finite float32 of its sign, so finite gradients stay finite.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByValue } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByValue(0.5)]);
 * pipe.step({ w: new Float32Array([-2, 0.1, 3]) }).grads.w; // Float32Array [-0.5, 0.1, 0.5]
 * new GradientPipeline([clipByValue({ min: -1, max: 0 })]);  // asymmetric
 * ```
 */
export function clipByValue(options: number | ClipByValueOptions): GradientTransform<null> {
  const fn = 'clipByValue';
  let min: number;
  let max: number;
  if (typeof options === 'number') {
    const c = requirePositiveFinite(fn, 'the bound c', options);
    [min, max] = [-c, c];
  } else {
    if (typeof options !== 'object' || options === null) {
      throw new GradpipeError(fn, `expects a positive number c or { min, max }, got ${describeValue(options)}`);
    }
    rejectUnknownKeys(fn, options, ['min', 'max']);
    rejectNullOptions(fn, options, ['min', 'max']);
    ({ min, max } = options);
    for (const [name, v] of [
      ['min', min],
      ['max', max],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new GradpipeError(fn, `${name} must be a finite number, got ${describeValue(v)}`);
      }
    }
    if (min > max) throw new GradpipeError(fn, `min must be <= max, got min ${min} > max ${max}`);
  }
  // A bound beyond float32's range would be stored as ±Infinity and turn finite gradients infinite: the nearest
  // finite float32 is the closest a gradient can come to it.
  const [lo, hi] = [saturate(min), saturate(max)];
  return {
    kind: fn,
    config: { min, max },
    init: () => null,
    restoreState: requireNullState,
    update(grads, _state, { ops }) {
      const out: Gradients<(typeof grads)[string]> = {};
      const flags = [];
      for (const name of Object.keys(grads)) {
        const [clamped, changed] = ops.clamp(grads[name]!, lo, hi);
        out[name] = clamped;
        flags.push(changed);
      }
      return { grads: out, decisions: { clipped: anyOf(ops, flags) } };
    },
  };
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function saturate(bound: number): number {
  return Math.min(Math.max(bound, -FLOAT32_MAX), FLOAT32_MAX);
}
