import { describeValue } from '../../errors/GradpipeError.js';
import { isPlainObject } from '../../errors/validation.js';
import type { JsonValue } from '../../pipeline/GradientTransform.js';

/*
 * Checks of a saved transform state, for the transforms' `restoreState`. Each throws a plain Error saying which
 * field is wrong; `GradientPipeline.fromJSON` wraps it in a GradpipeError naming the transform.
 */

/** The state of a stateless transform: `null`. */
export function requireNullState(state: JsonValue): null {
  if (state !== null) throw new Error(`expected null (the transform keeps no state), got ${describeValue(state)}`);
  return null;
}

/** A state object with exactly these fields. */
export function stateObject(state: JsonValue, fields: readonly string[]): Record<string, JsonValue> {
  if (!isPlainObject(state)) throw new Error(`expected an object with ${fields.join(', ')}, got ${describeValue(state)}`);
  const missing = fields.filter((f) => !Object.hasOwn(state, f));
  const extra = Object.keys(state).filter((k) => !fields.includes(k));
  if (missing.length || extra.length) {
    throw new Error(
      `expected the fields ${fields.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; unknown ${extra.join(', ')}` : ''}`,
    );
  }
  return state as Record<string, JsonValue>;
}

/** A count: an integer ≥ 0. */
export function count(value: JsonValue, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new Error(`${field} must be an integer >= 0, got ${describeValue(value)}`);
  return value;
}

/**
 * The largest L2 norm float32 gradients can have, with room: 2⁵³ values of at most 2¹²⁸ have a norm below
 * 2^154.5. A saved norm (or mean) above it cannot come from a real run, and its square would overflow float64.
 */
export const MAX_NORM = 2 ** 160;

/** A finite number in [0, max] (a norm, a mean of norms, a variance of them). */
export function nonNegative(value: JsonValue, field: string, max = MAX_NORM): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new Error(`${field} must be a number in [0, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

/** An array of finite numbers ≥ 0, at most `maxLength` long. */
export function norms(value: JsonValue, field: string, maxLength = Infinity): number[] {
  if (!Array.isArray(value)) throw new Error(`${field} must be an array of norms, got ${describeValue(value)}`);
  if (value.length > maxLength) throw new Error(`${field} holds ${value.length} norms, more than the ${maxLength} it can`);
  return value.map((v, i) => nonNegative(v, `${field}[${i}]`));
}
