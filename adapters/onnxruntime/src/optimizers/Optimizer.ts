import type { JsonObject } from '@gradpipe/core';
import { describeValue, GradpipeError } from '@gradpipe/core';
import { isPlainObject } from '@gradpipe/core/internal';
import { decodeFloats } from '../support/base64.js';

/**
 * An optimizer on named `Float32Array` parameters, updated in place with PyTorch's (`torch.optim`) rules.
 * Create one with {@link sgd}, {@link adam} or {@link adamw}, or bring your own object with these members.
 *
 * @example
 * ```ts
 * import { sgd } from '@gradpipe/onnxruntime';
 * const optimizer = sgd({ lr: 0.1 });
 * const params = { w: new Float32Array([1, 2]) };
 * optimizer.update(params, { w: new Float32Array([1, 1]) }); // params.w → [0.9, 1.9]
 * const saved = JSON.stringify(optimizer.toJSON());
 * ```
 */
export interface Optimizer {
  /** `'sgd'`, `'adam'` or `'adamw'`. */
  readonly kind: string;
  /** The options, complete with defaults (param groups by the names they matched). */
  readonly config: JsonObject;
  /**
   * The learning rate of the next update: readable, and settable between steps (a finite number >= 0), as a
   * schedule does. Param groups with their own lr keep their ratio to it.
   */
  lr: number;
  /**
   * Binds the optimizer to its parameters ahead of the first update: matches param groups to their names (so
   * that the state can be saved) and checks a loaded state's buffers against them (a state from another model
   * is refused here, before any weight changes). `OrtTrainer.create` calls it.
   */
  bind?(params: Record<string, Float32Array>): void;
  /** Applies one step: changes `params` in place from `grads` (same keys). Call it only for applied steps. */
  update(params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void;
  /** Config and state (step count, moment buffers) as JSON, exactly: buffers are base64 float32 bytes. */
  toJSON(): OptimizerJson;
  /** Restores the state of a {@link Optimizer.toJSON} with the same kind (used by {@link optimizerFromJSON}). */
  loadState(state: JsonObject): void;
}

/** The JSON form of an optimizer. */
export interface OptimizerJson {
  /** Marks the object as a saved optimizer; {@link optimizerFromJSON} refuses anything else. */
  format: 'gradpipe.optimizer';
  /** Version of this format. */
  version: 1;
  /** `'sgd'`, `'adam'` or `'adamw'`: which factory {@link optimizerFromJSON} calls. */
  kind: string;
  /** The options it was made with, defaults filled in. */
  config: JsonObject;
  /**
   * What changes as it trains, by kind: SGD's momentum buffers; Adam's step count and first and second moments.
   * Buffers are base64 of their float32 bytes, so a resumed optimizer continues bit for bit.
   */
  state: JsonObject;
}

/** The {@link OptimizerJson} of an optimizer of this kind, config and state. */
export function optimizerJson(kind: string, config: JsonObject, state: JsonObject): OptimizerJson {
  return { format: 'gradpipe.optimizer', version: 1, kind, config, state };
}

/** Float32Array ⇄ base64 of its bytes: exact, and compact for big buffers. */
function encodeBuffer(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

export function encodeBuffers(buffers: Map<string, Float32Array>): JsonObject {
  return Object.fromEntries([...buffers].map(([k, v]) => [k, encodeBuffer(v)]));
}

/** Saved buffers by parameter name: strict base64 of finite float32 values (>= 0 with `nonNegative`: Adam's v). */
export function decodeBuffers(fn: string, name: string, json: unknown, nonNegative = false): Map<string, Float32Array> {
  if (!isPlainObject(json))
    throw new GradpipeError(fn, `${name} must be an object of base64 buffers by parameter name, got ${describeValue(json)}`);
  return new Map(
    Object.entries(json).map(([k, v]) => [
      k,
      decodeFloats(fn, `buffer ${JSON.stringify(k)}`, v, { bytes: 4, nonNegative }) as Float32Array,
    ]),
  );
}

/** A learning rate: a finite number >= 0 (0 allowed, as warm-ups start there). */
export function requireLearningRate(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GradpipeError(fn, `${name} must be a finite number >= 0, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws unless every saved buffer belongs to a parameter and has its length (a state from another model). */
export function checkBuffers(fn: string, buffers: ReadonlyMap<string, Float32Array>, params: Record<string, Float32Array>): void {
  for (const [name, buffer] of buffers) {
    const p = params[name];
    if (!p) throw new GradpipeError(fn, `the saved state has a buffer for ${JSON.stringify(name)}, which is not a parameter`);
    if (buffer.length !== p.length)
      throw new GradpipeError(fn, `the saved buffer of ${JSON.stringify(name)} has ${buffer.length} values, the parameter ${p.length}`);
  }
}

/** Throws unless `params` and `grads` have the same keys and lengths. */
export function checkUpdate(fn: string, params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void {
  for (const [name, g] of Object.entries(grads)) {
    const p = params[name];
    if (!(p instanceof Float32Array)) throw new GradpipeError(fn, `no Float32Array parameter ${JSON.stringify(name)} for its gradient`);
    if (!(g instanceof Float32Array) || g.length !== p.length) {
      throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} must be a Float32Array of ${p.length} values`);
    }
  }
}
