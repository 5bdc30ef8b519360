import { describeValue, GradpipeError } from '@gradpipe/core';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Saved float buffers (base64 of their little-endian bytes), decoded strictly: well-formed base64 of a whole
 * number of values, each finite (and >= 0 with `nonNegative`), `length` values when given. `Buffer.from` alone
 * would skip bad characters and round a torn buffer down, and NaN or a negative variance would go straight into
 * the weights at the next update.
 */
export function decodeFloats(
  fn: string,
  what: string,
  text: unknown,
  options: { bytes: 4 | 8; length?: number; nonNegative?: boolean; maxAbs?: number },
): Float32Array | Float64Array {
  const kind = options.bytes === 4 ? 'float32' : 'float64';
  if (typeof text !== 'string' || !BASE64.test(text) || text.length % 4 !== 0) {
    throw new GradpipeError(fn, `${what} must be base64 of ${kind} bytes, got ${describeValue(text)}`);
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64')); // a copy at offset 0, so the float view is aligned
  if (bytes.byteLength % options.bytes !== 0)
    throw new GradpipeError(fn, `${what} has ${bytes.byteLength} bytes, not a whole number of ${kind} values (a truncated buffer?)`);
  const values = options.bytes === 4 ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
  if (options.length !== undefined && values.length !== options.length)
    throw new GradpipeError(fn, `${what} has ${values.length} values, the model ${options.length}`);
  const bound = options.maxAbs ?? Infinity;
  const bad = values.findIndex((v) => !Number.isFinite(v) || Math.abs(v) > bound || (options.nonNegative === true && v < 0));
  if (bad >= 0) {
    const range = `${options.nonNegative ? 'finite and >= 0' : 'finite'}${options.maxAbs !== undefined ? `, at most ${options.maxAbs} in magnitude` : ''}`;
    throw new GradpipeError(fn, `${what} has ${values[bad]} at index ${bad}: its values are ${range}`);
  }
  return values;
}
