import { requireBoolean } from '../errors/validation.js';
import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** The learning rate at step 0. */
  init: number;
  /** The factor per `transitionSteps` steps. */
  gamma: number;
  /** Steps per factor `gamma`. Default 1 (torch `ExponentialLR`). */
  transitionSteps?: number;
  /** Decay in whole transitions only (a staircase). Default false. */
  staircase?: boolean;
  /** A bound the learning rate does not cross (optax's `end_value`). */
  floor?: number;
}

/**
 * `init · gamma^(t / transitionSteps)` (optax `exponential_decay`; with `transitionSteps` 1, torch
 * `ExponentialLR(gamma)`), bounded by `floor` when given.
 *
 * @example
 * ```ts
 * import { exponentialDecay } from '@gradpipe/core';
 * const s = exponentialDecay({ init: 1, gamma: 0.5 });
 * [s(0), s(1), s(3)]; // [1, 0.5, 0.125]
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const fn = 'exponentialDecay';
  const o = scheduleOptions(fn, options, ['init', 'gamma', 'transitionSteps', 'staircase', 'floor']);
  const init = rate(fn, 'init', o.init);
  const gamma = rate(fn, 'gamma', o.gamma);
  const transitionSteps = steps(fn, 'transitionSteps', o.transitionSteps ?? 1);
  const staircase = o.staircase === undefined ? false : requireBoolean(fn, 'staircase', o.staircase);
  const floor = o.floor === undefined ? undefined : rate(fn, 'floor', o.floor);
  const config = { init, gamma, transitionSteps, staircase, ...(floor === undefined ? {} : { floor }) };
  return makeSchedule(fn, config, (t) => {
    const p = t / transitionSteps;
    const lr = init * gamma ** (staircase ? Math.floor(p) : p);
    if (floor === undefined) return lr;
    return gamma < 1 ? Math.max(lr, floor) : Math.min(lr, floor);
  });
}
