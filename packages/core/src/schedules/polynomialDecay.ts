import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link polynomialDecay}. */
export interface PolynomialDecayOptions {
  /** The learning rate at step 0. */
  init: number;
  /** Steps to reach `end`; kept after. */
  decaySteps: number;
  /** The learning rate at `decaySteps`. Default 0. */
  end?: number;
  /** The polynomial's power. Default 1 (linear). */
  power?: number;
}

/**
 * `(init − end)·(1 − t/decaySteps)^power + end`, then `end` (optax `polynomial_schedule`; with `end` 0, torch
 * `PolynomialLR(total_iters=decaySteps, power)`).
 *
 * @example
 * ```ts
 * import { polynomialDecay } from '@gradpipe/core';
 * const s = polynomialDecay({ init: 1, decaySteps: 4, power: 2 });
 * [s(0), s(2), s(4), s(9)]; // [1, 0.25, 0, 0]
 * ```
 */
export function polynomialDecay(options: PolynomialDecayOptions): Schedule {
  const fn = 'polynomialDecay';
  const o = scheduleOptions(fn, options, ['init', 'decaySteps', 'end', 'power']);
  const init = rate(fn, 'init', o.init);
  const decaySteps = steps(fn, 'decaySteps', o.decaySteps);
  const end = rate(fn, 'end', o.end ?? 0);
  const power = rate(fn, 'power', o.power ?? 1);
  return makeSchedule(
    fn,
    { init, decaySteps, end, power },
    (t) => (init - end) * (1 - Math.min(t, decaySteps) / decaySteps) ** power + end,
  );
}
