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
 * describeValue(1n);                    // '1n'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'symbol') return value.toString();
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (value instanceof Map || value instanceof Set) return `${value.constructor.name}(${value.size})`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `${name} instance` : 'object';
}
