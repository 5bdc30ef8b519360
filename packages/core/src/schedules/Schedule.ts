import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { JsonObject } from '../pipeline/GradientTransform.js';

/**
 * A learning-rate schedule: a plain function from the step (0-based count of applied updates) to the learning
 * rate, carrying the kind and JSON config it was made with, so that a saved trainer rebuilds it
 * ({@link scheduleFromJSON}). Framework-free: trainers call it before each update.
 *
 * @example
 * ```ts
 * import { cosineDecay } from '@gradpipe/core';
 * const schedule = cosineDecay({ peak: 1e-3, warmupSteps: 100, decaySteps: 1000 });
 * schedule(0);    // 0 — warm-up starts at 0
 * schedule(100);  // 0.001
 * schedule(1000); // 0
 * ```
 */
export interface Schedule {
  (step: number): number;
  /** The factory's name, e.g. `'cosineDecay'`. */
  readonly kind: string;
  /** The options it was made with (nested schedules as their JSON). */
  readonly config: JsonObject;
}

/** The JSON form of a schedule. */
export interface ScheduleJson {
  /** The schedule's name, e.g. `'cosineDecay'`: which factory `scheduleFromJSON` calls. */
  kind: string;
  /** The options it was made with. */
  config: JsonObject;
}

/** A schedule from its function, kind and config. The step must be a non-negative integer. */
export function makeSchedule(kind: string, config: JsonObject, at: (step: number) => number): Schedule {
  const schedule = (step: number) => {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new GradpipeError(kind, `the step must be an integer >= 0, got ${describeValue(step)}`);
    }
    return at(step);
  };
  return Object.assign(schedule, { kind, config, toJSON: () => ({ kind, config }) });
}

/**
 * Throws unless `value` is a schedule made by one of gradpipe's factories (or anything shaped like one). For
 * adapters that take a `schedule` option.
 *
 * @example
 * ```ts
 * import { constant, requireSchedule } from '@gradpipe/core';
 * requireSchedule('myTrainer', 'schedule', constant(0.1)); // the schedule
 * requireSchedule('myTrainer', 'schedule', 0.1);           // throws 'myTrainer: schedule must be a schedule such as …, got 0.1'
 * ```
 */
export function requireSchedule(fn: string, name: string, value: unknown): Schedule {
  if (typeof value !== 'function' || typeof (value as Partial<Schedule>).kind !== 'string') {
    throw new GradpipeError(
      fn,
      `${name} must be a schedule such as cosineDecay({ peak: 1e-3, decaySteps: 1000 }), got ${describeValue(value)}`,
    );
  }
  return value as Schedule;
}
