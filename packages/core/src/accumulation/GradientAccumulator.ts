import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { isPlainObject, rejectNullOptions, rejectUnknownKeys, requireInteger, requireOptionsObject } from '../errors/validation.js';
import type { Gradients } from '../pipeline/GradientTransform.js';
import { base64ToBytes, bytesToBase64 } from './base64.js';

/** Options of {@link GradientAccumulator}. */
export interface AccumulatorOptions {
  /** Micro-batches per update (Lightning's `accumulate_grad_batches`, optax `MultiSteps(every_k_schedule)`). */
  every: number;
  /** `'mean'` (default, as Lightning and optax) or `'sum'` of the micro-batches' gradients. */
  reduction?: 'mean' | 'sum';
}

/** The JSON form of an accumulator, mid-accumulation included. */
export interface AccumulatorJson {
  /** Marks the object as a saved accumulator. */
  format: 'gradpipe.accumulator';
  /** Version of this format. */
  version: 1;
  /** Micro-batches per update (the `every` option). */
  every: number;
  /** How the micro-batches are combined (the `reduction` option). */
  reduction: 'mean' | 'sum';
  /** Micro-batches added since the last full set. */
  pending: number;
  /** The running sums, by gradient name: base64 of their float64 bytes. */
  sums: Record<string, string>;
}

/**
 * Gradient accumulation (optax's `MultiSteps`): micro-batches' gradients are summed, in float64, until `every`
 * of them have arrived; then their mean (or sum) comes out, once, for the rest of the pipeline — clipping, the
 * guard — and the optimizer. The weights therefore move once per `every` micro-batches, and clipping bounds the
 * accumulated gradient, as Lightning's `accumulate_grad_batches` with `gradient_clip_val` does.
 *
 * @example
 * ```ts
 * import { GradientAccumulator, GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * const acc = new GradientAccumulator({ every: 2 });
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * acc.add({ w: new Float32Array([1, 0]) });               // undefined: one of two
 * const grads = acc.add({ w: new Float32Array([3, 0]) }); // { w: [2, 0] }, the mean
 * if (grads) pipe.step(grads);                             // clipped once, on the accumulated gradient
 * ```
 */
export class GradientAccumulator {
  /** Micro-batches per update. */
  readonly every: number;
  /** How the micro-batches combine. */
  readonly reduction: 'mean' | 'sum';
  private sums = new Map<string, Float64Array>();
  private count = 0;

  constructor(options: AccumulatorOptions) {
    const fn = 'GradientAccumulator';
    requireOptionsObject(fn, options);
    rejectUnknownKeys(fn, options, ['every', 'reduction']);
    rejectNullOptions(fn, options, ['every']);
    this.every = requireInteger(fn, 'every', options.every, 1);
    const reduction = options.reduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum')
      throw new GradpipeError(fn, `reduction must be 'mean' or 'sum', got ${describeValue(reduction)}`);
    this.reduction = reduction;
  }

  /** Micro-batches added since the last full set (0 … every − 1). */
  get pending(): number {
    return this.count;
  }

  /**
   * Adds one micro-batch's gradients (read, not changed). Returns the combined gradients — fresh arrays — when
   * this was the `every`-th, else undefined. Every micro-batch must have the same names and lengths.
   */
  add(grads: Gradients<Float32Array>): Gradients<Float32Array> | undefined {
    const fn = 'GradientAccumulator.add';
    if (!isPlainObject(grads)) throw new GradpipeError(fn, `grads must be a plain object of Float32Array, got ${describeValue(grads)}`);
    const names = Object.keys(grads);
    for (const name of names) {
      const g = grads[name];
      if (!(g instanceof Float32Array))
        throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} must be a Float32Array, got ${describeValue(g)}`);
      const sum = this.sums.get(name);
      if (this.count > 0 && (!sum || sum.length !== g.length))
        throw new GradpipeError(
          fn,
          `gradient ${JSON.stringify(name)} does not match the earlier micro-batches (${sum ? `${sum.length} values` : 'absent'})`,
        );
    }
    if (this.count > 0 && names.length !== this.sums.size)
      throw new GradpipeError(fn, `the micro-batch has ${names.length} gradients, the earlier ones ${this.sums.size}`);
    for (const name of names) {
      const g = grads[name]!;
      let sum = this.sums.get(name);
      if (!sum || this.count === 0) this.sums.set(name, (sum = new Float64Array(g.length)));
      for (let i = 0; i < g.length; i++) sum[i]! += g[i]!;
    }
    this.count++;
    if (this.count < this.every) return undefined;
    const divisor = this.reduction === 'mean' ? this.every : 1;
    const out: Gradients<Float32Array> = {};
    for (const [name, sum] of this.sums) out[name] = Float32Array.from(sum, (v) => v / divisor);
    this.count = 0;
    return out;
  }

  /** Drops the micro-batches added so far. */
  reset(): void {
    this.count = 0;
  }

  /** The configuration and the partial sums, so that a run saved mid-accumulation resumes exactly. */
  toJSON(): AccumulatorJson {
    const sums: Record<string, string> = {};
    if (this.count > 0)
      for (const [name, sum] of this.sums) sums[name] = bytesToBase64(new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength));
    return { format: 'gradpipe.accumulator', version: 1, every: this.every, reduction: this.reduction, pending: this.count, sums };
  }

  /**
   * Rebuilds an accumulator from {@link GradientAccumulator.toJSON}, checking it.
   *
   * @example
   * ```ts
   * import { GradientAccumulator } from '@gradpipe/core';
   * const acc = new GradientAccumulator({ every: 4 });
   * acc.add({ w: new Float32Array([1]) });
   * const resumed = GradientAccumulator.fromJSON(JSON.parse(JSON.stringify(acc)));
   * resumed.pending; // 1
   * ```
   */
  static fromJSON(json: AccumulatorJson): GradientAccumulator {
    const fn = 'GradientAccumulator.fromJSON';
    if (!isPlainObject(json) || json.format !== 'gradpipe.accumulator') {
      throw new GradpipeError(fn, `expects the output of GradientAccumulator.toJSON(), got ${describeValue(json)}`);
    }
    rejectUnknownKeys(fn, json, ['format', 'version', 'every', 'reduction', 'pending', 'sums'], 'field');
    if (json.version !== 1)
      throw new GradpipeError(fn, `unsupported version ${describeValue(json.version)} (this gradpipe reads version 1)`);
    if (json.reduction !== 'mean' && json.reduction !== 'sum')
      throw new GradpipeError(fn, `reduction must be 'mean' or 'sum', got ${describeValue(json.reduction)}`);
    const every = requireInteger(fn, 'every', json.every, 1);
    const acc = new GradientAccumulator({ every, reduction: json.reduction });
    const pending = requireInteger(fn, 'pending', json.pending, 0, acc.every - 1);
    if (!isPlainObject(json.sums)) throw new GradpipeError(fn, `sums must be an object, got ${describeValue(json.sums)}`);
    const entries = Object.entries(json.sums);
    if ((pending === 0) !== (entries.length === 0))
      throw new GradpipeError(fn, `pending (${pending}) and sums (${entries.length} gradients) disagree`);
    for (const [name, text] of entries) {
      const bytes = typeof text === 'string' ? base64ToBytes(text) : undefined;
      if (!bytes) throw new GradpipeError(fn, `sums.${name} must be base64 of float64 bytes, got ${describeValue(text)}`);
      if (bytes.byteLength % 8 !== 0)
        throw new GradpipeError(fn, `sums.${name} has ${bytes.byteLength} bytes, not a whole number of float64 values`);
      acc.sums.set(name, new Float64Array(bytes.buffer, 0, bytes.byteLength / 8));
    }
    acc.count = pending;
    return acc;
  }
}
