import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { requireBoolean } from '../errors/validation.js';
import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link oneCycle}, with torch `OneCycleLR`'s names and defaults. */
export interface OneCycleOptions {
  /** The peak learning rate. */
  maxLr: number;
  /** Steps in the cycle. */
  totalSteps: number;
  /** Share of the cycle spent rising. Default 0.3. */
  pctStart?: number;
  /** The start is `maxLr / divFactor`. Default 25. */
  divFactor?: number;
  /** The end is `start / finalDivFactor`. Default 1e4. */
  finalDivFactor?: number;
  /** `'cos'` (default) or `'linear'` annealing. */
  anneal?: 'cos' | 'linear';
  /** Rise, fall back to the start, then anneal to the end (torch's `three_phase`). Default false. */
  threePhase?: boolean;
}

/**
 * The 1cycle policy exactly as torch `OneCycleLR` computes it for the learning rate: from `maxLr/divFactor` up
 * to `maxLr` over `pctStart` of the steps, then down to `maxLr/(divFactor·finalDivFactor)`.
 *
 * @example
 * ```ts
 * import { oneCycle } from '@gradpipe/core';
 * const s = oneCycle({ maxLr: 0.1, totalSteps: 100 });
 * [s(0), s(29), s(99)]; // [0.004, 0.1, 4e-7]
 * ```
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  const fn = 'oneCycle';
  const o = scheduleOptions(fn, options, ['maxLr', 'totalSteps', 'pctStart', 'divFactor', 'finalDivFactor', 'anneal', 'threePhase']);
  const maxLr = rate(fn, 'maxLr', o.maxLr);
  const totalSteps = steps(fn, 'totalSteps', o.totalSteps, 2);
  const pctStart = o.pctStart ?? 0.3;
  if (typeof pctStart !== 'number' || !(pctStart > 0 && pctStart < 1))
    throw new GradpipeError(fn, `pctStart must be a number in (0, 1), got ${describeValue(pctStart)}`);
  const divFactor = rate(fn, 'divFactor', o.divFactor ?? 25);
  const finalDivFactor = rate(fn, 'finalDivFactor', o.finalDivFactor ?? 1e4);
  const anneal = o.anneal ?? 'cos';
  if (anneal !== 'cos' && anneal !== 'linear')
    throw new GradpipeError(fn, `anneal must be 'cos' or 'linear', got ${describeValue(anneal)}`);
  const threePhase = o.threePhase === undefined ? false : requireBoolean(fn, 'threePhase', o.threePhase);
  const initial = maxLr / divFactor;
  const minimum = initial / finalDivFactor;
  const rise = pctStart * totalSteps - 1;
  const phases = threePhase
    ? [
        { end: rise, from: initial, to: maxLr },
        { end: 2 * pctStart * totalSteps - 2, from: maxLr, to: initial },
        { end: totalSteps - 1, from: initial, to: minimum },
      ]
    : [
        { end: rise, from: initial, to: maxLr },
        { end: totalSteps - 1, from: maxLr, to: minimum },
      ];
  const interpolate = (from: number, to: number, pct: number) =>
    anneal === 'cos' ? to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1) : (to - from) * pct + from;
  const config = { maxLr, totalSteps, pctStart, divFactor, finalDivFactor, anneal, threePhase };
  return makeSchedule(fn, config, (t) => {
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i]!;
      if (t <= phase.end || i === phases.length - 1) return interpolate(phase.from, phase.to, (t - start) / (phase.end - start));
      start = phase.end;
    }
    return minimum;
  });
}
