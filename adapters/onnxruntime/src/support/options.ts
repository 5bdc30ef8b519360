import { describeValue, GradpipeError } from '@gradpipe/core';

/**
 * An option's value, or the default when the option is absent. Only `undefined` means absent: `null` is a
 * value like any other and goes on to the option's check, which refuses it (`??` would take it for the default).
 */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Throws unless `value` is a finite number. */
export function requireFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new GradpipeError(fn, `${name} must be a finite number, got ${describeValue(value)}`);
  return value;
}

/** Throws unless `value` is a non-empty string. */
export function requireName(fn: string, name: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new GradpipeError(fn, `${name} must be ${what}, got ${describeValue(value)}`);
  return value;
}
