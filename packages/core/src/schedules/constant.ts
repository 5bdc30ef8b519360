import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate } from './scheduleOptions.js';

/**
 * The same learning rate at every step (torch's fixed `lr`; optax `constant_schedule`).
 *
 * @example
 * ```ts
 * import { constant } from '@gradpipe/core';
 * constant(0.01)(1234); // 0.01
 * ```
 */
export function constant(value: number): Schedule {
  const lr = rate('constant', 'value', value);
  return makeSchedule('constant', { value: lr }, () => lr);
}
