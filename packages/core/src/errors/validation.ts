import { describeValue, GradpipeError } from './GradpipeError.js';

/*
 * The checks every public function runs on its options, shared with the adapters through
 * `@gradpipe/core/internal`: each throws a GradpipeError naming the function, the option and the value.
 */

/**
 * Throws unless `value` is a finite number > 0. For adapters that check their own options like core does.
 *
 * @example
 * ```ts
 * import { requirePositiveFinite } from '@gradpipe/core/internal';
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
 * import { requireNonNegativeFinite } from '@gradpipe/core/internal';
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
 * import { requireInteger } from '@gradpipe/core/internal';
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
 * import { requireInRange } from '@gradpipe/core/internal';
 * requireInRange('myOptimizer', 'beta1', 0.9, 0, 1, false, true); // 0.9, in [0, 1)
 * ```
 */
export function requireInRange(fn: string, name: string, value: unknown, lo: number, hi: number, openLo = false, openHi = false): number {
  const ok =
    typeof value === 'number' && !Number.isNaN(value) && (openLo ? value > lo : value >= lo) && (openHi ? value < hi : value <= hi);
  if (!ok) {
    throw new GradpipeError(
      fn,
      `${name} must be a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}, got ${describeValue(value)}`,
    );
  }
  return value as number;
}

/**
 * Throws if `options` has a key not in `known` — a misspelt option must not be silently ignored. The message
 * suggests the known key closest to a misspelt one.
 *
 * @example
 * ```ts
 * import { rejectUnknownKeys } from '@gradpipe/core/internal';
 * rejectUnknownKeys('myOptimizer', { learningRat: 0.1 }, ['learningRate']); // throws '… (did you mean "learningRate"? …)'
 * ```
 */
export function rejectUnknownKeys(fn: string, options: object, known: readonly string[], what = 'option'): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = closest(key, known);
      const knownList = known.length === 0 ? 'none' : known.join(', ');
      throw new GradpipeError(
        fn,
        `unknown ${what} ${JSON.stringify(key)} (${hint === undefined ? '' : `did you mean ${JSON.stringify(hint)}? `}known: ${knownList})`,
      );
    }
  }
}

/** The known name a misspelt `key` most likely meant: within a third of its length in edits, or a case change. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * Throws if an option is given as `null`: leaving it out means its default, `null` is no value at all — a
 * caller who passes it has a bug that must not be papered over with the default.
 *
 * @example
 * ```ts
 * import { rejectNullOptions } from '@gradpipe/core/internal';
 * rejectNullOptions('nanGuard', { policy: 'skip' });  // fine
 * rejectNullOptions('nanGuard', { policy: null });    // throws 'nanGuard: policy must not be null (leave it out for its default)'
 * ```
 */
export function rejectNullOptions(fn: string, options: object, required: readonly string[] = []): void {
  for (const [key, value] of Object.entries(options)) {
    // A required option's own check refuses null with what the option must be.
    if (value === null && !required.includes(key)) throw new GradpipeError(fn, `${key} must not be null (leave it out for its default)`);
  }
}

/**
 * Throws unless `value` is one of `allowed`.
 *
 * @example
 * ```ts
 * import { requireOneOf } from '@gradpipe/core/internal';
 * requireOneOf('nanGuard', 'policy', 'skip', ['skip', 'zero', 'throw']); // 'skip'
 * requireOneOf('nanGuard', 'policy', 'log', ['skip', 'zero', 'throw']);  // throws "nanGuard: policy must be one of 'skip', 'zero', 'throw', got \"log\""
 * ```
 */
export function requireOneOf<const V extends string | number | boolean>(
  fn: string,
  name: string,
  value: unknown,
  allowed: readonly V[],
): V {
  if (!allowed.includes(value as V)) {
    const list = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
    throw new GradpipeError(fn, `${name} must be one of ${list}, got ${describeValue(value)}`);
  }
  return value as V;
}

/**
 * Throws unless `value` is a boolean.
 *
 * @example
 * ```ts
 * import { requireBoolean } from '@gradpipe/core/internal';
 * requireBoolean('myLogger', 'append', true); // true
 * ```
 */
export function requireBoolean(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new GradpipeError(fn, `${name} must be true or false, got ${describeValue(value)}`);
  return value;
}

/**
 * Throws unless `options` is a plain object.
 *
 * @example
 * ```ts
 * import { requireOptionsObject } from '@gradpipe/core/internal';
 * requireOptionsObject('myOptimizer', null); // throws 'myOptimizer: options must be an object, got null'
 * ```
 */
export function requireOptionsObject(fn: string, options: unknown, name = 'options'): asserts options is Record<string, unknown> {
  if (!isPlainObject(options)) throw new GradpipeError(fn, `${name} must be a plain object, got ${describeValue(options)}`);
}

/** True for `{…}` literals, `Object.create(null)` and JSON-parsed objects; false for arrays, Maps, class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
