import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { rejectNullOptions, rejectUnknownKeys, requireOptionsObject } from '../errors/validation.js';

/** Checks a schedule factory's options object and its keys. */
export function scheduleOptions(fn: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, known);
  rejectNullOptions(fn, options);
  return options;
}

/** A finite number >= 0 (a learning rate; 0 is allowed, as warm-ups start there). */
export function rate(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GradpipeError(fn, `${name} must be a finite number >= 0, got ${describeValue(value)}`);
  }
  return value;
}

/** An integer >= min (a number of steps). */
export function steps(fn: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new GradpipeError(fn, `${name} must be an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}
