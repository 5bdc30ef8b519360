import { GradpipeError } from '../errors/GradpipeError.js';
import type { Schedule } from './Schedule.js';
import { makeSchedule } from './Schedule.js';
import { rate, scheduleOptions, steps } from './scheduleOptions.js';

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** The learning rate at the top of the cosine (after the warm-up). */
  peak: number;
  /** Total length, warm-up included: the cosine runs from `warmupSteps` to `decaySteps`, then `floor` is kept. */
  decaySteps: number;
  /** Steps of a linear warm-up from `init` to `peak`. Default 0. */
  warmupSteps?: number;
  /** The learning rate at step 0 when warming up. Default 0. */
  init?: number;
  /** The learning rate the cosine ends at (torch's `eta_min`, optax's `end_value`). Default 0. */
  floor?: number;
}

/**
 * Cosine decay with an optional linear warm-up, as optax `warmup_cosine_decay_schedule(init, peak, warmupSteps,
 * decaySteps, floor)` (without warm-up: `cosine_decay_schedule`, and torch `CosineAnnealingLR(T_max=decaySteps,
 * eta_min=floor)` up to `decaySteps` — after that torch's cosine climbs again, this one stays at `floor`):
 *     lr(t) = floor + (peak − floor)·½(1 + cos(π·(t − warmup)/(decaySteps − warmup)))
 *
 * @example
 * ```ts
 * import { cosineDecay } from '@gradpipe/core';
 * const s = cosineDecay({ peak: 1e-3, warmupSteps: 100, decaySteps: 1100, floor: 1e-5 });
 * [s(0), s(100), s(600), s(1100), s(5000)]; // [0, 0.001, 0.000505, 0.00001, 0.00001]
 * ```
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const fn = 'cosineDecay';
  const o = scheduleOptions(fn, options, ['peak', 'decaySteps', 'warmupSteps', 'init', 'floor']);
  const peak = rate(fn, 'peak', o.peak);
  const decaySteps = steps(fn, 'decaySteps', o.decaySteps);
  const warmupSteps = steps(fn, 'warmupSteps', o.warmupSteps ?? 0, 0);
  const init = rate(fn, 'init', o.init ?? 0);
  const floor = rate(fn, 'floor', o.floor ?? 0);
  if (warmupSteps >= decaySteps)
    throw new GradpipeError(fn, `warmupSteps (${warmupSteps}) must be smaller than decaySteps (${decaySteps}), which includes it`);
  return makeSchedule(fn, { peak, decaySteps, warmupSteps, init, floor }, (t) => {
    if (t < warmupSteps) return init + ((peak - init) * t) / warmupSteps;
    const progress = Math.min(t - warmupSteps, decaySteps - warmupSteps) / (decaySteps - warmupSteps);
    return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  });
}
