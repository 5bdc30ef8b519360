import { describeValue, GradpipeError, requireSchedule } from '@gradpipe/core';
import { rejectUnknownKeys, requireInteger, requireOptionsObject } from '@gradpipe/core/internal';
import { orDefault } from '../support/options.js';

/** The options `OrtTrainer.create` knows (`load` takes them but `optimizer`, `pipeline` and `state`). */
export const CREATE_KEYS = [
  'loss',
  'lossOptions',
  'optimizer',
  'pipeline',
  'schedule',
  'accumulate',
  'trainable',
  'output',
  'seed',
  'state',
  'transforms',
  'sessionOptions',
];

/**
 * The checks of `create`'s options that need no model: the object, its keys, the seed, the accumulation,
 * the schedule, sessionOptions and transforms. (The loss, trainable and output are checked against the model.)
 */
export function checkCreateOptions(fn: string, options: unknown): { seed: number; every: number } {
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, CREATE_KEYS);
  const seed = requireInteger(fn, 'seed', orDefault(options.seed, 0), -(2 ** 31), 2 ** 31 - 1);
  const every = requireInteger(fn, 'accumulate', orDefault(options.accumulate, 1), 1);
  if (options.schedule !== undefined) requireSchedule(fn, 'schedule', options.schedule);
  if (options.sessionOptions !== undefined) requireOptionsObject(fn, options.sessionOptions, 'sessionOptions');
  if (options.transforms !== undefined) {
    // factories of custom transforms by kind, as GradientPipeline.fromJSON takes them
    requireOptionsObject(fn, options.transforms, 'transforms');
    for (const [kind, factory] of Object.entries(options.transforms)) {
      if (typeof factory !== 'function')
        throw new GradpipeError(fn, `transforms.${kind} must be a factory function (config) => transform, got ${describeValue(factory)}`);
    }
  }
  return { seed, every };
}
