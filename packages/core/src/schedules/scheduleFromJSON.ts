import { GradpipeError, describeValue } from '../errors/GradpipeError.js';
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

const FACTORIES: Readonly<Record<string, (config: JsonObject) => Schedule>> = {
  constant: (c) => constant(c.value as number),
  linearWarmup: (c) => linearWarmup(c as never),
  cosineDecay: (c) => cosineDecay(c as never),
  stepDecay: (c) => stepDecay(c as never),
  exponentialDecay: (c) => exponentialDecay(c as never),
  polynomialDecay: (c) => polynomialDecay(c as never),
  oneCycle: (c) => oneCycle(c as never),
  chainSchedules: (c) => chainSchedules((c.schedules as unknown as ScheduleJson[]).map((s) => scheduleFromJSON(s)), c.boundaries as number[]),
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
  if (typeof json !== 'object' || json === null || typeof json.kind !== 'string' || typeof json.config !== 'object' || json.config === null) {
    throw new GradpipeError(fn, `expects a saved schedule { kind, config }, got ${describeValue(json)}`);
  }
  if (!Object.hasOwn(FACTORIES, json.kind)) throw new GradpipeError(fn, `unknown schedule kind ${JSON.stringify(json.kind)} (known: ${Object.keys(FACTORIES).join(', ')})`);
  return FACTORIES[json.kind]!(json.config);
}
