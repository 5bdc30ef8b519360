/**
 * The error every gradpipe function throws for bad input or a refused step.
 * Its message starts with the public function that refused, so a stack-less log line still says where.
 *
 * @example
 * ```ts
 * import { clipByGlobalNorm, GradpipeError } from '@gradpipe/core';
 * try {
 *   clipByGlobalNorm({ maxNorm: -1 });
 * } catch (e) {
 *   console.log(e instanceof GradpipeError, (e as Error).message);
 *   // true 'clipByGlobalNorm: maxNorm must be a positive finite number, got -1'
 * }
 * ```
 */
export class GradpipeError extends Error {
  /** The public function that raised the error, e.g. `'clipByGlobalNorm'`. */
  readonly fn: string;

  constructor(fn: string, message: string) {
    super(`${fn}: ${message}`);
    this.name = 'GradpipeError';
    this.fn = fn;
  }
}

/**
 * Renders a value the way an error message should show it: short, and unambiguous about its type.
 *
 * @example
 * ```ts
 * import { describeValue } from '@gradpipe/core';
 * describeValue('1');                   // '"1"'
 * describeValue(new Float64Array(3));   // 'Float64Array(3)'
 * describeValue([1, 2]);                // 'Array(2)'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `${name} instance` : 'object';
}

/**
 * Throws unless `value` is a finite number > 0. For adapters that check their own options like core does.
 *
 * @example
 * ```ts
 * import { requirePositiveFinite } from '@gradpipe/core';
 * requirePositiveFinite('myOptimizer', 'learningRate', 0.1); // 0.1
 * requirePositiveFinite('myOptimizer', 'learningRate', -1);  // throws 'myOptimizer: learningRate must be a positive finite number, got -1'
 * ```
 */
export function requirePositiveFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new GradpipeError(fn, `${name} must be a positive finite number, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is a finite number ≥ 0.
 *
 * @example
 * ```ts
 * import { requireNonNegativeFinite } from '@gradpipe/core';
 * requireNonNegativeFinite('myOptimizer', 'weightDecay', 0); // 0
 * ```
 */
export function requireNonNegativeFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GradpipeError(fn, `${name} must be a finite number >= 0, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is an integer in [min, max].
 *
 * @example
 * ```ts
 * import { requireInteger } from '@gradpipe/core';
 * requireInteger('myLogger', 'every', 10, 1); // 10
 * requireInteger('myLogger', 'every', 0.5, 1); // throws 'myLogger: every must be an integer >= 1, got 0.5'
 * ```
 */
export function requireInteger(fn: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new GradpipeError(fn, `${name} must be an integer ${range}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is a number in the open or closed interval given.
 *
 * @example
 * ```ts
 * import { requireInRange } from '@gradpipe/core';
 * requireInRange('myOptimizer', 'beta1', 0.9, 0, 1, false, true); // 0.9, in [0, 1)
 * ```
 */
export function requireInRange(fn: string, name: string, value: unknown, lo: number, hi: number, openLo = false, openHi = false): number {
  const ok = typeof value === 'number' && !Number.isNaN(value) && (openLo ? value > lo : value >= lo) && (openHi ? value < hi : value <= hi);
  if (!ok) {
    throw new GradpipeError(fn, `${name} must be a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}, got ${describeValue(value)}`);
  }
  return value as number;
}

/**
 * Throws if `options` has a key not in `known` — a misspelt option must not be silently ignored.
 *
 * @example
 * ```ts
 * import { rejectUnknownKeys } from '@gradpipe/core';
 * rejectUnknownKeys('myOptimizer', { lr: 0.1 }, ['learningRate']); // throws 'myOptimizer: unknown option "lr" (known: learningRate)'
 * ```
 */
export function rejectUnknownKeys(fn: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new GradpipeError(fn, `unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
    }
  }
}

/**
 * Throws unless `options` is a plain object.
 *
 * @example
 * ```ts
 * import { requireOptionsObject } from '@gradpipe/core';
 * requireOptionsObject('myOptimizer', null); // throws 'myOptimizer: options must be an object, got null'
 * ```
 */
export function requireOptionsObject(fn: string, options: unknown): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new GradpipeError(fn, `options must be an object, got ${describeValue(options)}`);
  }
}
