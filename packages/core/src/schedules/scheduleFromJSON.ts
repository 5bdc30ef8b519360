import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { isPlainObject, rejectUnknownKeys } from '../errors/validation.js';
import type { JsonObject } from '../pipeline/GradientTransform.js';
import { chainSchedules } from './chainSchedules.js';
import { constant } from './constant.js';
import { cosineDecay } from './cosineDecay.js';
import { exponentialDecay } from './exponentialDecay.js';
import { linearWarmup } from './linearWarmup.js';
import { oneCycle } from './oneCycle.js';
import { polynomialDecay } from './polynomialDecay.js';
import type { Schedule, ScheduleJson } from './Schedule.js';
import { stepDecay } from './stepDecay.js';

/**
 * A schedule factory as a rebuilder of saved configs. The one cast of a config into options is here, and it is
 * safe: every factory checks its options at run time and refuses what is not valid.
 */
const fromConfig =
  <O>(make: (options: O) => Schedule) =>
  (config: JsonObject): Schedule =>
    make(config as unknown as O);

const FACTORIES: Readonly<Record<string, (config: JsonObject) => Schedule>> = {
  constant: (c) => {
    rejectUnknownKeys('scheduleFromJSON', c, ['value'], 'field of constant');
    return constant(c.value as number);
  },
  linearWarmup: fromConfig(linearWarmup),
  cosineDecay: fromConfig(cosineDecay),
  stepDecay: fromConfig(stepDecay),
  exponentialDecay: fromConfig(exponentialDecay),
  polynomialDecay: fromConfig(polynomialDecay),
  oneCycle: fromConfig(oneCycle),
  chainSchedules: (c) => {
    rejectUnknownKeys('scheduleFromJSON', c, ['schedules', 'boundaries'], 'field of chainSchedules');
    if (!Array.isArray(c.schedules))
      throw new GradpipeError(
        'scheduleFromJSON',
        `chainSchedules needs schedules: an array of saved schedules, got ${describeValue(c.schedules)}`,
      );
    return chainSchedules(
      c.schedules.map((s) => scheduleFromJSON(s as unknown as ScheduleJson)),
      c.boundaries as number[],
    );
  },
};

/**
 * Rebuilds a schedule from its JSON (`JSON.stringify(schedule)` gives `{ kind, config }`), checking it as its
 * factory checks options.
 *
 * @example
 * ```ts
 * import { cosineDecay, scheduleFromJSON } from '@gradpipe/core';
 * const saved = JSON.parse(JSON.stringify(cosineDecay({ peak: 0.1, decaySteps: 100 })));
 * scheduleFromJSON(saved)(50); // 0.05
 * ```
 */
export function scheduleFromJSON(json: ScheduleJson): Schedule {
  const fn = 'scheduleFromJSON';
  if (!isPlainObject(json) || typeof json.kind !== 'string' || !isPlainObject(json.config)) {
    throw new GradpipeError(fn, `expects a saved schedule { kind, config }, got ${describeValue(json)}`);
  }
  rejectUnknownKeys(fn, json, ['kind', 'config'], 'field');
  if (!Object.hasOwn(FACTORIES, json.kind))
    throw new GradpipeError(fn, `unknown schedule kind ${JSON.stringify(json.kind)} (known: ${Object.keys(FACTORIES).join(', ')})`);
  return FACTORIES[json.kind]!(json.config);
}
