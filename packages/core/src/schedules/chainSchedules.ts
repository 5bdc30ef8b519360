import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { Schedule } from './Schedule.js';
import { makeSchedule, requireSchedule } from './Schedule.js';

/**
 * Schedules one after another (optax `join_schedules`): `schedules[0]` until `boundaries[0]`, then
 * `schedules[1]` counting its steps from that boundary, and so on.
 *
 * @example
 * ```ts
 * import { chainSchedules, constant, linearWarmup, exponentialDecay } from '@gradpipe/core';
 * const s = chainSchedules([linearWarmup({ peak: 1, warmupSteps: 10 }), exponentialDecay({ init: 1, gamma: 0.9 })], [10]);
 * [s(5), s(10), s(11)]; // [0.5, 1, 0.9]
 * ```
 */
export function chainSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const fn = 'chainSchedules';
  if (!Array.isArray(schedules) || schedules.length === 0)
    throw new GradpipeError(fn, `schedules must be a non-empty array, got ${describeValue(schedules)}`);
  schedules.forEach((s, i) => requireSchedule(fn, `schedules[${i}]`, s));
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new GradpipeError(
      fn,
      `boundaries must have ${schedules.length - 1} entries (one fewer than schedules), got ${describeValue(boundaries)}`,
    );
  }
  boundaries.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 1 || (i > 0 && b <= boundaries[i - 1]!))
      throw new GradpipeError(fn, `boundaries must be increasing integers >= 1, got ${describeValue(boundaries)}`);
  });
  const list = [...schedules];
  const bounds = [...boundaries];
  const config = { schedules: list.map((s) => ({ kind: s.kind, config: s.config })), boundaries: bounds };
  return makeSchedule(fn, config, (t) => {
    let i = bounds.length;
    while (i > 0 && t < bounds[i - 1]!) i--;
    return list[i]!(i === 0 ? t : t - bounds[i - 1]!);
  });
}
