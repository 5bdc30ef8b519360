import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link stepDecay}: every `stepSize` steps, or at the given `milestones`. */
export interface StepDecayOptions {
  /** The learning rate at step 0. */
  init: number;
  /** The factor applied at each decay. Default 0.1. */
  gamma?: number;
  /** Decay every `stepSize` steps (torch `StepLR`). */
  stepSize?: number;
  /** Decay at these steps (torch `MultiStepLR`), in increasing order. */
  milestones?: readonly number[];
}

/**
 * The learning rate multiplied by `gamma` every `stepSize` steps (torch `StepLR`) or at each of `milestones`
 * (torch `MultiStepLR`).
 *
 * @example
 * ```ts
 * import { stepDecay } from '@gradpipe/core';
 * const s = stepDecay({ init: 0.1, stepSize: 30 });
 * [s(0), s(30), s(60)]; // [0.1, 0.01, 0.001]
 * stepDecay({ init: 0.1, milestones: [10, 15], gamma: 0.5 })(12); // 0.05
 * ```
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  const fn = 'stepDecay';
  const o = scheduleOptions(fn, options, ['init', 'gamma', 'stepSize', 'milestones']);
  const init = rate(fn, 'init', o.init);
  const gamma = rate(fn, 'gamma', o.gamma ?? 0.1);
  if ((o.stepSize === undefined) === (o.milestones === undefined))
    throw new GradpipeError(fn, 'give exactly one of stepSize and milestones');
  if (o.stepSize !== undefined) {
    const stepSize = steps(fn, 'stepSize', o.stepSize);
    return makeSchedule(fn, { init, gamma, stepSize }, (t) => init * gamma ** Math.floor(t / stepSize));
  }
  const milestones = o.milestones;
  if (!Array.isArray(milestones) || milestones.some((m, i) => !Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1]))) {
    throw new GradpipeError(fn, `milestones must be increasing integers >= 1, got ${describeValue(milestones)}`);
  }
  const list = [...(milestones as number[])];
  return makeSchedule(fn, { init, gamma, milestones: list }, (t) => init * gamma ** list.filter((m) => m <= t).length);
}
