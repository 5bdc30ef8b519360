import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link linearWarmup}. */
export interface LinearWarmupOptions {
  /** The learning rate reached after the warm-up, and kept. */
  peak: number;
  /** Steps of the warm-up. */
  warmupSteps: number;
  /** The learning rate at step 0. Default 0. */
  init?: number;
}

/**
 * A linear ramp from `init` to `peak` over `warmupSteps`, then `peak` (optax `linear_schedule`; torch
 * `LinearLR(start_factor=init/peak, total_iters=warmupSteps)`).
 *
 * @example
 * ```ts
 * import { linearWarmup } from '@gradpipe/core';
 * const s = linearWarmup({ peak: 0.1, warmupSteps: 10 });
 * [s(0), s(5), s(10), s(50)]; // [0, 0.05, 0.1, 0.1]
 * ```
 */
export function linearWarmup(options: LinearWarmupOptions): Schedule {
  const fn = 'linearWarmup';
  const o = scheduleOptions(fn, options, ['peak', 'warmupSteps', 'init']);
  const peak = rate(fn, 'peak', o.peak);
  const warmupSteps = steps(fn, 'warmupSteps', o.warmupSteps);
  const init = rate(fn, 'init', o.init ?? 0);
  return makeSchedule(fn, { peak, warmupSteps, init }, (t) => init + ((peak - init) * Math.min(t, warmupSteps)) / warmupSteps);
}
